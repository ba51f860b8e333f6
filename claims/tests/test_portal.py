"""The claimant's portal: status and timeline, information requests and answers, the estimate when shown,
withdrawal and re-joining, status emails, and another claimant finding nothing."""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from claims.models import Claim, ClaimEvent, Estimate, Incident, InformationRequest
from claims.services import intake
from claims.services.intake import ClaimError
from claims.tasks.notifications import claim_status_email_task, information_answered_staff_email_task
from claims.tests.factories import (
    ClaimFactory,
    DamageModelVersionFactory,
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    claimant_ready,
    png_bytes,
    service_by_slug,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(claimant):
    claim = SubmittedClaimFactory(claimant=claimant)
    claim.services.set([service_by_slug("kakao-t")])
    ClaimEvent.objects.create(claim=claim, actor=claimant, kind=ClaimEvent.Kind.SUBMITTED)
    return claim


def request_information(claim: Claim, *, message="평상시 주 매출 자료를 올려 주세요.") -> InformationRequest:
    """What the staff side does: a request, the status, the timeline entry."""
    staff = UserFactory(is_staff=True, email="lawyer@example.com")
    info = InformationRequest.objects.create(
        claim=claim,
        requested_by=staff,
        message=message,
        items=["카드 매출 내역 (10월 8일~14일)"],
        due_date=timezone.localdate() + dt.timedelta(days=14),
    )
    claim.status = Claim.Status.INFO_REQUESTED
    claim.save(update_fields=["status"])
    ClaimEvent.objects.create(claim=claim, actor=staff, kind=ClaimEvent.Kind.INFO_REQUESTED, message="내부 메모")
    return info


def test_my_claims_lists_the_claim_with_its_status(client, submitted):
    response = client.get(reverse("claims:index"))
    html = response.content.decode()
    assert submitted.reference_code in html and "접수됨" in html


def test_the_timeline_shows_status_changes_only(client, submitted):
    ClaimEvent.objects.create(claim=submitted, kind=ClaimEvent.Kind.VIEWED, data={"evidence": 1})
    ClaimEvent.objects.create(claim=submitted, kind=ClaimEvent.Kind.ESTIMATED)
    ClaimEvent.objects.create(claim=submitted, kind=ClaimEvent.Kind.REVIEW_STARTED)
    request_information(submitted)
    response = client.get(reverse("claims:detail", args=[submitted.pk]))
    timeline = [event.kind for event in response.context["claim"].timeline]
    assert timeline == ["submitted", "review_started", "info_requested"]
    html = response.content.decode()
    assert "내부 메모" not in html  # staff notes on a request stay internal
    assert 'data-testid="open-request"' in html and "평상시 주 매출 자료를 올려 주세요." in html


def test_answering_an_information_request_with_a_message_and_a_file(
    client, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    info = request_information(submitted)
    page = reverse("claims:information_request", args=[submitted.pk, info.pk])
    assert "카드 매출 내역" in client.get(page).content.decode()
    uploaded = client.post(
        reverse("claims:evidence_upload", args=[submitted.pk]),
        {
            "tag": "revenue_records",
            "information_request": info.pk,
            "file": SimpleUploadedFile("매출.png", png_bytes()),
        },
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert uploaded.status_code == 201
    with (
        mock.patch.object(intake.estimate_claim_task, "delay_on_commit") as estimate,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(page, {"answer": "10월 8일~14일 카드 매출 내역을 올렸습니다."})
    assert response.url == reverse("claims:detail", args=[submitted.pk])
    info.refresh_from_db()
    submitted.refresh_from_db()
    assert info.answered_at and info.answer.startswith("10월 8일")
    assert info.evidence.count() == 1
    assert submitted.status == Claim.Status.IN_REVIEW
    provided = submitted.events.get(kind=ClaimEvent.Kind.INFO_PROVIDED)
    assert provided.data["files"] == 1
    estimate.assert_called_once_with(submitted.pk)
    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted([submitted.claimant.email, "lawyer@example.com"])
    staff_mail = next(mail for mail in mailoutbox if mail.to == ["lawyer@example.com"])
    assert submitted.reference_code in staff_mail.subject
    detail = client.get(response.url).content.decode()
    assert "답변한 자료 요청" in detail and "(파일 1개)" in detail and 'data-testid="open-request"' not in detail


def test_an_empty_answer_is_refused_and_nothing_changes(client, submitted):
    info = request_information(submitted)
    response = client.post(reverse("claims:information_request", args=[submitted.pk, info.pk]), {"answer": "  "})
    assert response.status_code == 200
    assert "답변 내용을 적거나 파일을 하나 이상 올려 주세요" in response.content.decode()
    info.refresh_from_db()
    assert info.answered_at is None


def test_an_answered_request_cannot_be_answered_again(submitted):
    info = request_information(submitted)
    intake.information_request_answer(information_request=info, actor=submitted.claimant, answer="첨부합니다")
    with pytest.raises(ClaimError):
        intake.information_request_answer(information_request=info, actor=submitted.claimant, answer="또")


def test_staff_status_events_email_the_claimant_with_the_request_and_its_due_date(
    submitted, mailoutbox, django_capture_on_commit_callbacks
):
    info = request_information(submitted)
    event = submitted.events.get(kind=ClaimEvent.Kind.INFO_REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        assert claim_status_email_task(submitted.pk, event.pk) is True
    mail = mailoutbox[0]
    assert mail.to == [submitted.claimant.email]
    assert "추가 자료" in mail.subject
    assert info.message in mail.body and info.due_date.strftime("%Y-%m-%d") in mail.body
    assert "내부 메모" not in mail.body


def test_emails_are_written_in_each_readers_language(submitted, mailoutbox, django_capture_on_commit_callbacks):
    User.objects.filter(pk=submitted.claimant_id).update(language="en")
    info = request_information(submitted)
    reviewer = UserFactory(is_staff=True, email="paralegal@example.com", language="en")
    Claim.objects.filter(pk=submitted.pk).update(reviewer=reviewer)
    event = submitted.events.get(kind=ClaimEvent.Kind.INFO_REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):
        assert claim_status_email_task(submitted.pk, event.pk) is True
    assert mailoutbox[-1].subject == f"Please send us more information ({submitted.reference_code})"
    assert mailoutbox[-1].body.startswith("Hello ")

    intake.information_request_answer(information_request=info, actor=submitted.claimant, answer="Attached.")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert information_answered_staff_email_task(submitted.pk, info.pk) is True
    subjects = {tuple(mail.to): mail.subject for mail in mailoutbox}
    assert subjects[("paralegal@example.com",)].startswith("The claimant has responded")
    assert subjects[("lawyer@example.com",)].startswith("신청인이 추가 자료 요청에 답변했습니다")

    User.objects.filter(pk=reviewer.pk).update(language="ko")  # staff sharing a language share one email
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert information_answered_staff_email_task(submitted.pk, info.pk) is True
    assert [mail.to for mail in mailoutbox] == [["lawyer@example.com", "paralegal@example.com"]]


def test_internal_events_send_no_email(submitted, mailoutbox, django_capture_on_commit_callbacks):
    event = ClaimEvent.objects.create(claim=submitted, kind=ClaimEvent.Kind.ESTIMATED)
    with django_capture_on_commit_callbacks(execute=True):
        assert claim_status_email_task(submitted.pk, event.pk) is False
    assert mailoutbox == []


def test_the_estimate_is_shown_only_when_staff_chose_to_and_in_the_readers_language(client, submitted):
    LossItemFactory(claim=submitted, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    breakdown = {
        "total": 107_550,
        "components": [
            {
                "rule": "subscription",
                "amount": 7_550,
                "explanation": {"ko": "월 이용료 계산", "en": "Monthly fee rule"},
            },
            {"rule": "solatium", "amount": 100_000, "explanation": {"ko": "위자료", "en": "Solatium"}},
        ],
    }
    Estimate.objects.create(
        claim=submitted,
        model_version=DamageModelVersionFactory(),
        total=107_550,
        breakdown=breakdown,
        inputs={},
        inputs_sha256="0" * 64,
    )
    url = reverse("claims:detail", args=[submitted.pk])
    assert 'data-testid="estimate"' not in client.get(url).content.decode()
    submitted.estimate_visible_to_claimant = True
    submitted.save()
    html = client.get(url).content.decode()
    assert 'data-testid="estimate"' in html and "월 이용료 계산" in html and "107,550원" in html
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert "Monthly fee rule" in client.get(url).content.decode()


def test_withdrawing_needs_confirmation_and_is_recorded(
    client, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("claims:withdraw", args=[submitted.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": "개인 사정"})
    assert refused.status_code == 200 and "확인란에 표시해 주세요" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "개인 사정", "confirm": "on"})
    assert response.url == reverse("claims:detail", args=[submitted.pk])
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.WITHDRAWN and submitted.withdrawn_at
    event = submitted.events.get(kind=ClaimEvent.Kind.WITHDRAWN)
    assert event.message == "개인 사정" and event.data["previous_status"] == "submitted"
    # The status email, and the retainer refunded in full by the fee terms' rule (payments) with its own email.
    assert len(mailoutbox) == 2 and "철회" in mailoutbox[0].subject and "환불" in mailoutbox[1].subject


def test_rejoining_reopens_the_claim_while_the_incident_accepts_claims(client, submitted):
    intake.claim_withdraw(claim=submitted, actor=submitted.claimant)
    response = client.post(reverse("claims:rejoin", args=[submitted.pk]))
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.DRAFT and submitted.withdrawn_at is None
    assert response.url == reverse("claims:wizard_review", args=[submitted.pk])
    assert submitted.events.filter(kind=ClaimEvent.Kind.REJOINED).count() == 1


def test_rejoining_is_refused_once_the_incident_is_closed(submitted):
    intake.claim_withdraw(claim=submitted, actor=submitted.claimant)
    submitted.incident.accepting_claims = False
    submitted.incident.save()
    with pytest.raises(ClaimError, match="마감"):
        intake.claim_rejoin(claim=submitted, actor=submitted.claimant)


def test_rejoining_is_refused_once_retention_anonymised_the_claim(submitted):
    intake.claim_withdraw(claim=submitted, actor=submitted.claimant)
    Claim.objects.filter(pk=submitted.pk).update(anonymised_at=timezone.now())
    with pytest.raises(ClaimError, match="보관 기간"):
        intake.claim_rejoin(claim=submitted, actor=submitted.claimant)
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.WITHDRAWN


def test_rejoining_respects_the_one_active_claim_rule(client, submitted):
    intake.claim_withdraw(claim=submitted, actor=submitted.claimant)
    newer = ClaimFactory(claimant=submitted.claimant, incident=submitted.incident)
    response = client.post(reverse("claims:rejoin", args=[submitted.pk]), follow=True)
    assert "이미 다른 신청이 진행 중입니다" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Claim.Status.WITHDRAWN
    assert Claim.objects.exclude(status=Claim.Status.WITHDRAWN).get() == newer


def test_another_claimant_gets_404_on_every_url_of_the_claim_and_its_files(client, submitted):
    item = LossItemFactory(claim=submitted, service=service_by_slug("kakao-t"))
    evidence = EvidenceFactory(claim=submitted, loss_item=item)
    info = request_information(submitted)
    other_incident = Incident.objects.exclude(pk=submitted.incident_id).first()
    draft_of_a = ClaimFactory(claimant=submitted.claimant, incident=other_incident)
    draft_of_a.services.set([service_by_slug("kakaotalk")])
    pk = submitted.pk
    gets = [
        reverse("claims:detail", args=[pk]),
        reverse("claims:resume", args=[pk]),
        reverse("claims:submitted", args=[pk]),
        reverse("claims:wizard_review", args=[pk]),
        reverse("claims:withdraw", args=[pk]),
        reverse("claims:information_request", args=[pk, info.pk]),
        reverse("claims:evidence_download", args=[pk, evidence.pk]),
        reverse("claims:evidence_display", args=[pk, evidence.pk]),
        *(
            reverse(f"claims:wizard_{step}", args=[draft_of_a.pk])
            for step in ("eligibility", "claimant", "losses", "evidence", "review")
        ),
        reverse("claims:wizard_losses_service", args=[draft_of_a.pk, "kakaotalk"]),
    ]
    posts = [
        reverse("claims:wizard_review", args=[draft_of_a.pk]),
        reverse("claims:evidence_upload", args=[pk]),
        reverse("claims:evidence_remove", args=[pk, evidence.pk]),
        reverse("claims:information_request", args=[pk, info.pk]),
        reverse("claims:withdraw", args=[pk]),
        reverse("claims:rejoin", args=[pk]),
    ]
    client.force_login(claimant_ready())
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"confirm": "on", "answer": "x", "tag": "other"}).status_code == 404, url
    submitted.refresh_from_db()
    draft_of_a.refresh_from_db()
    assert submitted.status == Claim.Status.INFO_REQUESTED and draft_of_a.status == Claim.Status.DRAFT


def test_the_claim_page_runs_a_fixed_number_of_queries(client, submitted):
    """The same queries for one loss item with one file and for ten items with fifteen files: none per item or
    file. 13 when this file runs alone, 14 in the whole suite: that extra query is not a cache filled by the first
    view (the count is taken on a second view) and its cause was not found (issue 20's note); the bound allows it."""
    request_information(submitted)
    page = reverse("claims:detail", args=[submitted.pk])
    counts = []
    for items, files in ((1, 1), (10, 15)):
        while submitted.loss_items.count() < items:
            LossItemFactory(claim=submitted, service=service_by_slug("kakao-t"))
        loss_items = list(submitted.loss_items.all())
        for index in range(submitted.evidence.count(), files):
            EvidenceFactory(claim=submitted, loss_item=loss_items[index % items])
        client.get(page)  # the process's caches (firm profile, content types) filled, as on a running site
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page)
        assert response.content.decode().count('data-testid="evidence-row"') == files
        assert len(response.context["loss_items"]) == items
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 14, counts


def test_my_claims_runs_a_fixed_number_of_queries(client, claimant, django_assert_max_num_queries):
    for claim in [ClaimFactory(claimant=claimant)]:
        for _ in range(5):
            EvidenceFactory(claim=claim)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("claims:index")).status_code == 200
