"""Claims ready for filing (filing/selectors/readiness.py), for the tests that freeze waves."""

from accounts.models import User
from accounts.tests.factories import identity_verified
from claims.models import Claim
from claims.tests.factories import claim_estimated, claimant_ready


def plaintiff_ready(**kwargs) -> User:
    """A claimant whose side of readiness is complete: consents, the current power of attorney signed, the retainer
    paid when it applies (claimant_ready) and identity verified through the sandbox provider."""
    return identity_verified(claimant_ready(**kwargs))


def claim_ready(*, claimant: User | None = None, **kwargs) -> Claim:
    """An accepted, estimated claim with proof of use, of a ready claimant: ready for filing."""
    kwargs.setdefault("status", Claim.Status.ACCEPTED)
    return claim_estimated(claimant=claimant or plaintiff_ready(), **kwargs)
