"""Workers killed with SIGKILL in the middle of long jobs, with the production broker settings (a dead worker's
message comes back only after the one-hour visibility timeout) and the real heartbeat timeout.

Each test parks the first worker at a known point through the test hook JOB_TEST_PARK_AFTER_FIRST_CHUNK (after the
job's first chunk, or its first progress mark, is committed and while the next is in progress), kills it there,
and starts a replacement. The time a dead worker's heartbeat takes to grow old is simulated by moving its heartbeat
back past JOB_HEARTBEAT_TIMEOUT_SECONDS; the minute sweep then queues the remaining work again.

- A recompute: the replacement runs the chunks still queued, the sweep re-queues the one the dead worker held,
  and every claim is estimated by the new model exactly once (a chunk commits with its progress).
- An export (the claims CSV, marked once its rows are written, before the file is hashed and stored): the sweep
  re-queues the job and the replacement builds the file again from the start (the half-written one was a
  temporary file that died with the process); the job ends with one complete file.
- In both, the dead worker's own message, sent again as the broker would an hour later, does nothing.
"""

import csv
import io
import os
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.roles import Role
from claims.models import Claim, DamageModelVersion, Estimate, RecomputeChunk, RecomputeJob
from claims.selectors.estimates import claims_estimable
from claims.services.estimates import damage_model_activate
from claims.tasks.estimates import recompute_chunk_run_task, recompute_job_plan_task
from claims.tasks.recovery import stale_jobs_requeue_task
from claims.tests.factories import DamageModelVersionFactory, default_incident
from claims.tests.staff import staff_member
from core.models import AuditEntry
from filing.models import Cohort, ExportJob
from filing.selectors.cohorts import CohortCriteria, cohort_claims
from filing.services.cohorts import cohort_save
from filing.services.exports import export_request
from filing.tasks.exports import export_build_task

CLAIMS = 600
# Production's broker settings, whatever the environment says; small chunks so a few hundred claims make several.
PRODUCTION = {"CELERY_VISIBILITY_TIMEOUT": "3600", "CELERY_UNACKED_RESTORE_THROTTLE": "10"}
SMALL_CHUNKS = {"RECOMPUTE_CHUNK_SIZE": "100", "EXPORT_PROGRESS_ROWS": "100"}
NOTHING = {"exports": 0, "recomputes": 0}
TASK_TIMEOUT = 120


@pytest.fixture
def dead_messages_cleared():
    """The messages a killed worker held stay in the broker's unacknowledged set for an hour: clear them before
    and after, so no later test's worker receives this one's."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("unacked", "unacked_index")
    yield
    broker.delete("unacked", "unacked_index")
    broker.close()


@pytest.fixture
def park_folder(tmp_path):
    folder = tmp_path / "parked"
    folder.mkdir()
    return folder


def heartbeat_grown_old(model, pk: int) -> None:
    """What a dead worker's job looks like once the heartbeat timeout has passed."""
    gone = timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS + 1)
    model.objects.filter(pk=pk).update(heartbeat_at=gone)


def requeue_events(job) -> list[str]:
    entries = AuditEntry.objects.filter(object_type=job._meta.label_lower, object_id=str(job.pk))
    return [data.get("event") for data in entries.order_by("pk").values_list("data", flat=True)]


def test_the_fault_tests_run_with_the_real_heartbeat_timeout():
    assert "JOB_HEARTBEAT_TIMEOUT_SECONDS" not in os.environ
    assert settings.JOB_HEARTBEAT_TIMEOUT_SECONDS == 180


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_recompute_whose_worker_is_killed_mid_chunk_is_finished_by_the_sweep_each_claim_once(
    dead_messages_cleared, celery_worker_factory, park_folder, wait_until
):
    call_command("generate_claims", count=CLAIMS, workers=0, allow_without_debug=True, verbosity=0)
    estimable = set(claims_estimable(incident_id=default_incident().pk).values_list("pk", flat=True))
    assert len(estimable) > 300  # several chunks of 100
    lawyer = staff_member(Role.LAWYER)
    version = DamageModelVersionFactory()
    first = celery_worker_factory(**PRODUCTION, **SMALL_CHUNKS, JOB_TEST_PARK_AFTER_FIRST_CHUNK=str(park_folder))

    job = damage_model_activate(version=version, actor=lawyer)

    wait_until(lambda: (park_folder / f"recompute-{job.pk}").exists(), timeout=240)
    first.kill()  # SIGKILL in the middle of the second chunk: rolled back, its message neither finished nor acked
    first.wait()
    chunks = RecomputeChunk.objects.filter(job=job)
    assert list(chunks.filter(status=RecomputeChunk.Status.DONE).values_list("index", flat=True)) == [0]
    job.refresh_from_db()
    assert job.status == RecomputeJob.Status.RUNNING and 0 < job.done < job.total

    # The replacement runs the chunks still queued; the one the dead worker held would come back in an hour.
    celery_worker_factory(**PRODUCTION, **SMALL_CHUNKS)
    wait_until(lambda: chunks.filter(status=RecomputeChunk.Status.PENDING).count() == 1, timeout=240)
    lost = chunks.get(status=RecomputeChunk.Status.PENDING)
    assert lost.index == 1
    assert stale_jobs_requeue_task.delay().get(timeout=TASK_TIMEOUT) == NOTHING  # the heartbeat is recent
    assert RecomputeJob.objects.get(pk=job.pk).status == RecomputeJob.Status.RUNNING

    heartbeat_grown_old(RecomputeJob, job.pk)
    assert stale_jobs_requeue_task.delay().get(timeout=TASK_TIMEOUT) == {"exports": 0, "recomputes": 1}
    wait_until(lambda: RecomputeJob.objects.get(pk=job.pk).status == RecomputeJob.Status.DONE, timeout=240)

    # The dead worker's messages, sent again as the broker would after the visibility timeout, do nothing.
    assert recompute_chunk_run_task.delay(lost.pk).get(timeout=TASK_TIMEOUT) == chunks.get(pk=lost.pk).written
    assert recompute_job_plan_task.delay(job.pk).get(timeout=TASK_TIMEOUT) == 0

    job.refresh_from_db()
    assert job.done == job.total == len(estimable) and job.failures == 0
    assert requeue_events(job) == ["requeued"]
    by_claim = Estimate.objects.filter(model_version=version).values("claim").annotate(n=Count("pk"))
    assert {row["claim"] for row in by_claim} == estimable  # no claim missed
    assert {row["n"] for row in by_claim} == {1}  # none estimated twice
    current = Estimate.objects.filter(claim__in=estimable, is_current=True)
    assert current.count() == len(estimable) and not current.exclude(model_version=version).exists()
    assert Claim.objects.filter(pk__in=estimable, estimate_total__isnull=True).count() == 0
    assert DamageModelVersion.objects.get(pk=version.pk).is_active


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_export_whose_worker_is_killed_mid_file_is_built_again_by_the_sweep(
    dead_messages_cleared, celery_worker_factory, park_folder, wait_until
):
    call_command("generate_claims", count=CLAIMS, workers=0, allow_without_debug=True, verbosity=0)
    lawyer = staff_member(Role.LAWYER)
    filed = CohortCriteria(statuses=tuple(status for status in Claim.Status.values if status != Claim.Status.DRAFT))
    cohort = cohort_save(cohort=Cohort(name="제출된 신청", incident=default_incident()), criteria=filed, actor=lawyer)
    rows = cohort_claims(cohort=cohort).count()
    assert rows > 200
    first = celery_worker_factory(**PRODUCTION, **SMALL_CHUNKS, JOB_TEST_PARK_AFTER_FIRST_CHUNK=str(park_folder))

    job = export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, cohort=cohort)

    wait_until(lambda: (park_folder / f"export-{job.pk}").exists(), timeout=240)
    first.kill()
    first.wait()
    job.refresh_from_db()
    # The CSV's rows come in one COPY, marked when it ends; the worker died while hashing and storing the file.
    assert (job.status, job.done, bool(job.file)) == (ExportJob.Status.RUNNING, rows, False)

    celery_worker_factory(**PRODUCTION, **SMALL_CHUNKS)
    assert stale_jobs_requeue_task.delay().get(timeout=TASK_TIMEOUT) == NOTHING  # the heartbeat is recent
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.RUNNING

    heartbeat_grown_old(ExportJob, job.pk)
    assert stale_jobs_requeue_task.delay().get(timeout=TASK_TIMEOUT) == {"exports": 1, "recomputes": 0}
    wait_until(lambda: ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE, timeout=240)

    # The dead worker's message, sent again as the broker would after the visibility timeout, does nothing.
    assert export_build_task.delay(job.pk).get(timeout=TASK_TIMEOUT) == ExportJob.Status.DONE

    job.refresh_from_db()
    assert job.done == job.total == rows and job.requeues == 1
    assert requeue_events(job) == ["requested", "requeued"]
    assert default_storage.listdir("exports")[1] == [job.file.name.removeprefix("exports/")]  # one file
    with job.file.open("rb") as handle:
        content = handle.read()
    assert len(content) == job.size
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(lines) == rows + 1  # the header and every claim once
    assert len({line[1] for line in lines[1:]}) == rows  # distinct reference codes
