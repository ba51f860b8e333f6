"""The sandbox payment gateway: a complete local gateway for `make run` and the tests, refused by the production
settings (sandbox = True, core/checks.py).

It plays PortOne V2's side of the flow with its own records (SandboxPayment): the checkout window is a page of this
site (/sandbox/payments/<payment_id>/checkout, integrations/payments/views.py) where the person chooses card,
transfer or easy pay and pays, tries a failure or closes the window; the browser then goes back to the redirect URL
with the payment id (and PortOne's failure code), and a webhook signed as PortOne signs them (Standard Webhooks) is
sent to our own endpoint after the change is committed. `payment_get` and `payment_cancel` read and change the
records as PortOne's REST API would, a cancellation under a row lock so two at once cannot refund more than was paid.
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.http import provider_session
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
    payment_gateway,
    webhook_event_verified,
    webhook_headers,
)
from integrations.payments.models import SandboxPayment, SandboxPaymentCancellation

SANDBOX_STORE_ID = "store-sandbox"
# PortOne's code in the redirect when the payment window ends without a payment (a refusal or the person closing it).
FAILURE_CODE = "FAILURE_TYPE_PG"
# The failure the "결제 실패 시험" button plays: the card company refusing the payment.
SANDBOX_FAILURE_CODE = "SANDBOX_CARD_DECLINED"

_session = provider_session("sandbox-payments")


def sandbox_webhook_secret() -> bytes:
    """The sandbox's webhook secret, derived from SECRET_KEY: the sandbox and our endpoint share it without setup."""
    return hmac.new(settings.SECRET_KEY.encode(), b"integrations.payments.sandbox.webhook", hashlib.sha256).digest()


def sandbox_webhook_secret_text() -> str:
    """The same secret as a Standard Webhooks secret string ("whsec_..."), as a gateway's dashboard shows it."""
    return "whsec_" + base64.b64encode(sandbox_webhook_secret()).decode()


def sandbox_gateway_active() -> bool:
    return isinstance(payment_gateway(), SandboxPaymentGateway)


class SandboxPaymentGateway(PaymentGateway):
    provider = "sandbox-payments"
    sandbox = True

    def checkout_context(
        self,
        *,
        payment_id: str,
        amount: int,
        order_name: str,
        redirect_url: str,
        method: PaymentMethod = PaymentMethod.CARD,
    ) -> CheckoutContext:
        query = urlencode(
            {"amount": amount, "order_name": order_name, "redirect_url": redirect_url, "method": method.value}
        )
        url = reverse("integrations:payment_checkout", kwargs={"payment_id": payment_id})
        return CheckoutContext(
            payment_id=payment_id,
            amount=amount,
            order_name=order_name,
            redirect_url=redirect_url,
            checkout_url=f"{url}?{query}",
        )

    def payment_get(self, payment_id: str) -> GatewayPayment:
        payment = SandboxPayment.objects.filter(payment_id=payment_id).first()
        if payment is None:
            raise _not_found()
        return _gateway_payment(payment)

    @transaction.atomic
    def payment_cancel(
        self, payment_id: str, *, amount: int | None = None, reason: str, request_id: str
    ) -> GatewayCancellation:
        payment = SandboxPayment.objects.select_for_update().filter(payment_id=payment_id).first()
        if payment is None:
            raise _not_found()
        done = payment.cancellations.filter(request_id=request_id).first()
        if done is not None:
            return _gateway_cancellation(done)
        if payment.status == SandboxPayment.Status.CANCELLED:
            raise PaymentRefusedError(_("이미 전액 취소된 결제입니다."), code="payment_already_cancelled")
        if payment.status not in (SandboxPayment.Status.PAID, SandboxPayment.Status.PARTIAL_CANCELLED):
            raise PaymentRefusedError(_("결제가 완료되지 않아 취소할 수 없습니다."), code="payment_not_paid")
        cancellable = payment.amount - payment.amount_cancelled
        amount = cancellable if amount is None else amount
        if amount <= 0:
            raise PaymentRefusedError(_("취소 금액은 1원 이상이어야 합니다."), code="invalid_request")
        if amount > cancellable:
            raise PaymentRefusedError(
                _("취소 금액이 취소할 수 있는 금액(%(cancellable)s원)보다 많습니다.") % {"cancellable": cancellable},
                code="cancel_amount_exceeds_cancellable_amount",
            )
        cancellation = SandboxPaymentCancellation.objects.create(
            payment=payment, request_id=request_id, amount=amount, reason=reason
        )
        payment.amount_cancelled += amount
        fully = payment.amount_cancelled == payment.amount
        payment.status = SandboxPayment.Status.CANCELLED if fully else SandboxPayment.Status.PARTIAL_CANCELLED
        payment.status_changed_at = cancellation.cancelled_at
        payment.save(update_fields=["amount_cancelled", "status", "status_changed_at"])
        _webhook_send_on_commit(payment, "Transaction.Cancelled" if fully else "Transaction.PartialCancelled")
        return _gateway_cancellation(cancellation)

    def webhook_verify(self, headers: Mapping[str, str], body: bytes) -> GatewayWebhookEvent:
        return webhook_event_verified(secret=sandbox_webhook_secret(), headers=headers, body=body)


def _not_found() -> PaymentRefusedError:
    return PaymentRefusedError(_("결제 건을 찾을 수 없습니다."), code="payment_not_found")


def _gateway_payment(payment: SandboxPayment) -> GatewayPayment:
    return GatewayPayment(
        payment_id=payment.payment_id,
        status=PaymentStatus(payment.status),
        amount_total=payment.amount,
        amount_cancelled=payment.amount_cancelled,
        currency=CURRENCY,
        method=PaymentMethod(payment.method) if payment.method else None,
        paid_at=payment.paid_at,
        receipt_url="",
        gateway_transaction_id=str(payment.transaction_id),
        sandbox=True,
    )


def _gateway_cancellation(cancellation: SandboxPaymentCancellation) -> GatewayCancellation:
    return GatewayCancellation(
        cancellation_id=str(cancellation.cancellation_id),
        payment_id=cancellation.payment.payment_id,
        amount=cancellation.amount,
        reason=cancellation.reason,
        status=CancellationStatus.SUCCEEDED,
        cancelled_at=cancellation.cancelled_at,
        request_id=cancellation.request_id,
        sandbox=True,
    )


# The checkout window's steps (the views call these).


@transaction.atomic
def sandbox_payment_open(*, payment_id: str, amount: int, order_name: str, webhook_url: str) -> SandboxPayment:
    """Open the checkout window for an order: a new payment is READY; one that is ready or failed is opened again
    with the amount asked now; a paid or cancelled one is refused (PortOne's ALREADY_PAID)."""
    payment, created = SandboxPayment.objects.select_for_update().get_or_create(
        payment_id=payment_id, defaults={"amount": amount, "order_name": order_name, "webhook_url": webhook_url}
    )
    if created:
        _webhook_send_on_commit(payment, "Transaction.Ready")
        return payment
    if payment.status not in (SandboxPayment.Status.READY, SandboxPayment.Status.FAILED):
        raise PaymentRefusedError(_("이미 결제된 주문입니다."), code="already_paid")
    payment.amount, payment.order_name, payment.webhook_url = amount, order_name, webhook_url
    payment.status, payment.failure_code, payment.status_changed_at = SandboxPayment.Status.READY, "", timezone.now()
    payment.save(update_fields=["amount", "order_name", "webhook_url", "status", "failure_code", "status_changed_at"])
    return payment


@transaction.atomic
def sandbox_payment_pay(*, payment_id: str, method: str) -> SandboxPayment:
    payment = _payment_ready(payment_id)
    now = timezone.now()
    payment.status, payment.method, payment.paid_at, payment.status_changed_at = (
        SandboxPayment.Status.PAID,
        method,
        now,
        now,
    )
    payment.save(update_fields=["status", "method", "paid_at", "status_changed_at"])
    _webhook_send_on_commit(payment, "Transaction.Paid")
    return payment


@transaction.atomic
def sandbox_payment_fail(*, payment_id: str, method: str) -> SandboxPayment:
    payment = _payment_ready(payment_id)
    payment.status, payment.method, payment.failure_code, payment.status_changed_at = (
        SandboxPayment.Status.FAILED,
        method,
        SANDBOX_FAILURE_CODE,
        timezone.now(),
    )
    payment.save(update_fields=["status", "method", "failure_code", "status_changed_at"])
    _webhook_send_on_commit(payment, "Transaction.Failed")
    return payment


def _payment_ready(payment_id: str) -> SandboxPayment:
    payment = SandboxPayment.objects.select_for_update().filter(payment_id=payment_id).first()
    if payment is None:
        raise _not_found()
    if payment.status != SandboxPayment.Status.READY:
        raise PaymentRefusedError(_("이미 처리된 결제입니다. 결제창을 다시 열어 주세요."), code="already_paid")
    return payment


# Webhooks, as PortOne sends them: {"type": "Transaction.Paid", "timestamp": ..., "data": {"paymentId", "storeId",
# "transactionId"}}, signed with the Standard Webhooks headers.


def sandbox_webhook_request(*, payment: SandboxPayment, event_type: str) -> tuple[dict[str, str], bytes]:
    """The headers and body of one webhook about `payment` (a fresh webhook id: one message per change)."""
    body = json.dumps(
        {
            "type": event_type,
            "timestamp": timezone.now().isoformat(),
            "data": {
                "paymentId": payment.payment_id,
                "storeId": SANDBOX_STORE_ID,
                "transactionId": str(payment.transaction_id),
            },
        }
    ).encode()
    headers = webhook_headers(secret=sandbox_webhook_secret(), webhook_id=f"msg_{uuid.uuid4().hex}", body=body)
    return {**headers, "Content-Type": "application/json"}, body


def sandbox_webhook_deliver(*, payment_pk: int, event_type: str) -> int:
    """Send one webhook to the payment's webhook URL; the HTTP status it was answered with (a refusal or an
    unreachable site raises ProviderError, which the task retries)."""
    payment = SandboxPayment.objects.get(pk=payment_pk)
    headers, body = sandbox_webhook_request(payment=payment, event_type=event_type)
    return _session.post(payment.webhook_url, data=body, headers=headers).status_code


def _webhook_send_on_commit(payment: SandboxPayment, event_type: str) -> None:
    from integrations.payments.tasks import sandbox_webhook_deliver_task

    sandbox_webhook_deliver_task.delay_on_commit(payment.pk, event_type)
