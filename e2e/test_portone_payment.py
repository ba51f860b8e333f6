"""PortOne's payment window through its browser SDK (static/js/portone-checkout.js, docs/providers/payments.md),
with PortOne the configured gateway and its servers out of reach: the SDK's bundle (@portone/browser-sdk from
node_modules) loads from our static files, and its request for PortOne's script (https://cdn.portone.io) is answered
by page.route with a stand-in that records what requestPayment was given and answers as PortOne does (a redirect on
phones, the promise on desktops). The server then confirms with payment_get against the local PortOne contract
server. The strict Content Security Policy, widened on this page by PortOne's origins only, is never violated."""

import json
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from claims.tests.factories import claimant_ready
from e2e.test_claim_wizard import fits_the_screen, log_in
from integrations.tests.portone_server import API_SECRET, STORE_ID, PortOneServer, paid_payment
from payments.models import PaymentEntry, RetainerOrder
from payments.tests.factories import retainer_terms_seeded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTONE_SCRIPT = "https://cdn.portone.io/v2/browser-sdk.js"
SDK_BUNDLE = "/static/vendor/portone-browser-sdk/v2.js"
# Stands in for PortOne's script: window.PortOne.requestPayment notes its request; what it answers is set per test
# in window.portoneAnswer ("wait": nothing yet, as while the window is open; otherwise the promise's value).
PORTONE_SCRIPT_STAND_IN = """
window.portoneRequests = [];
window.PortOne = {
  requestPayment(request) {
    window.portoneRequests.push(request);
    if (window.portoneAnswer === "wait") { return new Promise(() => {}); }
    return Promise.resolve(window.portoneAnswer);
  },
};
"""


@pytest.fixture
def portone(settings):
    with PortOneServer() as server:
        settings.PAYMENT_BACKEND = "integrations.payments.portone.PortOnePaymentGateway"
        settings.PORTONE_API_URL = server.url
        settings.PORTONE_API_SECRET = API_SECRET
        settings.PORTONE_STORE_ID = STORE_ID
        settings.PORTONE_CHANNEL_KEY = "channel-key-test"
        yield server


def watched(page) -> dict[str, list[str]]:
    """The CSP violations and page errors, and every request the page made."""
    seen: dict[str, list[str]] = {"problems": [], "requests": []}
    page.on(
        "console",
        lambda message: seen["problems"].append(message.text) if "Content Security" in message.text else None,
    )
    page.on("pageerror", lambda error: seen["problems"].append(str(error)))
    page.on("request", lambda request: seen["requests"].append(request.url))
    return seen


def portone_answers(page, answer) -> None:
    """PortOne's script (from its CDN, which page.route stands in for) answers requestPayment with `answer`."""
    page.route(
        PORTONE_SCRIPT,
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=PORTONE_SCRIPT_STAND_IN),
    )
    page.add_init_script(f"window.portoneAnswer = {json.dumps(answer)};")


def pay_with(page, method_label: str) -> None:
    page.goto(page.live_server_url + "/claims/start/")
    page.wait_for_url("**/payments/retainer/")
    expect(page.get_by_test_id("retainer-amount")).to_have_text("20,000원")
    page.get_by_label(method_label).check()
    page.get_by_test_id("retainer-pay").click()


def test_a_phone_pays_in_portones_window_and_the_server_confirms_with_portone(phone_page, portone, live_server):
    retainer_terms_seeded()
    claimant = claimant_ready(retainer_paid=False)
    page = phone_page
    seen = watched(page)
    portone_answers(page, "wait")
    log_in(page, claimant)

    pay_with(page, "간편결제")
    expect(page.get_by_test_id("retainer-window-opening")).to_be_visible()
    assert fits_the_screen(page)
    page.wait_for_function("() => window.portoneRequests && window.portoneRequests.length === 1")
    [request] = page.evaluate("window.portoneRequests")
    order = RetainerOrder.objects.get(claimant=claimant)
    return_url = f"{live_server.url}/payments/retainer/return/"
    assert request == {
        "storeId": STORE_ID,
        "channelKey": "channel-key-test",
        "paymentId": order.payment_id,
        "orderName": "공동소송 착수금",
        "totalAmount": 20000,
        "currency": "KRW",
        "payMethod": "EASY_PAY",
        "redirectUrl": return_url,
    }
    assert page.live_server_url + SDK_BUNDLE in seen["requests"]
    assert PORTONE_SCRIPT in seen["requests"]

    # The person pays in PortOne's window; PortOne records the payment and, on a phone, sends the browser back.
    portone.state.payments[order.payment_id] = paid_payment(
        order.payment_id, total=20000, method_type="PaymentMethodEasyPay"
    )
    query = urlencode({"paymentId": order.payment_id, "transactionType": "PAYMENT", "txId": "tx-e2e-1"})
    page.goto(f"{request['redirectUrl']}?{query}")
    expect(page.get_by_text("착수금 20,000원 결제를 확인했습니다")).to_be_visible()  # and on to the claim wizard
    order.refresh_from_db()
    page.goto(f"{page.live_server_url}/payments/retainer/{order.pk}/receipt/")
    expect(page.get_by_test_id("receipt-status")).to_have_text("결제 완료")
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PAID
    assert list(order.entries.values_list("kind", "method")) == [
        (PaymentEntry.Kind.ORDER, ""),
        (PaymentEntry.Kind.PAYMENT, "easy_pay"),
    ]
    assert [(received.method, received.path) for received in portone.state.received] == [
        ("GET", f"/payments/{order.payment_id}")
    ]
    assert seen["problems"] == []


def test_a_desktop_window_closed_comes_back_with_portones_code_and_nothing_paid(desktop_page, portone):
    retainer_terms_seeded()
    claimant = claimant_ready(retainer_paid=False)
    page = desktop_page
    seen = watched(page)
    # What PortOne's promise gives when the person closes the window (PaymentResponse with a code).
    closed = {"transactionType": "PAYMENT", "txId": "tx-e2e-2", "code": "FAILURE_TYPE_PG", "message": "결제 취소"}
    portone_answers(page, closed)
    log_in(page, claimant)

    pay_with(page, "카드")
    page.wait_for_url("**/payments/retainer/")
    expect(page.get_by_role("alert").filter(has_text="결제가 완료되지 않았습니다")).to_be_visible()
    order = RetainerOrder.objects.get(claimant=claimant)
    return_requests = [url for url in seen["requests"] if "/payments/retainer/return/" in url]
    assert len(return_requests) == 1
    assert f"paymentId={order.payment_id}" in return_requests[0] and "code=FAILURE_TYPE_PG" in return_requests[0]
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PENDING
    assert portone.state.received == []
    assert seen["problems"] == []


def test_portones_script_out_of_reach_is_said_on_the_page(phone_page, portone):
    retainer_terms_seeded()
    claimant = claimant_ready(retainer_paid=False)
    page = phone_page
    seen = watched(page)
    page.route(PORTONE_SCRIPT, lambda route: route.abort("internetdisconnected"))
    log_in(page, claimant)

    pay_with(page, "계좌이체")
    expect(page.get_by_role("alert")).to_contain_text("결제창을 불러오지 못했습니다")
    assert RetainerOrder.objects.get(claimant=claimant).status == RetainerOrder.Status.PENDING
    assert [problem for problem in seen["problems"] if "Content Security" in problem] == []
