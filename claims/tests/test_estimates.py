"""Estimates stored for claims: inputs built from the database, versioned models, idempotent writes, the sweep,
the cohort-outlier flag and the preview of a draft model."""

import json
from dataclasses import asdict
from decimal import Decimal

import orjson
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from claims.damages import (
    DEFAULT_PARAMETERS,
    FLAG_NO_PROOF_OF_USE,
    FLAG_REVENUE_WITHOUT_EVIDENCE,
    ClaimInput,
    Parameters,
    estimate,
)
from claims.models import (
    Claim,
    ClaimEvent,
    DamageModelVersion,
    Estimate,
    Evidence,
    Incident,
    LossItem,
    OutageWindow,
    RecomputeJob,
)
from claims.selectors.estimates import (
    FLAG_COHORT_OUTLIER,
    claim_snapshots,
    claims_needing_estimate,
    damage_model_active,
    damage_model_preview,
    inputs_digest,
)
from claims.services.estimates import (
    DamageModelError,
    cohort_outliers_flag,
    cohort_threshold,
    damage_model_activate,
    damage_model_copy,
    damage_model_draft_create,
    damage_model_draft_update,
    estimate_claim,
    estimate_reproduce,
    estimate_sweep,
    estimates_refresh,
    json_text,
)
from claims.tests.factories import (
    ClaimFactory,
    DamageModelVersionFactory,
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    default_incident,
    service_by_slug,
)

pytestmark = pytest.mark.django_db


def manager():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_damage_model"))
    return user


def kakao_t_driver_claim(**fields) -> Claim:
    """The worked checks: a Kakao T Pro taxi plan (39,000 won) and a designated-driver plan (22,000 won)."""
    claim = SubmittedClaimFactory(**fields)
    LossItemFactory(claim=claim, monthly_fee=39_000)
    LossItemFactory(claim=claim, monthly_fee=22_000)
    return claim


def current(claim: Claim) -> Estimate:
    return Estimate.objects.get(claim=claim, is_current=True)


def components(estimate: Estimate, rule: str) -> list[int]:
    return [c["amount"] for c in estimate.breakdown["components"] if c["rule"] == rule]


# --- version 1 -----------------------------------------------------------------------------------------------------


def test_every_incident_starts_with_active_version_1_of_the_default_model():
    for incident in Incident.objects.all():
        version = damage_model_active(incident_id=incident.pk)
        assert version.version == 1
        assert version.parameters == DEFAULT_PARAMETERS
        assert version.note == "기본 모델 (DAMAGE_MODEL.md v1)"
        assert version.activated_at is not None


# --- a claim as calculator input -----------------------------------------------------------------------------------


def test_submitted_claim_gets_the_worked_check_components_to_the_won():
    claim = kakao_t_driver_claim()

    estimate_claim(claim_id=claim.pk)

    estimate = current(claim)
    assert components(estimate, "subscription") == [7_550, 4_260]
    assert components(estimate, "solatium") == [0]
    assert estimate.total == 11_810
    assert estimate.model_version == damage_model_active(incident_id=claim.incident_id)
    claim.refresh_from_db()
    assert claim.estimate_total == 11_810
    assert claim.estimate_flags == [FLAG_NO_PROOF_OF_USE]
    assert claim.estimated_at == estimate.computed_at
    assert claim.estimate_error == ""


def test_evidence_counts_for_its_own_loss_item_and_tags_count_for_the_whole_claim():
    claim = SubmittedClaimFactory(already_compensated=5_000)
    documented = LossItemFactory(claim=claim, kind=LossItem.Kind.EXPENSE, monthly_fee=0, amount=30_000)
    LossItemFactory(claim=claim, kind=LossItem.Kind.EXPENSE, monthly_fee=0, amount=20_000)
    LossItemFactory(
        claim=claim,
        kind=LossItem.Kind.BUSINESS_REVENUE,
        monthly_fee=0,
        comparison_revenue=400_000,
        outage_revenue=100_000,
        affected_hours=Decimal("30.0"),
    )
    EvidenceFactory(claim=claim, loss_item=documented, tag=Evidence.Tag.RECEIPT)
    EvidenceFactory(claim=claim, tag=Evidence.Tag.PROOF_OF_USE)

    (snapshot,) = claim_snapshots(claim_ids=[claim.pk])

    claim_input = snapshot.input
    assert [item.has_evidence for item in claim_input.loss_items] == [True, False, False]
    assert claim_input.has_proof_of_use is True
    assert claim_input.has_revenue_evidence is False
    assert claim_input.already_compensated == 5_000
    assert claim_input.service_names == {"kakao-t": "카카오T (택시·대리 등)"}
    assert claim_input.service_names_en == {"kakao-t": "Kakao T (taxi, designated driver)"}
    assert set(claim_input.windows) == {"kakao-t"}
    assert claim_input.loss_items[2].affected_hours == Decimal("30.0")

    estimate_claim(claim_id=claim.pk)

    estimate = current(claim)
    # 30,000 documented at 100% + 20,000 undocumented at 0% + 300,000 lost revenue + 100,000 solatium - 5,000
    assert estimate.total == 425_000
    assert estimate.breakdown["reference_code"] == "bracket_30000"  # L = 300,000
    assert FLAG_REVENUE_WITHOUT_EVIDENCE in estimate.flags
    assert FLAG_NO_PROOF_OF_USE not in estimate.flags


def test_service_window_start_defaults_to_the_incident_start():
    claim = SubmittedClaimFactory()
    LossItemFactory(claim=claim)

    (snapshot,) = claim_snapshots(claim_ids=[claim.pk])

    window = snapshot.input.windows["kakao-t"]
    assert window.start == claim.incident.outage_started
    assert window.end == OutageWindow.objects.get(incident=claim.incident, service__slug="kakao-t").end
    assert window.damaged_days == 2


def test_inputs_are_loaded_in_a_fixed_number_of_queries(django_assert_num_queries):
    claims = [kakao_t_driver_claim() for _ in range(3)]
    for claim in claims:
        EvidenceFactory(claim=claim, loss_item=claim.loss_items.first())
    with django_assert_num_queries(6) as one:
        claim_snapshots(claim_ids=[claims[0].pk])
    more = [kakao_t_driver_claim() for _ in range(12)]
    with django_assert_num_queries(len(one.captured_queries)):
        snapshots = claim_snapshots(claim_ids=[c.pk for c in claims + more])
    assert len(snapshots) == 15


def test_stored_inputs_reproduce_the_figure():
    claim = kakao_t_driver_claim()
    EvidenceFactory(claim=claim, tag=Evidence.Tag.PROOF_OF_USE)
    estimate_claim(claim_id=claim.pk)
    estimate = current(claim)

    assert ClaimInput.from_dict(estimate.inputs).to_dict() == estimate.inputs
    assert inputs_digest(ClaimInput.from_dict(estimate.inputs))[1] == estimate.inputs_sha256
    assert estimate_reproduce(estimate_row=estimate) == estimate.total == 111_810
    assert estimate.breakdown["parameters"] == DEFAULT_PARAMETERS


def test_drafts_are_never_estimated_and_withdrawn_claims_keep_their_last_estimate():
    draft = ClaimFactory()
    LossItemFactory(claim=draft)
    withdrawn = kakao_t_driver_claim()
    estimate_claim(claim_id=withdrawn.pk)
    Claim.objects.filter(pk=withdrawn.pk).update(status=Claim.Status.WITHDRAWN)
    LossItemFactory(claim=withdrawn, monthly_fee=100_000)

    outcome = estimates_refresh(claim_ids=[draft.pk, withdrawn.pk])

    assert outcome.skipped == 2
    assert not Estimate.objects.filter(claim=draft).exists()
    assert current(withdrawn).total == 11_810
    assert set(claims_needing_estimate().filter(pk__in=[draft.pk, withdrawn.pk])) == set()


# --- idempotent writes ---------------------------------------------------------------------------------------------


def test_estimating_twice_writes_one_estimate_and_one_event():
    claim = kakao_t_driver_claim()

    first = estimate_claim(claim_id=claim.pk)
    second = estimate_claim(claim_id=claim.pk)

    assert first.written == [claim.pk]
    assert second.unchanged == [claim.pk] and second.written == []
    assert Estimate.objects.filter(claim=claim).count() == 1
    event = ClaimEvent.objects.get(claim=claim, kind=ClaimEvent.Kind.ESTIMATED)
    assert event.actor is None
    assert event.data == {"total": 11_810, "model_version": 1, "previous_total": None}
    assert "11,810원" in event.message


def test_new_input_with_the_same_total_replaces_the_estimate_without_a_timeline_entry():
    claim = kakao_t_driver_claim()
    estimate_claim(claim_id=claim.pk)
    first = current(claim)
    # Other losses are counted at 0% by default: the input changes, the total does not.
    LossItemFactory(claim=claim, kind=LossItem.Kind.OTHER, monthly_fee=0, amount=50_000)

    estimate_claim(claim_id=claim.pk)

    second = current(claim)
    assert second.pk != first.pk and second.inputs_sha256 != first.inputs_sha256
    assert second.total == first.total
    assert Estimate.objects.filter(claim=claim).count() == 2
    assert ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.ESTIMATED).count() == 1
    claim.refresh_from_db()
    assert (claim.estimate_total, claim.estimated_at) == (11_810, second.computed_at)


def test_a_changed_total_is_recorded_on_the_timeline():
    claim = kakao_t_driver_claim()
    estimate_claim(claim_id=claim.pk)
    EvidenceFactory(claim=claim, tag=Evidence.Tag.PROOF_OF_USE)

    estimate_claim(claim_id=claim.pk)

    claim.refresh_from_db()
    assert claim.estimate_total == 111_810
    assert claim.estimate_flags == []
    events = ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.ESTIMATED).order_by("id")
    assert [e.data["total"] for e in events] == [11_810, 111_810]
    assert events[1].data["previous_total"] == 11_810


def test_a_claim_the_calculator_refuses_keeps_its_estimate_and_records_the_error():
    claim = kakao_t_driver_claim()
    estimate_claim(claim_id=claim.pk)
    # A service with no outage window in this incident.
    other_incident = Incident.objects.exclude(pk=claim.incident_id).first()
    orphan = OutageWindow.objects.filter(incident=other_incident).first().service
    OutageWindow.objects.filter(incident=claim.incident, service=orphan).delete()
    LossItemFactory(claim=claim, service=orphan)

    outcome = estimate_claim(claim_id=claim.pk)

    assert list(outcome.failed) == [claim.pk]
    claim.refresh_from_db()
    assert orphan.slug in claim.estimate_error
    assert claim.estimate_total == 11_810
    assert Estimate.objects.filter(claim=claim).count() == 1


# --- versions ------------------------------------------------------------------------------------------------------


def test_new_version_from_an_active_one_is_a_draft_numbered_after_the_latest():
    active = damage_model_active(incident_id=default_incident().pk)

    draft = damage_model_copy(source=active, actor=manager())

    assert draft.version == 2 and not draft.is_active and draft.activated_at is None
    assert draft.parameters == active.parameters
    assert draft.note == "버전 1에서 복사"


def test_only_managers_create_drafts_and_parameters_are_validated():
    paralegal = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        damage_model_draft_create(incident=default_incident(), parameters={}, note="", actor=paralegal)
    with pytest.raises(DamageModelError):
        damage_model_draft_create(
            incident=default_incident(), parameters={"rounding_unit": 0}, note="", actor=manager()
        )

    draft = damage_model_draft_create(
        incident=default_incident(), parameters={"solatium_per_claimant": 50_000}, note="위자료 하향", actor=manager()
    )

    assert draft.parameters == {**DEFAULT_PARAMETERS, "solatium_per_claimant": 50_000}


def test_an_active_or_once_active_version_cannot_be_edited():
    actor = manager()
    active = damage_model_active(incident_id=default_incident().pk)
    with pytest.raises(DamageModelError):
        damage_model_draft_update(version=active, parameters=DEFAULT_PARAMETERS, note="", actor=actor)

    draft = DamageModelVersionFactory()
    damage_model_draft_update(version=draft, parameters={"other_ratio": "0.5"}, note="기타 50%", actor=actor)
    damage_model_activate(version=draft, actor=actor)
    damage_model_activate(version=active, actor=actor)  # back to version 1: version 2 is history now

    with pytest.raises(DamageModelError):
        damage_model_draft_update(version=draft, parameters=DEFAULT_PARAMETERS, note="", actor=actor)
    draft.refresh_from_db()
    assert draft.parameters["other_ratio"] == "0.5"


def test_activation_requires_the_manage_permission():
    draft = DamageModelVersionFactory()
    with pytest.raises(PermissionDenied):
        damage_model_activate(version=draft, actor=UserFactory(is_staff=True))
    draft.refresh_from_db()
    assert not draft.is_active
    assert not RecomputeJob.objects.exists()


def test_activation_switches_the_active_version_and_recomputes_every_claim(django_capture_on_commit_callbacks):
    claims = [kakao_t_driver_claim() for _ in range(3)]
    estimates_refresh(claim_ids=[c.pk for c in claims])
    untouched_draft = ClaimFactory()
    draft = DamageModelVersionFactory(parameters={**DEFAULT_PARAMETERS, "subscription_multiplier": "1"})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = damage_model_activate(version=draft, actor=manager())

    assert len(callbacks) >= 1
    old = DamageModelVersion.objects.get(incident=draft.incident, version=1)
    assert not old.is_active
    job.refresh_from_db()
    assert job.status == RecomputeJob.Status.DONE
    assert (job.total, job.done, job.failures) == (3, 3, 0)
    for claim in claims:
        estimate = current(claim)
        assert estimate.model_version == draft
        assert components(estimate, "subscription") == [2_520, 1_420]  # 39,000 x 2 / 31 and 22,000 x 2 / 31
        assert ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.ESTIMATED).count() == 2
    assert not Estimate.objects.filter(claim=untouched_draft).exists()


# --- the sweep -----------------------------------------------------------------------------------------------------


def test_sweep_estimates_a_claim_whose_task_was_never_delivered():
    claim = kakao_t_driver_claim()
    fresh = kakao_t_driver_claim()
    estimate_claim(claim_id=fresh.pk)

    assert list(claims_needing_estimate()) == [claim]
    outcome = estimate_sweep()

    assert outcome.written == 1
    assert current(claim).total == 11_810
    assert not claims_needing_estimate().exists()
    assert estimate_sweep().stale == 0


def test_sweep_catches_changes_made_after_the_last_estimate():
    changed_item, new_evidence, edited_claim, removed_item, fresh = (kakao_t_driver_claim() for _ in range(5))
    estimates_refresh(claim_ids=[c.pk for c in (changed_item, new_evidence, edited_claim, removed_item, fresh)])

    LossItem.objects.filter(claim=changed_item).update(monthly_fee=10_000, updated_at=timezone.now())
    EvidenceFactory(claim=new_evidence)
    Claim.objects.filter(pk=edited_claim.pk).update(already_compensated=1_000, updated_at=timezone.now())
    removed_item.loss_items.first().delete()
    ClaimEvent.objects.create(claim=removed_item, kind=ClaimEvent.Kind.UPDATED)

    assert set(claims_needing_estimate()) == {changed_item, new_evidence, edited_claim, removed_item}
    estimate_sweep()

    assert current(changed_item).total == 3_880  # both plans now 10,000 won: 2 x (10,000 x 2 x 3 / 31 -> 1,940)
    assert current(new_evidence).total == 111_810
    assert current(edited_claim).total == 10_810
    assert current(removed_item).total == 4_260
    assert not claims_needing_estimate().exists()


def test_sweep_recomputes_claims_left_on_an_old_version_when_the_recompute_was_lost():
    claims = [kakao_t_driver_claim() for _ in range(2)]
    estimates_refresh(claim_ids=[c.pk for c in claims])
    draft = DamageModelVersionFactory(parameters={**DEFAULT_PARAMETERS, "solatium_per_claimant": 0})

    damage_model_activate(version=draft, actor=manager())  # the on-commit recompute never runs in this test

    assert set(claims_needing_estimate()) == set(claims)
    estimate_sweep()
    assert {current(c).model_version_id for c in claims} == {draft.pk}


def test_sweep_does_not_retry_a_failing_claim_until_its_data_changes():
    claim = kakao_t_driver_claim()
    orphan = OutageWindow.objects.filter(service__slug="melon", incident=claim.incident).get()
    orphan.delete()
    LossItemFactory(claim=claim, service=service_by_slug("melon"))

    assert estimate_sweep().failed == 1
    assert not claims_needing_estimate().exists()

    LossItem.objects.filter(claim=claim, service__slug="melon").delete()
    ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.UPDATED)
    assert estimate_sweep().written == 1
    claim.refresh_from_db()
    assert claim.estimate_error == "" and claim.estimate_total == 11_810
    assert not claims_needing_estimate().exists()


# --- the cohort-outlier flag ---------------------------------------------------------------------------------------


def test_cohort_threshold_is_the_nearest_rank_99th_percentile():
    assert cohort_threshold([]) is None
    assert cohort_threshold([5, 1, 3]) == 5
    assert cohort_threshold(list(range(1, 201))) == 198
    assert cohort_threshold(list(range(1, 101))) == 99


def test_cohort_outlier_is_flagged_for_staff_and_never_changes_the_amount():
    claims = [SubmittedClaimFactory() for _ in range(100)]
    for claim in claims[:99]:
        LossItemFactory(claim=claim, monthly_fee=39_000)
    LossItemFactory(claim=claims[99], monthly_fee=10_000_000)
    estimates_refresh(claim_ids=[c.pk for c in claims])

    assert cohort_outliers_flag(incident_id=default_incident().pk) == 1

    outlier = Claim.objects.get(pk=claims[99].pk)
    assert outlier.estimate_flags == sorted([FLAG_COHORT_OUTLIER, FLAG_NO_PROOF_OF_USE])
    assert outlier.estimate_total == current(outlier).total == 1_935_480
    assert FLAG_COHORT_OUTLIER not in current(outlier).flags
    assert Claim.objects.filter(estimate_flags__contains=[FLAG_COHORT_OUTLIER]).count() == 1
    # Re-estimating keeps the flag until the next cohort pass decides.
    EvidenceFactory(claim=outlier, tag=Evidence.Tag.PROOF_OF_USE)
    estimate_claim(claim_id=outlier.pk)
    outlier.refresh_from_db()
    assert outlier.estimate_flags == [FLAG_COHORT_OUTLIER]
    assert cohort_outliers_flag(incident_id=default_incident().pk) == 0

    Evidence.objects.filter(claim=outlier).delete()
    LossItem.objects.filter(claim=outlier).update(monthly_fee=39_000)
    estimate_claim(claim_id=outlier.pk)
    assert cohort_outliers_flag(incident_id=default_incident().pk) == 1
    outlier.refresh_from_db()
    assert outlier.estimate_flags == [FLAG_NO_PROOF_OF_USE]


# --- preview -------------------------------------------------------------------------------------------------------


def test_preview_shows_the_cohort_effect_and_writes_nothing(django_assert_max_num_queries):
    claims = [kakao_t_driver_claim() for _ in range(3)]
    EvidenceFactory(claim=claims[0], tag=Evidence.Tag.PROOF_OF_USE)
    estimates_refresh(claim_ids=[c.pk for c in claims[:2]])  # the third has no estimate yet
    draft = DamageModelVersionFactory(parameters={**DEFAULT_PARAMETERS, "solatium_per_claimant": 200_000})
    claim_state = Claim.objects.order_by("pk").values_list("pk", "estimate_total", "estimate_flags", "estimated_at")
    before = list(claim_state)
    counts = (Estimate.objects.count(), ClaimEvent.objects.count())

    with django_assert_max_num_queries(12):
        preview = damage_model_preview(version=draft)

    assert preview.claims == 3
    assert preview.not_estimated_before == 1
    assert preview.total_before == 111_810 + 11_810
    assert preview.total_after == 211_810 + 11_810 + 11_810
    assert preview.changed == 2 and preview.increased == 2 and preview.decreased == 0
    assert [(c.reference_code, c.before, c.after) for c in preview.largest_changes] == [
        (claims[0].reference_code, 111_810, 211_810),
        (claims[2].reference_code, 0, 11_810),
    ]
    assert (
        list(Claim.objects.order_by("pk").values_list("pk", "estimate_total", "estimate_flags", "estimated_at"))
        == before
    )
    assert (Estimate.objects.count(), ClaimEvent.objects.count()) == counts


# --- storage -----------------------------------------------------------------------------------------------------


def test_estimate_to_dict_is_the_full_dataclass_as_json():
    claim = kakao_t_driver_claim(already_compensated=1_000)
    EvidenceFactory(claim=claim, tag=Evidence.Tag.PROOF_OF_USE)
    (snapshot,) = claim_snapshots(claim_ids=[claim.pk])
    result = estimate(snapshot.input, Parameters.from_dict({**DEFAULT_PARAMETERS, "per_claim_cap": 100_000}))

    expected = {
        **asdict(result),
        "components": [asdict(c) for c in result.components],
        "flags": list(result.flags),
        "windows": list(result.windows),
    }
    assert result.to_dict() == expected
    assert [c["rule"] for c in expected["components"]] == [
        "subscription",
        "subscription",
        "solatium",
        "compensation_deducted",
        "cap",
    ]


@pytest.mark.parametrize("fast", [True, False], ids=["postgresql-json-recordset", "orm"])
def test_both_write_paths_store_the_same_rows(fast):
    from claims.services import estimates as services

    claim = kakao_t_driver_claim()
    version = damage_model_active(incident_id=claim.incident_id)
    (snapshot,) = claim_snapshots(claim_ids=[claim.pk])
    inputs, digest = inputs_digest(snapshot.input)
    breakdown = estimate(snapshot.input, Parameters.from_dict(version.parameters)).to_dict()
    now = timezone.now()
    row = {
        "claim_id": claim.pk,
        "model_version_id": version.pk,
        "total": 11_810,
        "breakdown": breakdown,
        "inputs": inputs,
        "inputs_sha256": digest,
        "flags": ["no_proof_of_use"],
    }

    services._estimates_insert([row], computed_at=now, fast=fast)
    services._claims_estimate_update(
        [{"id": claim.pk, "total": 11_810, "flags": ["no_proof_of_use"], "error": ""}], checked_at=now, fast=fast
    )

    services._estimated_events_insert(
        [{"claim_id": claim.pk, "message": "산정액 11,810원", "data": {"total": 11_810}}], created_at=now, fast=fast
    )

    event = ClaimEvent.objects.get(claim=claim)
    assert (event.kind, event.actor, event.message, event.data, event.created_at, event.ip) == (
        ClaimEvent.Kind.ESTIMATED,
        None,
        "산정액 11,810원",
        {"total": 11_810},
        now,
        None,
    )
    stored = current(claim)
    assert (stored.total, stored.breakdown, stored.inputs, stored.inputs_sha256) == (11_810, breakdown, inputs, digest)
    assert (stored.flags, stored.computed_at, stored.model_version) == (["no_proof_of_use"], now, version)
    claim.refresh_from_db()
    assert (claim.estimate_total, claim.estimate_flags, claim.estimated_at) == (11_810, ["no_proof_of_use"], now)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_orjson_writes_the_canonical_json_the_digests_were_defined_with(value):
    """Stored input digests stay comparable: orjson's sorted, compact UTF-8 is byte for byte the standard library's
    `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, and json_text() reads back equal."""
    standard = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == standard
    assert json.loads(json_text(value)) == value
