"""The checks filing registers in claims.closing: a claim in a filed wave takes nothing more, while the same
claimant's claim for another incident still does (claims/tests/test_additions.py covers the additions)."""

import pytest

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from claims import closing
from claims.models import Claim, Incident
from claims.tests.factories import SubmittedClaimFactory, claim_estimated
from filing.models import Cohort, FilingWave, WaveMember

pytestmark = pytest.mark.django_db


def file_claim(claim: Claim) -> FilingWave:
    lawyer = StaffFactory(role=Role.LAWYER)
    cohort = Cohort.objects.create(name="1차 집단", incident=claim.incident, created_by=lawyer)
    filed = FilingWave.Status.FILED
    wave = FilingWave.objects.create(cohort=cohort, name="1차", court="서울중앙지방법원", status=filed)
    WaveMember.objects.create(wave=wave, number=1, claim=claim, name="원고", address="서울", amount_claimed=1)
    return wave


def test_only_the_claim_in_a_filed_wave_counts_as_filed():
    filed = claim_estimated(status=Claim.Status.ACCEPTED)
    other = SubmittedClaimFactory(claimant=filed.claimant, incident=Incident.objects.get(slug="kakaotalk-2021-05-05"))
    file_claim(filed)

    assert closing.claim_is_filed(claim=filed)
    assert not closing.claim_is_filed(claim=other)
    assert closing.claimant_has_filed_claim(claimant_id=filed.claimant_id)


def test_a_frozen_wave_not_yet_filed_does_not_count():
    claim = claim_estimated(status=Claim.Status.ACCEPTED)
    wave = file_claim(claim)
    FilingWave.objects.filter(pk=wave.pk).update(status=FilingWave.Status.FROZEN)

    assert not closing.claim_is_filed(claim=claim)
