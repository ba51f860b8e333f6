"""Case news on the claimant's chosen channel: a claimant who chose SMS/알림톡 (with a verified phone) gets the claim
received, information requested (with its due date) and status changed templates instead of the emails, once per
event whichever channel; the others keep getting the emails."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from claims.models import ClaimEvent
from claims.services.notifications import claim_status_notify
from claims.services.review import claim_accept, claim_request_information, claim_start_review
from claims.tests.factories import SubmittedClaimFactory, claimant_ready
from claims.tests.staff import staff_member
from notifications.messages import contact_preference_update
from notifications.models import MessageTemplate, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_claimant():
    claimant = claimant_ready()
    claimant.phone_verified_at = timezone.now()
    claimant.save(update_fields=["phone_verified_at"])
    contact_preference_update(user=claimant, case_news="phone", marketing=False)
    return claimant


def _submitted_event(claim) -> ClaimEvent:
    return ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.SUBMITTED)


def test_claim_received_goes_by_sms_with_the_reference_code_and_only_once(
    phone_claimant, message_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    claim = SubmittedClaimFactory(claimant=phone_claimant)
    event = _submitted_event(claim)
    with django_capture_on_commit_callbacks(execute=True):
        assert claim_status_notify(claim_id=claim.pk, event_id=event.pk)
        assert not claim_status_notify(claim_id=claim.pk, event_id=event.pk)
    assert mailoutbox == []
    assert len(message_outbox) == 1
    assert f"접수번호: {claim.reference_code}" in message_outbox[0].text
    assert f"/claims/{claim.pk}/" in message_outbox[0].text
    notification = Notification.objects.get(idempotency_key__startswith="claim-status:")  # (also: the retainer receipt)
    assert notification.idempotency_key == f"claim-status:{event.pk}:{phone_claimant.pk}"
    assert (
        notification.context["message_template_id"] == MessageTemplate.objects.get(kind="claim_received", version=1).pk
    )


def test_an_information_request_goes_with_its_due_date_as_a_alimtalk_once_approved(
    phone_claimant, message_outbox, django_capture_on_commit_callbacks
):
    MessageTemplate.objects.create(
        kind=MessageTemplate.Kind.INFORMATION_REQUESTED,
        version=2,
        alimtalk_code_ko="KA01TP-INFO",
        text_ko="접수번호 #{reference} 추가 자료 요청, 기한 #{due}, #{url}",
        text_en="Claim #{reference}: information due #{due}, #{url}",
        published_at=timezone.now(),
    )
    claim = SubmittedClaimFactory(claimant=phone_claimant)
    paralegal = staff_member(Role.PARALEGAL)
    due = timezone.localdate() + dt.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        claim_request_information(
            claim=claim,
            actor=paralegal,
            expected_version=claim.version,
            message="이용 증빙을 올려 주세요.",
            items=["이용 증빙"],
            due_date=due,
        )
    delivered = message_outbox[-1]
    assert delivered.kind == "ALIMTALK" and delivered.template_code == "KA01TP-INFO"
    assert delivered.variables["due"] == due.isoformat()
    assert delivered.variables["reference"] == claim.reference_code


def test_status_changes_go_in_the_claimants_language(
    phone_claimant, message_outbox, django_capture_on_commit_callbacks
):
    phone_claimant.language = "en"
    phone_claimant.save(update_fields=["language"])
    claim = SubmittedClaimFactory(claimant=phone_claimant)
    lawyer = staff_member(Role.LAWYER)
    with django_capture_on_commit_callbacks(execute=True):
        claim_start_review(claim=claim, actor=lawyer, expected_version=claim.version)
    claim.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        claim_accept(claim=claim, actor=lawyer, expected_version=claim.version)
    assert [message.text.splitlines()[0] for message in message_outbox] == [
        f"[Kakao outage suit] Claim {claim.reference_code}: Review started.",
        f"[Kakao outage suit] Claim {claim.reference_code}: Your claim was accepted.",
    ]


def test_claimants_who_keep_email_get_the_emails(message_outbox, mailoutbox, django_capture_on_commit_callbacks):
    claim = SubmittedClaimFactory(claimant=claimant_ready())
    event = _submitted_event(claim)
    with django_capture_on_commit_callbacks(execute=True):
        claim_status_notify(claim_id=claim.pk, event_id=event.pk)
    assert message_outbox == []
    assert claim.reference_code in mailoutbox[-1].subject


def test_the_staff_review_page_lists_the_claimants_messages_with_their_delivery_status(
    client, phone_claimant, django_capture_on_commit_callbacks
):
    from claims.tests.staff import admin_login
    from notifications.tasks import notification_reports_task

    claim = SubmittedClaimFactory(claimant=phone_claimant)
    with django_capture_on_commit_callbacks(execute=True):
        claim_status_notify(claim_id=claim.pk, event_id=_submitted_event(claim).pk)
    notification_reports_task.delay().get()
    admin_login(client, staff_member(Role.PARALEGAL))
    page = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert "신청인에게 보낸 메시지" in page
    assert '<td data-testid="message-status">받음</td>' in page
    assert "문자(SMS)" in page
