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


def overrides_for_every_claim(actor: User) -> None:
    """A readiness override (by `actor`, a Lawyer) for every claim without one: for tests of what a frozen wave
    holds (exports, pages) rather than of who may join it."""
    from filing.models import ReadinessOverride  # noqa: PLC0415
    from filing.services.readiness import readiness_override_grant  # noqa: PLC0415

    in_force = ReadinessOverride.objects.filter(revoked_at__isnull=True).values("claim_id")
    for claim in Claim.objects.exclude(pk__in=in_force):
        readiness_override_grant(claim=claim, reason="내보내기 시험: 준비 조건과 무관", actor=actor)
