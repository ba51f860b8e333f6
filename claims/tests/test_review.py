"""The review workflow's services: transitions and who may apply them, information requests answered by the
claimant, decisions, assignment, bulk actions, staff corrections and optimistic concurrency."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from claims.models import Claim, ClaimEvent, Flag, InformationRequest, RejectionReason
from claims.services import intake
from claims.services.fraud import fraud_sweep
from claims.services.review import (
    SKIPPED_FLAGS,
    SKIPPED_STATUS,
    ClaimConflictError,
    ReviewError,
    claim_accept,
    claim_assign,
    claim_reject,
    claim_request_information,
    claim_staff_update,
    claim_start_review,
    claim_transitions_available,
    claims_accept,
    claims_assign,
    flag_mark_reviewed,
)
from claims.tests.factories import ClaimFactory, SubmittedClaimFactory, claimant_ready
from claims.tests.staff import staff_member
from core.audit import RequestMeta
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

META = RequestMeta(ip="203.0.113.9", user_agent="pytest browser")


@pytest.fixture
def paralegal():
    return staff_member(Role.PARALEGAL)


@pytest.fixture
def lawyer():
    return staff_member(Role.LAWYER)


@pytest.fixture
def submitted():
    return SubmittedClaimFactory(claimant=claimant_ready())


def due(days: int = 14) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def request_information(claim: Claim, actor, **overrides) -> InformationRequest:
    kwargs = {
        "claim": claim,
        "actor": actor,
        "expected_version": claim.version,
        "message": "장애 당시 카카오T 앱 화면을 올려 주세요.",
        "items": ["장애 당시 이용 증빙"],
        "due_date": due(),
        "meta": META,
    }
    return claim_request_information(**{**kwargs, **overrides})


def open_flag(claim: Claim) -> Flag:
    return Flag.objects.create(claim=claim, code=Flag.Code.DUPLICATE_PHONE, severity=Flag.Severity.MEDIUM)


def test_start_review_moves_to_in_review_takes_the_claim_and_records_event_audit_and_email(
    paralegal, submitted, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_start_review(claim=submitted, actor=paralegal, expected_version=submitted.version, meta=META)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    assert claim.reviewer == paralegal
    assert claim.version == submitted.version + 1
    event = claim.events.get(kind=ClaimEvent.Kind.REVIEW_STARTED)
    assert (event.actor, event.ip, event.data["previous_status"]) == (paralegal, "203.0.113.9", "submitted")
    entry = AuditEntry.objects.get(claim=claim, action=AuditEntry.Action.TRANSITION)
    assert (entry.actor, entry.user_agent, entry.data["to"]) == (paralegal, "pytest browser", "in_review")
    assert [message.to for message in mailoutbox] == [[claim.claimant.email]]


def test_information_request_asks_the_claimant_and_their_answer_returns_the_claim_to_review(
    paralegal, submitted, django_capture_on_commit_callbacks, mailoutbox
):
    claim_start_review(claim=submitted, actor=paralegal, expected_version=submitted.version)
    submitted.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        request = request_information(submitted, paralegal, items=["장애 당시 이용 증빙", "  매출 자료  ", ""])
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.INFO_REQUESTED
    assert request.items == ["장애 당시 이용 증빙", "매출 자료"]
    assert request.due_date == due()
    assert "장애 당시 카카오T 앱 화면을 올려 주세요." in mailoutbox[-1].body
    assert "매출 자료" in mailoutbox[-1].body

    intake.information_request_answer(information_request=request, actor=submitted.claimant, answer="올렸습니다.")
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.IN_REVIEW


def test_a_submitted_claim_can_be_asked_for_information_directly_and_is_then_taken_by_the_asker(paralegal, submitted):
    request_information(submitted, paralegal)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.reviewer) == (Claim.Status.INFO_REQUESTED, paralegal)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"message": "   "}, "요청 내용"),
        ({"items": ["", "  "]}, "요청할 자료"),
        ({"due_date": dt.date(2020, 1, 1)}, "기한은"),
        ({"due_date": 61}, "기한은"),  # days from today, counted when the test runs (not when it is collected)
    ],
)
def test_an_information_request_needs_a_message_items_and_a_due_date_within_limits(
    paralegal, submitted, overrides, message
):
    if isinstance(overrides.get("due_date"), int):
        overrides = {**overrides, "due_date": due(overrides["due_date"])}
    with pytest.raises(ReviewError, match=message):
        request_information(submitted, paralegal, **overrides)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.SUBMITTED
    assert not InformationRequest.objects.exists()


def test_a_paralegal_cannot_accept_or_reject(paralegal, submitted):
    reason = RejectionReason.objects.get(code="duplicate_claim")
    with pytest.raises(ReviewError, match="권한"):
        claim_accept(claim=submitted, actor=paralegal, expected_version=submitted.version)
    with pytest.raises(ReviewError, match="권한"):
        claim_reject(claim=submitted, actor=paralegal, expected_version=submitted.version, reason=reason)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.SUBMITTED
    assert [t.name for t in claim_transitions_available(claim=submitted, user=paralegal)] == [
        "start_review",
        "request_information",
    ]


def test_a_viewer_cannot_review(submitted):
    viewer = staff_member(Role.VIEWER)
    with pytest.raises(ReviewError, match="권한"):
        claim_start_review(claim=submitted, actor=viewer, expected_version=submitted.version)
    assert claim_transitions_available(claim=submitted, user=viewer) == []


def test_a_lawyer_accepts_with_a_message_for_the_claimant(
    lawyer, submitted, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        claim_accept(claim=submitted, actor=lawyer, expected_version=submitted.version, note="환영합니다.", meta=META)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.ACCEPTED
    assert submitted.decided_at is not None
    assert submitted.events.get(kind=ClaimEvent.Kind.ACCEPTED).message == "환영합니다."
    assert "환영합니다." in mailoutbox[-1].body


def test_accepting_is_refused_while_a_flag_is_open_and_allowed_once_reviewed(lawyer, paralegal, submitted):
    flag = open_flag(submitted)
    with pytest.raises(ReviewError, match="플래그"):
        claim_accept(claim=submitted, actor=lawyer, expected_version=submitted.version)
    flag_mark_reviewed(claim=submitted, flag=flag, actor=paralegal, note="가족이 같은 번호를 씀 (통화 확인)", meta=META)
    claim_accept(claim=submitted, actor=lawyer, expected_version=submitted.version)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.ACCEPTED


def test_an_estimator_flag_cleared_by_the_sweep_no_longer_blocks_acceptance(lawyer, submitted):
    Claim.objects.filter(pk=submitted.pk).update(estimate_total=9_000_000, estimate_flags=["cohort_outlier"])
    fraud_sweep()
    with pytest.raises(ReviewError, match="플래그"):
        claim_accept(claim=submitted, actor=lawyer, expected_version=submitted.version)
    Claim.objects.filter(pk=submitted.pk).update(estimate_flags=[])
    fraud_sweep()
    claim_accept(claim=submitted, actor=lawyer, expected_version=submitted.version)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.ACCEPTED


def test_rejecting_sends_the_reason_and_the_explanation_and_some_reasons_need_one(
    lawyer, submitted, django_capture_on_commit_callbacks, mailoutbox
):
    other = RejectionReason.objects.get(code="other")
    with pytest.raises(ReviewError, match="설명"):
        claim_reject(claim=submitted, actor=lawyer, expected_version=submitted.version, reason=other, note=" ")
    with django_capture_on_commit_callbacks(execute=True):
        claim_reject(
            claim=submitted, actor=lawyer, expected_version=submitted.version, reason=other, note="해외 거주자입니다."
        )
    submitted.refresh_from_db()
    event = submitted.events.get(kind=ClaimEvent.Kind.REJECTED)
    assert submitted.status == Claim.Status.REJECTED
    assert event.data["reason"] == "other"
    assert event.message == "기타\n해외 거주자입니다."
    status_email, refund_email = mailoutbox  # the claimant's retainer is refunded by the fee terms' rule (payments)
    assert "해외 거주자입니다." in status_email.body and "환불" in refund_email.subject


def test_a_retired_rejection_reason_is_refused(lawyer, submitted):
    reason = RejectionReason.objects.get(code="duplicate_claim")
    reason.is_active = False
    reason.save()
    with pytest.raises(ReviewError, match="쓰지 않는"):
        claim_reject(claim=submitted, actor=lawyer, expected_version=submitted.version, reason=reason)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Claim.Status.DRAFT, "start"),
        (Claim.Status.IN_REVIEW, "start"),
        (Claim.Status.ACCEPTED, "reject"),
        (Claim.Status.REJECTED, "accept"),
        (Claim.Status.WITHDRAWN, "accept"),
        (Claim.Status.INFO_REQUESTED, "accept"),
        (Claim.Status.INFO_REQUESTED, "request"),
        (Claim.Status.DRAFT, "request"),
    ],
)
def test_invalid_transitions_are_refused_with_a_clear_message_and_change_nothing(lawyer, status, action):
    claim = SubmittedClaimFactory(status=status)
    calls = {
        "start": lambda: claim_start_review(claim=claim, actor=lawyer, expected_version=claim.version),
        "accept": lambda: claim_accept(claim=claim, actor=lawyer, expected_version=claim.version),
        "reject": lambda: claim_reject(
            claim=claim,
            actor=lawyer,
            expected_version=claim.version,
            reason=RejectionReason.objects.get(code="duplicate_claim"),
        ),
        "request": lambda: request_information(claim, lawyer),
    }
    with pytest.raises(ReviewError, match=f"'{claim.get_status_display()}' 상태여서"):
        calls[action]()
    claim.refresh_from_db()
    assert (claim.status, claim.version) == (status, 1)
    assert not claim.events.exists()
    assert not AuditEntry.objects.exists()


def test_a_stale_version_is_a_conflict_and_nothing_changes(paralegal, lawyer, submitted):
    seen_version = submitted.version
    claim_start_review(claim=submitted, actor=paralegal, expected_version=seen_version)
    with pytest.raises(ClaimConflictError, match="다른 직원이 먼저 이 신청을 변경했습니다"):
        claim_accept(claim=submitted, actor=lawyer, expected_version=seen_version)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.IN_REVIEW
    assert not submitted.events.filter(kind=ClaimEvent.Kind.ACCEPTED).exists()


@pytest.mark.django_db(transaction=True)
def test_two_staff_deciding_at_once_one_wins_the_other_gets_a_conflict_not_a_lost_update():
    """Two database connections race on the same claim version: the row lock serialises them and the second sees
    the version the first wrote."""
    lawyer = staff_member(Role.LAWYER)
    claim = SubmittedClaimFactory()
    reason = RejectionReason.objects.get_or_create(code="duplicate_claim", defaults={"label_ko": "중복"})[0]
    version = claim.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(name, service, **kwargs):
        try:
            barrier.wait(timeout=10)
            service(claim=Claim.objects.get(pk=claim.pk), actor=lawyer, expected_version=version, **kwargs)
            outcomes[name] = "done"
        except ClaimConflictError as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("accept", claim_accept)),
        threading.Thread(target=decide, args=("reject", claim_reject), kwargs={"reason": reason}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(type(value).__name__ for value in outcomes.values()) == ["ClaimConflictError", "str"]
    winner = next(name for name, value in outcomes.items() if value == "done")
    claim.refresh_from_db()
    assert claim.status == {"accept": Claim.Status.ACCEPTED, "reject": Claim.Status.REJECTED}[winner]
    assert claim.version == version + 1
    assert claim.events.filter(kind__in=[ClaimEvent.Kind.ACCEPTED, ClaimEvent.Kind.REJECTED]).count() == 1


def test_assigning_needs_a_reviewer_with_the_review_permission(paralegal, lawyer, submitted):
    claim_assign(claim=submitted, actor=lawyer, reviewer=paralegal, expected_version=submitted.version, meta=META)
    submitted.refresh_from_db()
    assert submitted.reviewer == paralegal
    assert submitted.events.get(kind=ClaimEvent.Kind.ASSIGNED).data == {
        "reviewer": paralegal.pk,
        "previous_reviewer": None,
    }
    assert AuditEntry.objects.filter(claim=submitted, action=AuditEntry.Action.ASSIGNED).count() == 1
    with pytest.raises(ReviewError, match="검토 권한이 있는 직원"):
        claim_assign(
            claim=submitted, actor=lawyer, reviewer=staff_member(Role.VIEWER), expected_version=submitted.version
        )


def test_bulk_assign_skips_claims_out_of_review_and_records_each_change(paralegal, lawyer):
    waiting = SubmittedClaimFactory.create_batch(3)
    decided = SubmittedClaimFactory(status=Claim.Status.ACCEPTED)
    result = claims_assign(claim_ids=[c.pk for c in [*waiting, decided]], actor=lawyer, reviewer=paralegal, meta=META)
    assert sorted(c.pk for c in result.done) == sorted(c.pk for c in waiting)
    assert result.skipped == {SKIPPED_STATUS: [decided]}
    assert Claim.objects.filter(reviewer=paralegal).count() == 3
    assert set(Claim.objects.filter(pk__in=[c.pk for c in waiting]).values_list("version", flat=True)) == {2}
    assert ClaimEvent.objects.filter(kind=ClaimEvent.Kind.ASSIGNED).count() == 3
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ASSIGNED, ip="203.0.113.9").count() == 3


def test_bulk_accept_accepts_clean_claims_and_reports_flagged_and_wrong_status_ones(
    lawyer, django_capture_on_commit_callbacks, mailoutbox
):
    clean = SubmittedClaimFactory.create_batch(2)
    flagged = SubmittedClaimFactory()
    open_flag(flagged)
    asked = SubmittedClaimFactory(status=Claim.Status.INFO_REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):
        result = claims_accept(claim_ids=[c.pk for c in [*clean, flagged, asked]], actor=lawyer, meta=META)
    assert sorted(c.pk for c in result.done) == sorted(c.pk for c in clean)
    assert result.skipped == {SKIPPED_FLAGS: [flagged], SKIPPED_STATUS: [asked]}
    assert set(Claim.objects.filter(pk__in=[c.pk for c in clean]).values_list("status", flat=True)) == {"accepted"}
    flagged.refresh_from_db()
    assert flagged.status == Claim.Status.SUBMITTED
    assert ClaimEvent.objects.filter(kind=ClaimEvent.Kind.ACCEPTED, data__bulk=True).count() == 2
    assert len(mailoutbox) == 2


def test_bulk_accept_needs_the_decide_permission(paralegal, submitted):
    with pytest.raises(ReviewError, match="권한"):
        claims_accept(claim_ids=[submitted.pk], actor=paralegal)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.SUBMITTED


def test_staff_corrections_record_the_fields_not_the_values_and_ask_for_a_new_estimate_and_check(
    paralegal, submitted, django_capture_on_commit_callbacks
):
    other = SubmittedClaimFactory(business_registration_number="1234567891")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        claim_staff_update(
            claim=submitted,
            actor=paralegal,
            expected_version=submitted.version,
            changes={
                "claimant_type": Claim.ClaimantType.SOLE_PROPRIETOR,
                "business_registration_number": "1234567891",
                "business_name": "행복미용실",
                "business_sector": "미용",
            },
            meta=META,
        )
    assert len(callbacks) == 2  # a new estimate and the duplicate check
    assert submitted.flags.get().related_claim_ids == [other.pk]  # the check ran: same business number
    submitted.refresh_from_db()
    assert submitted.version == 2
    event = submitted.events.get(kind=ClaimEvent.Kind.UPDATED)
    fields = ["business_name", "business_registration_number", "business_sector", "claimant_type"]
    assert event.data == {"fields": fields, "by_staff": True}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EDITED)
    assert entry.data == {"fields": fields}
    assert "행복미용실" not in str(entry.data)


def test_staff_corrections_with_a_stale_version_are_refused(paralegal, submitted):
    claim_start_review(claim=submitted, actor=paralegal, expected_version=1)
    with pytest.raises(ClaimConflictError):
        claim_staff_update(claim=submitted, actor=paralegal, expected_version=1, changes={"already_compensated": 5})
    submitted.refresh_from_db()
    assert submitted.already_compensated == 0


def test_staff_cannot_change_a_draft_or_fields_that_are_the_claimants(paralegal):
    draft = ClaimFactory()
    with pytest.raises(ReviewError, match="작성 중"):
        claim_staff_update(claim=draft, actor=paralegal, expected_version=1, changes={"already_compensated": 1})
    with pytest.raises(ReviewError, match="고칠 수 없는"):
        claim_staff_update(claim=SubmittedClaimFactory(), actor=paralegal, expected_version=1, changes={"status": "x"})


def test_a_flag_decision_needs_a_note_is_made_once_and_is_audited(paralegal, lawyer, submitted):
    flag = open_flag(submitted)
    with pytest.raises(ReviewError, match="메모"):
        flag_mark_reviewed(claim=submitted, flag=flag, actor=paralegal, note="  ")
    flag_mark_reviewed(claim=submitted, flag=flag, actor=paralegal, note="본인 확인함", meta=META)
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by, flag.note) == (Flag.Status.REVIEWED, paralegal, "본인 확인함")
    assert submitted.events.get(kind=ClaimEvent.Kind.FLAG_REVIEWED).message == "본인 확인함"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.FLAG_REVIEWED)
    assert (entry.object_type, entry.object_id, entry.claim) == ("claims.flag", str(flag.pk), submitted)
    with pytest.raises(ReviewError, match="이미"):
        flag_mark_reviewed(claim=submitted, flag=flag, actor=lawyer, note="다시")


def test_a_flag_of_another_claim_cannot_be_reviewed_through_this_one(paralegal, submitted):
    other_flag = open_flag(SubmittedClaimFactory())
    with pytest.raises(Flag.DoesNotExist):
        flag_mark_reviewed(claim=submitted, flag=other_flag, actor=paralegal, note="확인")
