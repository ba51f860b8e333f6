"""The account's language: taken from the page at sign-up, changed by the language switch and by a choice made on
the device someone signs in from, applied when they sign in elsewhere, and used for every email they get."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import DeletionRequest, User
from accounts.roles import Role
from accounts.services import auth as auth_services
from accounts.services import data_rights
from accounts.services.consents import consent_accept
from accounts.tests.factories import ClaimantFactory, StaffFactory, consent_documents_published, identity_verified
from core.audit import RequestMeta

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
COOKIE = settings.LANGUAGE_COOKIE_NAME


def sign_up(client, django_capture_on_commit_callbacks, **headers):
    data = {
        "email": "jane@example.com",
        "date_of_birth": "1990-05-01",
        "password1": "a-long-English-passphrase-2022",
        "password2": "a-long-English-passphrase-2022",
    }
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:signup"), data, **headers)


def log_in(client, user: User):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})


def test_signing_up_on_the_english_site_keeps_english_and_the_link_comes_in_english(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    client.cookies[COOKIE] = "en"
    sign_up(client, django_capture_on_commit_callbacks)
    assert User.objects.get().language == "en"
    assert mailoutbox[-1].subject == "[Kakao outage collective suit] Please verify your email address"
    assert "Thank you for signing up" in mailoutbox[-1].body and "가입" not in mailoutbox[-1].body


def test_a_phone_set_to_english_signs_up_in_english_and_one_set_to_korean_in_korean(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert User.objects.get(email="jane@example.com").language == "en"


def test_signing_up_without_any_language_keeps_korean(client, mailoutbox, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    assert User.objects.get().language == "ko"
    assert "이메일 주소를 인증해 주세요" in mailoutbox[-1].subject


def test_the_language_switch_keeps_a_signed_in_persons_choice_on_the_account(client):
    user = ClaimantFactory(password=PASSWORD)
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/"})
    assert response.status_code == 302 and response.cookies[COOKIE].value == "en"
    user.refresh_from_db()
    assert user.language == "en"

    client.post(reverse("set_language"), {"language": "fr", "next": "/"})  # not a site language
    user.refresh_from_db()
    assert user.language == "en"


def test_the_language_switch_signed_out_only_sets_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.cookies[COOKIE].value == "en"


def test_signing_in_where_english_was_chosen_makes_it_the_accounts_language(client):
    user = ClaimantFactory(password=PASSWORD)
    client.cookies[COOKIE] = "en"
    response = log_in(client, user)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    assert COOKIE not in response.cookies  # the device's own choice stays


def test_signing_in_on_a_new_device_shows_the_site_in_the_accounts_language(client):
    user = ClaimantFactory(password=PASSWORD, language="en")
    response = log_in(client, user)
    assert response.cookies[COOKIE].value == "en"
    page = client.get(reverse("accounts:account"))
    assert page.headers["Content-Language"] == "en"


def test_the_password_reset_email_is_in_the_accounts_language(client, mailoutbox, django_capture_on_commit_callbacks):
    ClaimantFactory(email="jane@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "jane@example.com"})  # from a Korean page
    assert mailoutbox[-1].subject == "[Kakao outage collective suit] Set a new password"


def test_the_deletion_emails_are_in_the_persons_language_even_after_anonymising(
    mailoutbox, django_capture_on_commit_callbacks
):
    user = ClaimantFactory(language="en")
    address = user.email
    with django_capture_on_commit_callbacks(execute=True):
        deletion_request = data_rights.deletion_request_create(user=user, reason="")
    assert mailoutbox[-1].to == [address] and "[Kakao outage collective suit]" in mailoutbox[-1].subject
    with django_capture_on_commit_callbacks(execute=True):
        data_rights.deletion_request_confirm(deletion_request=deletion_request, actor=StaffFactory(role=Role.LAWYER))
    assert DeletionRequest.objects.get().status == DeletionRequest.Status.CONFIRMED
    assert mailoutbox[-1].to == [address]
    assert mailoutbox[-1].subject == "[Kakao outage collective suit] Your account has been deleted"


def test_choosing_the_language_a_person_already_has_writes_nothing(django_assert_num_queries):
    user = ClaimantFactory(language="en")
    with django_assert_num_queries(0):
        assert auth_services.user_language_choose(user=user, language="en-GB") is False
    assert auth_services.user_language_choose(user=user, language="ko") is True


def test_the_legal_documents_say_on_the_english_site_that_only_their_korean_original_binds(client):
    documents = consent_documents_published()
    user = ClaimantFactory()
    consent_accept(
        user=user, document=documents["privacy_required"], meta=RequestMeta(ip="203.0.113.7", user_agent="x")
    )
    identity_verified(user)
    client.force_login(user)
    pages = (reverse("accounts:consents"), reverse("accounts:power_of_attorney_sign"))
    note = 'data-testid="korean-only-note"'
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200 and note not in response.content.decode()
    client.cookies[COOKIE] = "en"
    for url in pages:
        html = client.get(url).content.decode()
        assert note in html and "only the Korean original" in html
        assert 'class="consent-text' in html and 'lang="ko"' in html  # read out in Korean by screen readers


def test_the_language_choice_is_a_cookie_that_outlives_a_browser_restart(client):
    """A session cookie would be gone when the browser restarts while the login (a day) lasts: the language cookie
    is kept for a year."""
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    cookie = response.cookies[COOKIE]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 365 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax"
    # The restarted browser sends only its persistent cookies: the page is in English.
    restarted = type(client)()
    restarted.cookies[COOKIE] = cookie.value
    assert restarted.get("/").headers["Content-Language"] == "en"
