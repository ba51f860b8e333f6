"""On a phone: sign up, verify identity with the sandbox provider (its phone page in a second tab), sign the power of
attorney with the certificate, download the PDF and check it on the verification page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import IdentityVerification, PowerOfAttorney, User
from accounts.tests.factories import consent_documents_published

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "my-outage-passphrase-2022"


def _verification_path(mailoutbox) -> str:
    message = next(message for message in reversed(mailoutbox) if "인증" in message.subject)
    return re.search(r"https?://[^/\s]+(/accounts/verify-email/\S+)", message.body).group(1)


def _approve_on_the_sandbox_phone(phone, verification: IdentityVerification) -> None:
    """The second tab plays the phone: the request's page in the sandbox, 승인."""
    phone.goto(f"{phone.live_server_url}/sandbox/identity/{verification.receipt_id}/")
    phone.get_by_test_id("approve").click()
    expect(phone.get_by_test_id("state")).to_have_text("승인")


def _sign_up_with_a_complete_profile(page, mailoutbox) -> None:
    page.goto(page.live_server_url + "/accounts/signup/")
    page.get_by_label("이메일").fill("jihoon.kim@example.com")
    page.get_by_label("생년월일").fill("19850301")
    page.get_by_label("비밀번호*", exact=True).fill(PASSWORD)
    page.get_by_label("비밀번호 확인").fill(PASSWORD)
    page.get_by_role("button", name="가입하기").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("이메일을 인증해 주세요")
    page.goto(page.live_server_url + _verification_path(mailoutbox))  # in the own session: verified at once
    expect(page.get_by_text("이메일 인증을 마쳤습니다.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/profile/"))
    page.get_by_label("성명 (실명)").fill("김지훈")
    page.get_by_label("생년월일").fill("1985-03-01")
    page.get_by_label("휴대전화").fill("010-5555-1234")
    page.get_by_label("우편번호").fill("13487")
    page.get_by_label("주소*", exact=True).fill("경기도 성남시 분당구 판교역로 166")
    page.get_by_role("button", name="저장").click()
    expect(page).to_have_url(re.compile(r"/accounts/consents/"))  # on to the next step


def test_sign_up_verify_identity_sign_with_the_certificate_and_verify_the_pdf(phone_page, mailoutbox):
    consent_documents_published()
    page = phone_page
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    _sign_up_with_a_complete_profile(page, mailoutbox)

    page.goto(page.live_server_url + "/accounts/consents/")
    page.get_by_label("위 내용을 모두 읽었으며 동의합니다 (필수)").check()
    page.get_by_test_id("consents-submit").click()

    # On to signing, the certified signature first (it would finish the identity step too); this claimant checks
    # their identity first (the identity page stays open before signing), its details prefilled from the profile.
    expect(page).to_have_url(re.compile(r"/accounts/power-of-attorney/"))
    expect(page.get_by_test_id("poa-certified-identity")).to_be_visible()
    page.goto(page.live_server_url + "/accounts/identity/")
    expect(page.get_by_test_id("identity-sandbox")).to_contain_text("SANDBOX")
    expect(page.get_by_label("이름 (실명)")).to_have_value("김지훈")
    expect(page.get_by_label("휴대전화")).to_have_value("010-5555-1234")
    page.get_by_label("토스").check()
    page.get_by_test_id("identity-submit").click()
    expect(page.get_by_test_id("identity-wait")).to_be_visible()
    phone = page.context.new_page()
    phone.live_server_url = page.live_server_url
    _approve_on_the_sandbox_phone(phone, IdentityVerification.objects.get(kind="identity"))
    # the waiting page moved on by itself, straight to signing

    # The certified signature of the power of attorney.
    expect(page.get_by_test_id("poa-text")).to_contain_text("김지훈")
    expect(page.get_by_test_id("poa-handwritten-weaker")).to_be_visible()
    expect(page.get_by_test_id("poa-certified-identity")).to_have_count(0)  # signs in the verified app, no choice
    page.get_by_test_id("poa-certified-submit").click()
    expect(page.get_by_test_id("identity-wait")).to_contain_text("소송위임장 전자서명")
    _approve_on_the_sandbox_phone(phone, IdentityVerification.objects.get(kind="signature"))
    expect(page).not_to_have_url(re.compile(r"/accounts/identity/"), timeout=15_000)  # signed: on to the next step
    page.goto(page.live_server_url + "/accounts/power-of-attorney/")
    expect(page.get_by_test_id("poa-signed")).to_be_visible()
    expect(page.get_by_test_id("poa-certified")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_test_id("poa-download").click()
    pdf_path = download_info.value.path()

    page.goto(page.live_server_url + "/accounts/verify-document/")
    page.get_by_label("확인할 소송위임장 PDF").set_input_files(pdf_path)
    page.get_by_test_id("verify-form").get_by_role("button", name="확인하기").click()
    expect(page.get_by_test_id("verify-match")).to_be_visible()
    expect(page.get_by_test_id("verify-certified")).to_contain_text("토스 인증서로")
    expect(page.get_by_test_id("verify-certified")).to_contain_text("SANDBOX")

    assert problems == []
    signed = PowerOfAttorney.objects.get(user=User.objects.get(email="jihoon.kim@example.com"))
    assert signed.signature_method == PowerOfAttorney.SignatureMethod.CERTIFIED
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
