"""A claimant on a phone (360 px) files a business claim from eligibility to reference code, then answers staff's
request for more information."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from claims.models import Claim, ClaimEvent, Evidence, InformationRequest, LossItem
from claims.tests.factories import claimant_ready, default_incident, pdf_bytes, png_bytes, service_by_slug
from conftest import PHONE_VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXECUTABLE = b"MZ\x90\x00" + b"\0" * 60 + b"PE\0\0" + b"\0" * 100


def log_in(page, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": page.live_server_url}])


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def save_and_next(page) -> None:
    page.get_by_role("button", name="저장하고 다음").click()


def test_phone_claimant_files_a_business_claim_and_answers_an_information_request(phone_page):
    page = phone_page
    user = claimant_ready(email="salon@example.com")
    log_in(page, user)

    # 1. Eligibility: the public check, carried into the new claim.
    page.goto(page.live_server_url + "/claims/check/")
    expect(page.get_by_role("heading", level=1)).to_have_text("참여할 수 있는지 확인하기")
    assert fits_the_screen(page)
    page.get_by_role("checkbox", name=re.compile(r"^카카오T")).check()
    page.get_by_role("checkbox", name=re.compile(r"^카카오톡 채널")).check()
    page.get_by_label("예, 이용하고 있었습니다").check()
    page.get_by_role("button", name="확인하기").click()
    expect(
        page.get_by_text("가입 전에 답하신 내용으로 신청서를 만들었습니다")
    ).to_be_visible()  # carried, not asked again

    # 2. Who you are: a sole proprietor; a wrong business number is caught, the rest is kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("누구로 신청하시나요?")
    business = page.locator("[data-business-fields]")
    expect(business).to_be_hidden()
    page.get_by_label(re.compile("^개인사업자")).check()
    expect(business).to_be_visible()
    page.get_by_label("사업자등록번호").fill("220-81-62518")
    page.get_by_label("상호 (가게·회사 이름)").fill("하늘 미용실")
    page.get_by_label("업종").fill("미용실")
    save_and_next(page)
    expect(page.get_by_text("사업자등록번호가 올바르지 않습니다")).to_be_visible()
    expect(page.get_by_label("상호 (가게·회사 이름)")).to_have_value("하늘 미용실")
    page.get_by_label("사업자등록번호").fill("220-81-62517")
    save_and_next(page)

    # 3. Losses: two items on Kakao T, one on Talk Channel, each beside the service's own window.
    expect(page.get_by_role("heading", level=1)).to_have_text("어떤 손해를 입으셨나요?")
    page.get_by_test_id("edit-losses-kakao-t").click()
    expect(page.get_by_test_id("service-window")).to_contain_text("2022-10-16 14:00")
    page.locator('[name="form-0-kind"]').select_option("subscription")
    expect(page.locator('[name="form-0-comparison_revenue"]')).to_be_hidden()
    page.locator('[name="form-0-monthly_fee"]').fill("39,000")
    page.locator('[name="form-0-description"]').fill("카카오T 프로 멤버십, 장애 동안 호출을 받지 못했습니다.")
    page.get_by_role("button", name="저장하고 항목 하나 더 추가").click()
    page.locator('[name="form-1-kind"]').select_option("expense")
    page.locator('[name="form-1-amount"]').fill("25,000")
    page.locator('[name="form-1-description"]').fill("다른 호출 앱 가입비와 수수료")
    page.locator('[name="form-1-affected_hours"]').fill("12")
    page.get_by_role("button", name="저장하고 서비스 목록으로").click()
    page.get_by_test_id("edit-losses-talk-channel").click()
    page.locator('[name="form-0-kind"]').select_option("business_revenue")
    page.locator('[name="form-0-comparison_revenue"]').fill("1,850,000")
    page.locator('[name="form-0-outage_revenue"]').fill("620,000")
    page.locator('[name="form-0-description"]').fill("톡채널 예약이 사흘 동안 끊겼습니다.")
    assert fits_the_screen(page)
    page.get_by_role("button", name="저장하고 서비스 목록으로").click()
    expect(page.get_by_test_id("claimed-total")).to_have_text("1,294,000원")
    page.get_by_label("카카오에서 이미 받은 보상 (원)").fill("30,000")
    save_and_next(page)

    # 4. Evidence: each file its own request with progress; a renamed program is refused, the others are kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("증빙 자료")
    expect(page.get_by_test_id("proof-of-use-note")).to_contain_text("가장 중요한 자료")
    page.get_by_label("이 파일이 보여 주는 것").select_option("proof_of_use")
    # The upload script makes the input take several files at once; wait for it before choosing two.
    expect(page.get_by_label("파일", exact=True)).to_have_attribute("multiple", "")
    page.get_by_label("파일", exact=True).set_input_files(
        [
            {"name": "호출없음.png", "mimeType": "image/png", "buffer": png_bytes()},
            {"name": "setup.jpg", "mimeType": "image/jpeg", "buffer": EXECUTABLE},
        ]
    )
    page.get_by_role("button", name="올리기").click()
    expect(page.get_by_test_id("evidence-row")).to_have_count(1)
    expect(page.get_by_test_id("upload-queue")).to_contain_text("PDF 파일만 올릴 수 있습니다")
    page.get_by_label("이 파일이 보여 주는 것").select_option("revenue_records")
    page.get_by_label("관련 손해 항목").select_option(label="카카오톡 채널 (톡채널) · 영업 매출 손실")
    page.get_by_label("파일", exact=True).set_input_files(
        {"name": "매출비교.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    page.get_by_role("button", name="올리기").click()
    expect(page.get_by_test_id("evidence-row")).to_have_count(2)
    page.get_by_role("button", name="다음: 확인하고 제출").click()

    # 5. Review and submit.
    expect(page.get_by_role("heading", level=1)).to_have_text("확인하고 제출하기")
    expect(page.get_by_test_id("missing-proof-of-use")).to_have_count(0)
    expect(page.get_by_test_id("loss-items").locator("li")).to_have_count(4)  # three items and the total
    expect(page.get_by_test_id("review-evidence").locator("[data-evidence-row]")).to_have_count(2)
    assert fits_the_screen(page)
    page.get_by_role("button", name="제출하기").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("참여 신청이 접수되었습니다")
    claim = Claim.objects.get(claimant=user)
    expect(page.get_by_test_id("reference-code")).to_have_text(claim.reference_code)
    assert claim.status == Claim.Status.SUBMITTED
    assert claim.business_registration_number == "2208162517" and claim.already_compensated == 30_000
    assert LossItem.objects.filter(claim=claim).count() == 3
    assert set(Evidence.objects.filter(claim=claim).values_list("tag", flat=True)) == {
        "proof_of_use",
        "revenue_records",
    }

    # Staff ask for more (as the review side does), and the claimant answers from the portal.
    staff = UserFactory(is_staff=True)
    InformationRequest.objects.create(
        claim=claim,
        requested_by=staff,
        message="10월 8일~14일 카드 매출 내역을 올려 주세요.",
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.INFO_REQUESTED)
    ClaimEvent.objects.create(claim=claim, actor=staff, kind=ClaimEvent.Kind.INFO_REQUESTED)
    page.get_by_role("link", name="내 신청 보기").click()
    expect(page.get_by_test_id("claim-status")).to_have_text("추가 자료 요청")
    page.get_by_role("link", name="답변하기").click()
    expect(page.get_by_test_id("request-message")).to_contain_text("카드 매출 내역")
    page.get_by_label("이 파일이 보여 주는 것").select_option("revenue_records")
    page.get_by_label("파일", exact=True).set_input_files(
        {"name": "카드매출.png", "mimeType": "image/png", "buffer": png_bytes(color=(20, 90, 200))}
    )
    page.get_by_role("button", name="올리기").click()
    expect(page.get_by_test_id("evidence-row")).to_have_count(1)
    page.get_by_label("답변").fill("10월 8일~14일 카드 매출 내역을 올렸습니다.")
    page.get_by_role("button", name="답변 보내기").click()
    expect(page.get_by_test_id("claim-status")).to_have_text("검토 중")
    expect(page.get_by_test_id("timeline")).to_contain_text("추가 자료 제출")
    assert InformationRequest.objects.get(claim=claim).answered_at is not None


def test_a_half_typed_loss_item_survives_a_reload_and_a_browser_restart_until_saved(phone_page, chromium):
    page = phone_page
    user = claimant_ready()
    claim = Claim.objects.create(claimant=user, incident=default_incident(), wizard_step="losses")
    # two services, so that saving goes back to the services' list (a one-service claim has its losses on one screen)
    claim.services.set([service_by_slug("kakao-t"), service_by_slug("talk-channel")])
    log_in(page, user)
    url = page.live_server_url + f"/claims/{claim.pk}/wizard/losses/kakao-t/"
    page.goto(url)
    page.locator('[name="form-0-kind"]').select_option("expense")
    page.locator('[name="form-0-amount"]').fill("25,000")
    page.locator('[name="form-0-description"]').fill("다른 호출 앱 가입비")

    page.reload()
    expect(page.locator('[name="form-0-kind"]')).to_have_value("expense")
    expect(page.locator('[name="form-0-amount"]')).to_be_visible()  # the fields of the restored kind are shown
    expect(page.locator('[name="form-0-amount"]')).to_have_value("25,000")
    expect(page.locator('[name="form-0-description"]')).to_have_value("다른 호출 앱 가입비")
    expect(page.get_by_text("입력하던 내용을 이 기기에서 다시 불러왔습니다")).to_be_visible()

    # The browser restarts: a new context from what the old one kept on disk (cookies and localStorage).
    kept = page.context.storage_state()
    restarted = chromium.new_context(
        storage_state=kept, viewport=PHONE_VIEWPORT, locale="ko-KR", is_mobile=True, has_touch=True
    )
    again = restarted.new_page()
    again.goto(url)
    expect(again.locator('[name="form-0-description"]')).to_have_value("다른 호출 앱 가입비")
    again.locator('[name="form-0-affected_hours"]').fill("12")
    again.get_by_role("button", name="저장하고 서비스 목록으로").click()
    expect(again.get_by_role("heading", level=1)).to_have_text("어떤 손해를 입으셨나요?")
    item = LossItem.objects.get(claim=claim)
    assert (item.kind, item.amount, item.description) == ("expense", 25_000, "다른 호출 앱 가입비")
    # Saved: the draft is gone, so the page shows what the server holds.
    assert again.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('loss-draft:'))") == []
    again.goto(url)
    expect(again.get_by_text("입력하던 내용을 이 기기에서 다시 불러왔습니다")).to_be_hidden()
    restarted.close()
