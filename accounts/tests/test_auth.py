"""Sign-up, email verification, login lockout, rate limits, password reset, logout and the staff redirect."""

import datetime as dt
import re
import time
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import auth as auth_services
from accounts.tests.factories import STAFF_PASSWORD, ClaimantFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def signup_data(**overrides) -> dict:
    return {
        "email": "New.Person@Example.com",
        "date_of_birth": "1985-03-02",
        "password1": "a-long-Korean-passphrase-2022",
        "password2": "a-long-Korean-passphrase-2022",
        **overrides,
    }


def link_path(message) -> str:
    url = re.search(r"https?://\S+", message.body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


def sign_up(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:signup"), signup_data(**overrides))


def test_signup_creates_an_active_unverified_account_logs_in_and_emails_a_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = sign_up(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:verify_email_sent")
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert user.is_active and not user.is_email_verified
    assert user.date_of_birth == dt.date(1985, 3, 2)
    assert user.signup_ip == "127.0.0.1"
    assert user.check_password("a-long-Korean-passphrase-2022")
    assert user.password.startswith("md5$")  # hashed (Argon2 outside tests)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@example.com"]
    assert "인증" in mailoutbox[0].subject
    assert link_path(mailoutbox[0]).startswith("/accounts/verify-email/")


def test_the_verification_link_opened_in_the_own_session_verifies_and_goes_on_to_the_next_step(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)

    response = client.get(link_path(mailoutbox[0]))

    assert User.objects.get().is_email_verified
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")  # the next unfinished step, not the account page
    assert client.get(reverse("accounts:verify_email_sent"))["Location"] == reverse("accounts:profile")


def test_the_verification_link_asks_for_a_click_then_works_once(client, mailoutbox, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    path = link_path(mailoutbox[0])
    client.logout()  # opened elsewhere (another device, a mail scanner): the GET only shows the button

    page = client.get(path)
    assert page.status_code == 200
    assert "이메일 인증하기" in page.content.decode()
    assert not User.objects.get().is_email_verified  # opening the link (or a mail scanner doing so) is not enough

    done = client.post(path)
    assert done.status_code == 200
    assert "이메일 인증을 마쳤습니다" in done.content.decode()
    assert User.objects.get().is_email_verified

    again = client.post(path)
    assert again.status_code == 400
    assert "한 번만" in again.content.decode()


def test_the_verification_link_expires_after_three_days(client):
    user = UserFactory()
    four_days_ago = time.time() - 4 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=four_days_ago):
        token = auth_services.email_verification_token(user=user)

    response = client.post(reverse("accounts:verify_email", args=[token]))

    assert response.status_code == 400
    assert "유효 기간" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_email_verified


def test_a_tampered_verification_link_is_refused(client):
    token = auth_services.email_verification_token(user=UserFactory())
    response = client.post(reverse("accounts:verify_email", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    assert "올바르지 않은 인증 링크" in response.content.decode()


def test_under_14_cannot_sign_up_and_is_told_why_keeping_what_was_typed(client, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    thirteen = today.replace(year=today.year - 13, day=min(today.day, 28)).isoformat()

    response = sign_up(client, django_capture_on_commit_callbacks, date_of_birth=thirteen)

    assert response.status_code == 200
    html = response.content.decode()
    assert "만 14세 미만은 혼자 가입할 수 없습니다" in html
    assert "개인정보 보호법 제22조의2" in html
    assert "법정대리인" in html
    assert 'value="New.Person@Example.com"' in html
    assert f'value="{thirteen}"' in html
    assert not User.objects.exists()


def test_an_email_already_registered_is_refused_whatever_its_case(client, django_capture_on_commit_callbacks):
    UserFactory(email="new.person@example.com")
    response = sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "이미 가입된 이메일입니다" in response.content.decode()
    assert User.objects.count() == 1


def test_mismatched_passwords_are_refused_keeping_email_and_date_of_birth(client, django_capture_on_commit_callbacks):
    response = sign_up(client, django_capture_on_commit_callbacks, password2="something-else-2022")
    html = response.content.decode()
    assert "두 비밀번호가 서로 다릅니다" in html
    assert 'value="New.Person@Example.com"' in html
    assert 'value="1985-03-02"' in html


def test_a_too_short_password_is_reported_even_when_the_confirmation_differs(
    client, django_capture_on_commit_callbacks
):
    response = sign_up(client, django_capture_on_commit_callbacks, password1="short1", password2="short2")
    html = response.content.decode()
    assert response.status_code == 200
    assert "두 비밀번호가 서로 다릅니다" in html
    assert "비밀번호는 너무 짧습니다" in html
    assert not User.objects.exists()


def test_a_too_short_password_typed_twice_is_refused_as_too_short(client, django_capture_on_commit_callbacks):
    response = sign_up(client, django_capture_on_commit_callbacks, password1="short1", password2="short1")
    html = response.content.decode()
    assert "비밀번호는 너무 짧습니다" in html and "두 비밀번호가 서로 다릅니다" not in html
    assert not User.objects.exists()


def test_resending_the_verification_email_sends_a_fresh_link(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:verify_email_resend"))
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    client.post(link_path(mailoutbox[0]))
    user.refresh_from_db()
    assert user.is_email_verified


def test_login_ignores_email_case_and_returns_to_next(client):
    user = ClaimantFactory(email="kim@example.com")
    response = client.post(
        reverse("accounts:login"), {"username": " KIM@Example.com ", "password": PASSWORD, "next": "/accounts/profile/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_keeps_the_email_on_a_wrong_password(client):
    ClaimantFactory(email="kim@example.com")
    response = client.post(reverse("accounts:login"), {"username": "kim@example.com", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "이메일 또는 비밀번호가 맞지 않습니다" in html
    assert 'value="kim@example.com"' in html


def test_five_wrong_passwords_lock_that_email_from_that_address_for_30_minutes(client):
    ClaimantFactory(email="kim@example.com")
    other = ClaimantFactory(email="lee@example.com")
    url = reverse("accounts:login")
    for _ in range(4):
        assert client.post(url, {"username": "kim@example.com", "password": "wrong"}).status_code == 200

    fifth = client.post(url, {"username": "kim@example.com", "password": "wrong"})
    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert "잠시 로그인할 수 없습니다" in html
    assert "30분 뒤에 다시 시도해 주세요" in html

    right_password = client.post(url, {"username": "kim@example.com", "password": PASSWORD})
    assert right_password.status_code == 429
    assert SESSION_KEY not in client.session

    other_account = client.post(url, {"username": "lee@example.com", "password": PASSWORD})
    assert other_account.status_code == 302
    assert client.session[SESSION_KEY] == str(other.pk)


def test_the_lockout_lifts_after_the_cool_off(client):
    ClaimantFactory(email="kim@example.com")
    url = reverse("accounts:login")
    for _ in range(5):
        client.post(url, {"username": "kim@example.com", "password": "wrong"})
    assert client.post(url, {"username": "kim@example.com", "password": PASSWORD}).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=31))  # half an hour passes
    response = client.post(url, {"username": "kim@example.com", "password": PASSWORD})
    assert response.status_code == 302


def test_signup_is_rate_limited_per_address_with_a_korean_429_page(client):
    url = reverse("accounts:signup")
    for number in range(20):
        response = client.post(url, signup_data(email=f"person{number}@example.com", password2="mismatch"))
        assert response.status_code == 200

    response = client.post(url, signup_data(email="person20@example.com"))

    assert response.status_code == 429
    assert "요청이 너무 많습니다" in response.content.decode()
    assert not User.objects.exists()


def test_password_reset_mails_a_link_that_sets_a_new_password(client, mailoutbox, django_capture_on_commit_callbacks):
    user = ClaimantFactory(email="kim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "KIM@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["kim@example.com"]

    form_page = client.get(link_path(mailoutbox[0]), follow=True)
    assert "새 비밀번호 정하기" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": "brand-new-pass-2024", "new_password2": "brand-new-pass-2024"}
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-2024")


def test_password_reset_for_an_unknown_email_looks_the_same_but_sends_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_password_reset_is_rate_limited_per_email(client):
    url = reverse("accounts:password_reset")
    for _ in range(3):
        assert client.post(url, {"email": "kim@example.com"}).status_code == 302
    assert client.post(url, {"email": "Kim@Example.com"}).status_code == 429


def test_logout_needs_a_post(client):
    client.force_login(ClaimantFactory())
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert SESSION_KEY not in client.session


def test_password_change_keeps_the_session(client):
    user = ClaimantFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "brand-new-pass-2024", "new_password2": "brand-new-pass-2024"},
    )
    assert response["Location"] == reverse("accounts:account")
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-2024")
    assert client.get(reverse("accounts:account")).status_code == 200


def test_staff_without_an_authenticator_are_sent_to_enrol_after_logging_in(client):
    staff = StaffFactory(email="paralegal@lawfirm.example")
    response = client.post(reverse("accounts:login"), {"username": staff.email, "password": STAFF_PASSWORD})
    assert response["Location"] == reverse("accounts:staff_two_factor")


def test_staff_with_an_authenticator_are_sent_to_the_admin_after_logging_in(client):
    staff = StaffFactory(totp=True)
    response = client.post(reverse("accounts:login"), {"username": staff.email, "password": STAFF_PASSWORD})
    assert response["Location"] == reverse("admin:index")


def test_the_navigation_offers_login_and_sign_up_or_account_and_a_logout_form(client):
    html = client.get(reverse("home")).content.decode()
    assert reverse("accounts:login") in html and reverse("accounts:signup") in html
    client.force_login(ClaimantFactory())
    html = client.get(reverse("home")).content.decode()
    assert reverse("accounts:account") in html
    assert f'action="{reverse("accounts:logout")}" method="post"' in html
