"""The admin needs a verified authenticator code; staff enrol their app on a page outside the admin."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from accounts.services import two_factor
from accounts.tests.factories import STAFF_PASSWORD, ClaimantFactory, StaffFactory, staff_totp_code

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += offset * device.step
    return f"{totp.token():06d}"


def admin_login(client, user, **overrides):
    data = {"username": user.email, "password": STAFF_PASSWORD, "otp_token": "", **overrides}
    return client.post(reverse("admin:login"), data)


def test_staff_logged_in_without_a_code_are_sent_to_the_admin_login_that_asks_for_one(client):
    staff = StaffFactory(totp=True)
    client.force_login(staff)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    login_page = client.get(response["Location"]).content.decode()
    assert 'name="otp_token"' in login_page
    assert "인증 앱의 6자리 코드" in login_page


def test_email_password_and_the_current_code_open_the_admin(client):
    staff = StaffFactory(email="Kim@LawFirm.example", totp=True)

    response = admin_login(client, staff, username="KIM@lawfirm.example", otp_token=staff_totp_code(staff))

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(staff.pk)
    assert DEVICE_ID_SESSION_KEY in client.session
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "카카오 장애 공동소송 관리" in index.content.decode()


def test_a_wrong_or_missing_code_keeps_the_admin_closed(client):
    staff = StaffFactory(totp=True)
    device = TOTPDevice.objects.get(user=staff)

    missing = admin_login(client, staff)
    assert missing.status_code == 200
    assert "6자리 코드를 입력해 주세요" in missing.content.decode()

    wrong = admin_login(client, staff, otp_token=code_for(device, offset=10))
    assert wrong.status_code == 200
    assert "인증 코드가 맞지 않습니다" in wrong.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_without_an_authenticator_are_told_to_enrol_first(client):
    staff = StaffFactory()
    response = admin_login(client, staff, otp_token="123456")
    html = response.content.decode()
    assert "아직 인증 앱을 등록하지 않았습니다" in html
    assert reverse("accounts:staff_two_factor") in html


def test_a_claimant_cannot_reach_the_admin(client):
    claimant = ClaimantFactory()
    client.force_login(claimant)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("admin:login"))
    assert "이 계정으로는 관리 화면을 쓸 수 없습니다" in client.get(response["Location"]).content.decode()
    login = admin_login(client, claimant, password="correct-horse-battery-staple", otp_token="123456")
    assert login.status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_the_enrolment_page_is_for_logged_in_staff_only(client):
    assert client.get(reverse("accounts:staff_two_factor"))["Location"].startswith(reverse("accounts:login"))
    client.force_login(ClaimantFactory())
    assert client.get(reverse("accounts:staff_two_factor")).status_code == 403


def test_staff_enrol_with_an_inline_qr_code_and_a_first_code_then_reach_the_admin(client):
    staff = StaffFactory(role=Role.VIEWER)
    client.force_login(staff)

    page = client.get(reverse("accounts:staff_two_factor"))
    html = page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    assert "<svg" in html and "<img" not in html.split('data-testid="totp-qr"')[1].split("</figure>")[0]
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert secret == two_factor.totp_secret_text(device)
    assert client.get(reverse("accounts:staff_two_factor")).status_code == 200
    assert TOTPDevice.objects.filter(user=staff).count() == 1  # reloading keeps the same secret

    wrong = client.post(reverse("accounts:staff_two_factor"), {"token": code_for(device, offset=10)})
    assert "인증 코드가 맞지 않습니다" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1

    device.throttling_failure_timestamp = None
    device.save()
    done = client.post(reverse("accounts:staff_two_factor"), {"token": code_for(device)})
    assert done["Location"] == reverse("admin:index")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:index")).status_code == 200


def test_an_enrolled_authenticator_cannot_be_replaced_from_the_enrolment_page(client):
    staff = StaffFactory(totp=True)
    client.force_login(staff)
    html = client.get(reverse("accounts:staff_two_factor")).content.decode()
    assert "이미 등록되어 있습니다" in html
    assert 'data-testid="totp-secret"' not in html
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_the_qr_code_encodes_the_otpauth_uri_with_the_issuer():
    staff = StaffFactory()
    device = two_factor.totp_device_enrolment(user=staff)
    assert device.config_url.startswith("otpauth://totp/Kakao%20outage%20claims%3A")
    svg = two_factor.totp_qr_svg(device)
    assert svg.startswith("<svg") and "<title>" in svg


def test_admin_logins_are_rate_limited_per_address(client):
    staff = StaffFactory(totp=True)
    for number in range(30):
        assert admin_login(client, staff, username=f"guess{number}@lawfirm.example").status_code == 200
    response = admin_login(client, staff, otp_token=staff_totp_code(staff))
    assert response.status_code == 429
    assert "요청이 너무 많습니다" in response.content.decode()
