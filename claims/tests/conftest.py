"""Fixtures shared by the claimant-side tests: a signed-in claimant ready to file, and their draft claim."""

import pytest

from claims.tests.factories import ClaimFactory, claimant_ready, service_by_slug


@pytest.fixture
def claimant(client):
    """A claimant with a verified email, a complete profile, current consents and a signed power of attorney,
    signed in on `client`."""
    user = claimant_ready()
    client.force_login(user)
    return user


@pytest.fixture
def draft(claimant):
    """The claimant's draft claim for Kakao T, at the evidence step."""
    claim = ClaimFactory(claimant=claimant, wizard_step="evidence")
    claim.services.set([service_by_slug("kakao-t")])
    return claim
