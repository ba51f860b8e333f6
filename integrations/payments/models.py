"""The sandbox gateway's own records (integrations/payments/sandbox.py): what a real gateway would keep on its side."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.payments import PaymentMethod, PaymentStatus

PAYMENT_ID_MAX_LENGTH = 200


class SandboxPayment(models.Model):
    """One payment the sandbox gateway played, keyed by our order id (PortOne's paymentId)."""

    class Status(models.TextChoices):
        READY = PaymentStatus.READY, _("결제 대기")
        PAID = PaymentStatus.PAID, _("결제 완료")
        FAILED = PaymentStatus.FAILED, _("결제 실패")
        CANCELLED = PaymentStatus.CANCELLED, _("전액 취소")
        PARTIAL_CANCELLED = PaymentStatus.PARTIAL_CANCELLED, _("부분 취소")

    class Method(models.TextChoices):
        CARD = PaymentMethod.CARD, _("카드")
        TRANSFER = PaymentMethod.TRANSFER, _("계좌이체")
        EASY_PAY = PaymentMethod.EASY_PAY, _("간편결제")

    payment_id = models.CharField(_("결제 ID"), max_length=PAYMENT_ID_MAX_LENGTH, unique=True)
    transaction_id = models.UUIDField(_("거래 ID"), default=uuid.uuid4, unique=True, editable=False)
    order_name = models.CharField(_("주문명"), max_length=200)
    amount = models.PositiveBigIntegerField(_("결제 금액(원)"))
    amount_cancelled = models.PositiveBigIntegerField(_("취소 금액(원)"), default=0)
    method = models.CharField(_("결제수단"), max_length=20, choices=Method.choices, blank=True)
    status = models.CharField(_("상태"), max_length=20, choices=Status.choices, default=Status.READY)
    failure_code = models.CharField(_("실패 코드"), max_length=50, blank=True)
    # Where the sandbox sends this payment's webhooks (our site's endpoint, seen from the gateway).
    webhook_url = models.URLField(_("웹훅 주소"), max_length=500)
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("상태 바뀐 때"), default=timezone.now)
    paid_at = models.DateTimeField(_("결제한 때"), null=True, blank=True)

    class Meta:
        verbose_name = _("샌드박스 결제")
        verbose_name_plural = _("샌드박스 결제")

    def __str__(self) -> str:
        return self.payment_id


class SandboxPaymentCancellation(models.Model):
    """One cancellation of a sandbox payment; a repeated request id gives back the same row (never two refunds)."""

    payment = models.ForeignKey(
        SandboxPayment, on_delete=models.CASCADE, related_name="cancellations", verbose_name=_("결제")
    )
    cancellation_id = models.UUIDField(_("취소 ID"), default=uuid.uuid4, unique=True, editable=False)
    request_id = models.CharField(_("요청 ID"), max_length=200)
    amount = models.PositiveBigIntegerField(_("취소 금액(원)"))
    reason = models.CharField(_("취소 사유"), max_length=500)
    cancelled_at = models.DateTimeField(_("취소한 때"), default=timezone.now)

    class Meta:
        verbose_name = _("샌드박스 결제 취소")
        verbose_name_plural = _("샌드박스 결제 취소")
        constraints = [
            models.UniqueConstraint(fields=["payment", "request_id"], name="sandbox_cancellation_request_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.amount}"
