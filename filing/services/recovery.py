"""The export jobs' part of the stale-job sweeps (claims/services/recovery.py), registered by FilingConfig.ready()."""

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.services.jobs import job_transition_audit
from claims.services.recovery import StaleJobKind
from filing.models import ExportJob


def export_jobs_requeue(*, stale: Q, now: datetime) -> int:
    """Running exports whose worker died are built again from the start: the dead run's lease is released here, so
    the new run takes the job and a run that was only slow stops at its next progress mark."""
    from filing.tasks.exports import export_build_task

    requeued = 0
    for job in ExportJob.objects.select_for_update(skip_locked=True).filter(stale, status=ExportJob.Status.RUNNING):
        job.requeues, job.lease, job.heartbeat_at = job.requeues + 1, None, now
        job.save(update_fields=["requeues", "lease", "heartbeat_at"])
        job_transition_audit(job=job, event="requeued", requeues=job.requeues, done=job.done).save()
        export_build_task.delay_on_commit(job.pk)
        requeued += 1
    return requeued


EXPORT_JOBS = StaleJobKind(
    key="exports",
    model=ExportJob,
    requeue=export_jobs_requeue,
    failed_message=_("작업이 제시간에 끝나지 않아 중단했습니다 (작업 서버가 멈췄을 수 있습니다). 다시 요청해 주세요."),
    released_on_fail=("lease",),
)
