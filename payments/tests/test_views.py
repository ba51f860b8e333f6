"""The claimant's payment step on the site: the amount, 결제하기 to the sandbox window, the return (paid, closed),
the gateway down, the receipt; and the guard sending an unpaid claimant to the step (payments/views.py)."""

import io
import json
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from claims.tests.factories import claimant_ready
from core.exceptions import ProviderError
from integrations.payments.sandbox import SandboxPaymentGateway
from integrations.tests.portone_server import API_SECRET, STORE_ID, PortOneServer, paid_payment
from payments.models import PaymentEntry, RetainerOrder
from payments.tests.factories import retainer_paid_in_sandbox, retainer_terms_seeded, sandbox_payment_made

pytestmark = pytest.mark.django_db


class DownGateway(SandboxPaymentGateway):
    """The sandbox gateway, unreachable: what provider_session raises on a time-out."""

    def checkout_context(self, **kwargs):
        raise ProviderError("time-out", retryable=True, code="provider_unreachable")


@pytest.fixture
def claimant_client(client):
    retainer_terms_seeded()
    claimant = claimant_ready(retainer_paid=False)
    client.force_login(claimant)
    client.claimant = claimant
    return client


def test_an_unpaid_claimant_is_sent_to_the_payment_step(claimant_client):
    response = claimant_client.get(reverse("claims:start"))
    assert response.status_code == 302 and response["Location"] == reverse("payments:retainer")


def test_the_step_shows_the_fee_terms_amount_and_pay_opens_the_sandbox_window(claimant_client):
    page = claimant_client.get(reverse("payments:retainer"))
    assert page.status_code == 200 and "20,000원" in page.content.decode()
    response = claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    again = claimant_client.post(reverse("payments:retainer"), {"method": "card"})  # a second click: the same order
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    target = urlsplit(response["Location"])
    assert target.path == reverse("integrations:payment_checkout", kwargs={"payment_id": order.payment_id})
    assert parse_qs(target.query)["amount"] == ["20000"]
    assert urlsplit(again["Location"]).path == target.path


def test_closing_the_window_keeps_the_claimant_on_the_step_with_a_message(claimant_client):
    claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    response = claimant_client.get(
        reverse("payments:retainer_return"), {"paymentId": order.payment_id, "code": "FAILURE_TYPE_PG"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("payments:retainer")
    assert "결제가 완료되지 않았습니다" in response.content.decode()
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PENDING


def test_the_return_from_a_paid_window_is_confirmed_by_the_server_and_goes_on_to_the_claim(claimant_client):
    claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    sandbox_payment_made(order)
    response = claimant_client.get(reverse("payments:retainer_return"), {"paymentId": order.payment_id}, follow=True)
    # Paid: on to the next step of the journey (the claim wizard), the receipt emailed and on the retainer page.
    assert response.redirect_chain[0][0] == reverse("claims:start")
    assert "착수금 20,000원 결제를 확인했습니다" in response.content.decode()
    page = claimant_client.get(reverse("payments:receipt", args=[order.pk])).content.decode()
    assert "결제 완료" in page and "20,000원" in page and "SANDBOX" in page
    assert claimant_client.get(reverse("claims:start")).status_code in (200, 302)
    assert claimant_client.get(reverse("claims:start")).get("Location") != reverse("payments:retainer")


def test_a_return_claiming_payment_without_one_confirms_nothing(claimant_client):
    claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    response = claimant_client.get(reverse("payments:retainer_return"), {"paymentId": order.payment_id}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("payments:retainer")
    assert not order.entries.filter(kind=PaymentEntry.Kind.PAYMENT).exists()


def test_the_gateway_down_shows_a_message_and_loses_nothing(claimant_client, settings):
    settings.PAYMENT_BACKEND = f"{__name__}.DownGateway"
    response = claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    assert response.status_code == 503
    assert "잠시 뒤 다시 시도해 주세요" in response.content.decode()
    settings.PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    # Later: the same order, the window opens.
    response = claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    assert order.payment_id in response["Location"]


@pytest.fixture
def portone(settings):
    """PortOne is the configured gateway, its API played by the local contract server."""
    with PortOneServer() as server:
        settings.PAYMENT_BACKEND = "integrations.payments.portone.PortOnePaymentGateway"
        settings.PORTONE_API_URL = server.url
        settings.PORTONE_API_SECRET = API_SECRET
        settings.PORTONE_STORE_ID = STORE_ID
        settings.PORTONE_CHANNEL_KEY = "channel-key-test"
        yield server


def csp_sources(response, directive: str) -> list[str]:
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        if name == directive:
            return sources
    return []


def test_with_portone_pay_opens_its_window_with_the_orders_request_and_the_picked_method(claimant_client, portone):
    page = claimant_client.get(reverse("payments:retainer"))
    assert 'value="easy_pay"' in page.content.decode()
    assert "https://cdn.portone.io" not in page["Content-Security-Policy"]

    response = claimant_client.post(reverse("payments:retainer"), {"method": "easy_pay"})
    assert response.status_code == 200
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    checkout = response.context["sdk_checkout"]
    return_url = "http://testserver" + reverse("payments:retainer_return")
    assert checkout["request"] == {
        "storeId": STORE_ID,
        "channelKey": "channel-key-test",
        "paymentId": order.payment_id,
        "orderName": "공동소송 착수금",
        "totalAmount": 20000,
        "currency": "KRW",
        "payMethod": "EASY_PAY",
        "redirectUrl": return_url,
    }
    assert (checkout["returnUrl"], checkout["sdkUrl"]) == (return_url, "/static/vendor/portone-browser-sdk/v2.js")
    html = response.content.decode()
    assert 'id="portone-checkout" type="application/json"' in html
    assert 'type="module" src="/static/js/portone-checkout.js"' in html
    assert 'data-testid="retainer-pay"' not in html  # the window opens by itself
    assert portone.state.received == []  # opening the window asks PortOne's API nothing


def test_only_the_page_opening_portones_window_allows_portones_origins(claimant_client, portone):
    response = claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    assert csp_sources(response, "script-src") == ["'self'", "https://cdn.portone.io"]
    assert "https://checkout-service.prod.iamport.co" in csp_sources(response, "frame-src")
    assert "https://checkout-service.prod.iamport.co" in csp_sources(response, "connect-src")
    assert csp_sources(response, "frame-ancestors") == ["'none'"]
    for path in (reverse("payments:retainer"), reverse("claims:index")):
        assert csp_sources(claimant_client.get(path), "script-src") == ["'self'"]


def test_a_pay_without_a_method_opens_nothing(claimant_client, portone):
    response = claimant_client.post(reverse("payments:retainer"), {"method": "bitcoin"})
    assert "sdk_checkout" not in response.context
    assert not RetainerOrder.objects.filter(claimant=claimant_client.claimant).exists()


def test_the_return_from_portones_window_is_confirmed_with_portone(claimant_client, portone):
    claimant_client.post(reverse("payments:retainer"), {"method": "card"})
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    portone.state.payments[order.payment_id] = paid_payment(order.payment_id, total=20000)
    response = claimant_client.get(
        reverse("payments:retainer_return"), {"paymentId": order.payment_id, "txId": "tx-1"}, follow=True
    )
    assert response.redirect_chain[0][0] == reverse("claims:start")
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PAID
    assert [(r.method, r.path) for r in portone.state.received] == [("GET", f"/payments/{order.payment_id}")]


def test_a_claimant_sees_only_their_own_receipts(claimant_client, client):
    other = claimant_ready(retainer_paid=False)
    order = retainer_paid_in_sandbox(other)
    assert claimant_client.get(reverse("payments:receipt", args=[order.pk])).status_code == 404
    mine = retainer_paid_in_sandbox(claimant_client.claimant)
    page = claimant_client.get(reverse("payments:retainer")).content.decode()
    assert reverse("payments:receipt", args=[mine.pk]) in page


def test_the_data_download_holds_the_retainer_and_its_ledger(claimant_client):
    order = retainer_paid_in_sandbox(claimant_client.claimant)
    response = claimant_client.get(reverse("accounts:data_export"))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    [exported] = json.loads(archive.read("data.json"))["retainer"]
    assert (exported["payment_id"], exported["status"]) == (order.payment_id, "paid")
    assert [entry["kind"] for entry in exported["entries"]] == ["order", "payment"]


def test_the_portal_links_the_retainers_payments_and_receipts(claimant_client):
    retainer_paid_in_sandbox(claimant_client.claimant)
    page = claimant_client.get(reverse("claims:index")).content.decode()
    assert f'href="{reverse("payments:retainer")}"' in page and "결제와 영수증" in page
