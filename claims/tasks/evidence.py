"""Evidence previews (default queue): page images of one PDF after its upload, and a sweep for PDFs that have none
(uploaded before previews existed, or whose task was lost).

The render task takes an id and is safe to run twice. It is acknowledged late, but a pool process killed while
drawing (a hostile file crashing PDFium) is not redelivered (reject_on_worker_lost stays off): the sweep queues the
file again and the service gives it up after a few attempts.
"""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from claims.services.evidence_previews import (
    FAILURE_ERROR,
    PREVIEW_SECONDS,
    evidence_preview_render,
    evidence_preview_timed_out,
    evidence_previews_queue,
)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=PREVIEW_SECONDS + 30,
    time_limit=PREVIEW_SECONDS + 60,
)
def evidence_preview_render_task(evidence_id: int) -> str:
    try:
        outcome = evidence_preview_render(evidence_id=evidence_id)
    except SoftTimeLimitExceeded:
        evidence_preview_timed_out(evidence_id=evidence_id)
        return FAILURE_ERROR
    return outcome.status


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def evidence_previews_sweep_task() -> int:
    return evidence_previews_queue()
