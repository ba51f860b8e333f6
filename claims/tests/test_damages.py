"""Behaviour of the damage calculator (pure Python: no Django, no database)."""

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claims.damages import (
    DEFAULT_PARAMETERS,
    KINDS,
    ClaimInput,
    Component,
    Estimate,
    LossItemInput,
    ParameterError,
    Parameters,
    ServiceWindow,
    UnknownServiceError,
    estimate,
    round_half_up,
)

KST = ZoneInfo("Asia/Seoul")


def kst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=KST)


INCIDENT_START = kst(2022, 10, 15, 15, 30)
KAKAO_T = ServiceWindow("kakao-t", INCIDENT_START, kst(2022, 10, 16, 14, 0))
TALK_DRAWER = ServiceWindow("talk-drawer", INCIDENT_START, kst(2022, 10, 20, 23, 0))
WINDOWS = {window.slug: window for window in (KAKAO_T, TALK_DRAWER)}
DEFAULTS = Parameters.from_dict(DEFAULT_PARAMETERS)


def make_claim(*items: LossItemInput, **overrides) -> ClaimInput:
    return ClaimInput(incident_start=INCIDENT_START, windows=WINDOWS, loss_items=items, **overrides)


def subscription(fee: int, service: str = "kakao-t", **fields) -> LossItemInput:
    return LossItemInput(service=service, kind="subscription", monthly_fee=fee, **fields)


def revenue(comparison: int, outage: int = 0, **fields) -> LossItemInput:
    return LossItemInput(
        service="kakao-t", kind="business_revenue", comparison_revenue=comparison, outage_revenue=outage, **fields
    )


def the_component(result: Estimate, rule: str) -> Component:
    (component,) = [c for c in result.components if c.rule == rule]
    return component


def has_rule(result: Estimate, rule: str) -> bool:
    return any(c.rule == rule for c in result.components)


def params(**changes) -> Parameters:
    return Parameters.from_dict({**DEFAULT_PARAMETERS, **changes})


# --- worked checks ------------------------------------------------------------


def test_kakao_t_pro_plan_matches_operator_payout_7550():
    result = estimate(make_claim(subscription(39_000)), DEFAULTS)

    component = the_component(result, "subscription")
    assert component.amount == 7_550
    assert component.parameters["damaged_days"] == 2
    assert component.parameters["days_in_month"] == 31


def test_designated_driver_plan_22000_matches_operator_payout_4260():
    result = estimate(make_claim(subscription(22_000)), DEFAULTS)

    assert the_component(result, "subscription").amount == 4_260


def test_round_half_up_rounds_exact_fraction_to_unit():
    assert round_half_up(Fraction(39_000 * 2 * 3, 31), 10) == 7_550
    assert round_half_up(Fraction(22_000 * 2 * 3, 31), 10) == 4_260


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(5, 10, 10), (4, 10, 0), (Decimal("14.999"), 10, 10), (Decimal("15"), 10, 20), (Fraction(1, 2), 1, 1), (0, 10, 0)],
)
def test_round_half_up_sends_halves_up(value, unit, expected):
    assert round_half_up(value, unit) == expected


@given(st.fractions(), st.integers(min_value=1, max_value=10_000))
def test_round_half_up_is_the_nearest_multiple_with_halves_away_from_zero(value, unit):
    quotient = value / unit
    magnitude = math.floor(abs(quotient) + Fraction(1, 2))
    assert round_half_up(value, unit) == (magnitude if quotient >= 0 else -magnitude) * unit


def test_round_half_up_rejects_non_positive_unit():
    with pytest.raises(ValueError, match="unit"):
        round_half_up(10, 0)


# --- service windows ----------------------------------------------------------


def test_kakao_t_window_touches_two_damaged_days():
    assert KAKAO_T.damaged_days == 2


def test_talk_drawer_window_touches_six_damaged_days():
    assert TALK_DRAWER.damaged_days == 6


def test_window_ending_exactly_at_midnight_does_not_touch_that_date():
    window = ServiceWindow("kakao-map", INCIDENT_START, kst(2022, 10, 16))

    assert window.damaged_days == 1


def test_window_ending_one_minute_after_midnight_touches_that_date():
    window = ServiceWindow("kakao-map", INCIDENT_START, kst(2022, 10, 16, 0, 1))

    assert window.damaged_days == 2


def test_damaged_days_count_kst_dates_even_when_window_is_given_in_utc():
    # 23:59 KST .. 00:01 KST the next day: the same UTC date, two KST dates.
    window = ServiceWindow(
        "kakao-map", datetime(2022, 10, 15, 14, 59, tzinfo=UTC), datetime(2022, 10, 15, 15, 1, tzinfo=UTC)
    )

    assert window.damaged_days == 2


def test_empty_window_has_no_damaged_days():
    assert ServiceWindow("kakao-map", INCIDENT_START, INCIDENT_START).damaged_days == 0


def test_window_hours_are_given_to_two_decimal_places():
    assert KAKAO_T.hours == Decimal("22.50")
    assert TALK_DRAWER.hours == Decimal("127.50")
    assert ServiceWindow("x", INCIDENT_START, INCIDENT_START + timedelta(minutes=20)).hours == Decimal("0.33")


def test_window_must_not_end_before_it_starts():
    with pytest.raises(ValueError, match="ends before"):
        ServiceWindow("kakao-t", KAKAO_T.end, KAKAO_T.start)


def test_window_needs_timezone_aware_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        ServiceWindow("kakao-t", datetime(2022, 10, 15, 15, 30), KAKAO_T.end)


@given(
    start=st.datetimes(min_value=datetime(2022, 1, 1), max_value=datetime(2023, 12, 31), timezones=st.just(KST)),
    length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
)
@example(start=datetime(2022, 1, 1, 0, 0, 0, 1, tzinfo=KST), length=timedelta(0))  # empty, just after midnight
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_damaged_days_equal_the_kst_dates_whose_day_overlaps_the_window(start, length):
    window = ServiceWindow("kakao-t", start, start + length)
    day = start.date() - timedelta(days=1)
    touched = 0
    while kst(day.year, day.month, day.day) < window.end:
        day_start = kst(day.year, day.month, day.day)
        day_end = day_start + timedelta(days=1)
        touched += window.start < window.end and day_start < window.end and window.start < day_end  # [a, a) is empty
        day += timedelta(days=1)

    assert window.damaged_days == touched


# --- days in month ------------------------------------------------------------


def test_days_in_month_for_october_incident_is_31():
    assert make_claim().days_in_month == 31


@pytest.mark.parametrize(("year", "days"), [(2023, 28), (2024, 29)])
def test_days_in_month_for_february_incident_follows_leap_years(year, days):
    claim = ClaimInput(incident_start=kst(year, 2, 10, 9), windows={}, loss_items=())

    assert claim.days_in_month == days


def test_days_in_month_uses_the_kst_month_of_the_incident_start():
    # 2022-09-30 15:30 UTC is already 1 October in Seoul.
    claim = ClaimInput(incident_start=datetime(2022, 9, 30, 15, 30, tzinfo=UTC), windows={}, loss_items=())

    assert claim.days_in_month == 31


def test_february_incident_prorates_subscription_over_28_days():
    window = ServiceWindow("kakao-t", kst(2023, 2, 10, 9), kst(2023, 2, 10, 18))
    claim = ClaimInput(incident_start=window.start, windows={"kakao-t": window}, loss_items=(subscription(28_000),))

    assert the_component(estimate(claim, DEFAULTS), "subscription").amount == 3_000  # 28,000 x 1 x 3 / 28


# --- each kind with default parameters ----------------------------------------


def test_subscription_on_talk_drawer_counts_six_damaged_days():
    result = estimate(make_claim(subscription(3_900, service="talk-drawer")), DEFAULTS)

    assert the_component(result, "subscription").amount == 2_260  # 3,900 x 6 x 3 / 31 = 2,264.52


def test_business_revenue_pays_the_drop_in_revenue():
    result = estimate(make_claim(revenue(1_000_000, 200_000)), DEFAULTS)

    assert the_component(result, "business_revenue").amount == 800_000


def test_business_revenue_that_rose_during_the_outage_pays_nothing():
    result = estimate(make_claim(revenue(100_000, 150_000)), DEFAULTS)

    assert the_component(result, "business_revenue").amount == 0
    assert result.revenue_loss == 0


def test_business_revenue_applies_revenue_loss_ratio():
    result = estimate(make_claim(revenue(1_000_000, 200_000)), params(revenue_loss_ratio="0.5"))

    assert the_component(result, "business_revenue").amount == 400_000


def test_documented_expense_is_paid_in_full():
    item = LossItemInput(service="kakao-t", kind="expense", amount=45_678, has_evidence=True)

    assert the_component(estimate(make_claim(item), DEFAULTS), "expense").amount == 45_680


def test_undocumented_expense_pays_nothing_by_default():
    item = LossItemInput(service="kakao-t", kind="expense", amount=45_678)

    assert the_component(estimate(make_claim(item), DEFAULTS), "expense").amount == 0


def test_undocumented_expense_uses_its_own_ratio():
    item = LossItemInput(service="kakao-t", kind="expense", amount=50_000)
    result = estimate(make_claim(item), params(undocumented_expense_ratio="0.5"))

    component = the_component(result, "expense")
    assert component.amount == 25_000
    assert component.parameters["undocumented_expense_ratio"] == "0.5"


def test_other_loss_pays_nothing_by_default():
    item = LossItemInput(service="kakao-t", kind="other", amount=80_000)

    assert the_component(estimate(make_claim(item), DEFAULTS), "other").amount == 0


def test_other_loss_uses_other_ratio():
    item = LossItemInput(service="kakao-t", kind="other", amount=80_000)

    assert the_component(estimate(make_claim(item), params(other_ratio="0.25")), "other").amount == 20_000


def test_subscription_multiplier_is_a_parameter():
    result = estimate(make_claim(subscription(31_000)), params(subscription_multiplier="1"))

    assert the_component(result, "subscription").amount == 2_000  # 31,000 x 2 x 1 / 31


def test_rounding_unit_is_a_parameter():
    result = estimate(make_claim(subscription(39_000)), params(rounding_unit=1))

    assert the_component(result, "subscription").amount == 7_548


# --- solatium, deduction, cap -------------------------------------------------


def test_solatium_is_paid_once_with_proof_of_use():
    result = estimate(make_claim(subscription(39_000), subscription(22_000), has_proof_of_use=True), DEFAULTS)

    assert the_component(result, "solatium").amount == 100_000
    assert result.total == 7_550 + 4_260 + 100_000


def test_no_solatium_without_proof_of_use():
    result = estimate(make_claim(subscription(39_000)), DEFAULTS)

    assert the_component(result, "solatium").amount == 0
    assert result.total == 7_550


def test_components_follow_loss_item_order_then_solatium():
    items = (revenue(10_000, ref="b"), subscription(39_000, ref="a"))
    result = estimate(make_claim(*items, already_compensated=5_000), params(per_claim_cap=100))

    assert [(c.rule, c.ref) for c in result.components] == [
        ("business_revenue", "b"),
        ("subscription", "a"),
        ("solatium", ""),
        ("compensation_deducted", ""),
        ("cap", ""),
    ]


def test_compensation_already_received_is_deducted_as_its_own_line():
    result = estimate(make_claim(subscription(39_000), has_proof_of_use=True, already_compensated=7_000), DEFAULTS)

    assert result.subtotal == 107_550
    assert the_component(result, "compensation_deducted").amount == -7_000
    assert result.total == 100_550


def test_deduction_floors_the_total_at_zero():
    result = estimate(make_claim(subscription(39_000), already_compensated=50_000), DEFAULTS)

    assert the_component(result, "compensation_deducted").amount == -7_550
    assert result.total == 0


def test_no_deduction_line_when_nothing_was_deducted():
    assert not has_rule(estimate(make_claim(subscription(39_000)), DEFAULTS), "compensation_deducted")
    assert not has_rule(estimate(make_claim(already_compensated=5_000), DEFAULTS), "compensation_deducted")


def test_cap_limits_the_total_as_its_own_line():
    result = estimate(make_claim(revenue(1_000_000), has_proof_of_use=True), params(per_claim_cap=500_000))

    assert result.subtotal == 1_100_000
    assert the_component(result, "cap").amount == -600_000
    assert result.total == 500_000


def test_cap_applies_after_the_deduction():
    claim = make_claim(revenue(600_000), already_compensated=150_000)
    result = estimate(claim, params(per_claim_cap=500_000))

    assert not has_rule(result, "cap")
    assert result.total == 450_000


def test_no_cap_line_when_total_is_within_the_cap():
    result = estimate(make_claim(subscription(39_000)), params(per_claim_cap=7_550))

    assert not has_rule(result, "cap")
    assert result.total == 7_550


def test_claimed_total_sums_what_the_claimant_entered():
    items = (
        subscription(39_000),
        revenue(500_000, 100_000),
        revenue(10_000, 20_000),
        LossItemInput(service="kakao-t", kind="expense", amount=30_000),
        LossItemInput(service="kakao-t", kind="other", amount=5_000),
    )

    assert estimate(make_claim(*items), DEFAULTS).claimed_total == 39_000 + 400_000 + 0 + 30_000 + 5_000


# --- reference figure ---------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "figure", "code"),
    [
        (1, 30_000, "bracket_30000"),
        (300_000, 30_000, "bracket_30000"),
        (300_001, 50_000, "bracket_50000"),
        (500_000, 50_000, "bracket_50000"),
        (500_001, None, "individual_review"),
    ],
)
def test_reference_figure_follows_operator_small_business_brackets(loss, figure, code):
    result = estimate(make_claim(revenue(loss + 1_000, 1_000)), DEFAULTS)

    assert result.revenue_loss == loss
    assert (result.reference_figure, result.reference_code) == (figure, code)


def test_reference_figure_sums_lost_revenue_over_business_items():
    result = estimate(make_claim(revenue(200_000), revenue(100_001), revenue(0, 50_000)), DEFAULTS)

    assert result.revenue_loss == 300_001
    assert result.reference_code == "bracket_50000"


def test_no_reference_figure_when_revenue_did_not_drop():
    result = estimate(make_claim(revenue(100_000, 100_000)), DEFAULTS)

    assert (result.reference_figure, result.reference_code) == (None, None)


def test_no_reference_figure_without_business_revenue_items():
    result = estimate(make_claim(subscription(39_000)), DEFAULTS)

    assert (result.revenue_loss, result.reference_figure, result.reference_code) == (0, None, None)


def test_reference_figure_never_changes_the_total():
    claim = make_claim(revenue(200_000))

    assert estimate(claim, DEFAULTS).total == 200_000


# --- flags --------------------------------------------------------------------


def test_flags_claim_stating_more_hours_than_the_outage_window():
    result = estimate(
        make_claim(subscription(39_000, affected_hours=Decimal("22.51")), has_proof_of_use=True), DEFAULTS
    )

    assert result.flags == ("hours_exceed_window",)


def test_hours_equal_to_the_window_are_not_flagged():
    result = estimate(make_claim(subscription(39_000, affected_hours=Decimal("22.5")), has_proof_of_use=True), DEFAULTS)

    assert result.flags == ()


def test_hours_flag_never_changes_the_amount():
    plain = estimate(make_claim(subscription(39_000)), DEFAULTS)
    flagged = estimate(make_claim(subscription(39_000, affected_hours=Decimal("100"))), DEFAULTS)

    assert flagged.total == plain.total
    assert "hours_exceed_window" in flagged.flags


def test_flags_business_revenue_claimed_without_revenue_evidence():
    result = estimate(make_claim(revenue(100_000), has_proof_of_use=True), DEFAULTS)

    assert result.flags == ("revenue_without_evidence",)


def test_business_revenue_with_revenue_evidence_is_not_flagged():
    result = estimate(make_claim(revenue(100_000), has_proof_of_use=True, has_revenue_evidence=True), DEFAULTS)

    assert result.flags == ()


def test_flags_claim_without_proof_of_use():
    assert estimate(make_claim(subscription(39_000)), DEFAULTS).flags == ("no_proof_of_use",)


def test_flags_are_sorted_and_unique():
    items = (
        revenue(100_000, affected_hours=Decimal("30")),
        subscription(1_000, affected_hours=Decimal("40")),
        revenue(5_000),
    )

    assert estimate(make_claim(*items), DEFAULTS).flags == (
        "hours_exceed_window",
        "no_proof_of_use",
        "revenue_without_evidence",
    )


# --- explanations and serialisation -------------------------------------------


def test_explanation_reads_like_the_operator_formula_in_korean():
    claim = make_claim(subscription(39_000), service_names={"kakao-t": "카카오T"})

    assert the_component(estimate(claim, DEFAULTS), "subscription").explanation["ko"] == (
        "카카오T 월 이용료 39,000원 × 피해일수 2일 × 3배 ÷ 31일 = 7,550원 (10원 단위 반올림)"
    )


def test_explanation_reads_like_the_operator_formula_in_english():
    claim = make_claim(
        subscription(39_000), service_names={"kakao-t": "카카오T"}, service_names_en={"kakao-t": "Kakao T"}
    )

    assert the_component(estimate(claim, DEFAULTS), "subscription").explanation["en"] == (
        "Kakao T monthly fee 39,000 won × 2 damaged days × 3 ÷ 31 days = 7,550 won (rounded to 10 won)"
    )


def test_each_explanation_names_the_service_in_its_own_language_and_english_falls_back_to_korean():
    items = (subscription(39_000), revenue(100_000, 0), LossItemInput(service="talk-drawer", kind="other", amount=9))
    claim = make_claim(
        *items,
        service_names={"kakao-t": "카카오T", "talk-drawer": "톡서랍"},
        service_names_en={"kakao-t": "Kakao T"},
    )
    components = estimate(claim, params(other_ratio="1")).components

    for component in components[:2]:
        assert component.explanation["ko"].startswith("카카오T ")
        assert component.explanation["en"].startswith("Kakao T ")
    assert components[2].explanation["en"].startswith("톡서랍 other loss")


def test_an_input_without_english_names_keeps_the_stored_form_it_had_before_they_were_added():
    claim = make_claim(subscription(39_000), service_names={"kakao-t": "카카오T"})
    assert "service_names_en" not in claim.to_dict()
    named = make_claim(
        subscription(39_000), service_names={"kakao-t": "카카오T"}, service_names_en={"kakao-t": "Kakao T"}
    )
    assert named.to_dict()["service_names_en"] == {"kakao-t": "Kakao T"}
    assert ClaimInput.from_dict(named.to_dict()) == named


def test_explanation_falls_back_to_the_service_slug():
    explanation = the_component(estimate(make_claim(subscription(39_000)), DEFAULTS), "subscription").explanation

    assert explanation["en"].startswith("kakao-t monthly fee")


def test_every_breakdown_line_explains_its_amount_in_korean_and_english():
    items = (
        subscription(39_000),
        revenue(1_234_000, 34_000),
        LossItemInput(service="talk-drawer", kind="expense", amount=12_000, has_evidence=True),
        LossItemInput(service="talk-drawer", kind="other", amount=9_000),
    )
    claim = make_claim(*items, has_proof_of_use=True, already_compensated=3_000)
    result = estimate(claim, params(per_claim_cap=1_000_000))

    assert {c.rule for c in result.components} == {*KINDS, "solatium", "compensation_deducted", "cap"}
    for component in result.components:
        assert set(component.explanation) == {"ko", "en"}
        assert f"{abs(component.amount):,}원" in component.explanation["ko"]
        assert f"{abs(component.amount):,} won" in component.explanation["en"]
    assert "1,200,000원" in the_component(result, "business_revenue").explanation["ko"]


def test_estimate_to_dict_is_json_serialisable():
    claim = make_claim(subscription(39_000, ref="item-1"), revenue(10_000), has_proof_of_use=True)
    data = estimate(claim, params(per_claim_cap=50_000)).to_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["total"] == 50_000
    assert data["components"][0]["ref"] == "item-1"
    assert data["parameters"]["per_claim_cap"] == 50_000


# --- parameters ---------------------------------------------------------------


def test_default_parameters_are_version_1_values():
    assert (
        Parameters(
            subscription_multiplier=Decimal(3),
            revenue_loss_ratio=Decimal(1),
            documented_expense_ratio=Decimal(1),
            undocumented_expense_ratio=Decimal(0),
            other_ratio=Decimal(0),
            solatium_per_claimant=100_000,
            rounding_unit=10,
            per_claim_cap=None,
        )
        == DEFAULTS
    )


def test_default_parameters_round_trip_through_json():
    assert json.loads(json.dumps(DEFAULTS.to_dict())) == DEFAULT_PARAMETERS
    assert Parameters.from_dict(DEFAULTS.to_dict()) == DEFAULTS


def test_missing_parameters_take_defaults():
    parameters = Parameters.from_dict({"per_claim_cap": 300_000, "other_ratio": "0.5"})

    assert parameters == replace(DEFAULTS, per_claim_cap=300_000, other_ratio=Decimal("0.5"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("revenue_loss_ratio", "-0.1"),
        ("other_ratio", "lots"),
        ("subscription_multiplier", "NaN"),
        ("documented_expense_ratio", None),
        ("undocumented_expense_ratio", True),
        ("rounding_unit", 0),
        ("rounding_unit", "ten"),
        ("solatium_per_claimant", -1),
        ("solatium_per_claimant", 1.5),
        ("per_claim_cap", -5),
        ("not_a_parameter", 1),
    ],
)
def test_invalid_parameters_are_rejected_naming_the_key(key, value):
    with pytest.raises(ParameterError, match=key):
        Parameters.from_dict({key: value})


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


ratios = st.decimals(min_value=0, max_value=3, places=2)
parameter_sets = st.builds(
    Parameters,
    subscription_multiplier=st.decimals(min_value=0, max_value=5, places=1),
    revenue_loss_ratio=ratios,
    documented_expense_ratio=ratios,
    undocumented_expense_ratio=ratios,
    other_ratio=ratios,
    solatium_per_claimant=st.integers(0, 300_000),
    rounding_unit=st.sampled_from([1, 10, 100, 1_000]),
    per_claim_cap=st.none() | st.integers(0, 3_000_000),
)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(parameter_sets)
@PROPERTY
def test_parameters_round_trip_through_json_dict(parameters):
    assert Parameters.from_dict(json.loads(json.dumps(parameters.to_dict()))) == parameters


# --- input validation ---------------------------------------------------------


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        LossItemInput(service="kakao-t", kind="lost_sleep")


@pytest.mark.parametrize("field", ["monthly_fee", "comparison_revenue", "outage_revenue", "amount"])
def test_negative_figures_are_rejected(field):
    with pytest.raises(ValueError, match=field):
        LossItemInput(service="kakao-t", kind="subscription", **{field: -1})


def test_negative_affected_hours_are_rejected():
    with pytest.raises(ValueError, match="affected_hours"):
        subscription(1_000, affected_hours=Decimal(-1))


def test_negative_compensation_is_rejected():
    with pytest.raises(ValueError, match="already_compensated"):
        make_claim(already_compensated=-1)


def test_item_for_a_service_without_a_window_is_rejected():
    with pytest.raises(UnknownServiceError, match="kakao-pay"):
        estimate(make_claim(subscription(1_000, service="kakao-pay")), DEFAULTS)


# --- properties ---------------------------------------------------------------

figures = st.integers(0, 5_000_000)
loss_items = st.builds(
    LossItemInput,
    service=st.sampled_from(sorted(WINDOWS)),
    kind=st.sampled_from(KINDS),
    monthly_fee=st.integers(0, 200_000),
    comparison_revenue=figures,
    outage_revenue=figures,
    amount=figures,
    has_evidence=st.booleans(),
    affected_hours=st.none() | st.decimals(min_value=0, max_value=200, places=1),
    ref=st.text(max_size=5),
)


def build_claim(items, **fields) -> ClaimInput:
    return make_claim(*items, **fields)


claims = st.builds(
    build_claim,
    st.lists(loss_items, max_size=6),
    already_compensated=st.integers(0, 2_000_000),
    has_proof_of_use=st.booleans(),
    has_revenue_evidence=st.booleans(),
)
increasing_fields = ["monthly_fee", "comparison_revenue", "amount"]


@given(claims, parameter_sets)
@PROPERTY
def test_estimate_is_never_negative_and_breakdown_sums_to_total(claim, parameters):
    result = estimate(claim, parameters)

    assert result.total >= 0
    assert sum(c.amount for c in result.components) == result.total
    assert list(result.flags) == sorted(set(result.flags))


@given(claims, parameter_sets.filter(lambda p: p.per_claim_cap is not None))
@PROPERTY
def test_estimate_never_exceeds_the_cap(claim, parameters):
    assert estimate(claim, parameters).total <= parameters.per_claim_cap


@given(claims, parameter_sets, st.data(), st.sampled_from(increasing_fields), st.integers(1, 1_000_000))
@PROPERTY
def test_estimate_does_not_drop_when_a_claimed_amount_rises(claim, parameters, data, field, delta):
    if not claim.loss_items:
        return
    index = data.draw(st.integers(0, len(claim.loss_items) - 1))
    items = list(claim.loss_items)
    items[index] = replace(items[index], **{field: getattr(items[index], field) + delta})

    assert estimate(replace(claim, loss_items=tuple(items)), parameters).total >= estimate(claim, parameters).total


@given(claims, parameter_sets, st.data(), st.integers(1, 1_000_000))
@PROPERTY
def test_estimate_does_not_rise_when_outage_revenue_rises(claim, parameters, data, delta):
    if not claim.loss_items:
        return
    index = data.draw(st.integers(0, len(claim.loss_items) - 1))
    items = list(claim.loss_items)
    items[index] = replace(items[index], outage_revenue=items[index].outage_revenue + delta)

    assert estimate(replace(claim, loss_items=tuple(items)), parameters).total <= estimate(claim, parameters).total


@given(claims, parameter_sets, st.integers(1, 1_000_000))
@PROPERTY
def test_estimate_does_not_rise_when_more_compensation_was_received(claim, parameters, delta):
    more = replace(claim, already_compensated=claim.already_compensated + delta)

    assert estimate(more, parameters).total <= estimate(claim, parameters).total


@given(claims, parameter_sets, st.data())
@PROPERTY
def test_estimate_is_unchanged_by_the_order_of_loss_items(claim, parameters, data):
    shuffled = replace(claim, loss_items=tuple(data.draw(st.permutations(claim.loss_items))))
    original, permuted = estimate(claim, parameters), estimate(shuffled, parameters)

    assert permuted.total == original.total
    assert permuted.subtotal == original.subtotal
    assert permuted.claimed_total == original.claimed_total
    assert permuted.flags == original.flags
    assert (permuted.reference_figure, permuted.reference_code) == (original.reference_figure, original.reference_code)
