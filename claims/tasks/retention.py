"""Retention (queue `celery`, daily from beat): closed claims past CLOSED_CLAIM_RETENTION_DAYS are anonymised."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from claims.services.retention import closed_claims_anonymise

BATCH = 500


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def closed_claims_anonymise_task() -> dict[str, int]:
    """Anonymise due claims in batches of 500, re-queueing itself while more are due (each claim is its own
    transaction and skipped once done, so a redelivered or repeated run changes nothing twice)."""
    result = closed_claims_anonymise(limit=BATCH)
    if result["remaining"] and result["claims"]:
        closed_claims_anonymise_task.delay()
    return result
