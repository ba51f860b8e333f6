"""A claimant on a phone signs up, verifies the email from the link we sent, logs in and fills the profile."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import ClaimantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "my-outage-passphrase-2022"


def _verification_path(mailoutbox) -> str:
    message = next(message for message in reversed(mailoutbox) if "인증" in message.subject)
    return re.search(r"https?://[^/\s]+(/accounts/verify-email/\S+)", message.body).group(1)


def test_sign_up_verify_log_in_and_fill_the_profile_on_a_phone(phone_page, mailoutbox):
    page = phone_page
    page.goto(page.live_server_url + "/")
    page.get_by_test_id("nav-signup").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("회원가입")

    page.get_by_label("이메일").fill("Seoyeon.Park@Example.com")
    page.get_by_label("생년월일").fill("19880415")
    page.get_by_label("비밀번호*", exact=True).fill(PASSWORD)
    page.get_by_label("비밀번호 확인").fill(PASSWORD)
    page.get_by_role("button", name="가입하기").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("이메일을 인증해 주세요")
    expect(page.get_by_text("seoyeon.park@example.com")).to_be_visible()
    path = _verification_path(mailoutbox)

    # Open the link later, logged out (as on another device), then log in.
    page.get_by_test_id("nav-logout").click()
    expect(page.get_by_test_id("nav-login")).to_be_visible()
    page.goto(page.live_server_url + path)
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verify-done")).to_have_text("이메일 인증을 마쳤습니다")
    assert User.objects.get().is_email_verified

    page.get_by_role("main").get_by_role("link", name="로그인").click()
    page.get_by_label("이메일").fill("seoyeon.park@example.com")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="로그인").click()
    page.get_by_test_id("nav-account").click()
    expect(page.get_by_test_id("account-title")).to_have_text("내 계정")
    page.get_by_role("link", name="프로필 수정").click()

    expect(page.get_by_role("main").get_by_role("note")).to_contain_text("주민등록번호는 받지 않습니다")
    page.get_by_label("성명 (실명)").fill("박서연")
    page.get_by_label("생년월일").fill("1988-04-15")
    page.get_by_label("휴대전화").fill("02-123-4567")
    page.get_by_label("우편번호").fill("13487")
    page.get_by_label("주소*", exact=True).fill("경기도 성남시 분당구 판교역로 166")
    page.get_by_label("상세주소").fill("101동 1001호")
    page.get_by_role("button", name="저장").click()

    expect(page.get_by_text("010-1234-5678 또는 01012345678 형식")).to_be_visible()
    expect(page.get_by_label("휴대전화")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("성명 (실명)")).to_have_value("박서연")
    expect(page.get_by_label("주소*", exact=True)).to_have_value("경기도 성남시 분당구 판교역로 166")
    expect(page.get_by_label("상세주소")).to_have_value("101동 1001호")
    expect(page.get_by_label("우편번호")).to_have_value("13487")

    page.get_by_label("휴대전화").fill("010 2345 6789")
    page.get_by_role("button", name="저장").click()

    expect(page.get_by_text("프로필을 저장했습니다.")).to_be_visible()  # and on to the next step, the consents
    page.get_by_test_id("nav-account").click()
    expect(page.get_by_test_id("account-title")).to_have_text("내 계정")
    expect(page.get_by_test_id("account-name")).to_have_text("박서연")
    expect(page.get_by_test_id("account-phone")).to_have_text("010-2345-6789")
    assert User.objects.get().phone == "01023456789"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone


def test_an_under_14_is_told_why_they_cannot_sign_up_alone(phone_page):
    page = phone_page
    page.goto(page.live_server_url + "/accounts/signup/")
    page.get_by_label("이메일").fill("child@example.com")
    page.get_by_label("생년월일").fill("2020-01-01")
    page.get_by_label("비밀번호*", exact=True).fill(PASSWORD)
    page.get_by_label("비밀번호 확인").fill(PASSWORD)
    page.get_by_role("button", name="가입하기").click()

    expect(page.get_by_text(re.compile("만 14세 미만은 혼자 가입할 수 없습니다"))).to_be_visible()
    expect(page.get_by_label("이메일")).to_have_value("child@example.com")
    assert not User.objects.exists()


def test_a_claimant_who_switches_to_english_gets_the_site_in_english_on_another_phone(phone_page, chromium):
    user = ClaimantFactory(email="jane@example.com", password=PASSWORD)
    page = phone_page
    page.goto(page.live_server_url + "/accounts/login/")
    page.get_by_label("이메일").fill("jane@example.com")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="로그인").click()
    page.get_by_label("언어").select_option("en")
    page.get_by_test_id("language-submit").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    user.refresh_from_db()
    assert user.language == "en"

    other = chromium.new_context(viewport=page.viewport_size, locale="ko-KR", is_mobile=True, has_touch=True)
    try:
        second = other.new_page()
        second.goto(page.live_server_url + "/accounts/login/")
        expect(second.locator("html")).to_have_attribute("lang", "ko")  # a Korean phone, signed out
        second.get_by_label("이메일").fill("jane@example.com")
        second.get_by_label("비밀번호").fill(PASSWORD)
        second.get_by_role("main").get_by_role("button", name="로그인").click()
        expect(second.locator("html")).to_have_attribute("lang", "en")
    finally:
        other.close()
