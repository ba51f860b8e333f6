"""The PortOne V2 gateway over its REST API (https://developers.portone.io/api/rest-v2), docs/providers/payments.md.

- `GET /payments/{paymentId}` reads a payment; `POST /payments/{paymentId}/cancel` cancels all or part of it, with
  an `Idempotency-Key` made from our request id, so a cancel retried after a time-out is answered with the first
  cancellation instead of refunding twice;
- every call carries `Authorization: PortOne <API secret>` and goes through core.http.provider_session (time-outs,
  retries of the reads on 429/5xx, the request id);
- refusals come back as 4xx with `{"type": "PAYMENT_NOT_FOUND", "message": "..."}` and become PaymentRefusedError
  with the type in lower case as its code (PortOne's message is logged by type only, never shown); a refused API
  secret, a 5xx or an answer we cannot read become ProviderError;
- webhooks are verified as Standard Webhooks with the store's webhook secret.

Settings: PORTONE_API_SECRET, PORTONE_STORE_ID, PORTONE_CHANNEL_KEY, PORTONE_WEBHOOK_SECRET (from the environment;
required by the production settings when this backend is named) and PORTONE_API_URL.
"""

import hashlib
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import ProviderError
from core.http import RETRY_STATUSES, provider_session
from integrations.payments import (
    CURRENCY,
    CancellationStatus,
    CheckoutContext,
    GatewayCancellation,
    GatewayPayment,
    GatewayWebhookEvent,
    PaymentGateway,
    PaymentMethod,
    PaymentRefusedError,
    PaymentStatus,
    webhook_event_verified,
    webhook_secret_bytes,
)

logger = logging.getLogger(__name__)

PAYMENT_METHODS = {
    "PaymentMethodCard": PaymentMethod.CARD,
    "PaymentMethodTransfer": PaymentMethod.TRANSFER,
    "PaymentMethodEasyPay": PaymentMethod.EASY_PAY,
    "PaymentMethodVirtualAccount": PaymentMethod.VIRTUAL_ACCOUNT,
}
# The browser SDK's PaymentPayMethod for each method the person may pick.
SDK_PAY_METHODS = {
    PaymentMethod.CARD: "CARD",
    PaymentMethod.TRANSFER: "TRANSFER",
    PaymentMethod.EASY_PAY: "EASY_PAY",
    PaymentMethod.VIRTUAL_ACCOUNT: "VIRTUAL_ACCOUNT",
}
# @portone/browser-sdk's bundle (package.json; served by core.staticfiles.PackageFileFinder). It is a loader: its
# requestPayment injects PortOne's script from https://cdn.portone.io/v2/browser-sdk.js, which opens the window.
SDK_STATIC_PATH = "vendor/portone-browser-sdk/v2.js"
# What the payment page adds to the site's Content Security Policy while PortOne's window may open: the loaded
# script's origin and the origins PortOne's script calls and frames (docs/providers/payments.md, "Browser SDK").
SDK_CSP = {
    "script-src": ["https://cdn.portone.io"],
    "connect-src": [
        "https://checkout-service.prod.iamport.co",
        "https://tx-gateway-service.prod.iamport.co",
        "https://payment-bridge.prod.iamport.co",
        "https://coretelemetry.prod.iamport.co",
    ],
    "frame-src": [
        "https://checkout-service.prod.iamport.co",
        "https://payment-bridge.prod.iamport.co",
        "https://service.iamport.kr",
    ],
}
CANCELLATION_STATUSES = {"SUCCEEDED": CancellationStatus.SUCCEEDED, "REQUESTED": CancellationStatus.REQUESTED}
# A retried cancel whose first try is still being processed: try again a little later.
RETRY_LATER_TYPES = frozenset({"IDEMPOTENCY_OUTSTANDING_REQUEST"})


def _refusal_message(error_type: str) -> str:
    messages = {
        "PAYMENT_NOT_FOUND": _("결제 건을 찾을 수 없습니다."),
        "PAYMENT_NOT_PAID": _("결제가 완료되지 않아 취소할 수 없습니다."),
        "PAYMENT_ALREADY_CANCELLED": _("이미 전액 취소된 결제입니다."),
        "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT": _("취소 금액이 취소할 수 있는 금액보다 많습니다."),
        "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN": _("결제의 취소 가능 금액이 바뀌었습니다. 결제를 다시 확인해 주세요."),
    }
    return messages.get(error_type, _("결제 서비스가 요청을 거절했습니다."))


def cancel_idempotency_key(*, payment_id: str, request_id: str) -> str:
    """PortOne's Idempotency-Key (16 to 256 letters, digits, - and _) for one cancel request of one payment."""
    return "cancel-" + hashlib.sha256(f"{payment_id}\n{request_id}".encode()).hexdigest()


class PortOnePaymentGateway(PaymentGateway):
    provider = "portone"
    connect_timeout = 3.05
    read_timeout = 10
    backoff_factor = 0.5

    def __init__(self) -> None:
        self._session = provider_session(
            self.provider,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            backoff_factor=self.backoff_factor,
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
        """The arguments of `PortOne.requestPayment(...)` as @portone/browser-sdk 0.1.11 types them
        (PaymentRequestBase: `currency` is a PaymentCurrency such as "KRW", `payMethod` a PaymentPayMethod;
        `redirectUrl` is where phones come back, PortOne redirecting instead of answering the promise). The amount
        is checked again by payment_get, whatever the browser sends."""
        return CheckoutContext(
            payment_id=payment_id,
            amount=amount,
            order_name=order_name,
            redirect_url=redirect_url,
            sdk_request={
                "storeId": self._setting("PORTONE_STORE_ID"),
                "channelKey": self._setting("PORTONE_CHANNEL_KEY"),
                "paymentId": payment_id,
                "orderName": order_name,
                "totalAmount": amount,
                "currency": CURRENCY,
                "payMethod": SDK_PAY_METHODS[method],
                "redirectUrl": redirect_url,
            },
            sdk_static_path=SDK_STATIC_PATH,
            sdk_csp=SDK_CSP,
        )

    def payment_get(self, payment_id: str) -> GatewayPayment:
        body = self._call("GET", f"/payments/{quote(payment_id, safe='')}", params={"storeId": self._store_id()})
        try:
            amount = body["amount"]
            method = body.get("method") or {}
            paid_at = body.get("paidAt")
            return GatewayPayment(
                payment_id=body["id"],
                status=PaymentStatus(body["status"].lower()),
                amount_total=int(amount["total"]),
                amount_cancelled=int(amount["cancelled"]),
                currency=body["currency"],
                method=PAYMENT_METHODS.get(method.get("type", "")),
                paid_at=parse_datetime(paid_at) if paid_at else None,
                receipt_url=body.get("receiptUrl") or "",
                gateway_transaction_id=body.get("transactionId") or "",
                sandbox=False,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise self._unreadable() from error

    def payment_cancel(
        self, payment_id: str, *, amount: int | None = None, reason: str, request_id: str
    ) -> GatewayCancellation:
        request: dict[str, Any] = {"reason": reason, "requester": "ADMIN"}
        if amount is not None:
            request["amount"] = amount
        if store_id := self._store_id():
            request["storeId"] = store_id
        body = self._call(
            "POST",
            f"/payments/{quote(payment_id, safe='')}/cancel",
            json=request,
            headers={"Idempotency-Key": cancel_idempotency_key(payment_id=payment_id, request_id=request_id)},
        )
        try:
            cancellation = body["cancellation"]
            status = cancellation["status"]
            if status == "FAILED":
                raise ProviderError(
                    _("카드사에서 결제 취소를 처리하지 못했습니다. 잠시 뒤에 다시 시도해 주세요."),
                    retryable=True,
                    code="portone_cancellation_failed",
                    extra={"provider": self.provider},
                )
            when = cancellation.get("cancelledAt") or cancellation["requestedAt"]
            return GatewayCancellation(
                cancellation_id=cancellation["id"],
                payment_id=payment_id,
                amount=int(cancellation["totalAmount"]),
                reason=cancellation.get("reason", reason),
                status=CANCELLATION_STATUSES[status],
                cancelled_at=parse_datetime(when),
                request_id=request_id,
                sandbox=False,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise self._unreadable() from error

    def webhook_verify(self, headers: Mapping[str, str], body: bytes) -> GatewayWebhookEvent:
        secret = webhook_secret_bytes(self._setting("PORTONE_WEBHOOK_SECRET"))
        return webhook_event_verified(secret=secret, headers=headers, body=body)

    def _setting(self, name: str) -> str:
        value = getattr(settings, name, "")
        if not value:
            logger.error("PortOne is the payment gateway but %s is not set", name)
            raise ProviderError(
                _("결제 서비스가 아직 설정되지 않았습니다. 운영자에게 문의해 주세요."),
                retryable=False,
                code="payment_gateway_unconfigured",
            )
        return value

    def _store_id(self) -> str:
        return getattr(settings, "PORTONE_STORE_ID", "")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        secret = self._setting("PORTONE_API_SECRET")
        headers = {"Authorization": f"PortOne {secret}", **kwargs.pop("headers", {})}
        url = settings.PORTONE_API_URL.rstrip("/") + path
        response = self._session.request(method, url, headers=headers, raise_for_status=False, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 400:
            if not isinstance(body, dict):
                raise self._unreadable()
            return body
        error_type = body.get("type", "") if isinstance(body, dict) else ""
        logger.warning("PortOne answered %s %s", response.status_code, error_type or "without an error type")
        if response.status_code in RETRY_STATUSES or response.status_code >= 500 or error_type in RETRY_LATER_TYPES:
            raise ProviderError(
                _("외부 서비스가 잠시 응답하지 않습니다. 잠시 뒤에 다시 시도해 주세요."),
                retryable=True,
                code=f"http_{response.status_code}",
                extra={"provider": self.provider},
            )
        if response.status_code in (401, 403):
            raise ProviderError(
                _("결제 서비스가 이 사이트의 인증 정보를 거절했습니다. 운영자에게 문의해 주세요."),
                retryable=False,
                code="portone_unauthorized",
                extra={"provider": self.provider},
            )
        if not error_type:
            raise self._unreadable()
        raise PaymentRefusedError(_refusal_message(error_type), code=error_type.lower())

    def _unreadable(self) -> ProviderError:
        return ProviderError(
            _("외부 서비스가 요청을 처리하지 못했습니다."),
            retryable=False,
            code="portone_unreadable_answer",
            extra={"provider": self.provider},
        )
