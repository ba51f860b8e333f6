"""The daily reconciliation for the firm's accountant (docs/payments.md): for each retainer order the ledger touched
that day, what the ledger says was paid and refunded against what the gateway says (`payment_get`); with the sandbox,
also the sandbox's own payments of that day that no order knows. CSV, UTF-8 with a BOM so Excel shows Korean."""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from integrations.payments import PaymentStatus, payment_gateway
from integrations.payments.models import SandboxPayment
from integrations.payments.sandbox import sandbox_gateway_active
from payments.models import PaymentEntry, RetainerOrder

REFUND_KINDS = (PaymentEntry.Kind.REFUND, PaymentEntry.Kind.CANCELLATION)
GATEWAY_PAID = (PaymentStatus.PAID, PaymentStatus.PARTIAL_CANCELLED, PaymentStatus.CANCELLED)


@dataclass(frozen=True)
class ReconciliationRow:
    payment_id: str
    order_status: str
    ledger_paid: int
    ledger_refunded: int
    gateway_status: str
    gateway_paid: int
    gateway_cancelled: int
    note: str

    @property
    def matches(self) -> bool:
        return (self.ledger_paid, self.ledger_refunded) == (self.gateway_paid, self.gateway_cancelled) and not self.note


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day in Seoul time, as the firm's books count it."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def orders_of_day(day: dt.date):
    start, end = day_bounds(day)
    touched = PaymentEntry.objects.filter(at__gte=start, at__lt=end).exclude(kind=PaymentEntry.Kind.ORDER)
    return RetainerOrder.objects.filter(pk__in=touched.values("order_id")).order_by("pk")


def reconciliation_rows(orders: Iterable[RetainerOrder], *, day: dt.date | None = None) -> Iterator[ReconciliationRow]:
    gateway = payment_gateway()
    known = set()
    for order in orders:
        known.add(order.payment_id)
        totals = order.entries.aggregate(
            paid=Sum("amount", filter=Q(kind=PaymentEntry.Kind.PAYMENT), default=0),
            refunded=Sum("amount", filter=Q(kind__in=REFUND_KINDS), default=0),
        )
        if order.status == RetainerOrder.Status.WAIVED and not totals["paid"]:
            continue  # nothing went through the gateway
        try:
            found = gateway.payment_get(order.payment_id)
        except ApplicationError as error:
            yield ReconciliationRow(
                order.payment_id, order.status, totals["paid"], totals["refunded"], "", 0, 0, str(error.message)
            )
            continue
        paid = found.amount_total if found.status in GATEWAY_PAID else 0
        yield ReconciliationRow(
            order.payment_id,
            order.status,
            totals["paid"],
            totals["refunded"],
            str(found.status),
            paid,
            found.amount_cancelled,
            "",
        )
    if day is not None and sandbox_gateway_active():
        start, end = day_bounds(day)
        for payment in SandboxPayment.objects.filter(paid_at__gte=start, paid_at__lt=end).order_by("pk"):
            if payment.payment_id.startswith("retainer-") and payment.payment_id not in known:
                yield ReconciliationRow(
                    payment.payment_id,
                    "",
                    0,
                    0,
                    payment.status,
                    payment.amount,
                    payment.amount_cancelled,
                    _("결제사에만 있는 결제"),
                )


def reconciliation_csv(rows: Iterable[ReconciliationRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("주문번호"),
            _("주문 상태"),
            _("장부 결제액"),
            _("장부 환불액"),
            _("결제사 상태"),
            _("결제사 결제액"),
            _("결제사 취소액"),
            _("일치"),
            _("비고"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.payment_id,
                row.order_status,
                row.ledger_paid,
                row.ledger_refunded,
                row.gateway_status,
                row.gateway_paid,
                row.gateway_cancelled,
                _("일치") if row.matches else _("불일치"),
                row.note,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode()
