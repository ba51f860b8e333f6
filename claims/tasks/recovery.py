"""Periodic recovery (queue `celery`, from beat): status emails that were never queued, and jobs whose worker died
(queued again, or marked failed), evidence readings left pending. See claims/services/recovery.py."""

from celery import shared_task

from claims.services.recovery import (
    evidence_findings_requeue,
    stale_jobs_fail,
    stale_jobs_requeue,
    status_events_unsent,
    unsent_tasks_publish,
)
from claims.tasks.notifications import claim_status_email_task


@shared_task(acks_late=True)
def status_email_sweep_task() -> int:
    """Queue the status emails whose task never ran; the email task itself makes sure each is sent once."""
    pending = status_events_unsent()
    for claim_id, event_id in pending:
        claim_status_email_task.delay(claim_id, event_id)
    return len(pending)


@shared_task(acks_late=True)
def stale_jobs_reap_task() -> dict[str, int]:
    """Every 15 minutes: jobs whose worker keeps dying, or that never started, are marked failed."""
    return stale_jobs_fail()


@shared_task(acks_late=True)
def stale_jobs_requeue_task() -> dict[str, int]:
    """Every minute: the remaining work of jobs whose heartbeat stopped is queued again."""
    return stale_jobs_requeue()


@shared_task(acks_late=True)
def unsent_tasks_publish_task() -> int:
    """Publish the tasks the broker refused while it was down (claims.services.recovery.unsent_tasks_publish)."""
    return unsent_tasks_publish()


@shared_task(acks_late=True)
def evidence_findings_requeue_task() -> int:
    """Every 5 minutes: readings of evidence left pending (message lost, worker killed) are queued again."""
    return evidence_findings_requeue()
