"""The claim review workspace in the admin: the list (query count, filters, search), roles, the review page and
its actions, the staff edit form's concurrency guard, bulk actions and the evidence previews."""

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory, UserFactory
from claims.admin.claims import ClaimAdmin, EstimatedCountPaginator
from claims.models import Claim, ClaimEvent, Evidence, Flag, InformationRequest
from claims.services.evidence import evidence_attach
from claims.services.evidence_previews import evidence_preview_render
from claims.services.fraud import fraud_sweep
from claims.services.review import claim_start_review
from claims.tests.factories import (
    ClaimFactory,
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    claimant_ready,
    pdf_bytes,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:claims_claim_changelist")


def change_url(claim: Claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


def action_url(claim: Claim, action: str) -> str:
    return reverse("admin:claims_claim_review", args=[claim.pk, action])


@pytest.fixture
def paralegal(client):
    user = staff_member(Role.PARALEGAL)
    admin_login(client, user)
    return user


@pytest.fixture
def lawyer(client):
    user = staff_member(Role.LAWYER)
    admin_login(client, user)
    return user


def listed(client, query: str = "") -> str:
    response = client.get(f"{LIST_URL}{query}")
    assert response.status_code == 200
    return response.content.decode()


def complete_claim(**kwargs) -> Claim:
    """A submitted claim with two services, a loss item, proof of use and an open flag: everything the list shows."""
    claim = SubmittedClaimFactory(**kwargs)
    claim.services.set([service_by_slug("kakao-t"), service_by_slug("melon")])
    item = LossItemFactory(claim=claim)
    EvidenceFactory(claim=claim, loss_item=item)
    Flag.objects.create(claim=claim, code=Flag.Code.DUPLICATE_PHONE, severity=Flag.Severity.MEDIUM)
    return claim


def list_queries(client) -> int:
    listed(client)  # the first request after signing in also updates the session
    with CaptureQueriesContext(connection) as queries:
        listed(client)
    return len(queries)


def test_the_claim_list_runs_the_same_number_of_queries_for_5_and_50_claims(client, paralegal):
    reviewer = staff_member(Role.PARALEGAL)
    for _n in range(5):
        complete_claim(reviewer=reviewer)
    five = list_queries(client)
    for _n in range(45):
        complete_claim(reviewer=reviewer)
    assert list_queries(client) == five
    assert five <= 20
    html = listed(client)
    assert html.count('class="action-select"') == 50
    assert "다른 계정과 같은 휴대전화 번호" in html
    assert "카카오T" in html or "Kakao T" in html


def test_the_list_shows_and_sorts_by_evidence_of_the_claims_on_the_page(client, paralegal):
    with_proof = SubmittedClaimFactory()
    EvidenceFactory(claim=with_proof, tag=Evidence.Tag.PROOF_OF_USE)
    with_revenue = SubmittedClaimFactory()
    EvidenceFactory(claim=with_revenue, tag=Evidence.Tag.REVENUE_RECORDS)
    without = SubmittedClaimFactory()

    def row(html: str, claim: Claim) -> str:
        start = html.index(str(claim))
        return html[start : html.index("</tr>", start)]

    html = listed(client)
    assert re.findall(r'alt="(True|False)"', row(html, with_proof)) == ["True", "False"]
    assert re.findall(r'alt="(True|False)"', row(html, with_revenue)) == ["False", "True"]
    assert re.findall(r'alt="(True|False)"', row(html, without)) == ["False", "False"]
    proof_column = 7  # after the checkbox, code, claimant, type, services, claimed and estimated totals
    first = listed(client, f"?o=-{proof_column}")
    assert first.index(str(with_proof)) < first.index(str(without))
    last = listed(client, f"?o={proof_column}")
    assert last.index(str(with_proof)) > last.index(str(without))


def test_the_list_shows_claims_awaiting_review_not_drafts_and_each_status_can_be_chosen(client, paralegal):
    submitted = SubmittedClaimFactory()
    asked = SubmittedClaimFactory(status=Claim.Status.INFO_REQUESTED)
    draft = ClaimFactory(reference_code="KC-DRAF-T234")
    html = listed(client)
    assert str(submitted) in html and str(asked) in html and str(draft) not in html
    html = listed(client, "?status=info_requested")
    assert str(asked) in html and str(submitted) not in html
    assert str(draft) in listed(client, "?status=draft")


def test_filters_by_type_service_flags_evidence_reviewer_estimate_and_date(client, paralegal):
    business = SubmittedClaimFactory(claimant_type=Claim.ClaimantType.SOLE_PROPRIETOR, estimate_total=750_000)
    business.services.set([service_by_slug("melon")])
    EvidenceFactory(claim=business, tag=Evidence.Tag.REVENUE_RECORDS)
    person = SubmittedClaimFactory(reviewer=paralegal, estimate_total=50_000)
    EvidenceFactory(claim=person, tag=Evidence.Tag.PROOF_OF_USE)
    Flag.objects.create(claim=person, code=Flag.Code.DUPLICATE_EVIDENCE, severity=Flag.Severity.HIGH)
    old = SubmittedClaimFactory(submitted_at=timezone.now() - dt.timedelta(days=90))

    def only(query: str) -> set[str]:
        html = listed(client, query)
        return {str(claim) for claim in (business, person, old) if str(claim) in html}

    assert only("?claimant_type=sole_proprietor") == {str(business)}
    assert only("?service=melon") == {str(business)}
    assert only("?flags=open") == {str(person)}
    assert only("?flags=duplicate_evidence") == {str(person)}
    assert only("?flags=none") == {str(business), str(old)}
    assert only("?proof_of_use=yes") == {str(person)}
    assert only("?proof_of_use=no") == {str(business), str(old)}
    assert only("?revenue_evidence=yes") == {str(business)}
    assert only("?reviewer=mine") == {str(person)}
    assert only(f"?reviewer={paralegal.pk}") == {str(person)}
    assert only("?reviewer=none") == {str(business), str(old)}
    assert only("?estimate=3") == {str(business)}  # 500,000 ~ 1,000,000
    assert only("?estimate=0") == {str(person)}
    assert only("?estimate=none") == {str(old)}
    week_ago = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=7)
    assert only("?" + urlencode({"submitted_at__gte": str(week_ago)})) == {str(business), str(person)}


def test_search_normalises_reference_codes_phones_emails_and_business_numbers(client, paralegal):
    claim = SubmittedClaimFactory(
        reference_code="KC-AB2C-D3EF",
        claimant=ClaimantFactory(phone="01023456789", email="hong.gildong@example.com", legal_name="홍길동"),
        business_registration_number="1234567891",
    )
    other = SubmittedClaimFactory(claimant=ClaimantFactory(legal_name="김철수"))
    for term in (
        "kc-ab2c-d3ef",
        "KCAB2CD3EF",
        "ab2c d3ef",
        "010-2345-6789",
        "01023456789",
        "+82 10-2345-6789",
        "Hong.Gildong@Example.com",
        "123-45-67891",
        "길동",
    ):
        html = client.get(LIST_URL, {"q": term}).content.decode()
        assert str(claim) in html, term
        assert str(other) not in html, term
    assert str(claim) not in listed(client, "?q=010-9999-0000")


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="claims", codename__in=codenames))
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def test_staff_without_the_personal_data_permission_see_masked_names_and_no_claim_page(client):
    claim = SubmittedClaimFactory(claimant=ClaimantFactory(legal_name="홍길동", phone="01023456789"))
    EvidenceFactory(claim=claim)
    admin_login(client, staff_with("view_claim"))
    html = listed(client)
    assert "홍*동" in html and "홍길동" not in html
    assert str(claim) not in listed(client, "?q=01023456789")  # searching personal data is not allowed either
    assert str(claim) in listed(client, f"?q={claim.reference_code}")
    assert client.get(change_url(claim)).status_code == 403
    evidence = claim.evidence.get()
    assert client.get(reverse("admin:claims_claim_evidence", args=[claim.pk, evidence.pk])).status_code == 403
    assert not AuditEntry.objects.exists()


def test_a_viewer_sees_the_dashboard_but_no_claims_and_no_personal_data(client):
    claim = SubmittedClaimFactory(claimant=ClaimantFactory(legal_name="홍길동"))
    admin_login(client, staff_member(Role.VIEWER))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    html = index.content.decode()
    assert 'data-testid="dashboard"' in html
    assert "홍길동" not in html and claim.claimant.email not in html
    assert client.get(LIST_URL).status_code == 403
    assert client.get(change_url(claim)).status_code == 403


@pytest.mark.parametrize(("name", "masked"), [("홍길동", "홍*동"), ("이준", "이*"), ("김", "*"), ("", "-"), (" ", "-")])
def test_the_masked_claimant_column_keeps_at_most_the_first_and_last_letters(name, masked):
    claim = Claim(claimant=User(legal_name=name))
    assert ClaimAdmin(Claim, admin.site).claimant_name_masked(claim) == masked


def test_a_paralegal_reviews_but_cannot_decide_change_the_damage_model_or_export(client, paralegal):
    claim = SubmittedClaimFactory()
    html = client.get(change_url(claim)).content.decode()
    assert 'data-testid="submit-start_review"' in html
    assert 'data-testid="open-request_information"' in html
    assert "submit-accept" not in html and "submit-reject" not in html
    response = client.post(action_url(claim, "accept"), {"expected_version": claim.version})
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert "accept_selected" not in listed(client)
    assert client.get(reverse("admin:claims_damagemodelversion_add")).status_code == 403
    assert not paralegal.has_perm("claims.export_personal_data")
    assert not paralegal.has_perm("claims.manage_damage_model")


def test_a_lawyer_sees_every_decision(client, lawyer):
    claim = SubmittedClaimFactory()
    html = client.get(change_url(claim)).content.decode()
    for action in ("start_review", "request_information", "accept", "reject"):
        assert f'data-testid="submit-{action}"' in html
    assert "accept_selected" in listed(client)


def test_starting_review_from_the_claim_page(client, paralegal, mailoutbox, django_capture_on_commit_callbacks):
    claim = SubmittedClaimFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(action_url(claim, "start_review"), {"expected_version": 1}, HTTP_USER_AGENT="Edge")
    assert response.status_code == 302 and response["Location"] == change_url(claim)
    claim.refresh_from_db()
    assert (claim.status, claim.reviewer) == (Claim.Status.IN_REVIEW, paralegal)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TRANSITION)
    assert (entry.ip, entry.user_agent) == ("127.0.0.1", "Edge")
    assert len(mailoutbox) == 1
    follow = client.get(change_url(claim)).content.decode()
    assert "검토를 시작했습니다." in follow


def test_an_invalid_information_request_is_shown_again_with_what_was_typed(client, paralegal):
    claim = SubmittedClaimFactory()
    response = client.post(
        action_url(claim, "request_information"),
        {"expected_version": 1, "message": "매출 자료가 필요합니다.", "due_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "요청할 자료를 하나 이상 고르거나 적어 주세요." in html
    assert "매출 자료가 필요합니다." in html
    response = client.post(
        action_url(claim, "request_information"),
        {
            "expected_version": 1,
            "message": "매출 자료가 필요합니다.",
            "items": ["revenue_records"],
            "other_items": "사업자등록증 사본",
            "due_date": timezone.localdate().isoformat(),
        },
    )
    assert "기한은" in response.content.decode()
    assert not InformationRequest.objects.exists()
    due = timezone.localdate() + dt.timedelta(days=10)
    response = client.post(
        action_url(claim, "request_information"),
        {
            "expected_version": 1,
            "message": "매출 자료가 필요합니다.",
            "items": ["revenue_records"],
            "other_items": "사업자등록증 사본",
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 302
    request = InformationRequest.objects.get()
    assert request.items == ["매출 자료", "사업자등록증 사본"]
    assert request.due_date == due


def test_a_decision_on_a_claim_someone_else_just_changed_is_a_conflict_shown_to_the_lawyer(client, lawyer):
    claim = SubmittedClaimFactory()
    page = client.get(change_url(claim)).content.decode()
    assert 'name="expected_version" value="1"' in page
    other = staff_member(Role.PARALEGAL)
    claim_start_review(claim=claim, actor=other, expected_version=1)
    response = client.post(action_url(claim, "accept"), {"expected_version": 1, "note": "승인합니다"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "다른 직원이 먼저 이 신청을 변경했습니다" in html
    assert "승인합니다" in html
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW


def test_the_edit_form_refuses_a_stale_version_and_keeps_the_input(client, paralegal):
    claim = SubmittedClaimFactory(already_compensated=0)
    data = {
        "expected_version": 1,
        "claimant_type": "individual",
        "business_registration_number": "",
        "business_name": "",
        "business_sector": "",
        "already_compensated": "30000",
        "was_using_during_outage": "true",
        "_save": "저장",
    }
    Claim.objects.filter(pk=claim.pk).update(version=2)
    response = client.post(change_url(claim), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "다른 직원이 먼저 이 신청을 변경했습니다" in html
    assert 'value="30000"' in html
    claim.refresh_from_db()
    assert claim.already_compensated == 0

    response = client.post(change_url(claim), {**data, "expected_version": 2})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.already_compensated, claim.version) == (30_000, 3)
    assert AuditEntry.objects.get(action=AuditEntry.Action.EDITED).data == {"fields": ["already_compensated"]}


def test_a_draft_is_shown_read_only(client, paralegal):
    draft = ClaimFactory(already_compensated=0)
    response = client.get(change_url(draft))
    assert response.status_code == 200
    assert 'name="already_compensated"' not in response.content.decode()
    assert client.post(change_url(draft), {"expected_version": 1, "already_compensated": "5"}).status_code == 403


def test_the_edit_form_checks_business_numbers(client, paralegal):
    claim = SubmittedClaimFactory()
    response = client.post(
        change_url(claim),
        {
            "expected_version": 1,
            "claimant_type": "sole_proprietor",
            "business_registration_number": "123-45-67890",
            "business_name": "가게",
            "business_sector": "음식",
            "already_compensated": "0",
            "was_using_during_outage": "true",
        },
    )
    assert response.status_code == 200
    assert "사업자등록번호가 올바르지 않습니다" in response.content.decode()


def post_action(client, action: str, claims, **extra):
    return client.post(LIST_URL, {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in claims], **extra})


def test_bulk_assign_asks_for_the_reviewer_then_assigns(client, lawyer):
    claims = SubmittedClaimFactory.create_batch(3)
    reviewer = staff_member(Role.PARALEGAL, legal_name="박담당")
    page = post_action(client, "assign_reviewer", claims)
    assert page.status_code == 200
    assert "박담당" in page.content.decode()
    response = post_action(client, "assign_reviewer", claims, apply="1", reviewer=reviewer.pk)
    assert response.status_code == 302
    assert Claim.objects.filter(reviewer=reviewer).count() == 3
    assert ClaimEvent.objects.filter(kind=ClaimEvent.Kind.ASSIGNED).count() == 3


def test_bulk_accept_shows_what_will_be_skipped_then_accepts_the_rest(client, lawyer):
    clean = SubmittedClaimFactory()
    flagged = SubmittedClaimFactory()
    Flag.objects.create(claim=flagged, code=Flag.Code.SIMILAR_IMAGE, severity=Flag.Severity.MEDIUM)
    page = post_action(client, "accept_selected", [clean, flagged]).content.decode()
    assert "확인 필요 플래그가 있어 건너뜁니다." in page
    response = post_action(client, "accept_selected", [clean, flagged], apply="1")
    assert response.status_code == 302
    clean.refresh_from_db()
    flagged.refresh_from_db()
    assert (clean.status, flagged.status) == (Claim.Status.ACCEPTED, Claim.Status.SUBMITTED)
    html = listed(client)
    assert "신청 1건을 승인했습니다." in html
    assert f"확인 필요 플래그가 있어 건너뛴 신청 1건: {flagged}" in html


def test_a_paralegal_cannot_run_bulk_accept(client, paralegal):
    claim = SubmittedClaimFactory()
    post_action(client, "accept_selected", [claim], apply="1")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED


def test_flags_are_reviewed_from_the_claim_page_with_a_note(client, paralegal):
    claim = SubmittedClaimFactory()
    other = SubmittedClaimFactory()
    flag = Flag.objects.create(
        claim=claim, code=Flag.Code.DUPLICATE_PHONE, severity=Flag.Severity.MEDIUM, related_claim_ids=[other.pk]
    )
    html = client.get(change_url(claim)).content.decode()
    assert change_url(other) in html
    response = client.post(action_url(claim, "flag_review"), {"flag": flag.pk, "note": ""})
    assert response.status_code == 200
    response = client.post(action_url(claim, "flag_review"), {"flag": flag.pk, "note": "모녀가 같은 번호"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.note) == (Flag.Status.REVIEWED, "모녀가 같은 번호")


def test_a_cleared_flag_is_shown_as_cleared_without_a_review_form(client, paralegal):
    claim = SubmittedClaimFactory(estimate_total=9_000_000, estimate_flags=["cohort_outlier"])
    fraud_sweep()
    assert action_url(claim, "flag_review") in client.get(change_url(claim)).content.decode()

    Claim.objects.filter(pk=claim.pk).update(estimate_flags=[])
    fraud_sweep()
    html = client.get(change_url(claim)).content.decode()
    assert 'data-testid="flag-cleared"' in html
    assert action_url(claim, "flag_review") not in html
    assert "플래그 자동 해제" in html  # the timeline's event


def uploaded(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def claim_with_files():
    claimant = claimant_ready()
    claim = ClaimFactory(claimant=claimant)
    photo = evidence_attach(
        claim=claim, actor=claimant, upload=uploaded("화면.png", png_bytes(), "image/png"), tag="proof_of_use"
    )
    document = evidence_attach(
        claim=claim, actor=claimant, upload=uploaded("매출.pdf", pdf_bytes(), "application/pdf"), tag="revenue_records"
    )
    evidence_preview_render(evidence_id=photo.pk)  # the display copy, made by the preview task after the upload
    photo.refresh_from_db()
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.SUBMITTED, reference_code="KC-FILE-S234")
    return claim, photo, document


def test_evidence_is_previewed_inline_only_as_a_checked_type_and_downloaded_on_request(
    client, paralegal, claim_with_files
):
    claim, photo, document = claim_with_files
    page = client.get(change_url(claim)).content.decode()
    photo_url = reverse("admin:claims_claim_evidence", args=[claim.pk, photo.pk])
    document_url = reverse("admin:claims_claim_evidence", args=[claim.pk, document.pk])
    assert f'<img class="review-evidence__image" src="{photo_url}"' in page
    assert "<iframe" not in page and "<embed" not in page and "<object" not in page  # PDFs are page images
    assert f'href="{document_url}?download=1"' in page

    response = client.get(document_url)  # a PDF is never inline (claims/tests/test_evidence_pdf_views.py)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Frame-Options"] == "DENY"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    response = client.get(photo_url)
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == photo.display_file.open("rb").read()

    response = client.get(f"{photo_url}?download=1")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"


def test_evidence_of_another_claim_is_not_found_through_this_one(client, paralegal, claim_with_files):
    claim, photo, _document = claim_with_files
    other = SubmittedClaimFactory()
    assert client.get(reverse("admin:claims_claim_evidence", args=[other.pk, photo.pk])).status_code == 404


def test_a_file_that_is_neither_pdf_nor_jpeg_nor_png_is_never_inline(client, paralegal):
    claim = SubmittedClaimFactory()
    heic = EvidenceFactory(claim=claim, content_type="image/heic", original_name="사진.heic")
    response = client.get(reverse("admin:claims_claim_evidence", args=[claim.pk, heic.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"


def test_a_file_removed_from_storage_is_not_found_rather_than_an_error(client, paralegal):
    claim = SubmittedClaimFactory()
    evidence = EvidenceFactory(claim=claim)
    evidence.file.storage.delete(evidence.file.name)
    response = client.get(reverse("admin:claims_claim_evidence", args=[claim.pk, evidence.pk]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.VIEWED_EVIDENCE).exists()


def test_claims_cannot_be_added_or_deleted_in_the_admin(client, lawyer):
    claim = SubmittedClaimFactory()
    assert client.get(reverse("admin:claims_claim_add")).status_code == 403
    assert client.get(reverse("admin:claims_claim_delete", args=[claim.pk])).status_code == 403


def test_the_paginator_uses_the_planners_estimate_only_for_large_results():
    SubmittedClaimFactory.create_batch(3)
    small = EstimatedCountPaginator(Claim.objects.all(), 50)
    assert small.count == 3 and not small.count_is_estimate
    large = EstimatedCountPaginator(Claim.objects.all(), 50)
    large.EXACT_COUNT_LIMIT = -1
    assert large.count >= 1 and large.count_is_estimate
