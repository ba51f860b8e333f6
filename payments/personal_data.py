"""The claimant's retainer in their data download and on account deletion (core.personal_data): the orders with
their ledger lines are exported; on deletion they are kept, as payment and refund records the firm must keep for
its accounts (the person's name, email and phone go with the account; the orders hold only ids and amounts)."""

from typing import Any

from accounts.models import User
from core.personal_data import Attach, PersonalDataContributor, PersonalDataErasure, row_export
from payments.models import RetainerOrder


def retainer_personal_data_export(*, user: User, attach: Attach) -> list[dict[str, Any]]:
    orders = RetainerOrder.objects.filter(claimant=user).prefetch_related("entries").order_by("created_at")
    return [
        {
            **row_export(order, exclude=("claimant",)),
            "entries": [row_export(entry, exclude=("order", "actor", "request_id")) for entry in order.entries.all()],
        }
        for order in orders
    ]


def retainer_personal_data_erase(*, user: User, actor: User | None) -> PersonalDataErasure:
    return PersonalDataErasure(outcome={"retainer_orders_kept": RetainerOrder.objects.filter(claimant=user).count()})


def retainer_profile_changed(*, user: User, fields: list[str], labels: str) -> None:
    """The orders hold no profile fields: nothing to note."""


RETAINER_PERSONAL_DATA = PersonalDataContributor(
    key="retainer",
    export=retainer_personal_data_export,
    erase=retainer_personal_data_erase,
    profile_changed=retainer_profile_changed,
)
