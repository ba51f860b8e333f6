"""Recovery from lost messages and dead workers, run periodically by beat (claims/tasks/recovery.py).

- Status emails whose task never ran (the broker was down when the claim was submitted, or the message was lost)
  are found from the timeline: an event of an emailed kind with no message in the outbox (notifications.
  Notification, "claim-status:<event id>:<claimant id>"; events emailed before the outbox carry `emailed_at`).
  Queuing one again is safe: the message is created once by its key and sent once by its status.
- Jobs whose heartbeat stopped (their worker was killed) have their remaining work queued again within minutes
  (`stale_jobs_requeue`), instead of waiting an hour for the broker to hand the dead worker's message back. A job
  whose worker keeps dying, or that never started, is marked failed with a message for staff (`stale_jobs_fail`).
  A redelivered message for such a job does nothing (finished and failed jobs are left alone). The kinds of job
  are registered (`stale_job_kind_register`): the recompute jobs here, the export jobs by the filing app
  (filing/services/recovery.py), so this module does not import the apps above it.
- Evidence findings left pending (the reading's message was lost with the broker, or its worker was killed) are
  queued again (`evidence_findings_requeue`) once their last attempt, or the upload before any, is older than
  READING_REQUEUE_AFTER. The reading counts its attempts and marks the finding failed after
  READING_MAX_ATTEMPTS, so a file that kills the worker is not queued for ever.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.models import ClaimEvent, EvidenceFinding, RecomputeJob
from claims.services.estimates import recompute_job_unfinished
from claims.services.jobs import heartbeat_cutoff, job_transition_audit
from claims.services.notifications import EMAILED_KINDS
from notifications.models import Notification

logger = logging.getLogger(__name__)

# An email is looked for again once its task had this long to run, and given up after a week.
EMAIL_GRACE = timedelta(minutes=5)
EMAIL_GIVE_UP = timedelta(days=7)


def status_events_unsent(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(claim id, event id) of emailed events older than EMAIL_GRACE whose email was never queued in the outbox."""
    now = now or timezone.now()
    key = Concat(
        Value("claim-status:"),
        Cast(OuterRef("pk"), CharField()),
        Value(":"),
        Cast(OuterRef("claim__claimant_id"), CharField()),
    )
    return list(
        ClaimEvent.objects.filter(
            kind__in=EMAILED_KINDS, created_at__lt=now - EMAIL_GRACE, created_at__gte=now - EMAIL_GIVE_UP
        )
        .filter(Q(data__emailed_at__isnull=True))
        .exclude(Exists(Notification.objects.filter(idempotency_key=key)))
        .order_by("pk")
        .values_list("claim_id", "pk")
    )


@dataclass(frozen=True)
class StaleJobKind:
    """A kind of job with a heartbeat that the sweeps look after.

    `key`: its name in the sweeps' counts. `model`: the job rows, with statuses "pending", "running" and "failed"
    (a `Status` with FAILED), `heartbeat_at`, `created_at`, `requeues`, `error` and `finished_at`.
    `requeue(*, stale, now)`: queue again, in the sweep's transaction, the remaining work of the running jobs
    matching `stale` (audited), and return how many were queued. `failed_message`: the error staff see when a job
    is given up. `released_on_fail`: fields cleared when a job is failed (an export's lease)."""

    key: str
    model: type[models.Model]
    requeue: Callable[..., int]
    failed_message: Promise
    released_on_fail: tuple[str, ...] = ()


_stale_job_kinds: dict[str, StaleJobKind] = {}


def stale_job_kind_register(kind: StaleJobKind) -> None:
    _stale_job_kinds[kind.key] = kind


def _stale(*, cutoff: datetime) -> Q:
    """Running jobs whose last sign of life (heartbeat, or the request for jobs that never had one) is before
    `cutoff`."""
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


def recompute_jobs_requeue(*, stale: Q, now: datetime) -> int:
    """A recompute's unfinished chunks, or its planning when the worker died while planning (a pending job waiting
    in the queue has no heartbeat and is left alone). A chunk commits its estimates with its progress and is
    skipped while another worker holds its row lock."""
    from claims.tasks.estimates import recompute_chunk_run_task, recompute_job_plan_task

    requeued = 0
    recomputes = RecomputeJob.objects.select_for_update(skip_locked=True).filter(
        stale, status=RecomputeJob.Status.RUNNING
    )
    # A recompute whose planner died: pending, but its planning began (heartbeat set) and stopped beating.
    planners = RecomputeJob.objects.select_for_update(skip_locked=True).filter(
        stale, status=RecomputeJob.Status.PENDING, heartbeat_at__isnull=False
    )
    for job in planners:
        job.requeues, job.heartbeat_at = job.requeues + 1, now
        job.save(update_fields=["requeues", "heartbeat_at"])
        job_transition_audit(job=job, event="requeued", requeues=job.requeues, planning=True).save()
        recompute_job_plan_task.delay_on_commit(job.pk)
        requeued += 1
    for job in recomputes:
        chunk_ids = recompute_job_unfinished(job=job)
        if not chunk_ids:
            continue  # nothing was left to run: it is finished now
        job.requeues, job.heartbeat_at = job.requeues + 1, now
        job.save(update_fields=["requeues", "heartbeat_at"])
        job_transition_audit(job=job, event="requeued", requeues=job.requeues, chunks=chunk_ids).save()
        for chunk_id in chunk_ids:
            recompute_chunk_run_task.delay_on_commit(chunk_id)
        requeued += 1
    return requeued


stale_job_kind_register(
    StaleJobKind(
        key="recomputes",
        model=RecomputeJob,
        requeue=recompute_jobs_requeue,
        failed_message=gettext_lazy(
            "작업이 제시간에 끝나지 않아 중단했습니다. 남은 신청은 주기적 재산정이 이어서 계산합니다."
        ),
    )
)


def stale_jobs_requeue(*, now: datetime | None = None) -> dict[str, int]:
    """Queue again the remaining work of running jobs of every registered kind whose heartbeat stopped
    JOB_HEARTBEAT_TIMEOUT_SECONDS ago (their worker was killed). At most JOB_MAX_REQUEUES times in a row without
    progress; then `stale_jobs_fail` marks the job failed. Each re-queue is audited.

    Nothing is done twice: a re-queued export takes the job with a new lease (the dead run's lease is released
    there, and a run that was only slow stops at its next progress mark); a chunk commits its estimates with its
    progress and is skipped while another worker holds its row lock; the dead worker's own message, handed back by
    the broker an hour later, finds the work done.
    """
    now = now or timezone.now()
    stale = _stale(cutoff=heartbeat_cutoff(now=now)) & Q(requeues__lt=settings.JOB_MAX_REQUEUES)
    with transaction.atomic():
        requeued = {key: kind.requeue(stale=stale, now=now) for key, kind in _stale_job_kinds.items()}
    if any(requeued.values()):
        logger.warning("Jobs whose worker stopped were queued again: %s", requeued)
    return requeued


def stale_jobs_fail(*, now: datetime | None = None) -> dict[str, int]:
    """Mark failed (audited) the jobs of every registered kind whose worker keeps dying: still stale after
    JOB_MAX_REQUEUES re-queues, or with no sign of life for JOB_STALE_AFTER_MINUTES (a job that never started)."""
    now = now or timezone.now()
    began = Q(status="running") | Q(status="pending", heartbeat_at__isnull=False)  # a planner that died, too
    gone = Q(_stale(cutoff=heartbeat_cutoff(now=now)), began, requeues__gte=settings.JOB_MAX_REQUEUES)
    silent = Q(
        _stale(cutoff=now - timedelta(minutes=settings.JOB_STALE_AFTER_MINUTES)), status__in=("pending", "running")
    )
    failed = dict.fromkeys(_stale_job_kinds, 0)
    gave_up = _("작업 서버가 멈춰 %(count)s번 다시 시작했지만 끝나지 않아 중단했습니다.")
    with transaction.atomic():
        for key, kind in _stale_job_kinds.items():
            for job in kind.model.objects.select_for_update(skip_locked=True).filter(gone | silent):
                requeues_spent = job.requeues >= settings.JOB_MAX_REQUEUES
                reason = "requeues_spent" if requeues_spent else "stale"
                error = str(kind.failed_message)
                if requeues_spent:
                    error = f"{gave_up % {'count': job.requeues}} {error}"
                job.status, job.error, job.finished_at = kind.model.Status.FAILED, error, now
                for field in kind.released_on_fail:
                    setattr(job, field, None)
                job.save(update_fields=["status", "error", "finished_at", *kind.released_on_fail])
                job_transition_audit(job=job, event="failed", reason=reason, requeues=job.requeues).save()
                failed[key] += 1
    if any(failed.values()):
        logger.warning("Stale jobs marked failed: %s", failed)
    return failed


# --- evidence findings whose reading never ended ------------------------------------------------------------------

# Longer than a reading's hard time limit (180 s) plus a retry's longest backoff (core.tasks, 300 s): a finding still
# pending after this is not waiting for any message.
READING_REQUEUE_AFTER = timedelta(minutes=10)
READING_REQUEUE_BATCH = 500


def evidence_findings_requeue(*, now: datetime | None = None, limit: int = READING_REQUEUE_BATCH) -> int:
    """Queue again, on commit, the reading of pending findings whose last attempt (or upload, when none began)
    is older than READING_REQUEUE_AFTER; each is marked as attempted now so the next sweep waits again. Returns
    how many were queued."""
    from claims.tasks.evidence_reading import evidence_read_task

    now = now or timezone.now()
    cutoff = now - READING_REQUEUE_AFTER
    lost = Q(attempted_at__lt=cutoff) | Q(attempted_at__isnull=True, evidence__uploaded_at__lt=cutoff)
    with transaction.atomic():
        findings = list(
            EvidenceFinding.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(lost, status=EvidenceFinding.Status.PENDING)
            .order_by("pk")[:limit]
        )
        for finding in findings:
            finding.attempted_at = now
            finding.save(update_fields=["attempted_at"])
            evidence_read_task.delay_on_commit(finding.evidence_id)
    if findings:
        logger.warning("Evidence readings queued again: %s", len(findings))
    return len(findings)


# --- tasks the broker did not take (config.celery.OnCommitTask) ----------------------------------------------------

UNSENT_BATCH = 500


def unsent_tasks_publish(*, limit: int = UNSENT_BATCH) -> int:
    """Publish again, oldest first, the tasks whose message the broker refused after their change was committed
    (Redis down), deleting each row with its publish. Rows locked by a concurrent run are left to it. Stops at the
    first refusal (the broker is still down) and keeps the rest. Returns how many were published."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    from accounts.models import UnsentTask

    published = 0
    with transaction.atomic():
        rows = list(UnsentTask.objects.select_for_update(skip_locked=True).order_by("created_at", "pk")[:limit])
        for row in rows:
            task = current_app.tasks.get(row.name)
            if task is None:  # renamed or removed since: nothing can run it
                logger.error("Unsent task %s%r dropped: no such task", row.name, tuple(row.args))
                row.delete()
                continue
            try:
                task.apply_async(args=row.args, kwargs=row.kwargs, ignore_result=True)
            except OperationalError:
                logger.warning("Unsent tasks: the broker still does not answer; %s left", len(rows) - published)
                break
            row.delete()
            published += 1
    if published:
        logger.info("Unsent tasks published again: %s", published)
    return published
