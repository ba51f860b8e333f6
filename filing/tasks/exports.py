"""Exports in the background (queue `exports`): building one requested file, and the periodic deletion of expired
files (celery beat, see CELERY_BEAT_SCHEDULE).

The tasks keep the names they had in claims (`claims.tasks.exports.*`): messages queued before the move, the beat
schedule's rows, tasks kept for a broker outage (accounts.UnsentTask) and retries name them that way, and
CELERY_TASK_ROUTES sends them to the `exports` queue by that name (docs/filing.md).

The build task takes the job id, is safe to run twice (a finished job, or one another live run holds, is left
alone) and retries only transient database errors; any other error marks the job failed with a message for staff
and is logged.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from claims.services.jobs import JobSupersededError
from filing.services.exports import export_build, export_fail, exports_expire

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="claims.tasks.exports.export_build_task",
    bind=True,
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def export_build_task(self, job_id: int) -> str:
    """Build one export; returns the job's status."""
    try:
        return export_build(job_id=job_id).status
    except JobSupersededError:
        logger.warning("Export job %s was given to another run; this one stopped.", job_id)
        return "superseded"
    except TRANSIENT_ERRORS as exc:
        if self.request.retries < self.max_retries:
            raise
        logger.exception("Export job %s failed for good after retries.", job_id)
        export_fail(job_id=job_id, error=type(exc).__name__)
    except Exception as exc:
        logger.exception("Export job %s failed.", job_id)
        export_fail(job_id=job_id, error=type(exc).__name__)
    return "failed"


@shared_task(name="claims.tasks.exports.export_expire_task", acks_late=True)
def export_expire_task() -> int:
    """Delete the files of exports past their expiry time."""
    return exports_expire()
