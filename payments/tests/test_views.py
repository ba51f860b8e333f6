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
    response = claimant_client.post(reverse("payments:retainer"))
    again = claimant_client.post(reverse("payments:retainer"))  # a second click: the same order
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    target = urlsplit(response["Location"])
    assert target.path == reverse("integrations:payment_checkout", kwargs={"payment_id": order.payment_id})
    assert parse_qs(target.query)["amount"] == ["20000"]
    assert urlsplit(again["Location"]).path == target.path


def test_closing_the_window_keeps_the_claimant_on_the_step_with_a_message(claimant_client):
    claimant_client.post(reverse("payments:retainer"))
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    response = claimant_client.get(
        reverse("payments:retainer_return"), {"paymentId": order.payment_id, "code": "FAILURE_TYPE_PG"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("payments:retainer")
    assert "결제가 완료되지 않았습니다" in response.content.decode()
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PENDING


def test_the_return_from_a_paid_window_is_confirmed_by_the_server_and_shows_the_receipt(claimant_client):
    claimant_client.post(reverse("payments:retainer"))
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    sandbox_payment_made(order)
    response = claimant_client.get(reverse("payments:retainer_return"), {"paymentId": order.payment_id}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("payments:receipt", args=[order.pk])
    page = response.content.decode()
    assert "결제 완료" in page and "20,000원" in page and "SANDBOX" in page
    assert claimant_client.get(reverse("claims:start")).status_code in (200, 302)
    assert claimant_client.get(reverse("claims:start")).get("Location") != reverse("payments:retainer")


def test_a_return_claiming_payment_without_one_confirms_nothing(claimant_client):
    claimant_client.post(reverse("payments:retainer"))
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    response = claimant_client.get(reverse("payments:retainer_return"), {"paymentId": order.payment_id}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("payments:retainer")
    assert not order.entries.filter(kind=PaymentEntry.Kind.PAYMENT).exists()


def test_the_gateway_down_shows_a_message_and_loses_nothing(claimant_client, settings):
    settings.PAYMENT_BACKEND = f"{__name__}.DownGateway"
    response = claimant_client.post(reverse("payments:retainer"))
    assert response.status_code == 503
    assert "잠시 뒤 다시 시도해 주세요" in response.content.decode()
    settings.PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    order = RetainerOrder.objects.get(claimant=claimant_client.claimant)
    response = claimant_client.post(reverse("payments:retainer"))  # later: the same order, the window opens
    assert order.payment_id in response["Location"]


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
