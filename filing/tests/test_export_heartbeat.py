"""Export jobs whose worker died: the minute sweep (claims/services/recovery.py, the export part registered by
filing/services/recovery.py) queues them again, each is built once (a lease per run), and a run that lost its job
stops without keeping a file. The sweep over both kinds of job: claims/tests/test_job_heartbeat.py."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory, StaffFactory
from claims.models import Claim
from claims.services.jobs import JobSupersededError
from claims.services.recovery import stale_jobs_requeue
from claims.tests.factories import claim_estimated, default_incident
from core.models import AuditEntry
from filing.models import Cohort, ExportJob
from filing.selectors.cohorts import CohortCriteria
from filing.services import exports as export_services
from filing.services.cohorts import cohort_save
from filing.services.exports import export_build
from filing.tasks.exports import export_build_task

pytestmark = pytest.mark.django_db
NOTHING = {"exports": 0, "recomputes": 0}


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


def csv_export(actor, *, claims: int = 3) -> ExportJob:
    for index in range(claims):
        claim_estimated(status=Claim.Status.ACCEPTED, claimant=ClaimantFactory(legal_name=f"원고{index}"))
    criteria = CohortCriteria(statuses=(Claim.Status.ACCEPTED,))
    cohort = cohort_save(cohort=Cohort(name="승인", incident=default_incident()), criteria=criteria, actor=actor)
    return ExportJob.objects.create(kind=ExportJob.Kind.CLAIMS_CSV, cohort=cohort, requested_by=actor)


def heartbeat_seconds_ago(job: ExportJob, seconds: int) -> None:
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def transitions(job: ExportJob) -> list[dict]:
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.TRANSITION, object_type=job._meta.label_lower, object_id=str(job.pk), actor=None
    )
    return list(entries.order_by("pk").values_list("data", flat=True))


def stored_files() -> list[str]:
    """The export files in storage."""
    return default_storage.listdir("exports")[1] if default_storage.exists("exports") else []


def test_an_export_whose_worker_died_is_requeued_by_the_sweep_built_once_and_audited(
    lawyer, django_capture_on_commit_callbacks
):
    job = csv_export(lawyer)
    dead_run = uuid.uuid4()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, lease=dead_run, done=2)
    heartbeat_seconds_ago(job, 60)

    # Within the heartbeat timeout the run might be alive: a second message and the sweep leave it alone.
    assert export_build(job_id=job.pk).status == ExportJob.Status.RUNNING
    assert stale_jobs_requeue() == NOTHING
    assert ExportJob.objects.get(pk=job.pk).lease == dead_run and not stored_files()

    heartbeat_seconds_ago(job, 181)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert stale_jobs_requeue() == {"exports": 1, "recomputes": 0}

    assert len(queued) == 1
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.requeues, job.lease) == (ExportJob.Status.DONE, 3, 3, 1, None)
    assert [entry["event"] for entry in transitions(job)] == ["requeued"]
    assert len(stored_files()) == 1

    # The dead worker's own message, handed back by the broker an hour later, does nothing.
    assert export_build_task.apply(args=[job.pk]).get() == ExportJob.Status.DONE
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.file.name, again.sha256, again.finished_at) == (job.file.name, job.sha256, job.finished_at)
    assert len(stored_files()) == 1
    assert stale_jobs_requeue() == NOTHING


def test_a_slow_run_that_lost_its_export_stops_at_its_next_progress_mark(lawyer, settings, monkeypatch):
    settings.EXPORT_PROGRESS_ROWS = 1
    job = csv_export(lawyer)
    real_recorder = export_services._progress_recorder

    def taken_over_after_first_row(job_id, lease):
        record = real_recorder(job_id, lease)

        def record_after_takeover(done):
            ExportJob.objects.filter(pk=job_id).update(lease=uuid.uuid4())  # the sweep gave it to another run
            record(done)

        return record_after_takeover

    monkeypatch.setattr(export_services, "_progress_recorder", taken_over_after_first_row)

    assert export_build_task.apply(args=[job.pk]).get() == "superseded"

    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and not job.file  # left to the run that holds it
    assert not stored_files()
    assert transitions(job) == []  # not failed


def test_a_slow_run_that_lost_its_export_while_writing_the_file_keeps_no_file(lawyer, monkeypatch):
    job = csv_export(lawyer)
    real_sha256 = export_services.sha256_file

    def taken_over_at_the_end(out):
        ExportJob.objects.filter(pk=job.pk).update(lease=uuid.uuid4())
        return real_sha256(out)

    monkeypatch.setattr(export_services, "sha256_file", taken_over_at_the_end)

    with pytest.raises(JobSupersededError):
        export_build(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and not job.file and not job.sha256
    assert not stored_files()


def test_an_export_that_fails_is_audited_and_a_retry_takes_it_again(lawyer, monkeypatch):
    job = csv_export(lawyer)
    monkeypatch.setattr(export_services, "sha256_file", lambda out: (_ for _ in ()).throw(RuntimeError("a bug")))

    assert export_build_task.apply(args=[job.pk]).get() == "failed"

    job.refresh_from_db()
    assert (job.status, job.error, job.lease) == (ExportJob.Status.FAILED, "RuntimeError", None)
    assert transitions(job) == [{"event": "failed", "reason": "RuntimeError"}]
