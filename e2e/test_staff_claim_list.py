"""The staff claim list at 1280 px: every column on the screen without scrolling sideways (claims/admin/claims/)."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accounts.roles import Role
from claims.models import Claim, Flag
from claims.tests.factories import claim_estimated, service_by_slug
from claims.tests.staff import admin_login, staff_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICES = ("kakao-t", "kakaotalk", "talk-channel", "kakao-hairshop", "melon")


def test_the_claim_list_fits_1280_px_with_long_names_services_and_flags(chromium, live_server):
    for index in range(5):
        claim = claim_estimated(status=Claim.Status.SUBMITTED, claimant__legal_name=f"남궁민수{index}")
        claim.services.set([service_by_slug(slug) for slug in SERVICES])
        for code in (Flag.Code.DUPLICATE_BUSINESS_NUMBER, Flag.Code.DUPLICATE_BANK_ACCOUNT):
            Flag.objects.create(claim=claim, code=code, severity=Flag.Severity.MEDIUM)
    lawyer = staff_member(Role.LAWYER)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR", timezone_id="Asia/Seoul")
    page = context.new_page()
    client = admin_login(Client(), lawyer)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.goto(live_server.url + "/admin/claims/claim/")
    expect(page.locator("#result_list tbody tr")).to_have_count(5)
    # The columns chosen for the width: dates without the time, at most two services (the rest counted), the flags.
    first_row = page.locator("#result_list tbody tr").first
    expect(first_row.locator(".field-services_list")).to_contain_text("외 3개")
    expect(first_row.locator(".field-submitted_on time")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    expect(first_row.locator(".field-open_flags_list .review-flag")).to_have_count(2)
    expect(page.locator("#nav-sidebar")).to_have_count(0)
    expect(page.locator("#changelist-filter")).to_be_visible()
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,"
        " table: document.querySelector('#result_list').getBoundingClientRect().right,"
        " wrapper: document.querySelector('.results').scrollWidth - document.querySelector('.results').clientWidth})"
    )
    assert widths["page"] <= widths["window"], widths
    assert widths["wrapper"] <= 0, widths
    context.close()
