"""Background estimates: a real Celery worker estimating a submitted claim, idempotent tasks and chunks, recompute
jobs that fail part-way and are run again, and the periodic sweep."""

import threading

import pytest
from celery.exceptions import Retry
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection

from accounts.tests.factories import UserFactory
from claims.damages import DEFAULT_PARAMETERS
from claims.models import Claim, ClaimEvent, DamageModelVersion, Estimate, LossItem, OutageWindow, RecomputeChunk
from claims.models import RecomputeJob as Job
from claims.services import estimates as estimate_services
from claims.services.estimates import (
    damage_model_activate,
    estimates_refresh,
    recompute_chunk_run,
    recompute_job_plan,
    recompute_job_retry,
)
from claims.tasks.estimates import SWEEP_LOCK, estimate_claim_task, estimate_sweep_task
from claims.tests.factories import DamageModelVersionFactory, LossItemFactory, SubmittedClaimFactory, service_by_slug


def manager():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_damage_model"))
    return user


def kakao_t_driver_claim() -> Claim:
    claim = SubmittedClaimFactory()
    LossItemFactory(claim=claim, monthly_fee=39_000)
    LossItemFactory(claim=claim, monthly_fee=22_000)
    return claim


def subscription_components(estimate: Estimate) -> list[int]:
    return [c["amount"] for c in estimate.breakdown["components"] if c["rule"] == "subscription"]


def assert_every_claim_estimated_once_by(version: DamageModelVersion, claims: list[Claim]) -> None:
    for claim in claims:
        assert Estimate.objects.filter(claim=claim, is_current=True).count() == 1
        assert Estimate.objects.get(claim=claim, is_current=True).model_version_id == version.pk
        assert Estimate.objects.filter(claim=claim, model_version=version).count() == 1
        estimated = ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.ESTIMATED)
        assert estimated.filter(data__model_version=version.version).count() == 1


# --- with a real worker -----------------------------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_estimates_a_submitted_claim_to_the_won(celery_worker, wait_until):
    claim = kakao_t_driver_claim()

    estimate_claim_task.delay(claim.pk)

    estimate = wait_until(lambda: Estimate.objects.filter(claim=claim, is_current=True).first())
    assert subscription_components(estimate) == [7_550, 4_260]
    assert estimate.model_version.version == 1 and estimate.model_version.is_active
    claim.refresh_from_db()
    assert claim.estimate_total == 11_810


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_task_delivered_twice_writes_one_estimate_and_one_event(celery_worker):
    claim = kakao_t_driver_claim()

    first, second = estimate_claim_task.delay(claim.pk), estimate_claim_task.delay(claim.pk)

    assert first.get(timeout=30) == {"written": 1, "unchanged": 0, "failed": 0}
    assert second.get(timeout=30) == {"written": 0, "unchanged": 1, "failed": 0}
    assert Estimate.objects.filter(claim=claim).count() == 1
    assert ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.ESTIMATED).count() == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_recomputes_every_claim_after_activation(celery_worker, wait_until):
    claims = [kakao_t_driver_claim() for _ in range(5)]
    estimates_refresh(claim_ids=[c.pk for c in claims])
    draft = DamageModelVersionFactory(parameters={**DEFAULT_PARAMETERS, "subscription_multiplier": "1"})

    job = damage_model_activate(version=draft, actor=manager())

    wait_until(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.DONE).exists())
    job.refresh_from_db()
    assert (job.total, job.done, job.failures) == (5, 5, 0)
    assert_every_claim_estimated_once_by(draft, claims)
    assert subscription_components(Estimate.objects.get(claim=claims[0], is_current=True)) == [2_520, 1_420]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sweep_picks_up_a_claim_whose_task_was_never_sent(celery_worker):
    cache.delete(SWEEP_LOCK)
    claim = kakao_t_driver_claim()  # submitted while the broker was down: nothing was enqueued

    result = estimate_sweep_task.delay().get(timeout=60)

    assert result["written"] == 1
    assert Estimate.objects.get(claim=claim, is_current=True).total == 11_810


# --- retries ---------------------------------------------------------------------------------------------------------


def test_tasks_are_acknowledged_late_and_retry_only_transient_database_errors_with_backoff(monkeypatch):
    for task in (estimate_claim_task, estimate_sweep_task):
        assert task.acks_late and task.retry_backoff
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}

    def lost_connection(*, claim_id):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("claims.tasks.estimates.estimate_claim", lost_connection)
    with pytest.raises(Retry):
        estimate_claim_task.apply(args=[1])

    def bug(*, claim_id):
        raise RuntimeError("a bug")

    monkeypatch.setattr("claims.tasks.estimates.estimate_claim", bug)
    with pytest.raises(RuntimeError):
        estimate_claim_task.apply(args=[1])


# --- recompute jobs in chunks ------------------------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch, settings):
    monkeypatch.setattr(estimate_services, "CHUNK_SIZE", 2)
    settings.RECOMPUTE_CHUNK_SIZE = 2


@pytest.mark.django_db
def test_a_recompute_that_fails_part_way_and_is_run_again_estimates_every_claim_once(
    small_chunks, monkeypatch, django_capture_on_commit_callbacks
):
    claims = [kakao_t_driver_claim() for _ in range(5)]
    estimates_refresh(claim_ids=[c.pk for c in claims])
    draft = DamageModelVersionFactory(parameters={**DEFAULT_PARAMETERS, "solatium_per_claimant": 0})
    real_refresh = estimate_services.estimates_refresh
    calls = []

    def crash_on_second_chunk(*, claim_ids):
        calls.append(claim_ids)
        if len(calls) == 2:
            real_refresh(claim_ids=claim_ids)  # the work is done, then the chunk dies before it commits
            raise RuntimeError("worker lost")
        return real_refresh(claim_ids=claim_ids)

    monkeypatch.setattr(estimate_services, "estimates_refresh", crash_on_second_chunk)
    with django_capture_on_commit_callbacks(execute=True):
        job = damage_model_activate(version=draft, actor=manager())

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert (job.total, job.done, job.failures) == (5, 3, 2)
    assert list(job.chunks.values_list("status", flat=True)) == ["done", "failed", "done"]
    on_new = Estimate.objects.filter(is_current=True, model_version=draft).values_list("claim_id", flat=True)
    assert set(on_new) == {claims[0].pk, claims[1].pk, claims[4].pk}

    monkeypatch.setattr(estimate_services, "estimates_refresh", real_refresh)
    with django_capture_on_commit_callbacks(execute=True):
        retry = recompute_job_retry(job=job, actor=manager())

    retry.refresh_from_db()
    assert retry.status == Job.Status.DONE
    assert (retry.total, retry.done, retry.failures) == (5, 5, 0)
    assert sum(retry.chunks.values_list("written", flat=True)) == 2
    assert_every_claim_estimated_once_by(draft, claims)


@pytest.mark.django_db
def test_a_claim_that_cannot_be_estimated_is_reported_and_the_rest_go_ahead(
    small_chunks, django_capture_on_commit_callbacks
):
    claims = [kakao_t_driver_claim() for _ in range(4)]
    bad = claims[2]
    OutageWindow.objects.filter(incident=bad.incident, service__slug="melon").delete()
    LossItemFactory(claim=bad, service=service_by_slug("melon"))
    draft = DamageModelVersionFactory()

    with django_capture_on_commit_callbacks(execute=True):
        job = damage_model_activate(version=draft, actor=manager())

    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert (job.total, job.done, job.failures) == (4, 3, 1)
    assert bad.reference_code in job.error and "melon" in job.error
    assert not Estimate.objects.filter(claim=bad).exists()

    LossItem.objects.filter(claim=bad, service__slug="melon").delete()
    with django_capture_on_commit_callbacks(execute=True):
        recompute_job_retry(job=job, actor=manager())

    assert_every_claim_estimated_once_by(draft, claims)


@pytest.mark.django_db
def test_a_redelivered_plan_or_chunk_does_its_work_once(small_chunks):
    claims = [kakao_t_driver_claim() for _ in range(3)]
    draft = DamageModelVersionFactory()
    job = damage_model_activate(version=draft, actor=manager())  # on-commit tasks do not run here

    first_plan = recompute_job_plan(job_id=job.pk)
    assert recompute_job_plan(job_id=job.pk) == first_plan
    assert job.chunks.count() == 2

    chunk = recompute_chunk_run(chunk_id=first_plan[0])
    again = recompute_chunk_run(chunk_id=first_plan[0])

    assert chunk.written == 2 and again.written == 2
    job.refresh_from_db()
    assert (job.done, job.status) == (2, Job.Status.RUNNING)
    recompute_chunk_run(chunk_id=first_plan[1])
    job.refresh_from_db()
    assert (job.done, job.status) == (3, Job.Status.DONE)
    assert recompute_job_plan(job_id=job.pk) == []
    assert RecomputeChunk.objects.filter(job=job).count() == 2
    assert_every_claim_estimated_once_by(draft, claims)


@pytest.mark.django_db(transaction=True)
def test_chunks_of_one_job_run_side_by_side(small_chunks, monkeypatch):
    """A chunk in progress locks its own row only, not its job or model version: the worker's other processes
    go on with the next chunks instead of queueing behind it."""
    claims = [kakao_t_driver_claim() for _ in range(3)]
    monkeypatch.setattr(estimate_services, "_recompute_enqueue", lambda job: None)
    job = damage_model_activate(version=DamageModelVersionFactory(), actor=manager())
    first, second = recompute_job_plan(job_id=job.pk)
    first_claim_id = RecomputeChunk.objects.get(pk=first).first_claim_id
    started, release = threading.Event(), threading.Event()
    real_refresh = estimate_services.estimates_refresh

    def slow_first_chunk(*, claim_ids):
        if first_claim_id in claim_ids:
            started.set()
            release.wait(timeout=30)
        return real_refresh(claim_ids=claim_ids)

    monkeypatch.setattr(estimate_services, "estimates_refresh", slow_first_chunk)

    def run_first():
        try:
            recompute_chunk_run(chunk_id=first)
        finally:
            connection.close()

    worker = threading.Thread(target=run_first)
    worker.start()
    try:
        assert started.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        try:
            assert recompute_chunk_run(chunk_id=second).status == RecomputeChunk.Status.DONE
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        worker.join(timeout=60)
    job.refresh_from_db()
    assert (job.status, job.done) == (Job.Status.DONE, 3)
    assert_every_claim_estimated_once_by(job.model_version, claims)


@pytest.mark.django_db
def test_a_recompute_of_an_incident_without_claims_finishes_at_once(django_capture_on_commit_callbacks):
    draft = DamageModelVersionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = damage_model_activate(version=draft, actor=manager())
    job.refresh_from_db()
    assert (job.status, job.total, job.finished_at is not None) == (Job.Status.DONE, 0, True)


# --- the sweep ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_one_sweep_runs_at_a_time():
    claim = kakao_t_driver_claim()
    cache.set(SWEEP_LOCK, "1", timeout=60)
    try:
        assert estimate_sweep_task.apply().get() == {"skipped": 1}
        assert not Estimate.objects.filter(claim=claim).exists()
    finally:
        cache.delete(SWEEP_LOCK)
    assert estimate_sweep_task.apply().get()["written"] == 1
    assert cache.get(SWEEP_LOCK) is None
