"""Contract tests of the PortOne V2 adapter (integrations/payments/portone.py) against a local server speaking the
documented endpoints and bodies (integrations/tests/portone_server.py): reads, partial and full cancels, refusals,
idempotent retries, a gateway that times out or answers 5xx, and PortOne's Standard Webhooks signatures."""

import json
import re
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from core.exceptions import ProviderError
from core.models import WebhookEvent
from integrations.payments import (
    PAYMENT_WEBHOOK_PROVIDER,
    CancellationStatus,
    PaymentMethod,
    PaymentRefusedError,
    PaymentStatus,
    payment_gateway,
    webhook_headers,
    webhook_secret_bytes,
    webhook_signature,
)
from integrations.payments.portone import (
    SDK_CSP,
    SDK_PAY_METHODS,
    SDK_STATIC_PATH,
    PortOnePaymentGateway,
    cancel_idempotency_key,
)
from integrations.tests.portone_server import API_SECRET, STORE_ID, PortOneServer, paid_payment

WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
handled: list[dict] = []


def handle_payment_event(*, event: WebhookEvent) -> None:
    handled.append(event.payload)


class QuickPortOne(PortOnePaymentGateway):
    """The adapter with short time-outs and backoff, so a gateway that hangs costs the test a second, not 30."""

    read_timeout = 0.3
    backoff_factor = 0.01


@pytest.fixture
def portone(settings):
    with PortOneServer() as server:
        settings.PORTONE_API_URL = server.url
        settings.PORTONE_API_SECRET = API_SECRET
        settings.PORTONE_STORE_ID = STORE_ID
        settings.PORTONE_CHANNEL_KEY = "channel-key-test"
        settings.PORTONE_WEBHOOK_SECRET = WEBHOOK_SECRET
        yield server


@pytest.fixture
def gateway():
    return QuickPortOne()


def test_a_paid_payment_is_read_with_its_amount_method_and_receipt(portone, gateway):
    portone.state.payments["order-1"] = paid_payment("order-1", total=20000, method_type="PaymentMethodEasyPay")
    payment = gateway.payment_get("order-1")
    assert (payment.payment_id, payment.status, payment.sandbox) == ("order-1", PaymentStatus.PAID, False)
    assert (payment.amount_total, payment.amount_cancelled, payment.currency) == (20000, 0, "KRW")
    assert payment.method == PaymentMethod.EASY_PAY
    assert isinstance(payment.paid_at, datetime)
    assert payment.paid_at.tzinfo is not None
    assert payment.receipt_url == "https://receipt.example/order-1"
    assert payment.gateway_transaction_id == portone.state.payments["order-1"]["transactionId"]
    request = portone.state.received[-1]
    assert (request.method, request.path, request.query) == ("GET", "/payments/order-1", f"storeId={STORE_ID}")
    assert request.headers["Authorization"] == f"PortOne {API_SECRET}"


def test_the_payment_id_is_escaped_in_the_path(portone, gateway):
    portone.state.payments["order/1 ?"] = paid_payment("order/1 ?", total=1000)
    assert gateway.payment_get("order/1 ?").amount_total == 1000
    assert portone.state.received[-1].path == "/payments/order%2F1%20%3F"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("READY", PaymentStatus.READY), ("FAILED", PaymentStatus.FAILED), ("PAY_PENDING", PaymentStatus.PAY_PENDING)],
)
def test_portone_statuses_are_read_in_our_names(portone, gateway, status, expected):
    portone.state.payments["order-1"] = paid_payment("order-1", total=1000) | {"status": status}
    assert gateway.payment_get("order-1").status == expected


def test_an_unknown_payment_is_a_refusal(portone, gateway):
    with pytest.raises(PaymentRefusedError) as refused:
        gateway.payment_get("nobody")
    assert refused.value.code == "payment_not_found"
    assert refused.value.message


def test_a_refused_api_secret_is_a_provider_error_that_retrying_cannot_fix(portone, gateway, settings):
    settings.PORTONE_API_SECRET = "someone-elses-secret"
    with pytest.raises(ProviderError) as failed:
        gateway.payment_get("order-1")
    assert (failed.value.retryable, failed.value.code) == (False, "portone_unauthorized")


def test_a_missing_secret_fails_before_calling_anyone(portone, gateway, settings):
    settings.PORTONE_API_SECRET = ""
    with pytest.raises(ProviderError) as failed:
        gateway.payment_get("order-1")
    assert (failed.value.retryable, failed.value.code) == (False, "payment_gateway_unconfigured")
    assert portone.state.received == []


def test_a_partial_then_a_full_cancel(portone, gateway):
    portone.state.payments["order-1"] = paid_payment("order-1", total=30000)
    partial = gateway.payment_cancel("order-1", amount=10000, reason="일부 환불", request_id="refund-1")
    assert (partial.amount, partial.reason, partial.status) == (10000, "일부 환불", CancellationStatus.SUCCEEDED)
    assert portone.state.received[-1].body == {
        "reason": "일부 환불",
        "requester": "ADMIN",
        "amount": 10000,
        "storeId": STORE_ID,
    }
    payment = gateway.payment_get("order-1")
    assert (payment.status, payment.amount_cancelled, payment.amount_cancellable) == (
        PaymentStatus.PARTIAL_CANCELLED,
        10000,
        20000,
    )
    rest = gateway.payment_cancel("order-1", reason="청구 기각", request_id="refund-2")
    assert rest.amount == 20000
    assert "amount" not in portone.state.received[-1].body  # no amount: PortOne cancels all that is left
    assert gateway.payment_get("order-1").status == PaymentStatus.CANCELLED


@pytest.mark.parametrize(
    ("status", "amount", "code"),
    [
        ("PAID", 30001, "cancel_amount_exceeds_cancellable_amount"),
        ("READY", None, "payment_not_paid"),
        ("CANCELLED", None, "payment_already_cancelled"),
    ],
)
def test_documented_cancel_refusals_become_refusals_with_portones_type(portone, gateway, status, amount, code):
    portone.state.payments["order-1"] = paid_payment("order-1", total=30000) | {"status": status}
    with pytest.raises(PaymentRefusedError) as refused:
        gateway.payment_cancel("order-1", amount=amount, reason="환불", request_id="refund-1")
    assert refused.value.code == code
    assert refused.value.message
    assert portone.state.payments["order-1"]["amount"]["cancelled"] == 0


def test_a_repeated_cancel_request_is_answered_with_the_first_cancellation(portone, gateway):
    portone.state.payments["order-1"] = paid_payment("order-1", total=30000)
    first = gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
    again = gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
    assert again.cancellation_id == first.cancellation_id
    assert portone.state.payments["order-1"]["amount"]["cancelled"] == 10000
    keys = {request.headers["Idempotency-Key"] for request in portone.state.received}
    assert keys == {cancel_idempotency_key(payment_id="order-1", request_id="refund-1")}
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,256}", keys.pop())


def test_a_read_is_retried_after_a_5xx_answer(portone, gateway):
    portone.state.payments["order-1"] = paid_payment("order-1", total=20000)
    portone.fail_next(503, {"type": "SERVICE_UNAVAILABLE"})
    assert gateway.payment_get("order-1").status == PaymentStatus.PAID
    assert [request.method for request in portone.state.received] == ["GET", "GET"]


def test_a_gateway_that_keeps_answering_5xx_is_a_retryable_provider_error(portone, gateway):
    portone.fail_next(502, None, times=3)
    with pytest.raises(ProviderError) as failed:
        gateway.payment_get("order-1")
    assert (failed.value.retryable, failed.value.code) == (True, "http_502")
    assert len(portone.state.received) == 3  # the first try and the session's two retries


def test_a_cancel_is_not_repeated_by_the_session_but_is_safe_to_retry(portone, gateway):
    """A POST is not retried inside the call (it is not idempotent for HTTP); the task retries it with the same
    request id, and the Idempotency-Key makes that one refund."""
    portone.state.payments["order-1"] = paid_payment("order-1", total=30000)
    portone.fail_next(503, {"type": "SERVICE_UNAVAILABLE"})
    with pytest.raises(ProviderError) as failed:
        gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
    assert failed.value.retryable
    assert len(portone.state.received) == 1
    gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
    gateway.payment_cancel("order-1", amount=10000, reason="환불", request_id="refund-1")
    assert portone.state.payments["order-1"]["amount"]["cancelled"] == 10000


def test_a_cancel_still_being_processed_is_retried_later(portone, gateway):
    portone.fail_next(409, {"type": "IDEMPOTENCY_OUTSTANDING_REQUEST", "message": "처리 중인 요청입니다."})
    with pytest.raises(ProviderError) as failed:
        gateway.payment_cancel("order-1", amount=1000, reason="환불", request_id="refund-1")
    assert failed.value.retryable


@pytest.mark.parametrize("call", ["read", "cancel"])
def test_a_gateway_that_does_not_answer_times_out_as_a_retryable_provider_error(portone, gateway, call):
    portone.state.hang = threading.Event()
    started = time.monotonic()
    with pytest.raises(ProviderError) as failed:
        if call == "read":
            gateway.payment_get("order-1")
        else:
            gateway.payment_cancel("order-1", amount=1000, reason="환불", request_id="refund-1")
    portone.state.hang.set()
    assert (failed.value.retryable, failed.value.code) == (True, "timeout")
    assert time.monotonic() - started < 10  # the time-outs hold, the call never waits for the hung server
    assert len(portone.state.received) == (3 if call == "read" else 1)


def test_an_answer_without_the_documented_fields_is_a_provider_error(portone, gateway):
    portone.fail_next(200, {"id": "order-1"})
    with pytest.raises(ProviderError) as failed:
        gateway.payment_get("order-1")
    assert (failed.value.retryable, failed.value.code) == (False, "portone_unreadable_answer")


def test_the_checkout_context_is_the_browser_sdks_request(portone, gateway):
    context = gateway.checkout_context(
        payment_id="order-1", amount=20000, order_name="착수금", redirect_url="/back", method=PaymentMethod.TRANSFER
    )
    assert context.checkout_url == ""
    assert context.sdk_request == {
        "storeId": STORE_ID,
        "channelKey": "channel-key-test",
        "paymentId": "order-1",
        "orderName": "착수금",
        "totalAmount": 20000,
        "currency": "KRW",
        "payMethod": "TRANSFER",
        "redirectUrl": "/back",
    }
    assert context.sdk_static_path == "vendor/portone-browser-sdk/v2.js"
    assert context.sdk_csp["script-src"] == ["https://cdn.portone.io"]


@pytest.mark.parametrize(
    ("method", "pay_method"),
    [(PaymentMethod.CARD, "CARD"), (PaymentMethod.TRANSFER, "TRANSFER"), (PaymentMethod.EASY_PAY, "EASY_PAY")],
)
def test_the_picked_method_is_the_sdks_pay_method(portone, gateway, method, pay_method):
    context = gateway.checkout_context(payment_id="o", amount=1, order_name="x", redirect_url="/", method=method)
    assert context.sdk_request["payMethod"] == pay_method


def sdk_type_file(name: str) -> str:
    return (Path(settings.BASE_DIR) / "node_modules/@portone/browser-sdk/dist/v2" / name).read_text()


def test_the_request_uses_the_installed_sdks_field_names_and_values(portone, gateway):
    """Checked against the TypeScript types of the pinned @portone/browser-sdk (node_modules, from package.json)."""
    request = gateway.checkout_context(payment_id="o", amount=1, order_name="x", redirect_url="/").sdk_request
    base = sdk_type_file("request/PaymentRequestBase.d.ts")
    fields = set(re.findall(r"^\s{4}(\w+)\??: ", base, flags=re.MULTILINE))
    assert set(request) <= fields
    required = set(re.findall(r"^\s{4}(\w+): ", base, flags=re.MULTILINE))
    assert required <= set(request)
    assert f'readonly {request["currency"]}: "{request["currency"]}"' in sdk_type_file("entity/PaymentCurrency.d.ts")
    pay_methods = sdk_type_file("entity/PaymentPayMethod.d.ts")
    for pay_method in SDK_PAY_METHODS.values():
        assert f'readonly {pay_method}: "{pay_method}"' in pay_methods


def test_the_sdks_bundle_is_served_as_one_static_file_and_loads_only_portones_script():
    found = finders.find(SDK_STATIC_PATH)
    assert found == str(Path(settings.BASE_DIR) / "node_modules/@portone/browser-sdk/dist/v2.js")
    assert finders.find("vendor/portone-browser-sdk/v2.cjs") is None
    origins = set(re.findall(r"https://[\w.-]+", Path(found).read_text()))
    script_origins = {"https://cdn.portone.io"}
    assert script_origins <= origins
    assert SDK_CSP["script-src"] == sorted(script_origins)


def test_signatures_match_the_standard_webhooks_test_vector():
    """The published example of the Standard Webhooks specification, which PortOne V2 follows."""
    signature = webhook_signature(
        secret=webhook_secret_bytes(WEBHOOK_SECRET),
        webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp="1614265330",
        body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.django_db
def test_a_portone_webhook_reaches_the_site_verified_with_the_stores_secret(
    portone, settings, client, django_capture_on_commit_callbacks
):
    handled.clear()
    settings.PAYMENT_BACKEND = "integrations.payments.portone.PortOnePaymentGateway"
    settings.WEBHOOK_HANDLERS = {
        **settings.WEBHOOK_HANDLERS,
        PAYMENT_WEBHOOK_PROVIDER: "integrations.tests.test_payments_portone.handle_payment_event",
    }
    body = json.dumps(
        {
            "type": "Transaction.Paid",
            "timestamp": "2026-12-07T05:00:00.000Z",
            "data": {"paymentId": "order-1", "storeId": STORE_ID, "transactionId": "tx-1"},
        }
    ).encode()
    event = payment_gateway().webhook_verify(
        webhook_headers(secret=webhook_secret_bytes(WEBHOOK_SECRET), webhook_id="msg_1", body=body), body
    )
    assert (event.type, event.payment_id) == ("Transaction.Paid", "order-1")

    def post(secret: str, webhook_id: str):
        headers = webhook_headers(secret=webhook_secret_bytes(secret), webhook_id=webhook_id, body=body)
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        return client.post("/webhooks/payments", body, content_type="application/json", **extra)

    assert post("whsec_" + "b3RoZXItc3RvcmUtc2VjcmV0", "msg_2").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert post(WEBHOOK_SECRET, "msg_3").status_code == 200
    assert [payload["data"]["paymentId"] for payload in handled] == ["order-1"]
