"""A claimant on a phone finds the address with the road-name search, picks it, adds the details and saves."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import ClaimantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "my-outage-passphrase-2022"
PANGYO = "경기도 성남시 분당구 판교역로 166 (백현동)"


def test_search_pick_and_save_the_address_on_a_phone(phone_page, settings):
    settings.ADDRESS_SEARCH_BACKEND = "integrations.address.local.LocalAddressSearchBackend"
    user = ClaimantFactory(
        email="jane@example.com", password=PASSWORD, postal_code="04524", address="서울 중구 옛 주소"
    )
    page = phone_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(page.live_server_url + "/accounts/login/?next=/accounts/profile/")
    page.get_by_label("이메일").fill("jane@example.com")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="로그인").click()
    page.get_by_label("상세주소").fill("")

    page.get_by_label("도로명, 건물 이름 또는 동·번지").fill("판교역로")
    page.get_by_label("도로명, 건물 이름 또는 동·번지").press("Enter")

    results = page.get_by_test_id("address-results")
    expect(results.get_by_test_id("address-sandbox")).to_have_text("SANDBOX")
    pick = results.get_by_role("button", name=f"선택 {PANGYO}")
    box = pick.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    pick.click()

    expect(page.get_by_label("우편번호")).to_have_value("13529")
    expect(page.get_by_label("주소*", exact=True)).to_have_value(PANGYO)
    expect(page.get_by_label("상세주소")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.keyboard.type("3층")
    page.get_by_role("button", name="저장", exact=True).click()

    expect(page.get_by_text("프로필을 저장했습니다.")).to_be_visible()
    user = User.objects.get(pk=user.pk)
    assert (user.postal_code, user.address, user.address_detail) == ("13529", PANGYO, "3층")
    assert problems == []  # the script ran under the CSP without an error
