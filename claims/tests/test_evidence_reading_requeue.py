"""The sweep that queues again the readings of evidence left pending (claims.services.recovery.
evidence_findings_requeue): a lost message or a killed worker, after READING_REQUEUE_AFTER; never a reading still
within its time, never a finding already read; a file that keeps killing the worker is given up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from claims.models import EvidenceFinding
from claims.services.recovery import READING_REQUEUE_AFTER, evidence_findings_requeue
from claims.tasks.recovery import evidence_findings_requeue_task
from claims.tests.test_evidence_findings import CHAT_INSIDE_KAKAO_T, evidence_with
from config.settings import base
from devtools.drawing import drawn_png

pytestmark = pytest.mark.django_db
LONG_AGO = READING_REQUEUE_AFTER + timedelta(minutes=1)


def pending_finding(*, uploaded_ago: timedelta, attempted_ago: timedelta | None = None, attempts: int = 0):
    now = timezone.now()
    evidence = evidence_with(drawn_png(CHAT_INSIDE_KAKAO_T)[0], uploaded_at=now - uploaded_ago)
    attempted_at = now - attempted_ago if attempted_ago is not None else None
    EvidenceFinding.objects.filter(evidence=evidence).update(attempted_at=attempted_at, attempts=attempts)
    return EvidenceFinding.objects.get(evidence=evidence)


def test_beat_runs_the_sweep_every_five_minutes():
    assert base.CELERY_BEAT_SCHEDULE["claims-evidence-reading-requeue"] == {
        "task": "claims.tasks.recovery.evidence_findings_requeue_task",
        "schedule": 5 * 60,
    }


def test_a_reading_whose_message_was_lost_is_queued_again_and_read(django_capture_on_commit_callbacks):
    lost = pending_finding(uploaded_ago=LONG_AGO)
    just_uploaded = pending_finding(uploaded_ago=timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert evidence_findings_requeue_task.apply().get() == 1
    assert len(callbacks) == 1
    lost.refresh_from_db()
    just_uploaded.refresh_from_db()
    assert (lost.status, lost.attempts) == ("done", 1)
    assert (just_uploaded.status, just_uploaded.attempts) == ("pending", 0)


def test_a_reading_whose_worker_was_killed_is_queued_again_once_its_time_is_past(django_capture_on_commit_callbacks):
    killed = pending_finding(uploaded_ago=LONG_AGO, attempted_ago=LONG_AGO, attempts=1)
    running = pending_finding(uploaded_ago=LONG_AGO, attempted_ago=timedelta(minutes=2), attempts=1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert evidence_findings_requeue() == 1
    killed.refresh_from_db()
    assert killed.attempted_at > timezone.now() - timedelta(minutes=1)  # the next sweep waits again
    with django_capture_on_commit_callbacks() as again:
        assert evidence_findings_requeue() == 0
    assert again == []
    for callback in callbacks:
        callback()
    killed.refresh_from_db()
    running.refresh_from_db()
    assert (killed.status, killed.attempts) == ("done", 2)
    assert (running.status, running.attempts) == ("pending", 1)


def test_a_file_that_keeps_killing_the_worker_is_given_up(django_capture_on_commit_callbacks):
    finding = pending_finding(uploaded_ago=LONG_AGO, attempted_ago=LONG_AGO, attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_findings_requeue() == 1
    finding.refresh_from_db()
    assert (finding.status, finding.failure) == ("failed", "engine")
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_findings_requeue() == 0


def test_a_finding_already_read_or_failed_is_left_alone(django_capture_on_commit_callbacks):
    for status in ("done", "failed"):
        finding = pending_finding(uploaded_ago=LONG_AGO, attempted_ago=LONG_AGO, attempts=1)
        EvidenceFinding.objects.filter(pk=finding.pk).update(status=status)
    with django_capture_on_commit_callbacks() as callbacks:
        assert evidence_findings_requeue() == 0
    assert callbacks == []
