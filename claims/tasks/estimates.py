"""Background estimates (queue `estimates`): one claim after each change, a whole incident in chunks after a model
version is activated, and a periodic sweep that catches whatever a lost message missed.

Every task takes ids, is safe to run twice (acks_late: a message is acknowledged only after the work, so a worker
that dies mid-task has it redelivered) and retries only transient database errors, with backoff. A recompute whose
worker died does not wait for that redelivery (an hour): the heartbeat sweep queues its unfinished chunks again
(claims/services/recovery.py), and a chunk that another worker is still running is skipped.
"""

import logging

from celery import group, shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from claims.models import DamageModelVersion
from claims.selectors.estimates import PREVIEW_CACHE_SECONDS, damage_model_preview, damage_model_preview_cache_key
from claims.services.estimates import (
    cohort_outliers_flag,
    estimate_claim,
    estimate_sweep,
    recompute_chunk_fail,
    recompute_chunk_run,
    recompute_job_plan,
    recompute_job_planning_started,
)

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RETRY = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
SWEEP_LOCK = "claims:estimate-sweep"
SWEEP_LOCK_SECONDS = 15 * 60


@shared_task(**RETRY)
def estimate_claim_task(claim_id: int) -> dict[str, int]:
    """Estimate one claim (after it is submitted, its loss items or evidence change, or information is provided)."""
    outcome = estimate_claim(claim_id=claim_id)
    return {"written": len(outcome.written), "unchanged": len(outcome.unchanged), "failed": len(outcome.failed)}


@shared_task(**RETRY)
def recompute_job_plan_task(job_id: int) -> int:
    """Split a recompute job into chunks of about 1,000 claims and run them as a group of chunk tasks."""
    recompute_job_planning_started(job_id=job_id)
    chunk_ids = recompute_job_plan(job_id=job_id)
    if chunk_ids:
        group(recompute_chunk_run_task.si(chunk_id) for chunk_id in chunk_ids).apply_async()
    return len(chunk_ids)


@shared_task(bind=True, **RETRY)
def recompute_chunk_run_task(self, chunk_id: int) -> int:
    """Recompute one chunk. A chunk that fails for good is marked failed (its claims stay on their previous
    estimate, the sweep and a retry of the job pick them up); the other chunks carry on."""
    try:
        return recompute_chunk_run(chunk_id=chunk_id).written
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            recompute_chunk_fail(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")
        raise
    except Exception as exc:
        logger.exception("Recompute chunk %s failed", chunk_id)
        recompute_chunk_fail(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")
        return 0


@shared_task(**RETRY)
def damage_model_preview_task(version_id: int) -> int:
    """Compute a version's preview (reads only) and keep it in the cache for the admin page that polls for it."""
    version = DamageModelVersion.objects.get(pk=version_id)
    key = damage_model_preview_cache_key(version=version)
    try:
        preview = damage_model_preview(version=version)
        cache.set(key, preview, timeout=PREVIEW_CACHE_SECONDS)
    finally:
        cache.delete(f"{key}:running")
    return preview.claims


@shared_task(**RETRY)
def cohort_outliers_flag_task(incident_id: int) -> int:
    return cohort_outliers_flag(incident_id=incident_id)


@shared_task(**RETRY)
def estimate_sweep_task() -> dict[str, int]:
    """Every few minutes (celery beat): estimate claims whose estimate is missing or stale. One sweep at a time."""
    if not cache.add(SWEEP_LOCK, "1", timeout=SWEEP_LOCK_SECONDS):
        return {"skipped": 1}
    try:
        outcome = estimate_sweep()
    finally:
        cache.delete(SWEEP_LOCK)
    if outcome.stale:
        logger.info("Estimate sweep: %d stale, %d written, %d failed", outcome.stale, outcome.written, outcome.failed)
    return {"stale": outcome.stale, "written": outcome.written, "failed": outcome.failed, "flagged": outcome.flagged}
