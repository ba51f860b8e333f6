"""Writes for the outbox: queue a message once (by its idempotency key), send it once (by its status)."""

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from notifications.backends import NotificationSendError, backend_for
from notifications.models import Notification
from notifications.renderers import RENDERERS

logger = logging.getLogger(__name__)


def notification_queue(
    *,
    channel: str,
    template: str,
    language: str,
    idempotency_key: str,
    user: AbstractBaseUser | None = None,
    address: str = "",
    context: dict | None = None,
) -> tuple[Notification, bool]:
    """The message named `idempotency_key`, created (and its sending queued after commit) if it did not exist yet.
    `address` defaults to the user's email; `context` holds ids only. Returns (notification, created)."""
    from notifications.tasks import notification_send_task

    existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    notification = Notification(
        channel=channel,
        template=template,
        language=language,
        user=user,
        address=address or getattr(user, "email", ""),
        context=context or {},
        idempotency_key=idempotency_key,
    )
    notification.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:  # asked for twice at once: the other one created it
        return Notification.objects.get(idempotency_key=idempotency_key), False
    notification_send_task.delay_on_commit(notification.pk)
    return notification, True


def notification_send(*, notification_id: int, last_attempt: bool = False) -> bool:
    """Send the message once: locked, and only while queued. The result is recorded on the row (provider id, cost,
    sent time; or the error and a failed status). A retryable error on an attempt that is not the last leaves it
    queued and is raised again for the task to retry. Returns whether it was sent now."""
    retry: NotificationSendError | None = None
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status not in (Notification.Status.QUEUED,):
            return False
        notification.status = Notification.Status.SENDING
        notification.attempts += 1
        try:
            if not notification.addresses:  # erased with the account it belonged to, before it could be sent
                raise NotificationSendError("no address to send to", retryable=False)
            with translation.override(notification.language):
                message = RENDERERS[notification.template](notification)
            result = backend_for(notification.channel).send(notification=notification, message=message)
        except NotificationSendError as error:
            notification.error = str(error)
            if error.retryable and not last_attempt:
                notification.status, retry = Notification.Status.QUEUED, error
            else:
                notification.status = Notification.Status.FAILED
        except Exception as error:  # noqa: BLE001 - rendering a message whose records are gone: give up on it
            notification.status, notification.error = Notification.Status.FAILED, f"{type(error).__name__}: {error}"
        else:
            notification.status, notification.sent_at = Notification.Status.SENT, timezone.now()
            notification.provider_message_id, notification.cost = result.provider_message_id, result.cost
            notification.error = ""
        if notification.status != Notification.Status.QUEUED:
            notification.address = ""  # kept only as long as delivery needs it
        notification.save(
            update_fields=["status", "attempts", "error", "sent_at", "provider_message_id", "cost", "address"]
        )
    if retry is not None:
        logger.warning("Notification %s (%s) not sent, will retry: %s", notification.pk, notification.template, retry)
        raise retry
    if notification.status == Notification.Status.FAILED:
        logger.error("Notification %s (%s) failed: %s", notification.pk, notification.template, notification.error)
        return False
    logger.info("Notification %s sent (%s)", notification.pk, notification.template)
    return True
