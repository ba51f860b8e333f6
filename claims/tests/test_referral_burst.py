"""A burst of sign-ups from one referral source or one referral code, well above that source's usual rate, flags the
claims of those accounts (claims/services/fraud.py), with an audit entry; a steady source does not."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import ClaimantFactory
from claims.models import Claim, Flag
from claims.services.fraud import (
    ReferralBurstRule,
    claim_fraud_check,
    fraud_sweep,
    referral_burst_episodes,
    referral_burst_members,
)
from claims.tests.factories import SubmittedClaimFactory
from config.hashing import sha256_hex
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

RULE = ReferralBurstRule(accounts=5, window=dt.timedelta(hours=1), factor=5, baseline=dt.timedelta(days=7))
START = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _rule(settings):
    settings.REFERRAL_BURST_ACCOUNTS = 5
    settings.REFERRAL_BURST_WINDOW_MINUTES = 60
    settings.REFERRAL_BURST_FACTOR = 5
    settings.REFERRAL_BURST_BASELINE_DAYS = 7


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def test_a_new_source_with_enough_sign_ups_in_the_window_is_a_burst():
    signups = [(n, at(10 * n)) for n in range(5)] + [(99, at(60 * 24))]
    assert referral_burst_members(signups, rule=RULE) == {0, 1, 2, 3, 4}
    assert referral_burst_members(signups[:4], rule=RULE) == set()  # 4 of 5


def test_a_source_with_a_high_usual_rate_is_no_burst_at_the_same_count():
    # 7 days of 2 sign-ups an hour before: usual 2 per hour, 5 × 2 = 10 needed, 6 seen.
    history = [(n, START - dt.timedelta(minutes=30 * (n + 1))) for n in range(2 * 24 * 7)]
    burst = [(1000 + n, at(n * 5)) for n in range(6)]
    signups = sorted(history + burst, key=lambda row: row[1])
    assert referral_burst_members(signups, rule=RULE) == set()
    # ... but 10 in an hour is
    bigger = sorted(history + [(2000 + n, at(n * 5)) for n in range(10)], key=lambda row: row[1])
    assert {n for n in referral_burst_members(bigger, rule=RULE) if n >= 2000} == set(range(2000, 2010))


def claims_signed_up(count: int, *, spacing_minutes: float, **referral) -> list[Claim]:
    now = timezone.now()
    return [
        SubmittedClaimFactory(
            claimant=ClaimantFactory(date_joined=now - dt.timedelta(minutes=spacing_minutes * n), **referral)
        )
        for n in range(count)
    ]


def test_a_burst_from_one_referral_code_flags_every_claim_with_the_others_linked_and_is_audited():
    burst = claims_signed_up(5, spacing_minutes=5, referral_code="broker1")
    spread = claims_signed_up(5, spacing_minutes=60 * 24, referral_code="friend")
    assert claim_fraud_check(claim_id=burst[0].pk) == 5
    flag = burst[0].flags.get(code=Flag.Code.REFERRAL_BURST)
    assert sorted(flag.related_claim_ids) == sorted(claim.pk for claim in burst[1:])
    assert flag.fingerprint == sha256_hex("code:broker1")
    assert flag.details == {
        "kind": "code",
        "value": "broker1",
        "accounts": 5,
        "window_minutes": 60,
        "factor": 5,
        "burst_accounts": 5,
    }
    assert flag.status == Flag.Status.OPEN
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.FLAG_RAISED)
    assert sorted(entries.values_list("claim_id", flat=True)) == sorted(claim.pk for claim in burst)
    assert entries.get(claim=burst[0]).actor is None
    assert entries.get(claim=burst[0]).data["code"] == Flag.Code.REFERRAL_BURST

    fraud_sweep()  # again: nothing new, no second entry
    assert entries.count() == 5
    assert not Flag.objects.filter(claim__in=spread).exists()


def test_a_burst_from_one_utm_source_is_flagged_and_a_reviewed_flag_opens_again_with_new_accounts():
    burst = claims_signed_up(5, spacing_minutes=5, referral_source="cafe-list")
    fraud_sweep()
    assert Flag.objects.filter(code=Flag.Code.REFERRAL_BURST, claim__in=burst).count() == 5
    flag = burst[0].flags.get()
    assert flag.details["kind"] == "source"
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.REVIEWED)
    late = claims_signed_up(1, spacing_minutes=0, referral_source="cafe-list")[0]
    fraud_sweep()
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN and late.pk in flag.related_claim_ids
    assert AuditEntry.objects.filter(action=AuditEntry.Action.FLAG_RAISED, claim=burst[0]).count() == 2


def test_the_threshold_comes_from_the_settings(settings):
    settings.REFERRAL_BURST_ACCOUNTS = 6
    burst = claims_signed_up(5, spacing_minutes=5, referral_code="broker2")
    fraud_sweep()
    assert not Flag.objects.filter(claim__in=burst).exists()


def test_separate_bursts_of_one_source_are_separate_episodes():
    signups = [(n, at(5 * n)) for n in range(5)] + [(10 + n, at(60 * 48 + 5 * n)) for n in range(5)]
    rule = ReferralBurstRule(accounts=5, window=dt.timedelta(hours=1), factor=1, baseline=dt.timedelta(hours=1))
    assert referral_burst_episodes(signups, rule=rule) == [[0, 1, 2, 3, 4], [10, 11, 12, 13, 14]]


def test_the_firms_own_campaigns_are_never_a_burst(settings):
    settings.REFERRAL_BURST_IGNORED_SOURCES = ["newsletter"]
    burst = claims_signed_up(5, spacing_minutes=5, referral_source="newsletter")
    fraud_sweep()
    assert not Flag.objects.filter(claim__in=burst).exists()


def test_a_large_burst_links_a_bounded_sample_of_claims(settings, monkeypatch):
    from claims.services import fraud

    monkeypatch.setattr(fraud, "REFERRAL_RELATED_MAX", 3)
    burst = claims_signed_up(6, spacing_minutes=1, referral_code="bigbroker")
    fraud_sweep()
    flags = Flag.objects.filter(code=Flag.Code.REFERRAL_BURST, claim__in=burst)
    assert flags.count() == 6
    assert all(len(flag.related_claim_ids) <= 3 for flag in flags)
    assert {flag.details["burst_accounts"] for flag in flags} == {6}
