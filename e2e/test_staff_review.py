"""Staff review in a real browser: a paralegal filters the claim list, opens a claim, previews its evidence (PDFs
as page images), starts the review and asks for more information; the claimant answers; a lawyer accepts; the
timeline shows it all."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import expect

from accounts.roles import Role
from claims.models import Claim, InformationRequest
from claims.services import intake
from claims.services.evidence import evidence_attach
from claims.tests.factories import (
    ClaimFactory,
    LossItemFactory,
    claimant_ready,
    pdf_bytes,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import admin_login, staff_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_to_admin(page, user) -> None:
    """The session a correct password and authenticator code would give, copied into the browser."""
    client = admin_login(Client(), user)
    page.context.clear_cookies()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": page.live_server_url}])


def submitted_claim(*, claimant_type: str, with_proof: bool) -> Claim:
    claimant = claimant_ready()
    claim = ClaimFactory(claimant=claimant, claimant_type=claimant_type)
    claim.services.set([service_by_slug("kakao-t")])
    item = LossItemFactory(claim=claim)
    if with_proof:
        picture = SimpleUploadedFile("카카오T 오류 화면.png", png_bytes(size=(320, 200)), content_type="image/png")
        evidence_attach(claim=claim, actor=claimant, upload=picture, tag="proof_of_use", loss_item=item)
        receipt = SimpleUploadedFile("대체 교통 영수증.pdf", pdf_bytes(), content_type="application/pdf")
        evidence_attach(claim=claim, actor=claimant, upload=receipt, tag="receipt", loss_item=item)
    return intake.claim_submit(claim=claim, actor=claimant)


def test_paralegal_requests_information_claimant_answers_lawyer_accepts(desktop_page):
    page = desktop_page
    claim = submitted_claim(claimant_type=Claim.ClaimantType.INDIVIDUAL, with_proof=True)
    other = submitted_claim(claimant_type=Claim.ClaimantType.INDIVIDUAL, with_proof=False)
    paralegal = staff_member(Role.PARALEGAL, legal_name="이사무")
    lawyer = staff_member(Role.LAWYER, legal_name="김변호")

    sign_in_to_admin(page, paralegal)
    page.goto(page.live_server_url + "/admin/claims/claim/")
    results = page.locator("#result_list")
    expect(results).to_contain_text(claim.reference_code)
    expect(results).to_contain_text(other.reference_code)
    proof_filter = page.locator("#changelist-filter details").filter(has_text="이용 증빙")
    proof_filter.get_by_role("link", name="있음", exact=True).click()
    expect(results).to_contain_text(claim.reference_code)
    expect(results).not_to_contain_text(other.reference_code)

    results.get_by_role("link", name=claim.reference_code).click()
    expect(page.get_by_test_id("claim-status")).to_have_text("접수됨")
    expect(page.get_by_test_id("claimant")).to_contain_text(claim.claimant.legal_name)
    picture = page.get_by_role("img", name="증빙 사진: 카카오T 오류 화면.png")
    expect(picture).to_be_visible()
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=picture.element_handle())
    assert picture.evaluate("image => image.naturalWidth") == 320  # the picture itself arrived
    # The PDF as its first page drawn on the server (the upload queued the preview task); never in a viewer.
    pdf_page = page.get_by_role("img", name="증빙 PDF 대체 교통 영수증.pdf, 1쪽")
    pdf_page.scroll_into_view_if_needed()
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=pdf_page.element_handle())
    assert page.locator("iframe, embed, object").count() == 0

    page.get_by_test_id("submit-start_review").click()
    expect(page.get_by_text("검토를 시작했습니다.")).to_be_visible()
    expect(page.get_by_test_id("claim-status")).to_have_text("검토 중")

    page.get_by_test_id("open-request_information").click()
    page.get_by_label("신청인에게 보낼 요청 내용").fill("장애가 난 시간에 카카오T를 쓰던 화면을 한 장 더 올려 주세요.")
    page.get_by_label("영수증·지출 증빙").check()
    page.get_by_test_id("submit-request_information").click()
    expect(page.get_by_text("추가 자료를 요청했습니다.")).to_be_visible()
    expect(page.get_by_test_id("claim-status")).to_have_text("추가 자료 요청")
    expect(page.get_by_test_id("review-actions")).not_to_contain_text("승인")  # paralegals do not decide

    request = InformationRequest.objects.get(claim=claim)
    assert request.items == ["영수증·지출 증빙"]
    answer = "택시 호출 실패 화면을 찾지 못해 영수증으로 대신합니다."
    intake.information_request_answer(information_request=request, actor=claim.claimant, answer=answer)

    sign_in_to_admin(page, lawyer)
    page.goto(page.live_server_url + f"/admin/claims/claim/{claim.pk}/change/")
    expect(page.get_by_test_id("claim-status")).to_have_text("검토 중")
    page.get_by_test_id("open-accept").click()
    page.get_by_label("신청인에게 보낼 메시지 (선택)").fill("공동소송 참여가 확정되었습니다.")
    page.get_by_test_id("submit-accept").click()
    expect(page.get_by_text("승인했습니다.")).to_be_visible()
    expect(page.get_by_test_id("claim-status")).to_have_text("승인")

    timeline = page.get_by_test_id("timeline")
    for kind in ("제출", "검토 시작", "추가 자료 요청", "추가 자료 제출", "승인"):
        expect(timeline).to_contain_text(kind)
    expect(timeline).to_contain_text("이사무")
    expect(timeline).to_contain_text("김변호")
    expect(timeline).to_contain_text("공동소송 참여가 확정되었습니다.")
    claim.refresh_from_db()
    assert (claim.status, claim.reviewer) == (Claim.Status.ACCEPTED, paralegal)
