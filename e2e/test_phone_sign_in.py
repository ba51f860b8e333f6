"""A claimant on a phone verifies their number with the code sent by SMS, chooses SMS/알림톡 for case news, signs
out and signs in again with the phone and a new code instead of the password. The live server runs in this process
with the in-memory SMS backend, so the codes are read from its outbox (the `message_outbox` fixture)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import ClaimantFactory
from notifications.models import ContactPreference
from notifications.tests.factories import message_templates_published

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _templates():
    message_templates_published()


PASSWORD = "my-outage-passphrase-2022"


def _last_code(message_outbox) -> str:
    return re.search(r"인증번호 (\d{6})", message_outbox[-1].text).group(1)


def test_verify_the_phone_then_sign_in_with_it_on_a_phone(phone_page, message_outbox):
    claimant = ClaimantFactory(email="minji@example.com", password=PASSWORD, phone="01023456789")
    page = phone_page
    page.goto(page.live_server_url + "/accounts/login/")
    page.get_by_label("이메일").fill("minji@example.com")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="로그인").click()

    page.goto(page.live_server_url + "/accounts/")
    page.get_by_role("link", name="휴대전화 인증").click()
    page.get_by_test_id("phone-code-send").click()
    expect(page.get_by_text("인증번호를 문자로 보냈습니다")).to_be_visible()
    page.get_by_label("인증번호").fill(_last_code(message_outbox))
    page.get_by_role("button", name="인증하기").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("알림 설정")
    page.get_by_label("문자·알림톡").check()
    page.get_by_role("button", name="저장").click()
    expect(page.get_by_text("알림 설정을 저장했습니다.")).to_be_visible()
    assert User.objects.get(pk=claimant.pk).phone_verified_at is not None
    assert ContactPreference.objects.get(user=claimant).case_news == "phone"

    page.get_by_test_id("nav-logout").click()
    page.get_by_test_id("nav-login").click()
    page.get_by_test_id("phone-login-link").click()
    page.get_by_label("휴대전화").fill("010-2345-6789")
    page.get_by_role("button", name="인증번호 받기").click()
    expect(page.get_by_test_id("phone-login-sent")).to_contain_text("010-2345-6789")
    page.get_by_label("인증번호").fill(_last_code(message_outbox))
    page.get_by_role("main").get_by_role("button", name="로그인").click()

    page.get_by_test_id("nav-account").click()
    expect(page.get_by_test_id("account-title")).to_have_text("내 계정")
    expect(page.get_by_test_id("account-phone")).to_have_text("010-2345-6789")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
