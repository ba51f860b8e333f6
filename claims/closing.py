"""Apps above claims act when a claim closes before it is filed (the claimant withdraws it, or staff reject it):
the retainer's refund rule (payments) registers a listener here from its AppConfig.ready(), so claims never imports
it. Listeners are called inside the closing transaction, with the claim; they queue their work on commit."""

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
