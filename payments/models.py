"""The retainer: the amount the fee terms ask, one order per claimant and fee terms, and the ledger of what happened
to it (docs/payments.md). Money is whole won."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentDocument
from integrations.payments.models import PAYMENT_ID_MAX_LENGTH


class RetainerTerms(models.Model):
    """The retainer a version of the power of attorney and fee terms (its 보수 약정) asks for: the amount the
    claimant pays, read by the server, never by the browser. Kept with the text it belongs to, never edited."""

    document = models.OneToOneField(
        ConsentDocument,
        on_delete=models.PROTECT,
        related_name="retainer_terms",
        limit_choices_to={"kind": ConsentDocument.Kind.POWER_OF_ATTORNEY},
        verbose_name=_("소송위임장 및 보수 약정"),
    )
    amount = models.PositiveBigIntegerField(_("착수금(원)"))
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now)

    class Meta:
        verbose_name = _("착수금 약정")
        verbose_name_plural = _("착수금 약정")

    def __str__(self) -> str:
        return f"{self.document}: {self.amount:,}"


class RetainerOrder(models.Model):
    """One claimant's retainer under one version of the fee terms: created once however often 결제하기 is pressed
    (one live order per claimant and terms); `payment_id` is the order id the gateway knows it by."""

    class Status(models.TextChoices):
        PENDING = "pending", _("결제 대기")
        PAID = "paid", _("결제 완료")
        PARTIALLY_REFUNDED = "partially_refunded", _("일부 환불")
        REFUNDED = "refunded", _("전액 환불")
        WAIVED = "waived", _("면제")

    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="retainer_orders", verbose_name=_("신청인")
    )
    terms = models.ForeignKey(RetainerTerms, on_delete=models.PROTECT, related_name="orders", verbose_name=_("약정"))
    payment_id = models.CharField(_("주문번호"), max_length=PAYMENT_ID_MAX_LENGTH, unique=True)
    amount = models.PositiveBigIntegerField(_("착수금(원)"))
    amount_refunded = models.PositiveBigIntegerField(_("환불 금액(원)"), default=0)
    status = models.CharField(_("상태"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now)
    paid_at = models.DateTimeField(_("결제한 때"), null=True, blank=True)

    class Meta:
        verbose_name = _("착수금 주문")
        verbose_name_plural = _("착수금 주문")
        ordering = ["-created_at"]
        constraints = [
            # One live order per claimant and fee terms; after a full refund (a withdrawal) a rejoining claimant pays
            # in a new order.
            models.UniqueConstraint(
                fields=["claimant", "terms"],
                condition=~Q(status="refunded"),
                name="retainer_order_claimant_terms_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount")), name="retainer_refund_le_amount"
            ),
        ]
        permissions = [
            ("refund_retainerorder", _("착수금을 환불할 수 있음")),
            ("waive_retainerorder", _("착수금을 면제할 수 있음")),
        ]

    def __str__(self) -> str:
        return self.payment_id

    @property
    def amount_refundable(self) -> int:
        if self.status not in (self.Status.PAID, self.Status.PARTIALLY_REFUNDED):
            return 0
        return self.amount - self.amount_refunded


class PaymentEntry(models.Model):
    """One line of the ledger, never edited: the order made, the payment, a refund this site asked for, a
    cancellation made at the gateway itself (its console), a waiver."""

    class Kind(models.TextChoices):
        ORDER = "order", _("주문")
        PAYMENT = "payment", _("결제")
        REFUND = "refund", _("환불")
        CANCELLATION = "cancellation", _("결제사 취소")
        WAIVER = "waiver", _("면제")

    order = models.ForeignKey(RetainerOrder, on_delete=models.PROTECT, related_name="entries", verbose_name=_("주문"))
    kind = models.CharField(_("종류"), max_length=20, choices=Kind.choices)
    amount = models.PositiveBigIntegerField(_("금액(원)"))
    method = models.CharField(_("결제수단"), max_length=20, blank=True)
    gateway = models.CharField(_("결제사"), max_length=50, blank=True)
    sandbox = models.BooleanField(_("샌드박스"), default=False)
    gateway_transaction_id = models.CharField(_("결제사 거래 ID"), max_length=200, blank=True)
    gateway_cancellation_id = models.CharField(_("결제사 취소 ID"), max_length=200, blank=True)
    receipt_url = models.URLField(_("결제사 영수증"), max_length=500, blank=True)
    # A refund's idempotency key, passed to the gateway's cancel: the same request never refunds twice.
    request_id = models.CharField(_("요청 ID"), max_length=200, blank=True)
    reason = models.CharField(_("사유"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("처리한 사람"),
    )
    at = models.DateTimeField(_("때"), default=timezone.now)

    class Meta:
        verbose_name = _("결제 원장")
        verbose_name_plural = _("결제 원장")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="payment"), name="payment_entry_one_payment_per_order"
            ),
            models.UniqueConstraint(
                fields=["order", "request_id"], condition=Q(kind="refund"), name="payment_entry_refund_request_unique"
            ),
        ]
        indexes = [models.Index(fields=["at"], name="payment_entry_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:,}"
