"""Browser security headers, the CSP, cookies and sessions, CSRF, and `check --deploy` with production settings."""

import base64
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import django
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import STAFF_PASSWORD, ClaimantFactory, StaffFactory
from claims.tests.factories import EvidenceFactory, SubmittedClaimFactory, claimant_ready
from claims.tests.staff import admin_login
from config.middleware import STAFF_LAST_SEEN_KEY

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PASSWORD = "correct-horse-battery-staple"


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["home", "accounts:login", "admin:login"])
def test_pages_send_the_security_headers(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_admin_changelist_inline_style_is_allowed_by_its_hash():
    """The only inline style Django's admin writes; if Django changes it, the hash in settings must follow."""
    template = Path(django.__file__).parent / "contrib/admin/templates/admin/change_list.html"
    style = re.search(r"<style>(.*?)</style>", template.read_text(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()

    expected = f"'sha256-{digest}'"
    assert expected == settings.ADMIN_CHANGELIST_STYLE_HASH
    assert expected in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]


def production_env(**extra: str) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "AWS_", "S3_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x7!kQ2#" + "pZ9vR4mW8tY1uI3oP6aS0dF5gH2jK7lZ9xC4vB8nM1qW3eR6tY",
        "DJANGO_ALLOWED_HOSTS": "claims.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kakao_claims"),
        "REDIS_URL": settings.REDIS_URL,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": "a-long-random-hmac-key-for-digests-0123456789",
        **extra,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_cookies_are_secure_and_http_only():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_SSL_REDIRECT, s.STORAGES['default']['BACKEND'])"
    )
    result = manage("shell", "-c", code, env=production_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "True", "True", "True", "31536000", "True", "django.core.files.storage.FileSystemStorage",
    ]  # fmt: skip


def test_production_uses_the_object_store_when_a_bucket_is_named():
    env = production_env(AWS_STORAGE_BUCKET_NAME="evidence", AWS_S3_ENDPOINT_URL="http://minio:9000")
    code = (
        "from django.core.files.storage import storages; d = storages['default'];"
        "print(type(d).__name__, d.bucket_name, d.default_acl, d.querystring_auth, d.endpoint_url, d.file_overwrite)"
    )
    result = manage("shell", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    expected = ["S3Storage", "evidence", "private", "True", "http://minio:9000", "False"]
    assert result.stdout.splitlines()[-1].split() == expected


def test_production_refuses_to_start_without_the_encryption_keys():
    env = production_env()
    del env["FIELD_ENCRYPTION_KEYS"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("accounts:login", {"username": "a@example.com", "password": "x"}),
        ("accounts:signup", {"email": "a@example.com"}),
        ("set_language", {"language": "en"}),
        ("admin:login", {"username": "a@example.com", "password": "x"}),
        ("claims:start", {}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused(url_name, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ClaimantFactory())

    response = client.post(reverse(url_name), data)

    assert response.status_code == 403


@pytest.mark.django_db
def test_logging_in_gives_a_new_session_key():
    user = ClaimantFactory(password=PASSWORD)
    client = Client()
    client.get(reverse("accounts:login"))
    client.session["planted"] = True  # an attacker's fixed session id before login
    client.session.save()
    before = client.session.session_key

    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session.session_key != before
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
def test_claimant_session_lasts_a_day_and_survives_closing_the_browser(client):
    client.force_login(ClaimantFactory())

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert settings.SESSION_COOKIE_AGE == 24 * 60 * 60
    assert client.session.get_expire_at_browser_close() is False


@pytest.mark.django_db
def test_staff_session_ends_with_the_browser_and_after_idle_time(client):
    admin_login(client, StaffFactory(role=Role.PARALEGAL, totp=True))

    client.get(reverse("admin:index"))
    assert client.session.get_expire_at_browser_close() is True

    session = client.session
    session[STAFF_LAST_SEEN_KEY] = int(time.time()) - settings.STAFF_SESSION_IDLE_SECONDS - 1
    session.save()
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_active_staff_session_is_kept(client):
    admin_login(client, StaffFactory(role=Role.PARALEGAL, totp=True))
    client.get(reverse("admin:index"))
    session = client.session
    session[STAFF_LAST_SEEN_KEY] = int(time.time()) - settings.STAFF_SESSION_IDLE_SECONDS + 60

    session.save()
    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_staff_signed_in_with_a_password_alone_reach_no_personal_data(client):
    """The claimants' login page takes a staff password too; without the authenticator code that session opens
    nothing but the code prompt: no evidence file, no signed power of attorney, no admin page."""
    lawyer = StaffFactory(role=Role.LAWYER, totp=True)
    claim = SubmittedClaimFactory(claimant=claimant_ready())
    evidence = EvidenceFactory(claim=claim)
    power = claim.claimant.powers_of_attorney.get()
    client.post(reverse("accounts:login"), {"username": lawyer.email, "password": STAFF_PASSWORD})
    assert int(client.session["_auth_user_id"]) == lawyer.pk

    for url in (
        reverse("claims:staff_evidence_download", args=[evidence.pk]),
        reverse("accounts:power_of_attorney_download", args=[power.pk]),
        reverse("admin:claims_claim_change", args=[claim.pk]),
        reverse("home"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url

    admin_login(client, lawyer)  # the code entered
    assert client.get(reverse("claims:staff_evidence_download", args=[evidence.pk])).status_code == 200


@pytest.mark.django_db
def test_staff_without_an_authenticator_are_sent_to_enrol_one(client):
    staff = StaffFactory(role=Role.PARALEGAL)
    client.force_login(staff)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:staff_two_factor"))
    assert client.get(reverse("accounts:staff_two_factor")).status_code == 200
