"""Referral sources: the first visit carrying utm_* or ?ref= is kept in a signed cookie, checked and capped, and
stored on the account at sign-up (accounts/referrals.py)."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import signing
from django.http import QueryDict
from django.urls import reverse

from accounts.models import User
from accounts.referrals import (
    COOKIE_SALT,
    Referral,
    referral_code_clean,
    referral_from_query,
    referral_value_clean,
)
from accounts.services import auth as auth_services
from accounts.tests.factories import ClaimantFactory

pytestmark = pytest.mark.django_db

COOKIE = settings.REFERRAL_COOKIE_NAME


def sign_up(client, django_capture_on_commit_callbacks):
    data = {
        "email": "referred@example.com",
        "date_of_birth": "1985-03-02",
        "password1": "a-long-Korean-passphrase-2022",
        "password2": "a-long-Korean-passphrase-2022",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 302
    return User.objects.get(email="referred@example.com")


def test_the_first_visit_with_a_source_is_kept_and_stored_on_the_account_at_sign_up(
    client, django_capture_on_commit_callbacks
):
    response = client.get("/?utm_source=Naver&utm_medium=cpc&utm_campaign=카카오 장애 소송&ref=LAW-firm_7")
    assert response.status_code == 200
    assert response.cookies[COOKIE]["httponly"]
    user = sign_up(client, django_capture_on_commit_callbacks)
    assert (user.referral_source, user.referral_medium, user.referral_campaign, user.referral_code) == (
        "naver",
        "cpc",
        "카카오 장애 소송",
        "law-firm_7",
    )
    assert user.referral_first_visit_at is not None


def test_a_later_visit_with_another_source_does_not_replace_the_first(client, django_capture_on_commit_callbacks):
    client.get("/?utm_source=naver")
    second = client.get(reverse("accounts:signup") + "?utm_source=broker&ref=list123")
    assert COOKIE not in second.cookies  # nothing set again
    user = sign_up(client, django_capture_on_commit_callbacks)
    assert (user.referral_source, user.referral_code) == ("naver", "")


def test_a_visit_without_parameters_sets_nothing_and_the_account_has_no_source(
    client, django_capture_on_commit_callbacks
):
    assert COOKIE not in client.get("/").cookies
    user = sign_up(client, django_capture_on_commit_callbacks)
    assert (user.referral_source, user.referral_code, user.referral_first_visit_at) == ("", "", None)


@pytest.mark.parametrize(
    "query",
    [
        "utm_source=" + "a" * 65,  # longer than the cap
        "utm_source=<script>",
        "utm_source=naver%00",
        "utm_source=%20%20",
        "ref=ab",  # too short
        "ref=" + "x" * 33,
        "ref=drop table;",
    ],
)
def test_bad_values_are_rejected_and_nothing_is_kept(client, query):
    assert COOKIE not in client.get(f"/?{query}").cookies


def test_each_value_is_checked_on_its_own():
    referral = referral_from_query(QueryDict("utm_source=naver&utm_medium=<b>&ref=ok-code"))
    assert (referral.source, referral.medium, referral.code) == ("naver", "", "ok-code")
    assert referral_value_clean(" Kakao.Talk+Ad ", lower=True) == "kakao.talk+ad"
    assert referral_value_clean("a" * 64) == "a" * 64
    assert referral_code_clean("ABC") == "abc"
    assert not referral_from_query(QueryDict("utm_source=%3C%3E"))


def test_a_tampered_cookie_is_ignored(client, django_capture_on_commit_callbacks):
    forged = signing.dumps({"source": "broker"}, salt=COOKIE_SALT, key="not-our-secret")
    client.cookies[COOKIE] = forged
    user = sign_up(client, django_capture_on_commit_callbacks)
    assert user.referral_source == ""


def test_staff_pages_and_signed_in_people_set_no_cookie(client):
    assert COOKIE not in client.get("/admin/login/?utm_source=naver").cookies
    client.force_login(ClaimantFactory())
    assert COOKIE not in client.get("/?utm_source=naver").cookies


def test_the_service_checks_the_values_again():
    user = auth_services.user_signup(
        email="svc@example.com",
        password="a-long-Korean-passphrase-2022",
        date_of_birth=dt.date(1985, 3, 2),
        ip=None,
        referral=Referral(source="x" * 200, code="good-code", first_visit_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    )
    assert (user.referral_source, user.referral_code) == ("", "good-code")
