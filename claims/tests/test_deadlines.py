"""Deadlines that chase themselves: an open information request gets one reminder before its due date and one after
it (by the daily beat task, on the claimant's channel, once each); an overdue request puts the claim in the staff
queue (the claim list's filter) and keeps its cohort from being frozen; answering closes the loop and tells the
reviewer."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from claims.models import Claim, InformationRequest
from claims.selectors.review import claims_overdue, information_requests_overdue
from claims.services import intake
from claims.services.notifications import REMINDER_BEFORE_DAYS, information_reminders_send
from claims.services.review import claim_request_information
from claims.tasks.notifications import information_reminders_task
from claims.tests.factories import SubmittedClaimFactory, claim_estimated, claimant_ready, default_incident
from claims.tests.staff import admin_login, staff_member
from filing.models import Cohort
from filing.selectors.cohorts import CohortCriteria
from filing.services.cohorts import CohortError, cohort_freeze_wave, cohort_save
from filing.services.readiness import readiness_override_grant
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def paralegal():
    return staff_member(Role.PARALEGAL)


def _ask(claim: Claim, actor, *, days: int = 7) -> InformationRequest:
    return claim_request_information(
        claim=claim,
        actor=actor,
        expected_version=claim.version,
        message="이용 증빙을 올려 주세요.",
        items=["이용 증빙"],
        due_date=timezone.localdate() + dt.timedelta(days=days),
    )


def _reminders(request: InformationRequest) -> list[str]:
    return sorted(
        Notification.objects.filter(
            idempotency_key__endswith=f":{request.pk}", idempotency_key__contains="reminder"
        ).values_list("idempotency_key", flat=True)
    )


def test_a_request_gets_one_reminder_before_and_one_after_its_due_date(
    paralegal, mailoutbox, django_capture_on_commit_callbacks
):
    claim = SubmittedClaimFactory(claimant=claimant_ready())
    request = _ask(claim, paralegal, days=7)
    today = timezone.localdate()

    assert information_reminders_send(today=today) == 0  # a week ahead: nothing yet
    due_soon = request.due_date - dt.timedelta(days=REMINDER_BEFORE_DAYS)
    with django_capture_on_commit_callbacks(execute=True):
        assert information_reminders_send(today=due_soon) == 1
    assert information_reminders_send(today=due_soon + dt.timedelta(days=1)) == 0  # once
    assert request.due_date.isoformat() in mailoutbox[-1].body
    assert f"/claims/{claim.pk}/requests/{request.pk}/" in mailoutbox[-1].body

    assert information_reminders_send(today=request.due_date) == 0  # due today: not late yet
    with django_capture_on_commit_callbacks(execute=True):
        assert information_reminders_send(today=request.due_date + dt.timedelta(days=1)) == 1
    assert information_reminders_send(today=request.due_date + dt.timedelta(days=5)) == 0
    assert "지났습니다" in mailoutbox[-1].subject
    assert _reminders(request) == [
        f"information-reminder:after:{request.pk}",
        f"information-reminder:before:{request.pk}",
    ]


def test_the_beat_task_sends_todays_reminders(paralegal):
    claim = SubmittedClaimFactory(claimant=claimant_ready())
    request = _ask(claim, paralegal)
    InformationRequest.objects.filter(pk=request.pk).update(due_date=timezone.localdate() + dt.timedelta(days=1))
    assert information_reminders_task.delay().get() == 1
    assert _reminders(request) == [f"information-reminder:before:{request.pk}"]


def test_an_answered_request_is_not_reminded_and_leaves_the_queue(
    paralegal, mailoutbox, django_capture_on_commit_callbacks
):
    claim = SubmittedClaimFactory(claimant=claimant_ready())
    request = _ask(claim, paralegal, days=3)
    late = request.due_date + dt.timedelta(days=1)
    assert list(information_requests_overdue(today=late)) == [request]
    assert list(Claim.objects.filter(claims_overdue(today=late))) == [claim]

    with django_capture_on_commit_callbacks(execute=True):
        intake.information_request_answer(information_request=request, actor=claim.claimant, answer="올렸습니다.")
    assert not Claim.objects.filter(claims_overdue(today=late)).exists()
    assert information_reminders_send(today=late) == 0
    staff_mail = next(message for message in mailoutbox if message.to == [paralegal.email])
    assert claim.reference_code in staff_mail.subject  # the reviewer is told the claimant answered


def test_overdue_claims_are_a_filter_of_the_staff_claim_list(client, paralegal):
    on_time = SubmittedClaimFactory(claimant=claimant_ready())
    late = SubmittedClaimFactory(claimant=claimant_ready())
    _ask(on_time, paralegal, days=7)
    request = _ask(late, paralegal, days=7)
    InformationRequest.objects.filter(pk=request.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    admin_login(client, paralegal)
    response = client.get(reverse("admin:claims_claim_changelist"), {"overdue": "yes"})
    assert response.status_code == 200
    shown = {claim.pk for claim in response.context["cl"].result_list}
    assert shown == {late.pk}


def test_a_cohort_with_an_overdue_claim_cannot_be_frozen():
    """An overdue claim is not ready for filing (an unanswered request), so a freeze leaves it out; let through by a
    Lawyer's readiness override, it still stops the freeze."""
    lawyer = staff_member(Role.LAWYER)
    claim = claim_estimated(status=Claim.Status.INFO_REQUESTED)
    InformationRequest.objects.create(
        claim=claim, requested_by=lawyer, message="증빙", due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    readiness_override_grant(claim=claim, reason="기한 뒤 우편 접수 예정", actor=lawyer)
    cohort = cohort_save(
        cohort=Cohort(name="전체", incident=default_incident()), criteria=CohortCriteria(), actor=lawyer
    )
    with pytest.raises(CohortError, match="기한이 지난 신청 1건"):
        cohort_freeze_wave(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
