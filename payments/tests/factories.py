"""Retainer fixtures: the seeded fee terms (re-created if a transactional test flushed them) and a retainer paid in
the sandbox gateway and confirmed by the server, as the return page would."""

from django.utils import timezone

from accounts.models import ConsentDocument, User
from accounts.tests.factories import consent_documents_published
from integrations.payments import PaymentMethod
from integrations.payments.models import SandboxPayment
from payments.models import RetainerOrder, RetainerTerms
from payments.selectors import retainer_step_done
from payments.services import ORDER_NAME, retainer_order_create, retainer_payment_confirm

SEEDED_RETAINER = 20_000


def retainer_terms_seeded(*, amount: int = SEEDED_RETAINER) -> RetainerTerms:
    """The retainer of the seeded power of attorney (version 1), as payments' data migration records it."""
    document = consent_documents_published()[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    terms, _created = RetainerTerms.objects.update_or_create(document=document, defaults={"amount": amount})
    return terms


def sandbox_payment_made(order: RetainerOrder, *, amount: int | None = None, method=PaymentMethod.CARD) -> None:
    """The sandbox gateway's record of the claimant paying the order in its window (without its webhooks)."""
    now = timezone.now()
    SandboxPayment.objects.create(
        payment_id=order.payment_id,
        order_name=str(ORDER_NAME),
        amount=order.amount if amount is None else amount,
        method=method,
        status=SandboxPayment.Status.PAID,
        webhook_url="http://testserver/webhooks/payments",
        paid_at=now,
        status_changed_at=now,
    )


def retainer_paid_in_sandbox(user: User) -> RetainerOrder:
    """Order, pay in the sandbox and confirm with the gateway (payment_get), as the journey's payment step does."""
    order = retainer_order_create(claimant=user)
    sandbox_payment_made(order)
    return retainer_payment_confirm(payment_id=order.payment_id)


def retainer_settled_if_due(user: User) -> None:
    """Pay the retainer when the journey's payment step applies to this claimant (the sandbox gateway and fee terms
    with a retainer), so a ready claimant may file."""
    if retainer_step_done(user) is False:
        retainer_paid_in_sandbox(user)
