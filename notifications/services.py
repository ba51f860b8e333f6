"""Writes for the outbox: queue a message once (by its idempotency key), send it once (by its status)."""

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import ProviderError
from core.phones import phone_number_normalised
from notifications.backends import CHANNEL_MESSAGES, backend_for
from notifications.models import Notification
from notifications.renderers import RENDERERS

PHONE_CHANNELS = (Notification.Channel.SMS, Notification.Channel.ALIMTALK)

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
    `address` defaults to the user's email, or for SMS and 알림톡 to the user's phone, normalised to 010XXXXXXXX
    (an invalid number raises InvalidInputError); `context` holds ids only. Returns (notification, created)."""
    from notifications.tasks import notification_send_task

    existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    if channel in PHONE_CHANNELS:
        address = phone_number_normalised(address or getattr(user, "phone", ""))
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
    sent time, whether a 알림톡 fell back to SMS; or the error and a failed status). A retryable ProviderError on an
    attempt that is not the last leaves it queued and is raised again for the task to retry. Returns whether it was
    sent now."""
    retry: ProviderError | None = None
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status not in (Notification.Status.QUEUED,):
            return False
        if notification.not_before is not None and notification.not_before > timezone.now():
            return False  # held (a marketing message at night): notification_held_release queues it
        notification.status = Notification.Status.SENDING
        notification.attempts += 1
        try:
            if not notification.addresses:  # erased with the account it belonged to, before it could be sent
                raise ProviderError(_("보낼 주소가 없습니다."), retryable=False, code="no_address")
            with translation.override(notification.language):
                message = RENDERERS[notification.template](notification)
            expected = CHANNEL_MESSAGES[notification.channel]
            if not isinstance(message, expected):
                raise TypeError(f"{notification.template} renders {type(message).__name__}, not {expected.__name__}")
            result = backend_for(notification.channel).send(notification=notification, message=message)
        except ProviderError as error:
            notification.error = error_recorded(error)
            if error.retryable and not last_attempt:
                notification.status, retry = Notification.Status.QUEUED, error
            else:
                notification.status = Notification.Status.FAILED
        except Exception as error:  # noqa: BLE001 - rendering a message whose records are gone: give up on it
            notification.status, notification.error = Notification.Status.FAILED, f"{type(error).__name__}: {error}"
        else:
            notification.status, notification.sent_at = Notification.Status.SENT, timezone.now()
            notification.provider_message_id, notification.cost = result.provider_message_id, result.cost
            notification.fell_back, notification.error = result.fell_back, ""
        if notification.status != Notification.Status.QUEUED:
            notification.address = ""  # kept only as long as delivery needs it
        notification.save(
            update_fields=[
                "status",
                "attempts",
                "error",
                "sent_at",
                "provider_message_id",
                "cost",
                "fell_back",
                "address",
            ]
        )
    if retry is not None:
        logger.warning(
            "Notification %s (%s) not sent, will retry: %s", notification.pk, notification.template, retry.code
        )
        raise retry
    if notification.status == Notification.Status.FAILED:
        logger.error("Notification %s (%s) failed: %s", notification.pk, notification.template, notification.error)
        return False
    logger.info("Notification %s sent (%s)", notification.pk, notification.template)
    return True


def error_recorded(error: ProviderError) -> str:
    """What the outbox keeps of a failure, for the staff reading it: the code, the message and the extra ids
    (a backend puts no address or text into these)."""
    extra = " ".join(f"{key}={value}" for key, value in error.extra.items())
    return f"{error.code}: {error.message}" + (f" ({extra})" if extra else "")


def notification_held_release(*, now=None) -> list[int]:
    """The held messages whose time has come (not_before passed), released (not_before cleared) and their tasks
    queued after commit; returns their ids. Run every minute by beat, so each is queued once."""
    from notifications.tasks import notification_send_task

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Notification.Status.QUEUED, not_before__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(not_before=None)
        for notification_id in ids:
            notification_send_task.delay_on_commit(notification_id)
    return ids


REPORTED_STATUSES = {
    "delivered": Notification.Status.DELIVERED,
    "fell_back": Notification.Status.FELL_BACK,
    "failed": Notification.Status.FAILED,
}


def notification_reports_update(*, notification_ids: list[int]) -> int:
    """Ask each channel's backend for the delivery reports of these sent messages and record the final ones
    (delivered, fell back to SMS, failed) with the provider's code; messages still pending stay sent. Returns how
    many were updated. A provider that cannot answer now raises its retryable ProviderError."""
    notifications = list(Notification.objects.filter(pk__in=notification_ids, status=Notification.Status.SENT))
    by_channel: dict[str, list[Notification]] = {}
    for notification in notifications:
        by_channel.setdefault(notification.channel, []).append(notification)
    updated, now = 0, timezone.now()
    for channel, items in by_channel.items():
        for notification_id, report in backend_for(channel).delivery_reports(notifications=items).items():
            status = REPORTED_STATUSES[report.state]
            fields = {"status": status, "reported_at": now, "report_code": report.code[:20]}
            if status == Notification.Status.FELL_BACK:
                fields["fell_back"] = True
            updated += Notification.objects.filter(pk=notification_id, status=Notification.Status.SENT).update(**fields)
    return updated
