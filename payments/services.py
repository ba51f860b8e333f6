"""The retainer's writes and rules (docs/payments.md): the order, the checkout, the server's confirmation of a
payment (from the return page and from the gateway's webhook), refunds (by staff, and by the fee terms' rule when a
claim closes before filing), waivers, and the receipt and refund emails.

The server believes neither the browser nor a webhook's body: every payment is read back from the gateway
(`payment_get`) and must match the order's id and amount. An order row locked with select_for_update, and a ledger
that allows one payment line per order and one refund line per request id, make a repeated or concurrent
confirmation or refund change nothing."""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import claimant_readiness_forget
from claims.models import Claim
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError, PermissionDeniedError
from core.links import absolute_url
from core.models import WebhookEvent
from integrations.payments import (
    CURRENCY,
    CheckoutContext,
    GatewayPayment,
    PaymentMethod,
    PaymentStatus,
    payment_gateway,
)
from notifications.backends import RenderedMessage
from notifications.messages import case_message_queue, case_news_channel
from notifications.models import MessageTemplate, Notification
from notifications.renderers import renderer
from notifications.services import notification_queue
from payments.models import PaymentEntry, RetainerOrder
from payments.selectors import (
    SETTLED,
    payment_gateway_available,
    retainer_orders_refundable_by_rule,
    retainer_terms_current,
)

logger = logging.getLogger(__name__)

ORDER_NAME = gettext_lazy("공동소송 착수금")
RULE_REFUND_REASON = gettext_lazy("보수 약정에 따라 소 제기 전 참여 철회 또는 반려로 착수금 전액을 돌려드립니다.")
RECEIPT_TEMPLATE = "payments/email/receipt"
REFUND_TEMPLATE = "payments/email/refund"
PAID_STATUSES = (PaymentStatus.PAID, PaymentStatus.PARTIAL_CANCELLED, PaymentStatus.CANCELLED)
REASON_MAX_LENGTH = 500


class RetainerError(InvalidInputError):
    default_code = "retainer_error"


def _readiness_changed(order: RetainerOrder) -> None:
    claimant_readiness_forget(user_id=order.claimant_id)


# --- the order and the checkout --------------------------------------------------------------------------------


def retainer_order_create(*, claimant: User, meta: RequestMeta = NO_REQUEST) -> RetainerOrder:
    """The claimant's live order under the current fee terms, made once: a second click (or two at once) gets the
    same order. The amount is the terms'; a settled order (paid or waived, under any terms) is returned as it is."""
    settled = RetainerOrder.objects.filter(claimant=claimant, status__in=SETTLED).first()
    if settled is not None:
        return settled
    terms = retainer_terms_current()
    if terms is None or terms.amount == 0:
        raise RetainerError(_("현재 보수 약정에는 착수금이 없습니다."), code="no_retainer")
    if not payment_gateway_available():
        raise RetainerError(_("지금은 온라인 결제를 받지 않습니다. 법무법인에 문의해 주세요."), code="gateway_off")
    live = RetainerOrder.objects.filter(claimant=claimant, terms=terms).exclude(status=RetainerOrder.Status.REFUNDED)
    order = live.first()
    if order is not None:
        return order
    try:
        with transaction.atomic():
            order = RetainerOrder.objects.create(
                claimant=claimant, terms=terms, amount=terms.amount, payment_id=f"retainer-{uuid.uuid4().hex}"
            )
            PaymentEntry.objects.create(order=order, kind=PaymentEntry.Kind.ORDER, amount=order.amount, actor=claimant)
            data = {"amount": order.amount}
            audit_record(actor=claimant, action="retainer.order", target=order, meta=meta, data=data)
    except IntegrityError:  # the same click, twice at once: the other request made it
        return live.get()
    return order


def retainer_checkout(
    *, order: RetainerOrder, redirect_url: str, method: PaymentMethod = PaymentMethod.CARD
) -> CheckoutContext:
    """What the browser needs to open the gateway's window for the order on the picked method (ProviderError when
    the gateway is down)."""
    if order.status != RetainerOrder.Status.PENDING:
        raise RetainerError(_("이미 결제했거나 면제된 착수금입니다."), code="not_pending")
    return payment_gateway().checkout_context(
        payment_id=order.payment_id,
        amount=order.amount,
        order_name=str(ORDER_NAME),
        redirect_url=redirect_url,
        method=method,
    )


# --- confirming a payment ---------------------------------------------------------------------------------------


def retainer_payment_confirm(*, payment_id: str, meta: RequestMeta = NO_REQUEST) -> RetainerOrder:
    """Ask the gateway about the order's payment and record what it says: the payment once (with its receipt
    email), and any cancellation made at the gateway itself. Called by the return page and the webhook handler,
    as often as they like. RetainerError when the gateway does not say paid or the amount is not the order's."""
    if not RetainerOrder.objects.filter(payment_id=payment_id).exists():
        raise RetainerError(_("주문을 찾을 수 없습니다."), code="order_not_found")
    found = payment_gateway().payment_get(payment_id)  # outside the transaction: a network call
    return _payment_record(payment_id=payment_id, found=found, meta=meta)


@transaction.atomic
def _payment_record(*, payment_id: str, found: GatewayPayment, meta: RequestMeta) -> RetainerOrder:
    order = RetainerOrder.objects.select_for_update().get(payment_id=payment_id)
    paid = order.entries.filter(kind=PaymentEntry.Kind.PAYMENT).first()
    if paid is None:
        if found.status not in PAID_STATUSES:
            raise RetainerError(_("결제가 완료되지 않았습니다."), code="not_paid", extra={"order": order.pk})
        if found.payment_id != order.payment_id or found.amount_total != order.amount or found.currency != CURRENCY:
            logger.error("Retainer order %s: the gateway's payment does not match the order", order.pk)
            raise RetainerError(
                _("결제 금액이 주문과 다릅니다. 법무법인에 문의해 주세요."),
                code="amount_mismatch",
                extra={"order": order.pk},
            )
        paid = _payment_entry_record(order=order, found=found, meta=meta)
    if found.amount_cancelled > order.amount_refunded:
        _gateway_cancellation_record(order=order, amount=found.amount_cancelled - order.amount_refunded)
    return order


def _payment_entry_record(*, order: RetainerOrder, found: GatewayPayment, meta: RequestMeta) -> PaymentEntry:
    gateway = payment_gateway()
    was_waived = order.status == RetainerOrder.Status.WAIVED
    entry = PaymentEntry.objects.create(
        order=order,
        kind=PaymentEntry.Kind.PAYMENT,
        amount=found.amount_total,
        method=found.method or "",
        gateway=gateway.provider,
        sandbox=found.sandbox,
        gateway_transaction_id=found.gateway_transaction_id,
        receipt_url=found.receipt_url,
        at=found.paid_at or timezone.now(),
    )
    order.status, order.paid_at = RetainerOrder.Status.PAID, entry.at
    order.save(update_fields=["status", "paid_at"])
    audit_record(actor=None, action="retainer.paid", target=order, meta=meta, data={"amount": entry.amount})
    _receipt_message_queue(order=order, entry=entry, kind=MessageTemplate.Kind.PAYMENT_RECEIPT)
    _readiness_changed(order)
    if was_waived or order in retainer_orders_refundable_by_rule(claimant_id=order.claimant_id):
        # Paid after the claim closed (or after a waiver): the fee terms give it back.
        _refund_by_rule_queue(order.claimant_id)
    return entry


def _gateway_cancellation_record(*, order: RetainerOrder, amount: int) -> None:
    """A cancellation the gateway reports that this site did not ask for (made in the gateway's console)."""
    PaymentEntry.objects.create(
        order=order,
        kind=PaymentEntry.Kind.CANCELLATION,
        amount=amount,
        gateway=payment_gateway().provider,
        reason=_("결제사에서 직접 취소"),
    )
    _refunded(order, amount)
    audit_record(actor=None, action="retainer.gateway_cancelled", target=order, data={"amount": amount})


def _refunded(order: RetainerOrder, amount: int) -> None:
    order.amount_refunded += amount
    fully = order.amount_refunded >= order.amount
    order.status = RetainerOrder.Status.REFUNDED if fully else RetainerOrder.Status.PARTIALLY_REFUNDED
    order.save(update_fields=["amount_refunded", "status"])
    _readiness_changed(order)


def payment_webhook_handle(*, event: WebhookEvent) -> None:
    """settings.WEBHOOK_HANDLERS["payments"]: a verified gateway webhook, processed once (core.webhooks). The body
    only says which payment to look at; the gateway is asked. Payments that are not retainer orders are left."""
    data = event.payload.get("data") if isinstance(event.payload.get("data"), dict) else {}
    payment_id = str(data.get("paymentId") or "")
    if event.payload.get("type") not in ("Transaction.Paid", "Transaction.PartialCancelled", "Transaction.Cancelled"):
        return
    if not RetainerOrder.objects.filter(payment_id=payment_id).exists():
        logger.info("Payment webhook %s about a payment that is not a retainer order", event.pk)
        return
    retainer_payment_confirm(payment_id=payment_id)


# --- refunds and waivers ----------------------------------------------------------------------------------------


def _require(actor: User | None, permission: str) -> None:
    if actor is not None and not (actor.is_active and actor.is_staff and actor.has_perm(permission)):
        raise PermissionDeniedError(_("이 작업을 할 권한이 없습니다."))


def _reason_clean(reason: str) -> str:
    reason = " ".join(str(reason).split())
    if not reason:
        raise RetainerError(_("사유를 적어 주세요."), code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise RetainerError(_("사유는 500자 이내로 적어 주세요."), code="reason_too_long")
    return reason


@transaction.atomic
def retainer_refund(
    *,
    order: RetainerOrder,
    actor: User | None,
    reason: str,
    request_id: str,
    amount: int | None = None,
    meta: RequestMeta = NO_REQUEST,
) -> PaymentEntry:
    """Refund `amount` won of the order (all that is left when None) through the gateway's cancel, with a reason:
    by staff (`actor`, with the refund permission) or by the fee terms' rule (no actor). The same `request_id`
    gives back the same refund line, so a repeated click or a retried task never refunds twice. The gateway's
    ProviderError leaves nothing recorded (the task retries with the same request id)."""
    _require(actor, "payments.refund_retainerorder")
    reason = _reason_clean(reason)
    order = RetainerOrder.objects.select_for_update().select_related("claimant").get(pk=order.pk)
    done = order.entries.filter(kind=PaymentEntry.Kind.REFUND, request_id=request_id).first()
    if done is not None:
        return done
    refundable = order.amount_refundable
    amount = refundable if amount is None else amount
    if refundable == 0:
        raise RetainerError(_("환불할 수 있는 금액이 없습니다."), code="nothing_to_refund")
    if not 0 < amount <= refundable:
        raise RetainerError(
            _("환불 금액은 1원 이상, %(refundable)s원 이하여야 합니다.") % {"refundable": f"{refundable:,}"},
            code="refund_amount_invalid",
        )
    gateway = payment_gateway()
    cancellation = gateway.payment_cancel(order.payment_id, amount=amount, reason=reason, request_id=request_id)
    entry = PaymentEntry.objects.create(
        order=order,
        kind=PaymentEntry.Kind.REFUND,
        amount=cancellation.amount,
        gateway=gateway.provider,
        sandbox=cancellation.sandbox,
        gateway_cancellation_id=cancellation.cancellation_id,
        request_id=request_id,
        reason=reason,
        actor=actor,
        at=cancellation.cancelled_at,
    )
    _refunded(order, cancellation.amount)
    audit_record(
        actor=actor,
        action="retainer.refund",
        target=order,
        meta=meta,
        data={"amount": entry.amount, "by_rule": actor is None, "cancellation": str(cancellation.status)},
    )
    _receipt_message_queue(order=order, entry=entry, kind=MessageTemplate.Kind.REFUND_RECEIPT)
    return entry


def retainer_refund_by_rule(*, claimant_id: int) -> list[PaymentEntry]:
    """The fee terms' rule: a claimant whose every claim was withdrawn or rejected before filing gets their paid
    retainer back in full (one refund per order: its request id is the order's)."""
    return [
        retainer_refund(order=order, actor=None, reason=str(RULE_REFUND_REASON), request_id=f"rule:{order.pk}")
        for order in retainer_orders_refundable_by_rule(claimant_id=claimant_id)
    ]


def _refund_by_rule_queue(claimant_id: int) -> None:
    from payments.tasks import retainer_refund_by_rule_task

    retainer_refund_by_rule_task.delay_on_commit(claimant_id)


def retainer_claim_closed(*, claim: Claim) -> None:
    """claims.closing listener: a claim was withdrawn or rejected; the rule is checked once that is committed."""
    _refund_by_rule_queue(claim.claimant_id)


@transaction.atomic
def retainer_waive(*, claimant: User, actor: User, reason: str, meta: RequestMeta = NO_REQUEST) -> RetainerOrder:
    """A lawyer waives the claimant's retainer (for example a recipient of basic livelihood benefits), with a
    reason: the journey's payment step is then done. A paid retainer is refunded instead, not waived."""
    _require(actor, "payments.waive_retainerorder")
    reason = _reason_clean(reason)
    terms = retainer_terms_current()
    if terms is None:
        raise RetainerError(_("현재 보수 약정에는 착수금이 없습니다."), code="no_retainer")
    User.objects.select_for_update().get(pk=claimant.pk)  # one waiver or order at a time per claimant
    live = RetainerOrder.objects.filter(claimant=claimant, terms=terms)
    order = live.exclude(status=RetainerOrder.Status.REFUNDED).first()
    if order is not None and order.status == RetainerOrder.Status.WAIVED:
        return order
    if order is not None and order.status != RetainerOrder.Status.PENDING:
        raise RetainerError(_("이미 결제한 착수금입니다. 면제하려면 환불해 주세요."), code="already_paid")
    if order is None:
        order = RetainerOrder.objects.create(
            claimant=claimant, terms=terms, amount=terms.amount, payment_id=f"retainer-{uuid.uuid4().hex}"
        )
    order.status = RetainerOrder.Status.WAIVED
    order.save(update_fields=["status"])
    PaymentEntry.objects.create(
        order=order, kind=PaymentEntry.Kind.WAIVER, amount=order.amount, reason=reason, actor=actor
    )
    audit_record(actor=actor, action="retainer.waive", target=order, meta=meta, data={"amount": order.amount})
    _readiness_changed(order)
    return order


# --- the claimant's emails --------------------------------------------------------------------------------------


# The receipt or refund message: by email, or by SMS/알림톡 for a claimant who chose their phone for case news.
_RECEIPT_MESSAGES = {
    MessageTemplate.Kind.PAYMENT_RECEIPT: (RECEIPT_TEMPLATE, "retainer-receipt", "paid_at"),
    MessageTemplate.Kind.REFUND_RECEIPT: (REFUND_TEMPLATE, "retainer-refund", "refunded_at"),
}


def _receipt_message_queue(*, order: RetainerOrder, entry: PaymentEntry, kind: str) -> None:
    email_template, key_prefix, time_variable = _RECEIPT_MESSAGES[kind]
    claimant, idempotency_key = order.claimant, f"{key_prefix}:{entry.pk}"
    if case_news_channel(user=claimant, kind=kind) == Notification.Channel.EMAIL:
        notification_queue(
            channel=Notification.Channel.EMAIL,
            template=email_template,
            language=claimant.language,
            idempotency_key=idempotency_key,
            user=claimant,
            context={"order_id": order.pk, "entry_id": entry.pk},
        )
        return
    variables = {
        "amount": f"{entry.amount:,}",
        time_variable: timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M"),
        "url": absolute_url(reverse("payments:receipt", args=[order.pk])),
    }
    case_message_queue(kind=kind, user=claimant, variables=variables, idempotency_key=idempotency_key)


@renderer(RECEIPT_TEMPLATE, REFUND_TEMPLATE)
def retainer_email_render(notification: Notification) -> RenderedMessage:
    entry = PaymentEntry.objects.select_related("order").get(
        pk=notification.context["entry_id"], order_id=notification.context["order_id"]
    )
    context = {
        "entry": entry,
        "order": entry.order,
        "receipt_url": absolute_url(reverse("payments:receipt", args=[entry.order_id])),
    }
    if notification.template == RECEIPT_TEMPLATE:
        subject = _("착수금 결제 영수증 (%(amount)s원)") % {"amount": f"{entry.amount:,}"}
        return RenderedMessage(subject=subject, body=render_to_string("payments/email/receipt.txt", context))
    subject = _("착수금 %(amount)s원을 환불했습니다") % {"amount": f"{entry.amount:,}"}
    return RenderedMessage(subject=subject, body=render_to_string("payments/email/refund.txt", context))
