"""What export and recompute jobs share: their heartbeat, audit entries for their state changes, and the test hook
that parks a job at a known point so a fault test can kill its worker there.

A running job records a heartbeat (`heartbeat_at`) while it works: a recompute when each chunk starts and commits,
an export with its progress every few thousand rows. A worker killed with SIGKILL stops the heartbeat; the sweep
(claims/services/recovery.py) then queues the job's remaining work again within JOB_HEARTBEAT_TIMEOUT_SECONDS,
instead of waiting for the broker to hand the dead worker's message back after its visibility timeout (an hour).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from core.audit import audit_entry
from core.models import AuditEntry

logger = logging.getLogger(__name__)


class JobSupersededError(Exception):
    """This run of a job lost its lease: the sweep gave the job to another run (this one was thought dead)."""


def heartbeat_cutoff(*, now: datetime | None = None) -> datetime:
    """Heartbeats older than this belong to a worker that is gone."""
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS)


@contextmanager
def heartbeat_kept(*, beat: Callable[[], None]) -> Iterator[None]:
    """Call `beat` from a thread every third of the heartbeat timeout while the block runs: for a long step that
    has no progress marks of its own (storing a large file). The thread stops when the block ends or when `beat`
    raises JobSupersededError."""
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_TIMEOUT_SECONDS / 3):
                try:
                    beat()
                except JobSupersededError:
                    return
                except Exception:
                    logger.exception("Job heartbeat failed")
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, name="job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def job_transition_audit(*, job: models.Model, event: str, **data) -> AuditEntry:
    """An unsaved audit entry for a job's state change made by the system (no member of staff)."""
    return audit_entry(actor=None, action=AuditEntry.Action.TRANSITION, target=job, data={"event": event, **data})


def job_test_park(*, job: str, job_id: int) -> None:
    """Test hook, inert unless the setting JOB_TEST_PARK_AFTER_FIRST_CHUNK names a folder (fault tests set it
    for the worker they are about to kill): writes `<folder>/<job>-<job_id>` and blocks this worker for good.

    Called once a job's first chunk (a recompute) or its first progress mark (an export) is committed and the next
    piece of work is in progress, so the test kills the worker at a known point instead of racing the clock.
    """
    folder = getattr(settings, "JOB_TEST_PARK_AFTER_FIRST_CHUNK", "")
    if not folder:
        return
    marker = Path(folder) / f"{job}-{job_id}"
    marker.write_text(str(os.getpid()))
    logger.warning("Test hook: %s job %s parked in process %s", job, job_id, os.getpid())
    threading.Event().wait()  # never set: the test kills this process
