"""Recovery sweeps: status emails never queued are sent once; jobs a dead worker left hanging end as failed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from claims.models import ClaimEvent, RecomputeJob
from claims.services.notifications import STATUS_TEMPLATE, status_notification_key
from claims.services.recovery import stale_jobs_fail, status_events_unsent
from claims.tasks.recovery import stale_jobs_reap_task, status_email_sweep_task
from claims.tests.factories import DamageModelVersionFactory, SubmittedClaimFactory
from claims.tests.staff import staff_member
from filing.models import Cohort, ExportJob
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def submitted_event(*, minutes_ago: int, **data) -> ClaimEvent:
    claim = SubmittedClaimFactory()
    return ClaimEvent.objects.create(
        claim=claim,
        actor=claim.claimant,
        kind=ClaimEvent.Kind.SUBMITTED,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        data=data,
    )


def test_an_unsent_status_email_is_found_after_its_grace_period_and_sent_once(django_capture_on_commit_callbacks):
    lost = submitted_event(minutes_ago=30)
    just_now = submitted_event(minutes_ago=1)
    sent = submitted_event(minutes_ago=30)
    Notification.objects.create(  # its message is in the outbox
        channel=Notification.Channel.EMAIL,
        template=STATUS_TEMPLATE,
        language="ko",
        user=sent.claim.claimant,
        status=Notification.Status.SENT,
        idempotency_key=status_notification_key(event_id=sent.pk, user_id=sent.claim.claimant_id),
    )
    emailed_before_the_outbox = submitted_event(minutes_ago=30, emailed_at=timezone.now().isoformat())
    ClaimEvent.objects.create(claim=sent.claim, kind=ClaimEvent.Kind.ESTIMATED, created_at=lost.created_at)

    assert status_events_unsent() == [(lost.claim_id, lost.pk)]
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        assert status_email_sweep_task.delay().get() == 1
    assert status_email_sweep_task.delay().get() == 0

    assert [message.to for message in mail.outbox] == [[lost.claim.claimant.email]]
    assert not Notification.objects.filter(context__event_id__in=[just_now.pk, emailed_before_the_outbox.pk]).exists()
    assert Notification.objects.get(context__event_id=lost.pk).status == Notification.Status.SENT


def test_jobs_left_running_past_the_limit_are_marked_failed_and_recent_ones_kept(settings):
    settings.JOB_STALE_AFTER_MINUTES = 180
    lawyer = staff_member()
    cohort = Cohort.objects.create(name="1차", incident=SubmittedClaimFactory().incident)
    old = timezone.now() - timedelta(hours=4)
    hanging = ExportJob.objects.create(
        kind=ExportJob.Kind.CLAIMS_CSV, cohort=cohort, requested_by=lawyer, status="running", created_at=old
    )
    recent = ExportJob.objects.create(kind=ExportJob.Kind.CLAIMS_CSV, cohort=cohort, requested_by=lawyer)
    finished = ExportJob.objects.create(
        kind=ExportJob.Kind.CLAIMS_CSV, cohort=cohort, requested_by=lawyer, status="done", created_at=old
    )
    recompute = RecomputeJob.objects.create(model_version=DamageModelVersionFactory(), status="running", created_at=old)

    assert stale_jobs_reap_task.delay().get() == {"exports": 1, "recomputes": 1}

    hanging.refresh_from_db()
    recompute.refresh_from_db()
    assert hanging.status == ExportJob.Status.FAILED and "다시 요청해 주세요" in hanging.error
    assert recompute.status == RecomputeJob.Status.FAILED and recompute.finished_at
    assert ExportJob.objects.get(pk=recent.pk).status == ExportJob.Status.PENDING
    assert ExportJob.objects.get(pk=finished.pk).status == ExportJob.Status.DONE
    assert stale_jobs_fail() == {"exports": 0, "recomputes": 0}
