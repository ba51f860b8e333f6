"""Someone at the demo finds their request in the sandbox's list and approves it on a phone-sized screen."""

from datetime import date

import pytest
from playwright.sync_api import expect

from integrations.identity import IdentityMethod, IdentityState
from integrations.identity.sandbox import SandboxIdentityBackend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_signature_request_is_found_in_the_list_and_approved_on_a_phone(phone_page):
    backend = SandboxIdentityBackend()
    receipt = backend.signature_request(
        method=IdentityMethod.KAKAO,
        name="박서연",
        birth_date=date(1988, 4, 15),
        phone="01098765432",
        document_title="소송위임장",
        document_sha256="ab" * 32,
    )
    page = phone_page
    page.goto(page.live_server_url + "/sandbox/identity/")
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("SANDBOX / 테스트용 가상 인증")
    page.get_by_test_id("waiting").get_by_text("010-****-5432").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("전자서명 요청")
    expect(page.get_by_test_id("document-sha256")).to_have_text("ab" * 32)
    page.get_by_test_id("approve").click()

    expect(page.get_by_test_id("state")).to_have_text("승인")
    expect(page.get_by_test_id("approve")).to_have_count(0)
    assert backend.signature_status(receipt.receipt_id) == IdentityState.APPROVED
