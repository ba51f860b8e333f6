"""axe-core over every claimant page on a 360 px phone and the main staff pages at 1280 px: no serious or critical
violation (docs/operations.md, "Accessibility and Lighthouse")."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentDocument
from accounts.roles import Role
from accounts.services.consents import consent_accept
from accounts.tests.factories import ClaimantFactory, consent_documents_published
from claims.models import Claim, InformationRequest
from claims.services import intake
from claims.services.evidence import evidence_attach
from claims.tests.factories import (
    ClaimFactory,
    LossItemFactory,
    claimant_ready,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import admin_login, staff_member
from conftest import PHONE_VIEWPORT
from core.audit import RequestMeta
from e2e.accessibility import axe_violations, violations_report
from integrations.identity.sandbox import SandboxIdentityBackend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP_VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture
def axe_page(chromium, live_server):
    """`axe_page(viewport)`: a page in a fresh context that lets axe's script in (bypass_csp)."""
    contexts = []

    def make(viewport: dict, *, phone: bool):
        context = chromium.new_context(
            viewport=viewport,
            locale="ko-KR",
            timezone_id="Asia/Seoul",
            is_mobile=phone,
            has_touch=phone,
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.live_server_url = live_server.url
        return page

    yield make
    for context in contexts:
        context.close()


def signed_in(page, client: Client) -> None:
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": page.live_server_url}])


def log_in(page, user) -> None:
    client = Client()
    client.force_login(user)
    signed_in(page, client)


def assert_no_serious_violations(page, paths: list[str]) -> None:
    found = {}
    for path in paths:
        response = page.goto(page.live_server_url + path)
        assert response.ok, f"{path}: {response.status}"
        violations = axe_violations(page)
        if violations:
            found[page.url.removeprefix(page.live_server_url)] = violations
    assert not found, "axe found serious or critical violations:\n" + violations_report(found)


def test_public_claimant_pages_have_no_serious_violations(axe_page):
    page = axe_page(PHONE_VIEWPORT, phone=True)
    assert_no_serious_violations(
        page,
        [
            "/",
            reverse("claims:eligibility_check"),
            reverse("accounts:signup"),
            reverse("accounts:login"),
            reverse("accounts:phone_login"),
            reverse("accounts:password_reset"),
            reverse("accounts:power_of_attorney_verify"),
        ],
    )


def test_account_pages_of_a_new_claimant_have_no_serious_violations(axe_page):
    page = axe_page(PHONE_VIEWPORT, phone=True)
    log_in(page, ClaimantFactory())
    assert_no_serious_violations(
        page,
        [
            reverse("accounts:account"),
            reverse("accounts:profile"),
            reverse("accounts:consents"),
            reverse("accounts:message_preferences"),
            reverse("accounts:password_change"),
            reverse("accounts:deletion_request"),
            reverse("accounts:phone_verify"),
            reverse("accounts:verify_email_sent"),
            reverse("accounts:power_of_attorney_sign"),
        ],
    )


def test_the_signing_page_with_the_certified_offer_and_the_sandbox_phone_have_no_serious_violations(axe_page):
    claimant = ClaimantFactory()
    privacy = consent_documents_published()[ConsentDocument.Kind.PRIVACY_REQUIRED]
    consent_accept(user=claimant, document=privacy, meta=RequestMeta(ip="203.0.113.5", user_agent="axe"))
    receipt = SandboxIdentityBackend().identity_request(
        method="toss", name=claimant.legal_name, birth_date=claimant.date_of_birth, phone=claimant.phone
    )
    page = axe_page(PHONE_VIEWPORT, phone=True)
    log_in(page, claimant)
    assert_no_serious_violations(
        page,
        [
            reverse("accounts:power_of_attorney_sign"),  # the app to sign in: the certified signature first
            reverse("integrations:sandbox_phone", args=[receipt.receipt_id]),
        ],
    )
    page.get_by_test_id("approve").click()  # answered in place
    page.get_by_text("응답을 보냈습니다").wait_for()
    assert axe_violations(page) == [], violations_report({"sandbox phone, answered": axe_violations(page)})


def test_claim_wizard_pages_have_no_serious_violations(axe_page):
    page = axe_page(PHONE_VIEWPORT, phone=True)
    user = claimant_ready()
    claim = ClaimFactory(claimant=user, claimant_type=Claim.ClaimantType.SOLE_PROPRIETOR, wizard_step="review")
    claim.services.set([service_by_slug("kakao-t")])
    LossItemFactory(claim=claim)
    log_in(page, user)
    assert_no_serious_violations(
        page,
        [
            reverse("claims:index"),
            reverse("claims:wizard_eligibility", args=[claim.pk]),
            reverse("claims:wizard_claimant", args=[claim.pk]),
            reverse("claims:wizard_losses", args=[claim.pk]),
            reverse("claims:wizard_losses_service", args=[claim.pk, "kakao-t"]),
            reverse("claims:wizard_evidence", args=[claim.pk]),
            reverse("claims:wizard_review", args=[claim.pk]),
        ],
    )


def test_pages_after_submission_have_no_serious_violations(axe_page):
    page = axe_page(PHONE_VIEWPORT, phone=True)
    user = claimant_ready()
    claim = ClaimFactory(claimant=user)
    claim.services.set([service_by_slug("kakao-t")])
    item = LossItemFactory(claim=claim)
    picture = SimpleUploadedFile("카카오T 오류 화면.png", png_bytes(size=(320, 200)), content_type="image/png")
    evidence_attach(claim=claim, actor=user, upload=picture, tag="proof_of_use", loss_item=item)
    claim = intake.claim_submit(claim=claim, actor=user)
    request = InformationRequest.objects.create(
        claim=claim,
        requested_by=staff_member(Role.PARALEGAL),
        message="카드 매출 내역을 올려 주세요.",
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.INFO_REQUESTED)
    log_in(page, user)
    assert_no_serious_violations(
        page,
        [
            reverse("claims:submitted", args=[claim.pk]),
            reverse("claims:index"),
            reverse("claims:detail", args=[claim.pk]),
            reverse("claims:information_request", args=[claim.pk, request.pk]),
            reverse("payments:retainer"),
        ],
    )


def test_main_staff_pages_have_no_serious_violations(axe_page):
    from filing.models import Cohort
    from filing.selectors.cohorts import CohortCriteria
    from filing.services.cohorts import cohort_freeze_wave, cohort_save
    from filing.tests.readiness import claim_ready

    page = axe_page(DESKTOP_VIEWPORT, phone=False)
    lawyer = staff_member(Role.LAWYER)
    claims = [claim_ready() for _ in range(3)]
    cohort = cohort_save(
        cohort=Cohort(name="승인된 신청", incident=claims[0].incident),
        criteria=CohortCriteria(statuses=(Claim.Status.ACCEPTED,)),
        actor=lawyer,
    )
    wave = cohort_freeze_wave(
        cohort=Cohort.objects.get(pk=cohort.pk), name="1차", court="서울중앙지방법원", actor=lawyer
    )
    signed_in(page, admin_login(Client(), lawyer))
    assert_no_serious_violations(
        page,
        [
            reverse("admin:index"),
            reverse("admin:claims_claim_changelist"),
            reverse("admin:claims_claim_change", args=[claims[0].pk]),
            reverse("admin:filing_cohort_changelist"),
            reverse("admin:filing_cohort_change", args=[cohort.pk]),
            reverse("admin:filing_filingwave_changelist"),
            reverse("admin:filing_filingwave_change", args=[wave.pk]),
        ],
    )
