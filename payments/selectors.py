"""Reads about the retainer: the current fee terms, whether the journey's payment step applies and is done, and the
ledger as the claimant, staff and the accountant see it."""

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.models import ConsentDocument, User
from claims.closing import claimant_has_filed_claim
from claims.models import Claim
from integrations.payments import UnconfiguredPaymentGateway, payment_gateway
from payments.models import RetainerOrder, RetainerTerms

SETTLED = (RetainerOrder.Status.PAID, RetainerOrder.Status.PARTIALLY_REFUNDED, RetainerOrder.Status.WAIVED)
# A claim in one of these is still going ahead: its claimant's retainer is not refunded by the rule.
CLAIM_STATUSES_CLOSED = (Claim.Status.WITHDRAWN, Claim.Status.REJECTED)


def payment_gateway_available() -> bool:
    return not isinstance(payment_gateway(), UnconfiguredPaymentGateway)


def retainer_terms_current() -> RetainerTerms | None:
    """The retainer of the newest published power of attorney and fee terms, if it asks for one."""
    current = (
        ConsentDocument.objects.filter(kind=ConsentDocument.Kind.POWER_OF_ATTORNEY, published_at__isnull=False)
        .order_by("-version")
        .values("pk")[:1]
    )
    return RetainerTerms.objects.filter(document=Subquery(current)).select_related("document").first()


def retainer_step_done(user: User) -> bool | None:
    """The journey's payment step (accounts.journey.RETAINER): None when it does not apply (no gateway configured,
    or the current fee terms ask no retainer and nothing was paid), else whether the retainer is paid or waived.
    One query (it runs with the guard's readiness), none while no gateway is configured."""
    if not payment_gateway_available():
        return None
    current = (
        ConsentDocument.objects.filter(kind=ConsentDocument.Kind.POWER_OF_ATTORNEY, published_at__isnull=False)
        .order_by("-version")
        .values("pk")[:1]
    )
    settled, retainer = (
        User.objects.filter(pk=user.pk)
        .annotate(
            settled=Exists(RetainerOrder.objects.filter(claimant=OuterRef("pk"), status__in=SETTLED)),
            retainer=Subquery(RetainerTerms.objects.filter(document=Subquery(current)).values("amount")[:1]),
        )
        .values_list("settled", "retainer")
        .get()
    )
    if settled:
        return True
    return False if retainer else None


def retainer_orders_of(*, user: User) -> QuerySet[RetainerOrder]:
    """The claimant's orders, newest first, with their ledger lines."""
    return (
        RetainerOrder.objects.filter(claimant=user)
        .select_related("terms__document")
        .prefetch_related("entries")
        .order_by("-created_at")
    )


def retainer_review_panel(*, claim: Claim, user: User) -> dict | None:
    """The claimant's retainer orders and ledger for the claim's review page (claims.review_panels), for staff who
    may see the orders."""
    if not user.has_perm("payments.view_retainerorder"):
        return None
    return {"orders": list(retainer_orders_of(user=claim.claimant))}


def retainer_order_of(*, user: User, order_id: int) -> RetainerOrder:
    return RetainerOrder.objects.select_related("terms__document").get(pk=order_id, claimant=user)


def retainer_orders_refundable_by_rule(*, claimant_id: int) -> list[RetainerOrder]:
    """The claimant's paid orders to refund in full by the fee terms: they have claims, every one of them was
    withdrawn or rejected, and none was filed (a plaintiff of a filed wave who withdraws has had the work the
    retainer pays for: staff decide any refund by hand; docs/payments.md)."""
    claims = Claim.objects.filter(claimant_id=claimant_id)
    if not claims.exists() or claims.exclude(status__in=CLAIM_STATUSES_CLOSED).exists():
        return []
    if claimant_has_filed_claim(claimant_id=claimant_id):
        return []
    return list(
        RetainerOrder.objects.filter(
            claimant_id=claimant_id,
            status__in=(RetainerOrder.Status.PAID, RetainerOrder.Status.PARTIALLY_REFUNDED),
        )
    )
