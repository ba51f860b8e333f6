"""Duplicate and fraud signals: what is flagged, with which matching claims, what is not, that checks are
idempotent and reopen on new matches, and that the sweep's query count does not grow with the table."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import ClaimantFactory
from claims.models import Claim, ClaimEvent, Flag
from claims.services.fraud import (
    burst_members,
    claim_fraud_check,
    fraud_sweep,
)
from claims.tasks.fraud import SWEEP_LOCK, claim_fraud_check_task, fraud_sweep_task
from claims.tests.factories import ClaimFactory, EvidenceFactory, SubmittedClaimFactory
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def submitted_by(**claimant) -> Claim:
    return SubmittedClaimFactory(claimant=ClaimantFactory(**claimant))


def flags_of(claim: Claim) -> dict[str, list[int]]:
    return {flag.code: flag.related_claim_ids for flag in claim.flags.all()}


def test_the_same_phone_on_two_accounts_flags_both_claims_with_each_other_linked():
    first = submitted_by(phone="01012345678")
    second = submitted_by(phone="01012345678")
    unrelated = submitted_by(phone="01099998888")
    ClaimFactory(claimant=ClaimantFactory(phone="01012345678"))  # a draft is not checked
    assert claim_fraud_check(claim_id=second.pk) == 2
    assert flags_of(first) == {Flag.Code.DUPLICATE_PHONE: [second.pk]}
    assert flags_of(second) == {Flag.Code.DUPLICATE_PHONE: [first.pk]}
    assert flags_of(unrelated) == {}
    flag = second.flags.get()
    assert flag.status == Flag.Status.OPEN
    assert flag.severity == Flag.Severity.MEDIUM
    assert "01012345678" not in flag.fingerprint + str(flag.details)


def test_the_same_bank_account_on_two_accounts_flags_both_claims_with_each_other_linked():
    first = submitted_by(bank_name="국민은행", bank_account="123456-78-901234")
    second = submitted_by(bank_name="국민은행", bank_account="12345678901234")
    unrelated = submitted_by(bank_name="국민은행", bank_account="110-123-456789")
    no_account = submitted_by(bank_account="")
    also_no_account = submitted_by(bank_account="")
    ClaimFactory(claimant=ClaimantFactory(bank_account="12345678901234"))  # a draft is not checked
    assert claim_fraud_check(claim_id=second.pk) == 2
    fraud_sweep()
    assert flags_of(first) == {Flag.Code.DUPLICATE_BANK_ACCOUNT: [second.pk]}
    assert flags_of(second) == {Flag.Code.DUPLICATE_BANK_ACCOUNT: [first.pk]}
    assert flags_of(unrelated) == flags_of(no_account) == flags_of(also_no_account) == {}
    flag = second.flags.get()
    assert flag.status == Flag.Status.OPEN
    assert flag.severity == Flag.Severity.HIGH
    assert "12345678901234" not in flag.fingerprint + str(flag.details)


def test_the_same_email_ignoring_case_and_plus_tag_is_flagged():
    first = submitted_by(email="minsu.kim@example.com")
    second = submitted_by(email="minsu.kim+kakao@example.com")
    third = submitted_by(email="minsu.kim2@example.com")
    fraud_sweep()
    assert flags_of(first) == {Flag.Code.DUPLICATE_EMAIL: [second.pk]}
    assert flags_of(second) == {Flag.Code.DUPLICATE_EMAIL: [first.pk]}
    assert flags_of(third) == {}


def test_the_same_business_number_on_two_accounts_is_flagged_but_not_a_withdrawn_claim():
    first = SubmittedClaimFactory(
        claimant_type=Claim.ClaimantType.SOLE_PROPRIETOR, business_registration_number="1234567891"
    )
    second = SubmittedClaimFactory(business_registration_number="1234567891")
    SubmittedClaimFactory(business_registration_number="1234567891", status=Claim.Status.WITHDRAWN)
    fraud_sweep()
    assert flags_of(first) == {Flag.Code.DUPLICATE_BUSINESS_NUMBER: [second.pk]}
    assert flags_of(second) == {Flag.Code.DUPLICATE_BUSINESS_NUMBER: [first.pk]}


def test_the_same_evidence_file_on_claims_of_different_accounts_is_flagged_naming_the_files():
    first, second = SubmittedClaimFactory(), SubmittedClaimFactory()
    shared = "ab" * 32
    mine = EvidenceFactory(claim=first, sha256=shared)
    theirs = EvidenceFactory(claim=second, sha256=shared)
    EvidenceFactory(claim=second)  # a different file
    claim_fraud_check(claim_id=first.pk)
    flag = first.flags.get()
    assert (flag.code, flag.related_claim_ids, flag.fingerprint) == (Flag.Code.DUPLICATE_EVIDENCE, [second.pk], shared)
    assert flag.severity == Flag.Severity.HIGH
    assert flag.details == {"evidence": [mine.pk]}
    assert second.flags.get().details == {"evidence": [theirs.pk]}


def test_one_claimant_sending_the_same_file_twice_is_not_a_duplicate():
    claim = SubmittedClaimFactory()
    EvidenceFactory.create_batch(2, claim=claim, sha256="cd" * 32)
    fraud_sweep()
    assert not Flag.objects.exists()


def with_bits_flipped(hex_hash: str, bits: int) -> str:
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):016x}"


def test_near_identical_pictures_are_flagged_both_ways_with_the_distance_and_different_ones_are_not():
    base = "f0e1d2c3b4a59687"
    first, second, third = SubmittedClaimFactory(), SubmittedClaimFactory(), SubmittedClaimFactory()
    original = EvidenceFactory(claim=first, perceptual_hash=base)
    near = EvidenceFactory(claim=second, perceptual_hash=with_bits_flipped(base, 3))
    EvidenceFactory(claim=third, perceptual_hash=with_bits_flipped(base, 20))
    claim_fraud_check(claim_id=second.pk)
    flag = second.flags.get(code=Flag.Code.SIMILAR_IMAGE)
    assert flag.related_claim_ids == [first.pk]
    match = {"evidence": original.pk, "claim": first.pk, "distance": 3}
    assert flag.details == {"evidence": [near.pk], "matches": [match]}
    assert first.flags.get(code=Flag.Code.SIMILAR_IMAGE).related_claim_ids == [second.pk]
    assert not third.flags.exists()


def test_burst_members_are_those_within_the_window_of_enough_others():
    start = dt.datetime(2022, 10, 16, 9, tzinfo=dt.UTC)
    signups = [(n, start + dt.timedelta(minutes=10 * n)) for n in range(6)] + [(99, start + dt.timedelta(days=1))]
    assert burst_members(signups, accounts=5, window=dt.timedelta(hours=1)) == {0, 1, 2, 3, 4, 5}
    assert burst_members(signups, accounts=7, window=dt.timedelta(hours=1)) == set()


def test_many_sign_ups_from_one_address_in_an_hour_are_flagged_but_spread_out_ones_are_not():
    now = timezone.now()
    burst = [submitted_by(signup_ip="198.51.100.7", date_joined=now - dt.timedelta(minutes=5 * n)) for n in range(5)]
    spread = [submitted_by(signup_ip="198.51.100.8", date_joined=now - dt.timedelta(days=n)) for n in range(6)]
    claim_fraud_check(claim_id=burst[0].pk)
    flag = burst[0].flags.get()
    assert flag.code == Flag.Code.SIGNUP_BURST
    assert sorted(flag.related_claim_ids) == sorted(claim.pk for claim in burst[1:])
    assert flag.details == {"accounts": 5, "window_minutes": 60}
    assert "198.51.100.7" not in flag.fingerprint
    assert Flag.objects.filter(code=Flag.Code.SIGNUP_BURST).count() == 5
    fraud_sweep()
    assert not Flag.objects.filter(claim__in=spread).exists()


def test_the_estimators_outlier_and_hours_flags_become_review_flags():
    claim = SubmittedClaimFactory(
        estimate_total=9_000_000, estimate_flags=["cohort_outlier", "hours_exceed_window", "no_proof_of_use"]
    )
    SubmittedClaimFactory(estimate_flags=["no_proof_of_use"])
    fraud_sweep()
    assert flags_of(claim) == {Flag.Code.AMOUNT_OUTLIER: [], Flag.Code.HOURS_BEYOND_WINDOW: []}
    assert claim.flags.get(code=Flag.Code.AMOUNT_OUTLIER).details == {"estimate_total": 9_000_000}
    assert Flag.objects.count() == 2


def test_an_estimator_flag_whose_signal_is_gone_is_cleared_and_opens_again_when_it_returns():
    claim = SubmittedClaimFactory(estimate_total=9_000_000, estimate_flags=["cohort_outlier", "hours_exceed_window"])
    assert fraud_sweep() == 2

    Claim.objects.filter(pk=claim.pk).update(estimate_flags=["hours_exceed_window"])  # the cohort grew past it
    assert fraud_sweep() == 0
    outlier = claim.flags.get(code=Flag.Code.AMOUNT_OUTLIER)
    assert outlier.status == Flag.Status.CLEARED
    assert claim.flags.get(code=Flag.Code.HOURS_BEYOND_WINDOW).status == Flag.Status.OPEN
    event = claim.events.get(kind=ClaimEvent.Kind.FLAG_CLEARED)
    assert event.actor is None
    assert event.data == {"flag": outlier.pk, "code": "amount_outlier", "signal": "cohort_outlier"}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.FLAG_CLEARED)
    assert (entry.actor, entry.claim_id, entry.object_id) == (None, claim.pk, str(outlier.pk))
    assert fraud_sweep() == 0
    assert claim.events.filter(kind=ClaimEvent.Kind.FLAG_CLEARED).count() == 1  # cleared once

    Claim.objects.filter(pk=claim.pk).update(estimate_flags=["cohort_outlier", "hours_exceed_window"])
    assert claim_fraud_check(claim_id=claim.pk) == 1
    outlier.refresh_from_db()
    assert outlier.status == Flag.Status.OPEN


def test_a_reviewed_estimator_flag_and_other_claims_flags_are_not_cleared():
    claim = SubmittedClaimFactory(estimate_total=9_000_000, estimate_flags=["cohort_outlier"])
    other = SubmittedClaimFactory(estimate_total=8_000_000, estimate_flags=["cohort_outlier"])
    fraud_sweep()
    Flag.objects.filter(claim=claim).update(status=Flag.Status.REVIEWED, note="매출 장부로 확인함")
    Claim.objects.filter(pk__in=[claim.pk, other.pk]).update(estimate_flags=[])

    assert claim_fraud_check(claim_id=claim.pk) == 0
    assert claim.flags.get().status == Flag.Status.REVIEWED
    assert other.flags.get().status == Flag.Status.OPEN  # outside the check's scope until the sweep
    fraud_sweep()
    assert other.flags.get().status == Flag.Status.CLEARED
    assert claim.flags.get().status == Flag.Status.REVIEWED


def test_checking_again_changes_nothing_and_a_reviewed_flag_reopens_only_for_a_new_match():
    first, second = submitted_by(phone="01055556666"), submitted_by(phone="01055556666")
    assert fraud_sweep() == 2
    assert fraud_sweep() == 0
    assert Flag.objects.count() == 2
    flag = first.flags.get()
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.REVIEWED, note="부부가 같은 번호를 씀")
    assert fraud_sweep() == 0
    flag.refresh_from_db()
    assert flag.status == Flag.Status.REVIEWED

    third = submitted_by(phone="01055556666")
    assert claim_fraud_check(claim_id=third.pk) == 2  # the new claim's flag and the reopened one
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert flag.reviewed_by is None
    assert flag.related_claim_ids == sorted([second.pk, third.pk])


def test_a_draft_or_withdrawn_claim_is_not_checked():
    draft = ClaimFactory(claimant=ClaimantFactory(phone="01011112222"))
    submitted_by(phone="01011112222")
    assert claim_fraud_check(claim_id=draft.pk) == 0
    assert not Flag.objects.exists()


def sweep_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        fraud_sweep()
    return len(queries)


def test_the_sweep_runs_the_same_number_of_queries_for_a_small_and_a_larger_table():
    for n in range(2):
        submitted_by(phone=f"0107777{n:04d}")
        submitted_by(phone=f"0107777{n:04d}")
    Flag.objects.all().delete()
    small = sweep_queries()
    for n in range(2, 12):
        submitted_by(phone=f"0107777{n:04d}")
        submitted_by(phone=f"0107777{n:04d}")
    Flag.objects.all().delete()
    assert sweep_queries() == small
    assert Flag.objects.count() == 24


def test_the_sweep_task_runs_one_at_a_time():
    submitted_by(phone="01033334444")
    submitted_by(phone="01033334444")
    cache.set(SWEEP_LOCK, "1")
    try:
        assert fraud_sweep_task.delay().get() == 0
    finally:
        cache.delete(SWEEP_LOCK)
    assert fraud_sweep_task.delay().get() == 2


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_checks_a_claim_sent_by_id(celery_worker, wait_until):
    first = submitted_by(phone="01020202020")
    second = submitted_by(phone="01020202020")
    claim_fraud_check_task.delay(second.pk)
    wait_until(lambda: Flag.objects.filter(claim=first, code=Flag.Code.DUPLICATE_PHONE).exists())
    assert second.flags.get().related_claim_ids == [first.pk]
