"""Job heartbeats: a running export or recompute whose worker stopped is queued again by the minute sweep, every row
is done once (leases for exports, row locks for chunks), a job whose worker keeps dying is failed by the reaper,
and the fault tests' park hook does nothing unless its setting is there. An export's own cases (requeued, built once,
a run that lost its job): filing/tests/test_export_heartbeat.py. With a real worker killed mid-job:
config/tests/test_worker_faults.py."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from claims.models import Estimate, RecomputeChunk, RecomputeJob
from claims.services import estimates as estimate_services
from claims.services.estimates import (
    damage_model_activate,
    recompute_chunk_run,
    recompute_job_plan,
    recompute_job_planning_started,
)
from claims.services.jobs import heartbeat_kept, job_test_park
from claims.services.recovery import stale_jobs_fail, stale_jobs_requeue
from claims.tests.factories import DamageModelVersionFactory
from claims.tests.test_estimate_tasks import assert_every_claim_estimated_once_by, kakao_t_driver_claim, manager
from config.settings import base
from core.models import AuditEntry
from filing.models import ExportJob
from filing.services.exports import export_build
from filing.tests.test_export_heartbeat import csv_export

pytestmark = pytest.mark.django_db
NOTHING = {"exports": 0, "recomputes": 0}


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


def heartbeat_seconds_ago(job, seconds: int) -> None:
    type(job).objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def transitions(job) -> list[dict]:
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.TRANSITION, object_type=job._meta.label_lower, object_id=str(job.pk), actor=None
    )
    return list(entries.order_by("pk").values_list("data", flat=True))


def test_the_production_defaults_requeue_a_silent_job_within_minutes_and_have_no_park_hook():
    assert base.JOB_HEARTBEAT_TIMEOUT_SECONDS == 180
    assert base.JOB_MAX_REQUEUES == 3
    assert base.CELERY_BEAT_SCHEDULE["claims-stale-jobs-requeue"] == {
        "task": "claims.tasks.recovery.stale_jobs_requeue_task",
        "schedule": 60,
    }
    assert base.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == 3600
    assert not hasattr(base, "JOB_TEST_PARK_AFTER_FIRST_CHUNK")


def test_the_park_hook_does_nothing_without_its_setting_and_parks_with_it(settings, tmp_path, wait_until):
    del settings.JOB_TEST_PARK_AFTER_FIRST_CHUNK
    assert job_test_park(job="export", job_id=1) is None  # returns at once
    settings.JOB_TEST_PARK_AFTER_FIRST_CHUNK = ""
    assert job_test_park(job="export", job_id=1) is None

    settings.JOB_TEST_PARK_AFTER_FIRST_CHUNK = str(tmp_path)
    parked = threading.Thread(target=job_test_park, kwargs={"job": "export", "job_id": 7}, daemon=True)
    parked.start()
    wait_until(lambda: (tmp_path / "export-7").exists())
    assert parked.is_alive()  # blocked for good, as a worker about to be killed


def test_a_long_step_without_progress_marks_keeps_beating_until_it_ends(settings):
    settings.JOB_HEARTBEAT_TIMEOUT_SECONDS = 0.3  # a beat every 0.1 s
    beats, beaten = [], threading.Event()

    def beat():
        beats.append(threading.current_thread().name)
        if len(beats) == 2:
            beaten.set()

    with heartbeat_kept(beat=beat):
        assert beaten.wait(timeout=30)  # the block (storing a large file) is still running
    after = len(beats)
    assert beats[0] == "job-heartbeat"
    assert not any(thread.name == "job-heartbeat" for thread in threading.enumerate())
    assert len(beats) == after  # no beat once the block is over


# --- recomputes ---------------------------------------------------------------------------------------------------


@pytest.fixture
def planned_recompute(settings, monkeypatch):
    """A recompute of five claims in chunks of two, planned but not run (its messages are not sent)."""
    settings.RECOMPUTE_CHUNK_SIZE = 2
    claims = [kakao_t_driver_claim() for _ in range(5)]
    monkeypatch.setattr(estimate_services, "_recompute_enqueue", lambda job: None)
    job = damage_model_activate(version=DamageModelVersionFactory(), actor=manager())
    return job, recompute_job_plan(job_id=job.pk), claims


def test_a_recompute_whose_worker_died_has_its_unfinished_chunks_requeued_and_each_claim_estimated_once(
    planned_recompute, django_capture_on_commit_callbacks
):
    job, (first, second, third), claims = planned_recompute
    recompute_chunk_run(chunk_id=first)  # then the worker died during the second chunk (rolled back)
    job.refresh_from_db()
    assert job.status == RecomputeJob.Status.RUNNING and job.heartbeat_at
    assert stale_jobs_requeue() == NOTHING  # its heartbeat is recent

    heartbeat_seconds_ago(job, 181)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert stale_jobs_requeue() == {"exports": 0, "recomputes": 1}

    assert len(queued) == 3  # the two unfinished chunks, then the cohort flag after the last
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.requeues) == (RecomputeJob.Status.DONE, 5, 5, 0)
    assert transitions(job) == [{"event": "requeued", "requeues": 1, "chunks": [second, third]}]
    # The dead worker's message for the second chunk comes back later: nothing more is written.
    assert recompute_chunk_run(chunk_id=second).status == RecomputeChunk.Status.DONE
    assert_every_claim_estimated_once_by(job.model_version, claims)


@pytest.fixture
def unplanned_recompute(settings, monkeypatch):
    """A recompute of five claims in chunks of two, activated but not planned (its message is not sent)."""
    settings.RECOMPUTE_CHUNK_SIZE = 2
    claims = [kakao_t_driver_claim() for _ in range(5)]
    monkeypatch.setattr(estimate_services, "_recompute_enqueue", lambda job: None)
    return damage_model_activate(version=DamageModelVersionFactory(), actor=manager()), claims


def test_a_recompute_whose_worker_died_while_planning_is_planned_again_and_each_claim_estimated_once(
    unplanned_recompute, django_capture_on_commit_callbacks
):
    job, claims = unplanned_recompute
    recompute_job_planning_started(job_id=job.pk)  # then the worker died: the planning transaction rolled back
    job.refresh_from_db()
    assert job.status == RecomputeJob.Status.PENDING and job.heartbeat_at
    assert stale_jobs_requeue() == NOTHING  # its heartbeat is recent

    heartbeat_seconds_ago(job, 181)
    with django_capture_on_commit_callbacks(execute=True):
        assert stale_jobs_requeue() == {"exports": 0, "recomputes": 1}

    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (RecomputeJob.Status.DONE, 5, 5)
    assert transitions(job) == [{"event": "requeued", "requeues": 1, "planning": True}]
    assert_every_claim_estimated_once_by(job.model_version, claims)


def test_a_recompute_still_waiting_in_the_queue_is_not_planned_by_the_sweep_however_old(unplanned_recompute):
    job, _claims = unplanned_recompute
    RecomputeJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=30))

    assert stale_jobs_requeue() == NOTHING

    job.refresh_from_db()
    assert (job.status, job.requeues, job.heartbeat_at) == (RecomputeJob.Status.PENDING, 0, None)


def test_a_recompute_whose_worker_died_after_its_last_chunk_is_finished_by_the_sweep(planned_recompute):
    job, chunk_ids, claims = planned_recompute
    for chunk_id in chunk_ids:
        recompute_chunk_run(chunk_id=chunk_id)
    RecomputeJob.objects.filter(pk=job.pk).update(status=RecomputeJob.Status.RUNNING, finished_at=None)
    heartbeat_seconds_ago(job, 181)

    assert stale_jobs_requeue() == NOTHING  # nothing to queue again

    job.refresh_from_db()
    assert (job.status, job.requeues, job.finished_at is not None) == (RecomputeJob.Status.DONE, 0, True)
    assert_every_claim_estimated_once_by(job.model_version, claims)


@pytest.mark.django_db(transaction=True)
def test_a_chunk_another_worker_is_still_running_is_skipped_not_run_twice(planned_recompute):
    job, (first, _second, _third), claims = planned_recompute
    holding, release = threading.Event(), threading.Event()

    def slow_worker():
        try:
            with transaction.atomic():
                RecomputeChunk.objects.select_for_update().get(pk=first)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    worker = threading.Thread(target=slow_worker)
    worker.start()
    try:
        assert holding.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # a wait for the lock would fail the test, not hang it
        try:
            skipped = recompute_chunk_run(chunk_id=first)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        worker.join(timeout=60)

    assert skipped.status == RecomputeChunk.Status.PENDING
    assert not Estimate.objects.filter(model_version=job.model_version).exists()
    for chunk_id in RecomputeChunk.objects.filter(job=job).values_list("pk", flat=True):
        recompute_chunk_run(chunk_id=chunk_id)
    assert_every_claim_estimated_once_by(job.model_version, claims)


# --- giving up ------------------------------------------------------------------------------------------------------


def test_a_job_whose_worker_keeps_dying_is_failed_by_the_reaper_with_a_reason(lawyer, planned_recompute, settings):
    settings.JOB_MAX_REQUEUES = 3
    recompute, _chunks, _claims = planned_recompute
    export = csv_export(lawyer)
    ExportJob.objects.filter(pk=export.pk).update(status=ExportJob.Status.RUNNING, lease=uuid.uuid4(), requeues=3)
    RecomputeJob.objects.filter(pk=recompute.pk).update(requeues=3)
    for job in (export, recompute):
        heartbeat_seconds_ago(job, 60)
    assert stale_jobs_fail() == NOTHING  # maybe alive

    for job in (export, recompute):
        heartbeat_seconds_ago(job, 181)
    assert stale_jobs_requeue() == NOTHING  # no more re-queues
    assert stale_jobs_fail() == {"exports": 1, "recomputes": 1}

    for job in (export, recompute):
        job.refresh_from_db()
        assert job.status == "failed" and job.finished_at
        assert "3번 다시 시작했지만" in job.error
        assert transitions(job) == [{"event": "failed", "reason": "requeues_spent", "requeues": 3}]
    assert export.lease is None
    assert export_build(job_id=export.pk).status == ExportJob.Status.FAILED  # a late message does nothing
    assert recompute_job_plan(job_id=recompute.pk) == []


def test_a_long_job_with_a_live_heartbeat_is_not_failed_for_its_age(lawyer):
    job = csv_export(lawyer)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING, lease=uuid.uuid4(), created_at=timezone.now() - timedelta(hours=5)
    )
    heartbeat_seconds_ago(job, 10)
    assert stale_jobs_fail() == NOTHING
    assert stale_jobs_requeue() == NOTHING
