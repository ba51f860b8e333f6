from unittest import mock

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import OperationalError

from accounts.tasks import email_verification_send
from claims.tasks.estimates import estimate_claim_task
from claims.tasks.evidence import evidence_preview_render_task
from claims.tasks.fraud import fraud_sweep_task
from claims.tasks.notifications import claim_status_email_task
from config.celery import OnCommitTask, app
from core.exceptions import ConflictError, ProviderError
from core.tasks import ApplicationTask, provider_retry_countdown
from filing.tasks.exports import export_build_task

calls: list[str] = []


@app.task(name="core.tests.flaky_provider_call")
def flaky_provider_call(failures: int, retryable: bool) -> str:
    calls.append("try")
    if len(calls) <= failures:
        raise ProviderError("외부 서비스가 잠시 응답하지 않습니다", retryable=retryable, code="busy")
    return "done"


@app.task(name="core.tests.refused")
def refused() -> None:
    calls.append("try")
    raise ConflictError("이미 처리되었습니다", code="already_done")


@app.task(name="core.tests.database_blip")
def database_blip() -> str:
    calls.append("try")
    if len(calls) == 1:
        raise OperationalError("server closed the connection unexpectedly")
    return "done"


@app.task(name="core.tests.overrunning")
def overrunning() -> None:
    calls.append("started")
    try:
        raise SoftTimeLimitExceeded  # what the worker raises inside the task at its soft limit
    finally:
        calls.append("cleaned up")


@pytest.fixture(autouse=True)
def _calls():
    calls.clear()
    with mock.patch("core.tasks.provider_retry_countdown", return_value=0):
        yield


@pytest.mark.parametrize(
    ("task", "limits"),
    [
        (email_verification_send, (60, 90)),
        (claim_status_email_task, (60, 90)),
        (estimate_claim_task, (600, 660)),
        (export_build_task, (1800, 1860)),
        (fraud_sweep_task, (600, 660)),
    ],
)
def test_a_task_gets_the_time_limits_of_its_queue(task, limits):
    assert (task.soft_time_limit, task.time_limit) == limits


def test_the_limits_follow_the_settings(settings):
    settings.CELERY_QUEUE_TIME_LIMITS = {**settings.CELERY_QUEUE_TIME_LIMITS, "email": (5, 8)}
    assert (email_verification_send.soft_time_limit, email_verification_send.time_limit) == (5, 8)


def test_a_task_that_sets_its_own_limits_keeps_them():
    assert (evidence_preview_render_task.soft_time_limit, evidence_preview_render_task.time_limit) == (120, 150)


def test_every_project_task_is_an_application_task_that_publishes_on_commit_and_acks_late():
    project_tasks = [task for name, task in app.tasks.items() if name.split(".")[0] in {"accounts", "claims", "core"}]
    assert len(project_tasks) > 10
    for task in project_tasks:
        assert isinstance(task, ApplicationTask), task.name
        assert isinstance(task, OnCommitTask), task.name
        assert task.acks_late, task.name
        assert task.soft_time_limit and task.time_limit > task.soft_time_limit, task.name


def test_a_soft_time_limit_ends_the_task_cleanly_without_a_retry(caplog):
    with pytest.raises(SoftTimeLimitExceeded):
        overrunning.apply()
    assert calls == ["started", "cleaned up"]
    assert "ended at its soft time limit" in caplog.text


@pytest.fixture
def eager_retries_inline(monkeypatch):
    """Without propagation an eager task runs its retries inline, one after the other."""
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def test_a_retryable_provider_error_is_retried_until_it_succeeds(eager_retries_inline):
    assert flaky_provider_call.apply(args=(2, True)).get() == "done"
    assert calls == ["try", "try", "try"]


def test_a_provider_error_that_is_not_retryable_fails_at_once_and_is_logged(caplog):
    with pytest.raises(ProviderError):
        flaky_provider_call.apply(args=(1, False))
    assert calls == ["try"]
    assert "failed: ProviderError (busy)" in caplog.text
    assert "외부 서비스" not in caplog.text


def test_a_retryable_provider_error_is_retried_as_a_retry(monkeypatch):
    with pytest.raises(Retry):  # eager and propagating (the test settings): the first retry is raised
        flaky_provider_call.apply(args=(2, True))
    assert calls == ["try"]


def test_retries_stop_at_max_retries(eager_retries_inline):
    result = flaky_provider_call.apply(args=(100, True))
    assert result.failed()
    assert len(calls) == ApplicationTask.max_retries + 1


def test_another_application_error_fails_at_once(caplog):
    with pytest.raises(ConflictError):
        refused.apply()
    assert calls == ["try"]
    assert "failed: ConflictError (already_done)" in caplog.text


def test_a_transient_database_error_is_retried(eager_retries_inline):
    assert database_blip.apply().get() == "done"
    assert calls == ["try", "try"]


def test_the_providers_retry_after_is_respected_and_backoff_grows_within_bounds():
    assert provider_retry_countdown(retries=0, retry_after=12) == 12
    assert provider_retry_countdown(retries=0, retry_after=10_000) == 300
    assert 2.5 <= provider_retry_countdown(retries=0, retry_after=None) <= 5
    assert 20 <= provider_retry_countdown(retries=3, retry_after=None) <= 40
    assert 150 <= provider_retry_countdown(retries=30, retry_after=None) <= 300
