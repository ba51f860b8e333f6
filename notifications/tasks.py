"""Sending queued messages (queue "email"): one task per message, by id; a sweep for messages whose task was lost."""

import logging

from celery import shared_task

from core.exceptions import ProviderError
from notifications.bulk import bulk_message_plan
from notifications.selectors import notifications_awaiting_report, notifications_unsent
from notifications.services import notification_held_release, notification_reports_update, notification_send

REPORT_CHUNK = 500
logger = logging.getLogger(__name__)

MAX_RETRIES = 6


@shared_task(bind=True, max_retries=MAX_RETRIES)
def notification_send_task(self, notification_id: int) -> bool:
    """Send one message once. A retryable ProviderError is retried by core.tasks.ApplicationTask with backoff (or
    after the provider's Retry-After); on the last try it marks the message failed."""
    return notification_send(notification_id=notification_id, last_attempt=self.request.retries >= MAX_RETRIES)


@shared_task(acks_late=True)
def notification_send_sweep_task() -> int:
    """Queue again the messages still queued after their grace period; sending checks the status, so each is sent
    once however often it is queued."""
    pending = notifications_unsent()
    for notification_id in pending:
        notification_send_task.delay(notification_id)
    return len(pending)


@shared_task(acks_late=True)
def notification_held_release_task() -> int:
    """Queue the held messages (marketing messages asked for at night) once 08:00 KST has come."""
    return len(notification_held_release())


@shared_task(acks_late=True)
def notification_reports_task() -> int:
    """Record the delivery reports of the SMS and 알림톡 sent lately, REPORT_CHUNK at a time; a provider that cannot
    answer now is asked again at the next run."""
    pending, updated = notifications_awaiting_report(), 0
    for start in range(0, len(pending), REPORT_CHUNK):
        try:
            updated += notification_reports_update(notification_ids=pending[start : start + REPORT_CHUNK])
        except ProviderError as error:
            logger.warning("Delivery reports not available now: %s", error.code)
            break
    return updated


@shared_task(acks_late=True)
def bulk_message_plan_task(bulk_id: int) -> int:
    """Write a bulk message's rows and queue their sending in chunks (notifications/bulk.py)."""
    return bulk_message_plan(bulk_id=bulk_id)


@shared_task(acks_late=True)
def notification_send_chunk_task(notification_ids: list[int]) -> int:
    """Send a chunk of a bulk message, each message once; one the provider cannot take now stays queued for the
    sweep (notification_send_sweep_task) instead of holding up the chunk."""
    sent = 0
    for notification_id in notification_ids:
        try:
            sent += notification_send(notification_id=notification_id)
        except ProviderError:
            continue
    return sent
