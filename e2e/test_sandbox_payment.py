"""The sandbox payment window on a phone (integrations/payments/, docs/providers/payments.md): the person picks a
method and pays; the browser comes back with the payment id, the gateway says paid, and the signed webhooks reached
the site. Closing the window leaves the payment ready. The page breaks nothing under the strict CSP."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from core.models import WebhookEvent
from integrations.payments import PAYMENT_WEBHOOK_PROVIDER, PaymentMethod, PaymentStatus, payment_gateway

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


handled: list[str] = []


def handle_payment_event(*, event: WebhookEvent) -> None:
    """Stands in for the domain's handler (issue 19): notes which event was processed."""
    handled.append(event.payload["type"])


@pytest.fixture
def sandbox_gateway(settings, live_server):
    handled.clear()
    settings.PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    settings.SANDBOX_PAYMENT_WEBHOOK_URL = f"{live_server.url}/webhooks/payments"
    settings.WEBHOOK_HANDLERS = {
        **settings.WEBHOOK_HANDLERS,
        PAYMENT_WEBHOOK_PROVIDER: "e2e.test_sandbox_payment.handle_payment_event",
    }
    return payment_gateway()


def checkout(page, gateway, payment_id: str) -> None:
    context = gateway.checkout_context(
        payment_id=payment_id, amount=20000, order_name="착수금", redirect_url="/?from=pay"
    )
    reported: list[str] = []
    page.on(
        "console", lambda message: reported.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(page.live_server_url + context.checkout_url)
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("SANDBOX 가상 결제")
    expect(page.get_by_test_id("order-amount")).to_have_text("20,000원")
    assert reported == []


def test_a_phone_pays_in_the_sandbox_window_and_the_server_confirms_it(phone_page, sandbox_gateway):
    page = phone_page
    checkout(page, sandbox_gateway, "order-e2e-1")
    page.get_by_label("간편결제").check()
    page.get_by_test_id("checkout-pay").click()
    page.wait_for_url("**/?from=pay&paymentId=order-e2e-1*")
    query = parse_qs(urlsplit(page.url).query)
    assert "code" not in query
    payment = sandbox_gateway.payment_get("order-e2e-1")
    assert (payment.status, payment.method, payment.amount_total) == (PaymentStatus.PAID, PaymentMethod.EASY_PAY, 20000)
    types = WebhookEvent.objects.filter(provider=PAYMENT_WEBHOOK_PROVIDER).order_by("pk").values_list("payload__type")
    assert [row[0] for row in types] == ["Transaction.Ready", "Transaction.Paid"]
    assert handled == ["Transaction.Ready", "Transaction.Paid"]


def test_closing_the_window_comes_back_with_portones_code_and_nothing_paid(phone_page, sandbox_gateway):
    page = phone_page
    checkout(page, sandbox_gateway, "order-e2e-2")
    page.get_by_test_id("checkout-close").click()
    page.wait_for_url("**/?from=pay&paymentId=order-e2e-2*")
    assert parse_qs(urlsplit(page.url).query)["code"] == ["FAILURE_TYPE_PG"]
    assert sandbox_gateway.payment_get("order-e2e-2").status == PaymentStatus.READY
