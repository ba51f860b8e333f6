"""Duplicate and fraud checks in the background: one claim after it is submitted (or corrected by staff), and a
periodic sweep of the whole table (celery beat, see CELERY_BEAT_SCHEDULE). Tasks take ids and are safe to repeat:
a flag is written once per claim, signal and matched value."""

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from claims.services.fraud import claim_fraud_check, fraud_sweep

logger = logging.getLogger(__name__)

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
SWEEP_LOCK = "claims:fraud-sweep"
SWEEP_LOCK_SECONDS = 30 * 60


@shared_task(**RETRY)
def claim_fraud_check_task(claim_id: int) -> int:
    """Compare one claim with all others; returns the flags created or opened again."""
    return claim_fraud_check(claim_id=claim_id)


@shared_task(**RETRY)
def fraud_sweep_task() -> int:
    """Hourly: compare the whole table. One sweep at a time."""
    if not cache.add(SWEEP_LOCK, "1", timeout=SWEEP_LOCK_SECONDS):
        return 0
    try:
        flagged = fraud_sweep()
    finally:
        cache.delete(SWEEP_LOCK)
    if flagged:
        logger.info("Fraud sweep: %d flags created or opened again", flagged)
    return flagged
