"""Emails to claimants and staff about a claim (queue "email"). Tasks take ids, never addresses or names; the rules
and the rendering are in claims/services/notifications.py, and the messages are sent by the outbox (notifications/).

`claim_status_email_task(claim_id, event_id)` tells the claimant about one timeline event (submission with the
reference code, review started, information requested, answer received, accepted, rejected, withdrawn,
re-joined). Staff-side services call it too, after writing their ClaimEvent:
`claim_status_email_task.delay_on_commit(claim.pk, event.pk)`. Each event is emailed at most once.
"""

import logging

from celery import shared_task

from claims.services.notifications import claim_status_notify, information_answered_notify, information_reminders_send

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def claim_status_email_task(claim_id: int, event_id: int) -> bool:
    """Queue the claimant's email about one event of their claim; returns whether it was queued now."""
    queued = claim_status_notify(claim_id=claim_id, event_id=event_id)
    if queued:
        logger.info("Status email queued for claim %s event %s", claim_id, event_id)
    return queued


@shared_task(acks_late=True)
def information_answered_staff_email_task(claim_id: int, information_request_id: int) -> bool:
    """Queue the staff's email that the claimant answered an information request."""
    return information_answered_notify(claim_id=claim_id, information_request_id=information_request_id)


@shared_task(acks_late=True)
def information_reminders_task() -> int:
    """Queue the day's reminders of open information requests (before and after their due dates)."""
    return information_reminders_send()
