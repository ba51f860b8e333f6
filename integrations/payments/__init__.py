"""The payment seam (docs/providers/payments.md): one interface, shaped by PortOne V2's flow, and the backend that
settings.PAYMENT_BACKEND names.

1. Our server makes an order id (the `payment_id`) and the amount; `checkout_context(...)` says what the browser
   needs to open the gateway's checkout window for it (the gateway's SDK arguments, or the sandbox page's URL).
2. The person pays in that window; the gateway sends the browser back to our `redirect_url` with the payment id (and
   a failure code when it failed or was closed) and, separately, sends our server a signed webhook.
3. Our server believes neither: it asks the gateway, `payment_get(payment_id)`, and checks status and amount.
4. Refunds go through `payment_cancel(...)`, whole or partial; `webhook_verify(headers, body)` checks a webhook's
   signature (Standard Webhooks, as PortOne V2 signs them) before anything reads it.

Money is whole won (int), currency KRW. A gateway that cannot be reached raises ProviderError (retryable for
time-outs and 5xx answers); a request the gateway refuses (cancelling more than was paid, an unknown payment)
raises PaymentRefusedError, an InvalidInputError.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.backends import ProviderBackend, backend_from_setting
from core.exceptions import InvalidInputError, ProviderError

CURRENCY = "KRW"
# The key of payment webhooks in core's WebhookEvent table and in settings.WEBHOOK_HANDLERS, whichever gateway sent
# them: the domain's handler does not depend on the gateway.
PAYMENT_WEBHOOK_PROVIDER = "payments"
# Standard Webhooks (and PortOne's SDKs) refuse a message whose timestamp is more than five minutes off.
WEBHOOK_TOLERANCE_SECONDS = 5 * 60


class PaymentStatus(StrEnum):
    """A payment's state, as PortOne V2 names them (READY, PAID, ...), in lower case."""

    READY = "ready"  # the checkout window was opened; nothing paid yet (a closed window leaves it here)
    PAY_PENDING = "pay_pending"  # paid by the person, waiting for the gateway's approval (some overseas payments)
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"  # refunded in full
    PARTIAL_CANCELLED = "partial_cancelled"
    VIRTUAL_ACCOUNT_ISSUED = "virtual_account_issued"  # waiting for the transfer into the issued account


class PaymentMethod(StrEnum):
    CARD = "card"
    TRANSFER = "transfer"
    EASY_PAY = "easy_pay"
    VIRTUAL_ACCOUNT = "virtual_account"


@dataclass(frozen=True)
class GatewayPayment:
    """What the gateway says about one payment."""

    payment_id: str
    status: PaymentStatus
    amount_total: int
    amount_cancelled: int
    currency: str
    method: PaymentMethod | None
    paid_at: datetime | None
    receipt_url: str
    gateway_transaction_id: str
    sandbox: bool

    @property
    def amount_cancellable(self) -> int:
        if self.status not in (PaymentStatus.PAID, PaymentStatus.PARTIAL_CANCELLED):
            return 0
        return self.amount_total - self.amount_cancelled


class CancellationStatus(StrEnum):
    SUCCEEDED = "succeeded"
    REQUESTED = "requested"  # accepted, carried out later by the card company (PortOne's asynchronous cancel)


@dataclass(frozen=True)
class GatewayCancellation:
    """One cancellation (refund) the gateway made or accepted; `cancelled_at` is when it was asked for while it is
    only requested."""

    cancellation_id: str
    payment_id: str
    amount: int
    reason: str
    status: CancellationStatus
    cancelled_at: datetime
    request_id: str
    sandbox: bool


@dataclass(frozen=True)
class GatewayWebhookEvent:
    """A verified webhook: `webhook_id` is the same on every delivery of one message (the duplicate key), `type` is
    PortOne's (`Transaction.Paid`, `Transaction.Cancelled`, ...); `payment_id` is empty for events about something
    else (billing keys). Read the payment with `payment_get` before acting: the event only says where to look."""

    webhook_id: str
    type: str
    payment_id: str
    occurred_at: datetime | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class CheckoutContext:
    """What the browser needs to open the checkout window: a page to go to (`checkout_url`, the sandbox), or the
    arguments of the gateway's browser SDK call (`sdk_request`, PortOne's `requestPayment`), loaded from
    `sdk_static_path` (a static file) and allowed by the Content Security Policy additions `sdk_csp`."""

    payment_id: str
    amount: int
    order_name: str
    redirect_url: str
    checkout_url: str = ""
    sdk_request: dict[str, Any] = field(default_factory=dict)
    sdk_static_path: str = ""
    sdk_csp: dict[str, list[str]] = field(default_factory=dict)


class PaymentRefusedError(InvalidInputError):
    """The gateway refused the request (`code` names why, as PortOne's error types do, in lower case)."""

    default_code = "payment_refused"


class PaymentWebhookError(InvalidInputError):
    """A webhook that failed verification: `code` is missing_required_headers, timestamp_too_old,
    timestamp_too_new, no_matching_signature or invalid_payload."""

    default_code = "webhook_invalid"


class PaymentGateway(ProviderBackend):
    """The interface every payment backend implements (see the module's docstring)."""

    def checkout_context(
        self,
        *,
        payment_id: str,
        amount: int,
        order_name: str,
        redirect_url: str,
        method: PaymentMethod = PaymentMethod.CARD,
    ) -> CheckoutContext:
        """`method` is the one the person picked on our page (the window opens on it)."""
        raise NotImplementedError

    def payment_get(self, payment_id: str) -> GatewayPayment:
        raise NotImplementedError

    def payment_cancel(
        self, payment_id: str, *, amount: int | None = None, reason: str, request_id: str
    ) -> GatewayCancellation:
        """Cancel `amount` won of the payment (all that is left when None). `request_id` makes the call safe to
        repeat: the same request id gives back the same cancellation instead of refunding twice."""
        raise NotImplementedError

    def webhook_verify(self, headers: Mapping[str, str], body: bytes) -> GatewayWebhookEvent:
        raise NotImplementedError


class UnconfiguredPaymentGateway(PaymentGateway):
    """The production default until a real gateway is named in DJANGO_PAYMENT_BACKEND: every call fails with a
    clear message instead of taking money nowhere."""

    provider = "unconfigured"

    def _unconfigured(self) -> ProviderError:
        return ProviderError(
            _("결제 서비스가 아직 설정되지 않았습니다. 운영자에게 문의해 주세요."),
            retryable=False,
            code="payment_gateway_unconfigured",
        )

    def checkout_context(
        self,
        *,
        payment_id: str,
        amount: int,
        order_name: str,
        redirect_url: str,
        method: PaymentMethod = PaymentMethod.CARD,
    ) -> CheckoutContext:
        raise self._unconfigured()

    def payment_get(self, payment_id: str) -> GatewayPayment:
        raise self._unconfigured()

    def payment_cancel(
        self, payment_id: str, *, amount: int | None = None, reason: str, request_id: str
    ) -> GatewayCancellation:
        raise self._unconfigured()

    def webhook_verify(self, headers: Mapping[str, str], body: bytes) -> GatewayWebhookEvent:
        raise self._unconfigured()


def payment_gateway() -> PaymentGateway:
    return backend_from_setting("PAYMENT_BACKEND")


# Standard Webhooks (https://www.standardwebhooks.com/), the scheme PortOne V2 signs its webhooks with: the
# signature is base64(HMAC-SHA256(secret, f"{webhook-id}.{webhook-timestamp}.{body}")), sent as "v1,<signature>"
# (several, space-separated, while a secret is being rotated); the secret is "whsec_" + base64 of its bytes.


def webhook_secret_bytes(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("A Standard Webhooks secret is 'whsec_' followed by base64") from error


def webhook_signature(*, secret: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    signed = b"%s.%s.%s" % (webhook_id.encode(), timestamp.encode(), body)
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def webhook_headers(*, secret: bytes, webhook_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three headers of a signed delivery (the sandbox sends them; the tests forge and replay them)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": webhook_signature(secret=secret, webhook_id=webhook_id, timestamp=stamp, body=body),
    }


def webhook_event_verified(*, secret: bytes, headers: Mapping[str, str], body: bytes) -> GatewayWebhookEvent:
    """The event of a delivery whose signature and timestamp check out; PaymentWebhookError otherwise."""
    webhook_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (webhook_id and stamp and given):
        raise PaymentWebhookError(_("웹훅 서명 헤더가 없습니다."), code="missing_required_headers")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise PaymentWebhookError(_("웹훅 서명이 올바르지 않습니다."), code="no_matching_signature") from None
    now = int(time.time())
    if now - timestamp > WEBHOOK_TOLERANCE_SECONDS:
        raise PaymentWebhookError(_("웹훅의 서명 시각이 너무 오래되었습니다."), code="timestamp_too_old")
    if timestamp - now > WEBHOOK_TOLERANCE_SECONDS:
        raise PaymentWebhookError(_("웹훅의 서명 시각이 미래입니다."), code="timestamp_too_new")
    expected = webhook_signature(secret=secret, webhook_id=webhook_id, timestamp=stamp, body=body)
    if not any(hmac.compare_digest(candidate.encode(), expected.encode()) for candidate in given.split()):
        raise PaymentWebhookError(_("웹훅 서명이 올바르지 않습니다."), code="no_matching_signature")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise PaymentWebhookError(_("웹훅 내용을 읽을 수 없습니다."), code="invalid_payload")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    occurred = payload.get("timestamp")
    return GatewayWebhookEvent(
        webhook_id=webhook_id,
        type=payload["type"],
        payment_id=str(data.get("paymentId") or ""),
        occurred_at=parse_datetime(occurred) if isinstance(occurred, str) else None,
        payload=payload,
    )
