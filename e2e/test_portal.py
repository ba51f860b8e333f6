"""The portal on a phone (360 px): a claimant with a submitted claim starts one for another incident, and adds
evidence to the submitted claim from a "missing" link, with the evidence page's state current after each upload."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from claims.models import Claim, ClaimEvent, Evidence
from claims.tests.factories import LossItemFactory, SubmittedClaimFactory, claimant_ready, png_bytes, service_by_slug

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXECUTABLE = b"MZ\x90\x00" + b"\0" * 60 + b"PE\0\0" + b"\0" * 100


def log_in(page, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": page.live_server_url}])


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_phone_claimant_adds_evidence_after_submitting_and_starts_a_claim_for_another_incident(phone_page):
    page = phone_page
    user = claimant_ready(email="driver@example.com")
    claim = SubmittedClaimFactory(claimant=user)
    claim.services.set([service_by_slug("kakao-t")])
    LossItemFactory(claim=claim, service=service_by_slug("kakao-t"))
    log_in(page, user)

    # The claim's page lists what is missing, each linked to its upload.
    page.goto(page.live_server_url + f"/claims/{claim.pk}/")
    assert fits_the_screen(page)
    expect(page.get_by_test_id("missing-link")).to_have_count(2)  # proof of use, the subscription's payment
    page.get_by_role("link", name="지금 올리기").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("자료·메모 추가하기")
    expect(page.get_by_label("이 파일이 보여 주는 것")).to_have_value("proof_of_use")
    expect(page.get_by_test_id("evidence-count")).to_have_text("올린 파일 0개")
    expect(page.get_by_test_id("proof-of-use-note")).to_contain_text("가장 중요한 자료")

    # Two files at once: the picture is kept, the renamed program is refused and shown as refused.
    expect(page.get_by_label("파일", exact=True)).to_have_attribute("multiple", "")
    page.get_by_label("파일", exact=True).set_input_files(
        [
            {"name": "호출실패.png", "mimeType": "image/png", "buffer": png_bytes(size=(400, 300))},
            {"name": "setup.jpg", "mimeType": "image/jpeg", "buffer": EXECUTABLE},
        ]
    )
    page.get_by_role("button", name="올리기").click()
    expect(page.get_by_test_id("evidence-row")).to_have_count(1)
    expect(page.get_by_test_id("evidence-count")).to_have_text("올린 파일 1개")
    expect(page.get_by_test_id("proof-of-use-note")).to_contain_text("장애 당시 이용 증빙을 올렸습니다.")
    expect(page.get_by_test_id("missing-link")).to_have_count(1)  # the subscription's payment is still missing
    refused = page.locator('[data-upload-state="rejected"]')
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("받을 수 없는 파일입니다.")
    expect(refused).to_contain_text("PDF 파일만 올릴 수 있습니다")
    expect(refused.locator("progress")).to_be_hidden()
    thumbnail = page.get_by_test_id("evidence-thumbnail")
    expect(thumbnail).to_have_count(1)
    # (a function with an argument, as the other image waits: a bare expression string is eval'd, which CSP refuses)
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=thumbnail.element_handle())
    assert fits_the_screen(page)

    # A note to staff, then back on the claim's page.
    page.get_by_label("담당자에게 전할 메모").fill("오후 6시 호출 실패 화면입니다.")
    page.get_by_role("button", name="메모 보내기").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("오후 6시 호출 실패 화면입니다.")
    evidence = Evidence.objects.get(claim=claim)
    assert evidence.tag == "proof_of_use"
    added = claim.events.filter(kind__in=[ClaimEvent.Kind.EVIDENCE_ADDED, ClaimEvent.Kind.NOTE_ADDED])
    assert added.count() == 2 and all(event.data.get("after_submission") for event in added)

    # Another incident, chosen on the portal.
    page.goto(page.live_server_url + "/claims/")
    expect(page.get_by_test_id("incident-option").first).to_be_visible()
    assert fits_the_screen(page)
    page.get_by_test_id("start-kakaotalk-2021-05-05").click()
    expect(page.locator("p", has_text="카카오톡 메시지 수신·PC 로그인 장애")).to_be_visible()
    page.get_by_role("checkbox", name=re.compile(r"^카카오톡")).first.check()
    page.get_by_label("예, 이용하고 있었습니다").check()
    page.get_by_role("button", name="저장하고 다음").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("누구로 신청하시나요?")
    second = Claim.objects.get(claimant=user, incident__slug="kakaotalk-2021-05-05")
    assert second.status == Claim.Status.DRAFT
    page.goto(page.live_server_url + "/claims/")
    expect(page.get_by_test_id("claim-card")).to_have_count(2)
    expect(page.get_by_test_id("start-kakaotalk-2021-05-05")).to_have_count(0)
