"""On a phone: a plaintiff of a wave whose selected parties (선정당사자) were picked finds the 선정서 request in the
portal, reads the 선정서 naming them, signs it with the certificate through the sandbox identity provider (its phone
page in a second tab), and downloads the signed PDF."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import IdentityVerification
from accounts.roles import Role
from accounts.tests.factories import StaffFactory, identity_verified
from claims.tests.factories import claimant_ready
from core.audit import RequestMeta
from e2e.test_claim_wizard import fits_the_screen, log_in
from filing.models import Designation
from filing.services.cohorts import cohort_freeze_wave
from filing.services.selected_parties import designation_requests_queue, selected_parties_pick
from filing.tests.readiness import claim_ready, plaintiff_ready
from filing.tests.test_exports import cohort_of_all
from notifications.tests.factories import message_templates_published

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _templates():
    message_templates_published()  # the 선정서 request's message (earlier transactional tests emptied the table)


def test_a_plaintiff_signs_the_designation_with_the_certificate_from_the_portal(phone_page):
    lawyer = StaffFactory(role=Role.LAWYER)
    plaintiff = identity_verified(claimant_ready(legal_name="정하늘"))
    claim_ready(claimant=plaintiff_ready(legal_name="한선정"))
    claim_ready(claimant=plaintiff)
    wave = cohort_freeze_wave(cohort=cohort_of_all(lawyer), name="1차 소송", court="서울중앙지방법원", actor=lawyer)
    selected_parties_pick(wave=wave, numbers=[1], actor=lawyer, meta=RequestMeta(ip=None, user_agent=""))
    designation_requests_queue(wave_id=wave.pk)  # what the task does after the Lawyer asks

    page = phone_page
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    log_in(page, plaintiff)
    page.goto(page.live_server_url + "/claims/")
    expect(page.get_by_test_id("portal-notice-designation")).to_contain_text("1차 소송")
    page.get_by_test_id("portal-notice-designation-link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("선정서 서명")
    expect(page.get_by_test_id("designation-text")).to_contain_text("한선정 (원고 번호 1)")
    expect(page.get_by_test_id("designation-text")).to_contain_text("정하늘")
    page.get_by_test_id("designation-certified-submit").click()
    expect(page.get_by_test_id("identity-wait")).to_contain_text("선정서 전자서명")

    phone = page.context.new_page()
    verification = IdentityVerification.objects.get(user=plaintiff, kind="signature")
    phone.goto(f"{page.live_server_url}/sandbox/identity/{verification.receipt_id}/")
    phone.get_by_test_id("approve").click()
    expect(phone.get_by_test_id("state")).to_have_text("승인")

    expect(page.get_by_test_id("designation-signed")).to_be_visible()  # the waiting page moved on by itself
    expect(page.get_by_test_id("designation-certified")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_test_id("designation-download").click()
    with open(download_info.value.path(), "rb") as pdf_file:
        pdf = pdf_file.read()
    text = "".join("\n".join(pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "선정서" in text and "정하늘" in text and "SANDBOX" in text

    page.goto(page.live_server_url + "/claims/")
    expect(page.get_by_test_id("portal-notice-designation")).to_have_count(0)
    assert problems == []
    assert fits_the_screen(page)
    designation = Designation.objects.get(user=plaintiff)
    assert designation.signature_method == "certified" and designation.certified_signature.sandbox
