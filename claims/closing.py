"""Apps above claims act when a claim closes (the claimant withdraws it, or staff reject it): the retainer's refund
rule (payments) registers a listener here from its AppConfig.ready(), so claims never imports it. Listeners are
called inside the closing transaction, with the claim; they queue their work on commit.

Whether a claim was filed is known only to the app that files (filing): it registers a check here, and a rule that
must know (the refund rule: only before filing) asks `claimant_has_filed_claim` without importing filing."""

from collections.abc import Callable

from claims.models import Claim

ClaimClosedListener = Callable[..., None]  # listener(*, claim: Claim) -> None
_LISTENERS: list[ClaimClosedListener] = []


def claim_closed_listener_register(listener: ClaimClosedListener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def claim_closed_announce(*, claim: Claim) -> None:
    for listener in _LISTENERS:
        listener(claim=claim)


FiledClaimCheck = Callable[..., bool]  # check(*, claimant_id: int) -> bool
_FILED_CHECKS: list[FiledClaimCheck] = []


def filed_claim_check_register(check: FiledClaimCheck) -> None:
    if check not in _FILED_CHECKS:
        _FILED_CHECKS.append(check)


def claimant_has_filed_claim(*, claimant_id: int) -> bool:
    """Whether a claim of this claimant is part of a filed suit (by any registered check)."""
    return any(check(claimant_id=claimant_id) for check in _FILED_CHECKS)


ClaimFiledCheck = Callable[..., bool]  # check(*, claim_id: int) -> bool
_CLAIM_FILED_CHECKS: list[ClaimFiledCheck] = []


def claim_filed_check_register(check: ClaimFiledCheck) -> None:
    """A check of one claim (is it a plaintiff's claim in a filed wave?), for rules about that claim alone."""
    if check not in _CLAIM_FILED_CHECKS:
        _CLAIM_FILED_CHECKS.append(check)


def claim_is_filed(*, claim: Claim) -> bool:
    """Whether this claim is part of a filed suit. Until the filing app registers a per-claim check, any filed
    claim of the same claimant counts (the cautious answer: nothing is added to a claim the court may have)."""
    if _CLAIM_FILED_CHECKS:
        return any(check(claim_id=claim.pk) for check in _CLAIM_FILED_CHECKS)
    return claimant_has_filed_claim(claimant_id=claim.claimant_id)
