import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_phone_visitor_sees_korean_heading_and_outage_table_then_switches_to_english(phone_page):
    page = phone_page
    page.goto(page.live_server_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("카카오 서비스 장애 피해 공동소송 참여 신청")
    table = page.get_by_test_id("outage-table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(21)
    expect(table).to_contain_text("카카오T")

    page.get_by_label("언어").select_option("en")
    page.get_by_test_id("language-submit").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Join the collective suit"))
    expect(page.get_by_test_id("outage-table")).to_contain_text("Kakao T (taxi, designated driver)")


def test_skip_link_is_the_first_focus_and_jumps_to_main(phone_page):
    page = phone_page
    page.goto(page.live_server_url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="본문으로 건너뛰기")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
