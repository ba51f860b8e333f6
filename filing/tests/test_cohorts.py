"""Cohorts (saved filters with live totals) and filing waves (frozen, numbered plaintiffs)."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from claims.models import Claim, Evidence, Flag
from claims.services.estimates import estimates_refresh
from claims.tests.factories import (
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    claim_estimated,
    default_incident,
    service_by_slug,
)
from core.models import AuditEntry
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.cohorts import KST, CohortCriteria, cohort_claims, cohort_summary
from filing.services.cohorts import (
    CohortError,
    cohort_freeze_wave,
    cohort_save,
    filing_wave_create,
    filing_wave_freeze,
    filing_wave_mark_filed,
    filing_wave_update,
)
from filing.services.readiness import readiness_override_grant, readiness_override_revoke
from filing.tests.readiness import claim_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


def make_cohort(actor, **criteria) -> Cohort:
    cohort = Cohort(name="승인된 신청", incident=default_incident())
    return cohort_save(cohort=cohort, criteria=CohortCriteria(**criteria), actor=actor)


def submitted(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2022, 11, day, hour, tzinfo=KST)


# --- criteria and live totals -------------------------------------------------------------------------------------


def test_criteria_round_trip_through_json():
    criteria = CohortCriteria(
        services=("kakao-t",),
        statuses=(Claim.Status.ACCEPTED,),
        estimate_min=1000,
        proof_of_use=True,
        revenue_evidence=False,
        submitted_from=dt.date(2022, 11, 1),
    )
    assert CohortCriteria.from_dict(criteria.to_dict()) == criteria
    assert CohortCriteria.from_dict({}) == CohortCriteria()


def test_each_criterion_selects_the_matching_claims(lawyer):
    taxi = claim_estimated(status=Claim.Status.ACCEPTED, monthly_fee=39_000, submitted_at=submitted(1))
    melon = SubmittedClaimFactory(status=Claim.Status.ACCEPTED, submitted_at=submitted(5), estimate_total=5_000)
    melon.services.add(service_by_slug("melon"))
    business = claim_estimated(
        status=Claim.Status.IN_REVIEW,
        claimant_type=Claim.ClaimantType.SOLE_PROPRIETOR,
        proof_of_use=False,
        submitted_at=submitted(10),
        reviewer=lawyer,
    )
    EvidenceFactory(claim=business, tag=Evidence.Tag.REVENUE_RECORDS)
    Flag.objects.create(claim=melon, code=Flag.Code.DUPLICATE_PHONE, severity=Flag.Severity.HIGH)
    Flag.objects.create(
        claim=taxi, code=Flag.Code.AMOUNT_OUTLIER, severity=Flag.Severity.LOW, status=Flag.Status.REVIEWED
    )

    def selected(**criteria) -> set[int]:
        return set(cohort_claims(cohort=make_cohort(lawyer, **criteria)).values_list("pk", flat=True))

    assert selected() == {taxi.pk, melon.pk, business.pk}
    assert selected(services=("melon",)) == {melon.pk}
    assert selected(claimant_types=(Claim.ClaimantType.SOLE_PROPRIETOR,)) == {business.pk}
    assert selected(statuses=(Claim.Status.ACCEPTED,)) == {taxi.pk, melon.pk}
    assert selected(flags_present=(Flag.Code.DUPLICATE_PHONE,)) == {melon.pk}
    # a reviewed flag is no longer "present"
    assert selected(flags_absent=(Flag.Code.DUPLICATE_PHONE, Flag.Code.AMOUNT_OUTLIER)) == {taxi.pk, business.pk}
    assert selected(estimate_min=6_000) == {taxi.pk, business.pk}
    assert selected(estimate_max=5_000) == {melon.pk}
    assert selected(proof_of_use=True) == {taxi.pk}
    assert selected(proof_of_use=False) == {melon.pk, business.pk}
    assert selected(revenue_evidence=True) == {business.pk}
    assert selected(reviewer_id=lawyer.pk) == {business.pk}
    assert selected(submitted_from=dt.date(2022, 11, 5), submitted_to=dt.date(2022, 11, 5)) == {melon.pk}
    assert selected(submitted_to=dt.date(2022, 11, 4)) == {taxi.pk}


def test_submitted_dates_are_seoul_calendar_days(lawyer):
    late_evening = SubmittedClaimFactory(submitted_at=dt.datetime(2022, 11, 1, 23, 30, tzinfo=KST))
    SubmittedClaimFactory(submitted_at=dt.datetime(2022, 11, 2, 0, 30, tzinfo=KST))
    cohort = make_cohort(lawyer, submitted_from=dt.date(2022, 11, 1), submitted_to=dt.date(2022, 11, 1))
    assert list(cohort_claims(cohort=cohort)) == [late_evening]


def test_summary_counts_and_totals_are_live(lawyer):
    first = claim_estimated(status=Claim.Status.ACCEPTED, monthly_fee=39_000)
    claim_estimated(status=Claim.Status.ACCEPTED, monthly_fee=22_000)
    SubmittedClaimFactory(status=Claim.Status.ACCEPTED, claimed_total=1_000)  # not estimated yet
    cohort = make_cohort(lawyer, statuses=(Claim.Status.ACCEPTED,))

    summary = cohort_summary(cohort=cohort)
    estimates = list(Claim.objects.exclude(estimate_total=None).values_list("estimate_total", flat=True))
    assert (summary.count, summary.claimed_total, summary.unestimated) == (3, 62_000, 1)
    assert summary.estimate_total == sum(estimates) > 0

    Claim.objects.filter(pk=first.pk).update(status=Claim.Status.WITHDRAWN)
    assert cohort_summary(cohort=cohort).count == 2


def test_saving_a_cohort_is_audited_with_its_criteria(lawyer):
    cohort = make_cohort(lawyer, statuses=(Claim.Status.ACCEPTED,))
    entry = AuditEntry.objects.get(object_type="filing.cohort", object_id=str(cohort.pk))
    assert entry.actor == lawyer
    assert entry.data["criteria"] == {"statuses": ["accepted"]}
    assert cohort.created_by == lawyer


def test_paralegals_cannot_save_cohorts():
    with pytest.raises(CohortError):
        make_cohort(StaffFactory(role=Role.PARALEGAL))


# --- freezing ---------------------------------------------------------------------------------------------------


def test_freezing_numbers_plaintiffs_by_submission_time_then_id_and_copies_the_annex_fields(lawyer):
    second = claim_ready(submitted_at=submitted(2))
    first = claim_ready(submitted_at=submitted(1), monthly_fee=22_000)
    tie_a = claim_ready(submitted_at=submitted(3))
    tie_b = claim_ready(submitted_at=submitted(3))
    cohort = make_cohort(lawyer, statuses=(Claim.Status.ACCEPTED,))

    wave = cohort_freeze_wave(cohort=cohort, name="1차 소송", court="서울중앙지방법원", actor=lawyer)

    members = list(wave.members.order_by("number"))
    assert [member.claim_id for member in members] == [first.pk, second.pk, *sorted([tie_a.pk, tie_b.pk])]
    assert [member.number for member in members] == [1, 2, 3, 4]
    one = members[0]
    claimant = first.claimant
    assert one.name == claimant.legal_name
    assert one.address == f"{claimant.address} {claimant.address_detail}"
    assert one.postal_code == claimant.postal_code
    assert one.amount_claimed == first.estimate_total
    assert one.claimed_by_kind == {"subscription": 22_000, "business_revenue": 0, "expense": 0, "other": 0}
    estimate = first.estimates.get(is_current=True)
    by_rule = {}
    for component in estimate.breakdown["components"]:
        by_rule[component["rule"]] = by_rule.get(component["rule"], 0) + component["amount"]
    assert one.estimated_by_rule == by_rule
    assert sum(one.estimated_by_rule.values()) == one.amount_claimed
    assert one.model_version == estimate.model_version.version
    assert (wave.status, wave.member_count, wave.frozen_by) == (FilingWave.Status.FROZEN, 4, lawyer)
    assert wave.claimed_total == sum(member.amount_claimed for member in members)
    audit = AuditEntry.objects.get(object_type="filing.filingwave", action=AuditEntry.Action.TRANSITION)
    assert audit.data == {"status": "frozen", "members": 4, "claimed_total": wave.claimed_total}


def test_a_frozen_wave_does_not_change_when_its_claims_do(lawyer):
    claim = claim_ready()
    wave = cohort_freeze_wave(
        cohort=make_cohort(lawyer, statuses=(Claim.Status.ACCEPTED,)),
        name="1차",
        court="서울중앙지방법원",
        actor=lawyer,
    )
    before = WaveMember.objects.values().get(wave=wave)

    claimant = claim.claimant
    claimant.legal_name, claimant.address = "이름바꿈", "부산광역시 해운대구 어딘가 1"
    claimant.save()
    LossItemFactory(claim=claim, monthly_fee=99_000)
    estimates_refresh(claim_ids=[claim.pk])
    claim.refresh_from_db()
    assert claim.estimate_total != before["amount_claimed"]

    assert WaveMember.objects.values().get(wave=wave) == before


def test_claims_already_in_a_wave_are_left_out_of_the_next(lawyer):
    claim_ready()
    cohort = make_cohort(lawyer, statuses=(Claim.Status.ACCEPTED,))
    cohort_freeze_wave(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
    later = claim_ready()

    assert cohort_summary(cohort=cohort).in_a_wave == 1
    second = cohort_freeze_wave(cohort=cohort, name="2차", court="서울중앙지방법원", actor=lawyer)
    assert list(second.members.values_list("claim_id", "number")) == [(later.pk, 1)]


def test_freezing_takes_only_ready_claims_and_leaves_the_others_out(lawyer):
    ready = claim_ready()
    claim_ready(status=Claim.Status.REJECTED)
    claim_ready(status=Claim.Status.IN_REVIEW)  # not accepted yet
    claim_ready(proof_of_use=False)
    SubmittedClaimFactory(status=Claim.Status.ACCEPTED)  # not estimated
    wave = cohort_freeze_wave(cohort=make_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    assert list(wave.members.values_list("claim_id", flat=True)) == [ready.pk]


def test_an_override_lets_one_claim_in_but_never_a_claim_that_cannot_be_a_plaintiff(lawyer):
    ready = claim_ready()
    missing_proof = claim_ready(proof_of_use=False)
    readiness_override_grant(claim=missing_proof, reason="원본을 우편으로 받음", actor=lawyer)
    rejected = claim_ready(status=Claim.Status.REJECTED)
    override = readiness_override_grant(claim=rejected, reason="착오", actor=lawyer)
    with pytest.raises(CohortError, match="원고가 될 수 없습니다"):
        cohort_freeze_wave(cohort=make_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    assert not FilingWave.objects.exists()
    assert not WaveMember.objects.exists()

    readiness_override_revoke(override=override, actor=lawyer)
    wave = cohort_freeze_wave(cohort=make_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    assert sorted(wave.members.values_list("claim_id", flat=True)) == sorted([ready.pk, missing_proof.pk])


def test_freezing_is_refused_when_nobody_is_ready(lawyer):
    claim_ready(proof_of_use=False)
    cohort = make_cohort(lawyer)
    with pytest.raises(CohortError, match="소 제기 준비가 끝난 신청이 없습니다"):
        cohort_freeze_wave(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)


def test_freezing_an_empty_cohort_or_a_frozen_wave_is_refused(lawyer):
    cohort = make_cohort(lawyer)
    wave = filing_wave_create(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
    with pytest.raises(CohortError, match="신청이 없습니다"):
        filing_wave_freeze(wave=wave, actor=lawyer)
    claim_ready()
    filing_wave_freeze(wave=wave, actor=lawyer)
    with pytest.raises(CohortError, match="이미 원고가 확정된 차수"):
        filing_wave_freeze(wave=wave, actor=lawyer)


def test_freezing_many_claims_is_one_insert(lawyer, django_assert_max_num_queries):
    for _ in range(40):
        claim_ready()
    cohort = make_cohort(lawyer)
    wave = filing_wave_create(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
    with django_assert_max_num_queries(15):  # 12, and the savepoint, JIT off and its release (readiness.jit_off)
        wave = filing_wave_freeze(wave=wave, actor=lawyer)
    assert sorted(wave.members.values_list("number", flat=True)) == list(range(1, 41))


def test_marking_a_wave_filed_records_the_case_number_and_locks_its_details(lawyer):
    claim_ready()
    wave = cohort_freeze_wave(cohort=make_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    with pytest.raises(CohortError, match="오늘이나 그 이전"):
        filing_wave_mark_filed(
            wave=wave, case_number="2024가합1", filed_on=timezone.localdate() + dt.timedelta(days=1), actor=lawyer
        )
    wave = filing_wave_mark_filed(
        wave=wave, case_number=" 2024가합123456 ", filed_on=timezone.localdate(), actor=lawyer
    )
    assert (wave.status, wave.case_number) == (FilingWave.Status.FILED, "2024가합123456")

    wave.court = "서울남부지방법원"
    with pytest.raises(CohortError, match="바꿀 수 없습니다"):
        filing_wave_update(wave=wave, changes=["court"], actor=lawyer)


def test_a_frozen_wave_may_be_renamed_but_keeps_its_plaintiffs(lawyer):
    claim_ready()
    wave = cohort_freeze_wave(cohort=make_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    wave.court = "서울남부지방법원"
    updated = filing_wave_update(wave=wave, changes=["court"], actor=lawyer)
    assert updated.court == "서울남부지방법원"
    assert updated.member_count == 1
    entry = AuditEntry.objects.filter(object_type="filing.filingwave", action=AuditEntry.Action.EDITED).first()
    assert entry.data["changes"] == {"court": ["서울중앙지방법원", "서울남부지방법원"]}
