"""Workers killed with SIGKILL in the middle of long jobs.

- A recompute: a new worker finishes the job, with every claim estimated by the new model exactly once (tasks are
  acknowledged late and a chunk records its progress in the same transaction as its estimates).
- An export: a new worker builds the file again from the start (the half-written one was a temporary file that
  died with the process), and the job ends with one complete file.
"""

import csv
import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.roles import Role
from claims.models import Claim, Cohort, DamageModelVersion, Estimate, ExportJob, RecomputeJob
from claims.selectors.cohorts import CohortCriteria, cohort_claims
from claims.selectors.estimates import claims_estimable
from claims.services.cohorts import cohort_save
from claims.services.estimates import damage_model_activate
from claims.services.exports import export_request
from claims.tests.factories import DamageModelVersionFactory, default_incident
from claims.tests.staff import staff_member

CLAIMS = 3500
# The replacement worker takes back a dead worker's messages 3 s after their delivery, at its next sweep (10 s).
REDELIVER_SOON = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_UNACKED_RESTORE_THROTTLE": "1"}


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_recompute_survives_its_worker_being_killed_mid_job(celery_worker_factory, wait_until):
    call_command("generate_claims", count=CLAIMS, workers=0, allow_without_debug=True, verbosity=0)
    estimable = set(claims_estimable(incident_id=default_incident().pk).values_list("pk", flat=True))
    assert len(estimable) > 2000  # several chunks of 1,000
    lawyer = staff_member(Role.LAWYER)
    version = DamageModelVersionFactory()
    first = celery_worker_factory()

    job = damage_model_activate(version=version, actor=lawyer)

    def part_done():
        job.refresh_from_db()
        return job.status == RecomputeJob.Status.RUNNING and 0 < job.done < job.total

    wait_until(part_done, timeout=120, interval=0.05)
    first.kill()  # SIGKILL: no warm shutdown, the chunk in progress is neither finished nor acknowledged
    first.wait()
    done_at_kill = job.done
    assert done_at_kill < job.total

    # A replacement worker takes back the messages the dead one held once their visibility timeout passes.
    celery_worker_factory(**REDELIVER_SOON)
    wait_until(lambda: RecomputeJob.objects.get(pk=job.pk).status == RecomputeJob.Status.DONE, timeout=240)

    job.refresh_from_db()
    assert job.done == job.total == len(estimable) and job.failures == 0
    by_claim = Estimate.objects.filter(model_version=version).values("claim").annotate(n=Count("pk"))
    assert {row["claim"] for row in by_claim} == estimable  # no claim missed
    assert {row["n"] for row in by_claim} == {1}  # none estimated twice
    current = Estimate.objects.filter(claim__in=estimable, is_current=True)
    assert current.count() == len(estimable) and not current.exclude(model_version=version).exists()
    assert Claim.objects.filter(pk__in=estimable, estimate_total__isnull=True).count() == 0
    assert DamageModelVersion.objects.get(pk=version.pk).is_active


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_export_survives_its_worker_being_killed_mid_file(celery_worker_factory, wait_until):
    call_command("generate_claims", count=CLAIMS, workers=0, allow_without_debug=True, verbosity=0)
    lawyer = staff_member(Role.LAWYER)
    filed = CohortCriteria(statuses=tuple(status for status in Claim.Status.values if status != Claim.Status.DRAFT))
    cohort = cohort_save(cohort=Cohort(name="제출된 신청", incident=default_incident()), criteria=filed, actor=lawyer)
    rows = cohort_claims(cohort=cohort).count()
    assert rows > 2000  # past the first progress mark (every 2,000 rows)
    first = celery_worker_factory()

    job = export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, cohort=cohort)

    def part_written():
        job.refresh_from_db()
        return job.status == ExportJob.Status.RUNNING and 0 < job.done < job.total

    wait_until(part_written, timeout=120, interval=0.01)
    first.kill()
    first.wait()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and not job.file

    celery_worker_factory(**REDELIVER_SOON)
    wait_until(lambda: ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE, timeout=240)

    job.refresh_from_db()
    assert job.done == job.total == rows
    with job.file.open("rb") as handle:
        content = handle.read()
    assert len(content) == job.size
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(lines) == rows + 1  # the header and every claim once
    assert len({line[1] for line in lines[1:]}) == rows  # distinct reference codes
