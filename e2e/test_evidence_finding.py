"""A claimant uploads a chat screenshot and, still on the page, reads what was found in it: the row shows that the
file is being read, then the page asks again (static/js/evidence-finding.js) and shows the moment."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from claims.tests.factories import ClaimFactory, claimant_ready, service_by_slug
from devtools.drawing import drawn_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_moment_read_in_a_screenshot_appears_under_it_without_a_reload(phone_page):
    page = phone_page
    claimant = claimant_ready()
    claim = ClaimFactory(claimant=claimant, wizard_step="evidence")
    claim.services.set([service_by_slug("kakao-t")])
    client = Client()
    client.force_login(claimant)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.live_server_url}]
    )
    picture, _boxes = drawn_png(
        [((260, 40), "2022년 10월 15일 토요일"), ((60, 160), "카카오 T 택시 호출이 안 돼요"), ((60, 260), "오후 3:42")]
    )

    page.goto(f"{page.live_server_url}/claims/{claim.pk}/wizard/evidence/")
    page.get_by_label("이 파일이 보여 주는 것").select_option("proof_of_use")
    expect(page.get_by_label("파일", exact=True)).to_have_attribute("multiple", "")
    page.get_by_label("파일", exact=True).set_input_files(
        {"name": "채팅.png", "mimeType": "image/png", "buffer": picture}
    )
    page.get_by_role("button", name="올리기").click()

    expect(page.get_by_test_id("evidence-row")).to_have_count(1)
    expect(page.get_by_test_id("evidence-finding")).to_have_text(
        "이 캡처에서 2022-10-15 15:42가 확인됩니다", timeout=15_000
    )
