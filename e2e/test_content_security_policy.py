"""The strict Content Security Policy breaks nothing: no page of the site or of the admin triggers a violation
(an inline script, inline style or event handler would be refused and reported in the console)."""

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from claims.models import Claim
from claims.tests.factories import EvidenceFactory, SubmittedClaimFactory, claimant_ready, png_bytes
from claims.tests.staff import admin_login
from e2e.test_staff_review import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def violations_while_visiting(page, paths: list[str]) -> list[str]:
    reported: list[str] = []
    page.on(
        "console",
        lambda message: (
            reported.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: reported.append(f"{page.url}: {error}"))
    for path in paths:
        response = page.goto(page.live_server_url + path)
        assert response.status < 400, f"{path} answered {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
    return reported


def test_public_and_claimant_pages_run_without_a_csp_violation(desktop_page):
    page = desktop_page
    claimant = claimant_ready()
    claim = SubmittedClaimFactory(claimant=claimant)
    public = [
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("claims:eligibility_check"),
    ]
    assert violations_while_visiting(page, public) == []

    client = Client()
    client.force_login(claimant)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.live_server_url}]
    )
    own = [reverse("claims:index"), reverse("claims:detail", args=[claim.pk]), reverse("accounts:consents")]
    assert violations_while_visiting(page, own) == []


def test_every_admin_list_and_a_claim_page_run_without_a_csp_violation(desktop_page):
    page = desktop_page
    superuser = User.objects.create_superuser(email="root@lawfirm.example", password="correct-horse-battery-staple")
    TOTPDevice.objects.create(user=superuser, name="test", confirmed=True)
    claim: Claim = SubmittedClaimFactory(claimant=claimant_ready())
    EvidenceFactory(claim=claim, file=ContentFile(png_bytes(), name="a.png"))
    admin_login(Client(), superuser)
    sign_in_to_admin(page, superuser)

    paths = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    paths.append(reverse("admin:claims_claim_change", args=[claim.pk]))

    assert violations_while_visiting(page, paths) == []
