"""The sandbox payment gateway end to end: its checkout window, payment_get and payment_cancel on its records, and the
signed webhooks it sends to /webhooks/payments (integrations/payments/, docs/providers/payments.md)."""

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from core.checks import provider_backends_check
from core.exceptions import ProviderError
from core.models import WebhookEvent
from integrations.payments import (
    PAYMENT_WEBHOOK_PROVIDER,
    WEBHOOK_TOLERANCE_SECONDS,
    PaymentMethod,
    PaymentRefusedError,
    PaymentStatus,
    payment_gateway,
    webhook_headers,
    webhook_signature,
)
from integrations.payments.models import SandboxPayment, SandboxPaymentCancellation
from integrations.payments.sandbox import (
    sandbox_payment_open,
    sandbox_payment_pay,
    sandbox_webhook_request,
    sandbox_webhook_secret,
)

SANDBOX = "integrations.payments.sandbox.SandboxPaymentGateway"
UNCONFIGURED = "integrations.payments.UnconfiguredPaymentGateway"
RETURN_URL = "/claims/retainer/return?step=payment"
handled: list[dict] = []


def handle_payment_event(*, event: WebhookEvent) -> None:
    handled.append(event.payload)


@pytest.fixture(autouse=True)
def _sandbox_gateway(settings):
    handled.clear()
    settings.PAYMENT_BACKEND = SANDBOX
    settings.SANDBOX_PAYMENT_WEBHOOK_URL = ""
    settings.WEBHOOK_HANDLERS = {
        **settings.WEBHOOK_HANDLERS,
        PAYMENT_WEBHOOK_PROVIDER: "integrations.tests.test_payments_sandbox.handle_payment_event",
    }


def checkout_open(client, payment_id="order-1", *, amount=20000, order_name="착수금", redirect_url=RETURN_URL):
    url = payment_gateway().checkout_context(
        payment_id=payment_id, amount=amount, order_name=order_name, redirect_url=redirect_url
    )
    return client.get(url.checkout_url)


def checkout_act(client, action, payment_id="order-1", *, method="card", redirect_url=RETURN_URL):
    data = {"action": action, "method": method, "redirect_url": redirect_url}
    return client.post(f"/sandbox/payments/{payment_id}/checkout", data)


def redirect_query(response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    return parts.path, {key: values[-1] for key, values in parse_qs(parts.query).items()}


def paid(payment_id="order-1", amount=30000):
    sandbox_payment_open(payment_id=payment_id, amount=amount, order_name="착수금", webhook_url="http://testserver/")
    sandbox_payment_pay(payment_id=payment_id, method=PaymentMethod.CARD)


def deliver(client, body: bytes, headers: dict[str, str]):
    extra = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in headers.items()
        if name.startswith("webhook-")
    }
    return client.post("/webhooks/payments", body, content_type="application/json", **extra)


@pytest.mark.django_db
class TestCheckout:
    def test_the_window_opens_marked_as_sandbox_with_the_order(self, client):
        response = checkout_open(client)
        assert response.status_code == 200
        page = response.content.decode()
        assert "SANDBOX 가상 결제" in page
        assert "20,000원" in page and "착수금" in page
        for button in ("결제하기", "결제 실패 시험", "닫기"):
            assert button in page
        payment = payment_gateway().payment_get("order-1")
        assert (payment.status, payment.amount_total, payment.sandbox) == (PaymentStatus.READY, 20000, True)

    def test_the_window_opens_on_the_method_picked_on_the_site(self, client):
        url = (
            payment_gateway()
            .checkout_context(
                payment_id="o", amount=100, order_name="x", redirect_url="/", method=PaymentMethod.TRANSFER
            )
            .checkout_url
        )
        form = client.get(url).context["form"]
        assert form["method"].value() == "transfer"
        assert checkout_open(client, "p").context["form"]["method"].value() == "card"

    def test_the_window_speaks_english_too(self, client):
        url = (
            payment_gateway()
            .checkout_context(payment_id="o", amount=100, order_name="x", redirect_url="/")
            .checkout_url
        )
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "SANDBOX test payment" in page
        assert "Test a failed payment" in page

    def test_paying_redirects_back_and_the_server_reads_the_payment_as_paid(self, client):
        checkout_open(client)
        path, query = redirect_query(checkout_act(client, "pay", method="transfer"))
        assert path == "/claims/retainer/return"
        assert query["step"] == "payment"  # the site's own query is kept
        assert query["paymentId"] == "order-1"
        assert "code" not in query
        payment = payment_gateway().payment_get("order-1")
        assert payment.status == PaymentStatus.PAID
        assert (payment.amount_total, payment.amount_cancelled, payment.currency) == (20000, 0, "KRW")
        assert payment.method == PaymentMethod.TRANSFER
        assert payment.paid_at is not None
        assert payment.gateway_transaction_id == query["txId"]

    def test_the_failure_test_button_fails_the_payment_with_a_portone_code(self, client):
        checkout_open(client)
        _, query = redirect_query(checkout_act(client, "fail"))
        assert (query["paymentId"], query["code"], query["pgCode"]) == (
            "order-1",
            "FAILURE_TYPE_PG",
            "SANDBOX_CARD_DECLINED",
        )
        assert query["message"]
        assert payment_gateway().payment_get("order-1").status == PaymentStatus.FAILED
        with pytest.raises(PaymentRefusedError) as refused:
            payment_gateway().payment_cancel("order-1", reason="환불", request_id="r1")
        assert refused.value.code == "payment_not_paid"

    def test_a_failed_payment_can_be_tried_again(self, client):
        checkout_open(client)
        checkout_act(client, "fail")
        assert checkout_open(client).status_code == 200
        assert payment_gateway().payment_get("order-1").status == PaymentStatus.READY
        checkout_act(client, "pay")
        assert payment_gateway().payment_get("order-1").status == PaymentStatus.PAID

    def test_closing_the_window_leaves_the_payment_ready(self, client):
        checkout_open(client)
        _, query = redirect_query(checkout_act(client, "close", method=""))
        assert (query["paymentId"], query["code"]) == ("order-1", "FAILURE_TYPE_PG")
        payment = payment_gateway().payment_get("order-1")
        assert (payment.status, payment.method, payment.paid_at) == (PaymentStatus.READY, None, None)

    def test_a_paid_order_cannot_be_opened_or_paid_again(self, client):
        checkout_open(client)
        checkout_act(client, "pay")
        assert checkout_open(client, amount=1).status_code == 409
        assert checkout_act(client, "pay").status_code == 409
        assert SandboxPayment.objects.get().amount == 20000

    @pytest.mark.parametrize(
        "redirect_url", ["https://evil.example/return", "//evil.example/return", "javascript:alert(1)"]
    )
    def test_the_redirect_url_must_be_this_site(self, client, redirect_url):
        assert checkout_open(client, redirect_url=redirect_url).status_code == 400
        assert not SandboxPayment.objects.exists()
        paid("order-1")
        assert checkout_act(client, "close", redirect_url=redirect_url).status_code == 400

    @pytest.mark.parametrize(
        "query",
        ["amount=0&order_name=x", "amount=abc&order_name=x", f"amount={2**63}&order_name=x", "amount=100&order_name="],
    )
    def test_an_order_without_a_positive_amount_and_a_name_is_refused(self, client, query):
        response = client.get(f"/sandbox/payments/order-1/checkout?{query}&redirect_url=/")
        assert response.status_code == 400
        assert not SandboxPayment.objects.exists()

    def test_paying_needs_a_method(self, client):
        checkout_open(client)
        assert checkout_act(client, "pay", method="").status_code == 400
        assert payment_gateway().payment_get("order-1").status == PaymentStatus.READY

    def test_paying_queues_the_webhook_only_after_commit(self, client, django_capture_on_commit_callbacks):
        checkout_open(client)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            checkout_act(client, "pay")
        assert len(callbacks) == 1
        assert handled == []


@pytest.mark.django_db
class TestCancel:
    def test_a_partial_then_a_full_cancel(self):
        paid(amount=30000)
        gateway = payment_gateway()
        first = gateway.payment_cancel("order-1", amount=10000, reason="일부 환불", request_id="refund-1")
        assert (first.amount, first.reason, first.sandbox) == (10000, "일부 환불", True)
        payment = gateway.payment_get("order-1")
        assert payment.status == PaymentStatus.PARTIAL_CANCELLED
        assert (payment.amount_cancelled, payment.amount_cancellable) == (10000, 20000)
        rest = gateway.payment_cancel("order-1", reason="청구 기각", request_id="refund-2")
        assert rest.amount == 20000
        payment = gateway.payment_get("order-1")
        assert (payment.status, payment.amount_cancelled, payment.amount_cancellable) == (
            PaymentStatus.CANCELLED,
            30000,
            0,
        )
        with pytest.raises(PaymentRefusedError) as refused:
            gateway.payment_cancel("order-1", amount=1, reason="again", request_id="refund-3")
        assert refused.value.code == "payment_already_cancelled"

    def test_cancelling_more_than_is_left_is_refused_and_changes_nothing(self):
        paid(amount=30000)
        gateway = payment_gateway()
        gateway.payment_cancel("order-1", amount=25000, reason="환불", request_id="refund-1")
        with pytest.raises(PaymentRefusedError) as refused:
            gateway.payment_cancel("order-1", amount=5001, reason="환불", request_id="refund-2")
        assert refused.value.code == "cancel_amount_exceeds_cancellable_amount"
        assert "5000" in str(refused.value.message)
        assert gateway.payment_get("order-1").amount_cancelled == 25000
        assert SandboxPaymentCancellation.objects.count() == 1

    def test_a_repeated_request_id_gives_back_the_same_cancellation(self):
        paid(amount=30000)
        gateway = payment_gateway()
        first = gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
        again = gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
        assert again == first
        assert gateway.payment_get("order-1").amount_cancelled == 10000

    def test_an_unknown_payment_is_refused(self):
        with pytest.raises(PaymentRefusedError) as refused:
            payment_gateway().payment_get("nobody")
        assert refused.value.code == "payment_not_found"


@pytest.mark.django_db(transaction=True)
def test_two_cancels_at_once_never_refund_more_than_was_paid():
    paid(amount=30000)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def cancel(request_id: str) -> None:
        try:
            start.wait()
            payment_gateway().payment_cancel("order-1", amount=20000, reason="환불", request_id=request_id)
            outcomes.append("cancelled")
        except PaymentRefusedError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(f"refund-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["cancel_amount_exceeds_cancellable_amount", "cancelled"]
    assert SandboxPayment.objects.get().amount_cancelled == 20000


@pytest.mark.django_db
class TestWebhooks:
    def payment(self):
        paid()
        return SandboxPayment.objects.get()

    def test_a_signed_webhook_is_stored_and_handled_once(self, client, django_capture_on_commit_callbacks):
        headers, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Paid")
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, body, headers)
        assert response.json() == {"ok": True, "duplicate": False}
        assert handled[0]["type"] == "Transaction.Paid"
        assert handled[0]["data"]["paymentId"] == "order-1"
        with django_capture_on_commit_callbacks(execute=True):
            again = deliver(client, body, headers)
        assert again.json() == {"ok": True, "duplicate": True}
        assert len(handled) == 1
        assert WebhookEvent.objects.get().event_id == headers["webhook-id"]

    def test_the_verified_event_names_the_payment(self):
        headers, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Cancelled")
        event = payment_gateway().webhook_verify(headers, body)
        assert (event.type, event.payment_id, event.webhook_id) == (
            "Transaction.Cancelled",
            "order-1",
            headers["webhook-id"],
        )
        assert event.occurred_at is not None

    def test_a_changed_body_or_a_wrong_secret_is_refused(self, client):
        headers, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Paid")
        tampered = body.replace(b"order-1", b"order-2")
        assert deliver(client, tampered, headers).status_code == 403
        forged = webhook_headers(secret=b"not-the-secret", webhook_id="msg_forged", body=body)
        response = deliver(client, body, forged)
        assert (response.status_code, response.json()["code"]) == (403, "no_matching_signature")
        assert not WebhookEvent.objects.exists()

    @pytest.mark.parametrize(
        ("shift", "code"),
        [(-WEBHOOK_TOLERANCE_SECONDS - 60, "timestamp_too_old"), (WEBHOOK_TOLERANCE_SECONDS + 60, "timestamp_too_new")],
    )
    def test_a_replayed_or_future_timestamp_is_refused_even_when_signed(self, client, shift, code):
        _, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Paid")
        stale = webhook_headers(
            secret=sandbox_webhook_secret(), webhook_id="msg_1", body=body, timestamp=int(time.time()) + shift
        )
        response = deliver(client, body, stale)
        assert (response.status_code, response.json()["code"]) == (403, code)
        assert not WebhookEvent.objects.exists()

    def test_missing_headers_are_refused(self, client):
        _, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Paid")
        response = deliver(client, body, {})
        assert (response.status_code, response.json()["code"]) == (400, "missing_required_headers")

    def test_one_matching_signature_among_several_is_enough(self, client, django_capture_on_commit_callbacks):
        """While a secret is rotated the gateway signs with both: "v1,<old> v1,<new>"."""
        headers, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Paid")
        old = webhook_signature(
            secret=b"old-secret", webhook_id=headers["webhook-id"], timestamp=headers["webhook-timestamp"], body=body
        )
        headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, body, headers).status_code == 200
        assert len(handled) == 1

    def test_without_a_handler_the_webhook_is_left_for_a_later_delivery(self, client, settings):
        settings.WEBHOOK_HANDLERS = {}
        headers, body = sandbox_webhook_request(payment=self.payment(), event_type="Transaction.Paid")
        assert deliver(client, body, headers).status_code == 503
        assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_checkout_sends_signed_webhooks_to_the_site_after_each_change(client, live_server, settings):
    """No stand-in for the delivery: the sandbox posts to the running site, which verifies and stores the events."""
    settings.SANDBOX_PAYMENT_WEBHOOK_URL = f"{live_server.url}/webhooks/payments"
    checkout_open(client)
    checkout_act(client, "pay")
    payment_gateway().payment_cancel("order-1", amount=5000, reason="환불", request_id="refund-1")
    events = WebhookEvent.objects.filter(provider=PAYMENT_WEBHOOK_PROVIDER).order_by("received_at", "pk")
    assert [event.payload["type"] for event in events] == [
        "Transaction.Ready",
        "Transaction.Paid",
        "Transaction.PartialCancelled",
    ]
    assert all(event.processed_at is not None for event in events)
    assert [payload["data"]["paymentId"] for payload in handled] == ["order-1"] * 3


@pytest.mark.django_db
class TestConfiguration:
    def test_the_checkout_answers_404_when_the_sandbox_is_not_the_gateway(self, client, settings):
        settings.PAYMENT_BACKEND = UNCONFIGURED
        response = client.get(f"/sandbox/payments/order-1/checkout?amount=100&order_name=x&redirect_url={RETURN_URL}")
        assert response.status_code == 404
        assert checkout_act(client, "pay").status_code == 404
        assert not SandboxPayment.objects.exists()

    def test_the_unconfigured_gateway_refuses_every_call_clearly(self, settings, client):
        settings.PAYMENT_BACKEND = UNCONFIGURED
        gateway = payment_gateway()
        for call in (
            lambda: gateway.payment_get("order-1"),
            lambda: gateway.payment_cancel("order-1", reason="x", request_id="r"),
            lambda: gateway.checkout_context(payment_id="o", amount=1, order_name="x", redirect_url="/"),
            lambda: gateway.webhook_verify({}, b"{}"),
        ):
            with pytest.raises(ProviderError) as failed:
                call()
            assert (failed.value.retryable, failed.value.code) == (False, "payment_gateway_unconfigured")
            assert failed.value.message
        body = json.dumps({"type": "Transaction.Paid"}).encode()
        assert deliver(client, body, {}).status_code == 502

    def test_the_production_check_refuses_the_sandbox_gateway(self, settings):
        settings.SANDBOX_BACKENDS_ALLOWED = False
        settings.PAYMENT_BACKEND = SANDBOX
        errors = [error for error in provider_backends_check(None) if "PAYMENT_BACKEND" in error.msg]
        assert [error.id for error in errors] == ["core.E002"]
        settings.PAYMENT_BACKEND = UNCONFIGURED
        assert not [error for error in provider_backends_check(None) if "PAYMENT_BACKEND" in error.msg]
