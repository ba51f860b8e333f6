"""The journey's payment step on a phone (payments/, docs/payments.md): a claimant who signed is sent to the step,
closes the sandbox window and stays on the step with a message, pays by easy pay, comes back to the receipt; the
signed webhook reached the site and changed nothing more; the claim wizard then opens. No page of the flow breaks
the strict Content Security Policy."""

import pytest
from playwright.sync_api import expect

from claims.tests.factories import claimant_ready
from core.models import WebhookEvent
from e2e.test_claim_wizard import fits_the_screen, log_in
from integrations.payments import PAYMENT_WEBHOOK_PROVIDER
from payments.models import PaymentEntry, RetainerOrder
from payments.tests.factories import retainer_terms_seeded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_claimant_pays_the_retainer_on_a_phone_after_closing_the_window_once(phone_page, settings, live_server):
    settings.PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    settings.SANDBOX_PAYMENT_WEBHOOK_URL = f"{live_server.url}/webhooks/payments"
    retainer_terms_seeded()
    claimant = claimant_ready(retainer_paid=False)
    page = phone_page
    reported: list[str] = []
    page.on("console", lambda message: reported.append(message.text) if "Content Security" in message.text else None)
    page.on("pageerror", lambda error: reported.append(str(error)))
    log_in(page, claimant)

    page.goto(page.live_server_url + "/claims/start/")
    page.wait_for_url("**/payments/retainer/")
    expect(page.get_by_test_id("retainer-amount")).to_have_text("20,000원")
    assert fits_the_screen(page)

    page.get_by_test_id("retainer-pay").click()
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("SANDBOX 가상 결제")
    page.get_by_test_id("checkout-close").click()
    page.wait_for_url("**/payments/retainer/")
    expect(page.get_by_role("alert").filter(has_text="결제가 완료되지 않았습니다")).to_be_visible()

    page.get_by_test_id("retainer-pay").click()
    expect(page.get_by_test_id("order-amount")).to_have_text("20,000원")
    page.get_by_label("간편결제").check()
    page.get_by_test_id("checkout-pay").click()
    expect(page.get_by_text("착수금 20,000원 결제를 확인했습니다")).to_be_visible()  # and on to the claim wizard
    assert "/payments/" not in page.url
    page.goto(f"{page.live_server_url}/payments/retainer/{RetainerOrder.objects.get().pk}/receipt/")
    expect(page.get_by_test_id("receipt-status")).to_have_text("결제 완료")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("20,000원")
    assert fits_the_screen(page)

    order = RetainerOrder.objects.get(claimant=claimant)
    assert order.status == RetainerOrder.Status.PAID
    assert list(order.entries.values_list("kind", "method")) == [
        (PaymentEntry.Kind.ORDER, ""),
        (PaymentEntry.Kind.PAYMENT, "easy_pay"),
    ]
    events = WebhookEvent.objects.filter(provider=PAYMENT_WEBHOOK_PROVIDER)
    assert "Transaction.Paid" in [event.payload["type"] for event in events]
    assert all(event.processed_at for event in events)

    page.goto(page.live_server_url + "/claims/start/")
    expect(page).not_to_have_url(page.live_server_url + "/payments/retainer/")
    assert "/payments/" not in page.url
    assert reported == []
