"""Reading evidence files (queue `evidence_reading`, its own workers): one task per uploaded file, queued on commit
by the upload (claims.services.evidence_findings.evidence_finding_start). Safe to run twice; a retryable OCR
failure (the engine's time-out) is retried with backoff by core.tasks.ApplicationTask."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from claims.services.evidence_findings import evidence_read, evidence_read_timed_out


@shared_task(max_retries=3)
def evidence_read_task(evidence_id: int) -> str:
    try:
        finding = evidence_read(evidence_id=evidence_id)
    except SoftTimeLimitExceeded:
        finding = evidence_read_timed_out(evidence_id=evidence_id)
    return finding.status if finding else ""
