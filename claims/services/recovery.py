"""Recovery from lost messages and dead workers, run periodically by beat (claims/tasks/recovery.py).

- Status emails whose task never ran (the broker was down when the claim was submitted, or the message was lost)
  are found from the timeline: an event of an emailed kind without `emailed_at`. Queuing one again is safe: the
  email task locks the event and sends only if it has not been sent, so nothing is sent twice.
- Export and recompute jobs left pending or running far longer than any real run (their worker was killed and
  the message never came back) are marked failed with a message for staff, instead of showing progress forever.
  A redelivered message for such a job does nothing (finished and failed jobs are left alone).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import ClaimEvent, ExportJob, RecomputeJob
from claims.tasks.notifications import EMAILED_KINDS

logger = logging.getLogger(__name__)

# An email is looked for again once its task had this long to run, and given up after a week.
EMAIL_GRACE = timedelta(minutes=5)
EMAIL_GIVE_UP = timedelta(days=7)
STALE_MESSAGE = "stale"


def status_events_unsent(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(claim id, event id) of emailed events older than EMAIL_GRACE whose email was never sent."""
    now = now or timezone.now()
    return list(
        ClaimEvent.objects.filter(
            kind__in=EMAILED_KINDS, created_at__lt=now - EMAIL_GRACE, created_at__gte=now - EMAIL_GIVE_UP
        )
        .filter(Q(data__emailed_at__isnull=True))
        .order_by("pk")
        .values_list("claim_id", "pk")
    )


def stale_jobs_fail(*, now: datetime | None = None) -> dict[str, int]:
    """Mark failed the export and recompute jobs still pending or running after JOB_STALE_AFTER_MINUTES."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.JOB_STALE_AFTER_MINUTES)
    exports = ExportJob.objects.filter(
        status__in=(ExportJob.Status.PENDING, ExportJob.Status.RUNNING), created_at__lt=cutoff
    ).update(
        status=ExportJob.Status.FAILED,
        error=_("작업이 제시간에 끝나지 않아 중단했습니다 (작업 서버가 멈췄을 수 있습니다). 다시 요청해 주세요."),
        finished_at=timezone.now(),
    )
    recomputes = RecomputeJob.objects.filter(
        status__in=(RecomputeJob.Status.PENDING, RecomputeJob.Status.RUNNING), created_at__lt=cutoff
    ).update(
        status=RecomputeJob.Status.FAILED,
        error=_("작업이 제시간에 끝나지 않아 중단했습니다. 남은 신청은 주기적 재산정이 이어서 계산합니다."),
        finished_at=timezone.now(),
    )
    if exports or recomputes:
        logger.warning("Stale jobs marked failed: %s exports, %s recomputes", exports, recomputes)
    return {"exports": exports, "recomputes": recomputes}


# --- tasks the broker did not take (config.celery.OnCommitTask) ----------------------------------------------------

UNSENT_BATCH = 500


def unsent_tasks_publish(*, limit: int = UNSENT_BATCH) -> int:
    """Publish again, oldest first, the tasks whose message the broker refused after their change was committed
    (Redis down), deleting each row with its publish. Rows locked by a concurrent run are left to it. Stops at the
    first refusal (the broker is still down) and keeps the rest. Returns how many were published."""
    from celery import current_app
    from django.db import transaction
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
