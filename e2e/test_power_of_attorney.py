"""A claimant on a phone accepts the consents, signs the power of attorney with a finger (the fallback to the
certified signature, enabled in these settings) and downloads the PDF. The identity step is completed through the
sandbox provider's service before (e2e/test_identity.py walks it in the browser)."""

import hashlib
import io
import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import ConsentRecord, PowerOfAttorney
from accounts.services.consents import consent_accept
from accounts.tests.factories import ClaimantFactory, consent_documents_published, identity_verified
from core.audit import RequestMeta

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": page.live_server_url,
            }
        ]
    )


def _draw_with_a_finger(page, canvas) -> None:
    """Touch events through the DevTools protocol: a zig-zag signature across the pad."""
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    points = [
        (box["x"] + box["width"] * (0.1 + 0.05 * step), box["y"] + box["height"] * (0.3 if step % 2 else 0.7))
        for step in range(17)
    ]
    x, y = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_claimant_accepts_consents_signs_by_drawing_and_downloads_the_pdf(phone_page):
    documents = consent_documents_published()
    claimant = identity_verified(ClaimantFactory(legal_name="박서연"))
    page = phone_page
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    _log_in(page, claimant)

    page.goto(page.live_server_url + "/accounts/consents/")
    expect(page.get_by_role("heading", level=1)).to_have_text("개인정보 동의와 소송위임")
    required = page.get_by_label("위 내용을 모두 읽었으며 동의합니다 (필수)")
    expect(required).not_to_be_checked()
    page.get_by_test_id("consents-submit").click()
    expect(page.get_by_text("필수 동의 항목입니다. 동의하지 않으면 소송에 참여할 수 없습니다.")).to_be_visible()

    page.get_by_label("위 내용을 모두 읽었으며 동의합니다 (필수)").check()
    page.get_by_test_id("consents-submit").click()

    expect(page).to_have_url(re.compile(r"/accounts/power-of-attorney/$"))
    expect(page.get_by_test_id("poa-text")).to_contain_text("카카오 서비스 장애 손해배상 청구 공동소송")
    expect(page.get_by_test_id("poa-text")).to_contain_text("박서연")
    canvas = page.get_by_test_id("signature-canvas")
    canvas.scroll_into_view_if_needed()
    expect(page.get_by_label("실명 입력")).to_be_hidden()  # the typed alternative shows only when chosen
    _draw_with_a_finger(page, canvas)
    expect(page.get_by_text("서명이 입력되었습니다. 다시 쓰려면 지우세요.")).to_be_visible()
    expect(page.locator("input[name=signature]")).to_have_value(re.compile(r"^data:image/png;base64,"))

    page.get_by_test_id("poa-submit").click()  # forgot to confirm: the drawing must survive the round trip
    expect(page.get_by_text("내용을 확인했다는 칸에 표시해 주세요.")).to_be_visible()
    expect(page.locator("input[name=signature]")).to_have_value(re.compile(r"^data:image/png;base64,"))
    expect(page.get_by_text("서명이 입력되었습니다. 다시 쓰려면 지우세요.")).to_be_visible()

    page.get_by_label(re.compile("모두 읽고 확인했으며")).check()
    page.get_by_test_id("poa-submit").click()
    # Signed: on to the next step (the retainer here, else the claim wizard) by itself; the PDF stays on the signing
    # page.
    expect(page.get_by_text("소송위임장 서명을 마쳤습니다")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"/accounts/power-of-attorney/"))
    page.goto(page.live_server_url + "/accounts/power-of-attorney/")
    expect(page.get_by_test_id("poa-signed")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_test_id("poa-download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf_file:
        pdf = pdf_file.read()
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(pdf)).pages)
    assert "박서연" in text and "감사 증명서" in text

    assert problems == []  # no script error and nothing blocked by the content security policy
    signed = PowerOfAttorney.objects.get(user=claimant)
    assert signed.signature_method == PowerOfAttorney.SignatureMethod.DRAWN
    assert ConsentRecord.objects.get(document=documents["power_of_attorney"]).signed_content_sha256 == (
        signed.content_sha256
    )
    assert hashlib.sha256(pdf).hexdigest() == signed.pdf_sha256


def test_the_typed_name_alternative_is_reachable_with_the_keyboard(phone_page):
    documents = consent_documents_published()
    claimant = identity_verified(ClaimantFactory(legal_name="최지우"))
    consent_accept(user=claimant, document=documents["privacy_required"], meta=RequestMeta(ip=None, user_agent=""))
    page = phone_page
    _log_in(page, claimant)
    page.goto(page.live_server_url + "/accounts/power-of-attorney/")

    page.get_by_label("이름 입력", exact=True).check()
    name = page.get_by_label("실명 입력")
    expect(name).to_be_visible()
    name.fill("최지우")
    page.get_by_label(re.compile("모두 읽고 확인했으며")).check()
    page.get_by_test_id("poa-submit").click()
    expect(page.get_by_text("소송위임장 서명을 마쳤습니다")).to_be_visible()
    assert PowerOfAttorney.objects.get(user=claimant).signature_method == PowerOfAttorney.SignatureMethod.TYPED
