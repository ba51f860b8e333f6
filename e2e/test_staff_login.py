"""Staff reach the admin with email, password and an authenticator code; first-timers enrol their app."""

import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.tests.factories import STAFF_PASSWORD, StaffFactory, staff_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_log_in_to_the_admin_with_a_totp_code(desktop_page):
    staff = StaffFactory(role=Role.LAWYER, totp=True, email="lawyer@lawfirm.example")
    page = desktop_page
    page.goto(page.live_server_url + "/admin/")

    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("이메일").fill("lawyer@lawfirm.example")
    page.get_by_label("비밀번호").fill(STAFF_PASSWORD)
    page.get_by_label("인증 코드").fill(staff_totp_code(staff))
    page.get_by_role("button", name="로그인").click()

    expect(page).to_have_url(page.live_server_url + "/admin/")
    expect(page.locator("#site-name")).to_have_text("카카오 장애 공동소송 관리")
    expect(page.get_by_role("link", name="계정 삭제 요청")).to_be_visible()


def test_a_new_staff_member_enrols_the_authenticator_then_reaches_the_admin(desktop_page):
    StaffFactory(role=Role.PARALEGAL, email="paralegal@lawfirm.example")
    page = desktop_page
    page.goto(page.live_server_url + "/accounts/login/")
    page.get_by_label("이메일").fill("paralegal@lawfirm.example")
    page.get_by_label("비밀번호").fill(STAFF_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="로그인").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("2단계 인증 등록")
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    device = TOTPDevice.objects.get(user__email="paralegal@lawfirm.example", confirmed=False)
    assert secret.replace(" ", "") in device.config_url
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("인증 코드 6자리").fill(f"{code:06d}")
    page.get_by_role("button", name="확인하고 등록").click()

    expect(page).to_have_url(page.live_server_url + "/admin/")
    expect(page.locator("#site-name")).to_have_text("카카오 장애 공동소송 관리")
    assert TOTPDevice.objects.get(user__email="paralegal@lawfirm.example").confirmed
