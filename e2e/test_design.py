"""The claimant pages on phones from 320 to 414 px: nothing scrolls sideways, the header is one row, everything a
finger presses in the header and the page is at least 44 px, and no page logs an error to the console (the
favicon included)."""

import pytest
from django.test import Client
from django.urls import reverse

from claims.tests.factories import ClaimFactory, SubmittedClaimFactory, claimant_ready
from core.services import firm_profile_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (320, 360, 414)
TAP = 44
FIRM = {
    "name": "법무법인 한빛 공동소송센터",  # a long name: it must shorten, not wrap
    "address": "서울특별시 서초구 서초대로 123, 한빛빌딩 7층",
    "phone": "02-555-0123",
    "email": "kakao-collective-suit@hanbit-law.example",
    "kakao_channel_url": "https://pf.kakao.com/_hanbit",
    "hours": "평일 09:00-18:00",
    "privacy_officer_name": "이하늘",
    "privacy_officer_contact": "privacy@hanbit-law.example",
}

# Visible things a finger presses, in the header and the page (a link inside a sentence is exempt, as in WCAG
# 2.5.8: links whose display is `inline` inside running text). A check box counts by its label or .form-check row.
MEASURE = """
() => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && !el.closest('[hidden]')
      && !el.closest('.visually-hidden, .visually-hidden-focusable');
  };
  const targets = [...document.querySelectorAll(
    'header a, header button, header select, header input:not([type=hidden]), ' +
    'main a, main button, main select, main textarea, main input:not([type=hidden])'
  )].filter(visible);
  const small = [];
  for (const el of targets) {
    let target = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) target = el.closest('label, .form-check') || el;
    else if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
    const box = target.getBoundingClientRect();
    if (box.height < 43.5 || box.width < 43.5) {
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.name || el.id || '').trim().slice(0, 40)}" `
        + `${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}
"""
HEADER_ROWS = """
() => {
  const items = [...document.querySelectorAll('[data-testid=site-header] nav > *')]
    .filter((el) => el.getBoundingClientRect().width > 0 && !el.classList.contains('visually-hidden-focusable'));
  const middles = items.map((el) => { const b = el.getBoundingClientRect(); return b.top + b.height / 2; });
  return {count: items.length, spread: Math.max(...middles) - Math.min(...middles),
          height: document.querySelector('[data-testid=site-header]').getBoundingClientRect().height};
}
"""


def phone_context(chromium, width: int):
    return chromium.new_context(
        viewport={"width": width, "height": 780},
        locale="ko-KR",
        timezone_id="Asia/Seoul",
        is_mobile=True,
        has_touch=True,
    )


def check_page(page, url: str, width: int) -> list[str]:
    """What is wrong with this page at this width (an empty list when nothing is)."""
    problems = []
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    inner_width = page.evaluate("window.innerWidth")
    if scroll_width > inner_width:
        problems.append(f"{url} at {width}px: {scroll_width}px wide")
    header = page.evaluate(HEADER_ROWS)
    if header["spread"] > 2 or header["height"] > 76:
        problems.append(f"{url} at {width}px: header not one row {header}")
    problems += [f"{url} at {width}px: {small}" for small in page.evaluate(MEASURE)]
    return problems


@pytest.mark.parametrize("with_firm", [True, False], ids=["firm", "no-firm"])
def test_landing_and_public_pages_fit_phones_with_a_one_row_header_and_finger_sized_targets(
    chromium, live_server, with_firm
):
    if with_firm:
        firm_profile_update(actor=None, values=FIRM)
    paths = [
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("claims:eligibility_check"),
    ]
    problems, errors = [], []
    for width in WIDTHS:
        context = phone_context(chromium, width)
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        for path in paths:
            problems += check_page(page, live_server.url + path, width)
        context.close()
    assert not problems, "\n".join(problems)
    assert errors == []


def test_signed_in_claimant_pages_fit_phones_with_a_one_row_header(chromium, live_server):
    firm_profile_update(actor=None, values=FIRM)
    claimant = claimant_ready()
    claim = SubmittedClaimFactory(claimant=claimant)
    drafting = claimant_ready()
    draft = ClaimFactory(claimant=drafting, wizard_step="evidence")
    client, drafting_client = Client(), Client()
    client.force_login(claimant)
    drafting_client.force_login(drafting)
    paths = [reverse("claims:index"), reverse("claims:detail", args=[claim.pk]), reverse("accounts:account")]
    draft_paths = [reverse("claims:wizard_losses", args=[draft.pk]), reverse("claims:wizard_evidence", args=[draft.pk])]
    problems = []
    for width in WIDTHS:
        context = phone_context(chromium, width)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        for path in paths:
            problems += check_page(page, live_server.url + path, width)
        context.clear_cookies()
        context.add_cookies(
            [{"name": "sessionid", "value": drafting_client.cookies["sessionid"].value, "url": live_server.url}]
        )
        for path in draft_paths:
            problems += check_page(page, live_server.url + path, width)
        context.close()
    assert not problems, "\n".join(problems)


def test_the_landing_page_shows_each_services_end_time_on_a_320_px_phone(chromium, live_server):
    context = phone_context(chromium, 320)
    page = context.new_page()
    page.goto(live_server.url + "/")
    table = page.get_by_test_id("outage-table")
    first_row = table.locator("tbody tr").first
    end = first_row.locator("td").nth(1)
    box = end.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert end.is_visible()
    context.close()
