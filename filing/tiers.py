"""Claim tiers: how the wave annex (원고 목록) groups its plaintiffs, as judgments in mass suits group plaintiff lists
by what they were awarded for. Defined here only, from what the wave froze for each plaintiff (claimant type,
amounts claimed by loss kind, the estimate's amounts by rule); the first tier whose condition holds is the
plaintiff's, so a business that also paid for a service is a business.

| tier | who |
|---|---|
| business | sole proprietors and companies, and anyone claiming lost business revenue |
| paid_service | users of a paid service (subscription fees claimed or estimated) |
| other_losses | other financial losses (extra expenses, other damage) |
| solatium_only | the rest: solatium (위자료) only |
"""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, LossItem


def _loss_kind(kind: str) -> Q:
    """Claimed, or estimated, an amount above 0 for this loss kind (WaveMember's frozen JSON)."""
    return Q(**{f"claimed_by_kind__{kind}__gt": 0}) | Q(**{f"estimated_by_rule__{kind}__gt": 0})


@dataclass(frozen=True)
class ClaimTier:
    key: str
    label: str | Promise
    condition: Q


CLAIM_TIERS = (
    ClaimTier(
        "business",
        _("사업자 (영업 손실)"),
        Q(claimant_type__in=[Claim.ClaimantType.SOLE_PROPRIETOR, Claim.ClaimantType.COMPANY])
        | _loss_kind(LossItem.Kind.BUSINESS_REVENUE),
    ),
    ClaimTier("paid_service", _("유료 서비스 이용자"), _loss_kind(LossItem.Kind.SUBSCRIPTION)),
    ClaimTier(
        "other_losses",
        _("추가 지출·기타 손해"),
        _loss_kind(LossItem.Kind.EXPENSE) | _loss_kind(LossItem.Kind.OTHER),
    ),
    ClaimTier("solatium_only", _("위자료만 청구"), Q()),
)


def claim_tier_order() -> Case:
    """The index in CLAIM_TIERS of a WaveMember's tier, as a database expression (to group and order by)."""
    *conditional, last = CLAIM_TIERS
    return Case(
        *(When(tier.condition, then=Value(index)) for index, tier in enumerate(conditional)),
        default=Value(len(conditional)),
        output_field=IntegerField(),
    )
