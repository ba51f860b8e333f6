"""Damage estimate for a claim in the 2022 Kakao data-centre outage lawsuit.

Pure standard-library implementation of docs/domain/damage-model.md. All arithmetic is
exact (``fractions.Fraction``); every component is rounded half-up to the
configured unit and the breakdown always sums to the total.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from functools import cache, cached_property
from typing import Any
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")

KINDS = ("subscription", "business_revenue", "expense", "other")

FLAG_HOURS_EXCEED_WINDOW = "hours_exceed_window"
FLAG_REVENUE_WITHOUT_EVIDENCE = "revenue_without_evidence"
FLAG_NO_PROOF_OF_USE = "no_proof_of_use"

REFERENCE_BRACKET_30000 = "bracket_30000"
REFERENCE_BRACKET_50000 = "bracket_50000"
REFERENCE_INDIVIDUAL_REVIEW = "individual_review"

DEFAULT_PARAMETERS: dict[str, str | int | None] = {
    "subscription_multiplier": "3",
    "revenue_loss_ratio": "1.0",
    "documented_expense_ratio": "1.0",
    "undocumented_expense_ratio": "0.0",
    "other_ratio": "0.0",
    "solatium_per_claimant": 100000,
    "rounding_unit": 10,
    "per_claim_cap": None,
}

_DECIMAL_KEYS = (
    "subscription_multiplier",
    "revenue_loss_ratio",
    "documented_expense_ratio",
    "undocumented_expense_ratio",
    "other_ratio",
)
_INT_KEYS = ("solatium_per_claimant", "rounding_unit", "per_claim_cap")
_MICROSECONDS_PER_HOUR = 3_600_000_000


class ParameterError(ValueError):
    """A damage-model parameter is unknown or has an invalid value."""


class UnknownServiceError(ValueError):
    """A loss item names a service that has no outage window."""


def round_half_up(value: Fraction | Decimal | int, unit: int) -> int:
    """Round ``value`` to a multiple of ``unit``; halves go away from zero."""
    if isinstance(unit, bool) or not isinstance(unit, int) or unit < 1:
        raise ValueError(f"rounding unit must be a positive integer, got {unit!r}")
    if isinstance(value, bool) or not isinstance(value, Fraction | Decimal | int):
        raise TypeError(f"cannot round {type(value).__name__} exactly: {value!r}")
    exact = value if isinstance(value, Fraction) else Fraction(value)
    # |value| / unit + 1/2, floored, in integers: floor((2|n| + d) / 2d) for value / unit = n / d
    denominator = exact.denominator * unit
    magnitude = (2 * abs(exact.numerator) + denominator) // (2 * denominator)
    return (magnitude if exact.numerator >= 0 else -magnitude) * unit


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _require_amount(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _last_kst_date_before(moment: datetime) -> date:
    """The last KST date touched by an interval that ends (exclusive) at moment."""
    local = moment.astimezone(KST)
    if local.time() == time(0):
        return local.date() - timedelta(days=1)
    return local.date()


@dataclass(frozen=True)
class ServiceWindow:
    """A service's outage window [start, end). How its end is known (end_kind), its confidence and the revision of
    the reference data it comes from are carried into the estimate's breakdown to explain it; they are not part of
    the calculator's input (ClaimInput.to_dict) and change no figure."""

    slug: str
    start: datetime
    end: datetime
    end_kind: str = field(default="", compare=False)
    confidence: str = field(default="", compare=False)
    revision: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if self.end < self.start:
            raise ValueError(f"window for {self.slug!r} ends before it starts")

    # A window is shared by every claim of its incident in a batch: its figures are worked out once.
    @cached_property
    def exact_hours(self) -> Fraction:
        """Exact window length in hours."""
        microseconds = (self.end - self.start) // timedelta(microseconds=1)
        return Fraction(microseconds, _MICROSECONDS_PER_HOUR)

    @cached_property
    def hours(self) -> Decimal:
        """Window length in hours, rounded half-up to 2 decimal places."""
        exact = self.exact_hours
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @cached_property
    def iso_bounds(self) -> tuple[str, str]:
        """Start and end in ISO 8601, with their own UTC offsets (as stored with an estimate's input)."""
        return self.start.isoformat(), self.end.isoformat()

    def explained(self) -> dict[str, Any]:
        """The window as listed in an estimate's breakdown."""
        start, end = self.iso_bounds
        return {
            "service": self.slug,
            "start": start,
            "end": end,
            "end_kind": self.end_kind,
            "confidence": self.confidence,
            "revision": self.revision,
            "hours": str(self.hours),
        }

    @cached_property
    def damaged_days(self) -> int:
        """Number of distinct KST calendar dates the window touches."""
        if self.end == self.start:
            return 0
        first = self.start.astimezone(KST).date()
        return (_last_kst_date_before(self.end) - first).days + 1


def _parse_decimal(key: str, raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ParameterError(f"{key} must be a decimal number, got {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ParameterError(f"{key} must be a decimal number, got {raw!r}") from None
    if not value.is_finite():
        raise ParameterError(f"{key} must be finite, got {raw!r}")
    return value


def _parse_int(key: str, raw: object) -> int | None:
    if raw is None and key == "per_claim_cap":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw)
    raise ParameterError(f"{key} must be an integer, got {raw!r}")


@dataclass(frozen=True)
class Parameters:
    subscription_multiplier: Decimal
    revenue_loss_ratio: Decimal
    documented_expense_ratio: Decimal
    undocumented_expense_ratio: Decimal
    other_ratio: Decimal
    solatium_per_claimant: int
    rounding_unit: int
    per_claim_cap: int | None

    def __post_init__(self) -> None:
        for key in _DECIMAL_KEYS:
            value = getattr(self, key)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ParameterError(f"{key} must be a finite Decimal, got {value!r}")
            if value < 0:
                raise ParameterError(f"{key} must not be negative, got {value}")
        for key in _INT_KEYS:
            value = getattr(self, key)
            if value is None and key == "per_claim_cap":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParameterError(f"{key} must be an integer, got {value!r}")
            if value < 0:
                raise ParameterError(f"{key} must not be negative, got {value}")
        if self.rounding_unit < 1:
            raise ParameterError(f"rounding_unit must be at least 1, got {self.rounding_unit}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Parameters:
        """Build from the JSON form; missing keys take DEFAULT_PARAMETERS."""
        unknown = sorted(set(d) - set(DEFAULT_PARAMETERS))
        if unknown:
            raise ParameterError(f"unknown parameter {unknown[0]}")
        merged = {**DEFAULT_PARAMETERS, **d}
        values: dict[str, Any] = {key: _parse_decimal(key, merged[key]) for key in _DECIMAL_KEYS}
        values.update({key: _parse_int(key, merged[key]) for key in _INT_KEYS})
        return cls(**values)

    def to_dict(self) -> dict[str, str | int | None]:
        return dict(self._as_dict)

    @cached_property
    def _as_dict(self) -> dict[str, str | int | None]:
        data: dict[str, str | int | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = str(value) if isinstance(value, Decimal) else value
        return data


@dataclass(frozen=True)
class LossItemInput:
    service: str
    kind: str
    monthly_fee: int = 0
    comparison_revenue: int = 0
    outage_revenue: int = 0
    amount: int = 0
    has_evidence: bool = False
    affected_hours: Decimal | None = None
    ref: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown loss kind {self.kind!r}; expected one of {KINDS}")
        for name in ("monthly_fee", "comparison_revenue", "outage_revenue", "amount"):
            _require_amount(name, getattr(self, name))
        if self.affected_hours is not None and self.affected_hours < 0:
            raise ValueError(f"affected_hours must not be negative, got {self.affected_hours}")

    @property
    def revenue_loss(self) -> int:
        """max(0, B - W) for business-revenue items, 0 for other kinds."""
        if self.kind != "business_revenue":
            return 0
        return max(0, self.comparison_revenue - self.outage_revenue)

    @property
    def claimed(self) -> int:
        """The raw figure the claimant entered for this item."""
        if self.kind == "subscription":
            return self.monthly_fee
        if self.kind == "business_revenue":
            return self.revenue_loss
        return self.amount


@dataclass(frozen=True)
class ClaimInput:
    incident_start: datetime
    windows: Mapping[str, ServiceWindow]
    loss_items: tuple[LossItemInput, ...]
    already_compensated: int = 0
    has_proof_of_use: bool = False
    has_revenue_evidence: bool = False
    service_names: Mapping[str, str] = field(default_factory=dict)  # Korean
    service_names_en: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware("incident_start", self.incident_start)
        _require_amount("already_compensated", self.already_compensated)
        object.__setattr__(self, "loss_items", tuple(self.loss_items))

    @property
    def days_in_month(self) -> int:
        """Days in the KST calendar month in which the incident started."""
        return _days_in_kst_month(self.incident_start)

    def service_name(self, slug: str) -> str:
        return self.service_names.get(slug) or slug

    def service_name_en(self, slug: str) -> str:
        """The English name, else the Korean one (a service staff named only in Korean)."""
        return self.service_names_en.get(slug) or self.service_name(slug)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, stored with every estimate so the figure can be reproduced (see from_dict)."""
        return {
            "incident_start": self.incident_start.isoformat(),
            "windows": {
                slug: dict(zip(("start", "end"), window.iso_bounds, strict=True))
                for slug, window in sorted(self.windows.items())
            },
            "loss_items": [
                {
                    "ref": item.ref,
                    "service": item.service,
                    "kind": item.kind,
                    "monthly_fee": item.monthly_fee,
                    "comparison_revenue": item.comparison_revenue,
                    "outage_revenue": item.outage_revenue,
                    "amount": item.amount,
                    "has_evidence": item.has_evidence,
                    "affected_hours": None if item.affected_hours is None else str(item.affected_hours),
                }
                for item in self.loss_items
            ],
            "already_compensated": self.already_compensated,
            "has_proof_of_use": self.has_proof_of_use,
            "has_revenue_evidence": self.has_revenue_evidence,
            "service_names": dict(sorted(self.service_names.items())),
            # Only when there are English names, so inputs stored before they were added keep their SHA-256.
            **({"service_names_en": dict(sorted(self.service_names_en.items()))} if self.service_names_en else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClaimInput:
        """Rebuild the input that to_dict produced."""
        return cls(
            incident_start=datetime.fromisoformat(d["incident_start"]),
            windows={
                slug: ServiceWindow(slug, datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
                for slug, w in d["windows"].items()
            },
            loss_items=tuple(
                LossItemInput(
                    **{key: value for key, value in item.items() if key != "affected_hours"},
                    affected_hours=None if item["affected_hours"] is None else Decimal(item["affected_hours"]),
                )
                for item in d["loss_items"]
            ),
            already_compensated=d["already_compensated"],
            has_proof_of_use=d["has_proof_of_use"],
            has_revenue_evidence=d["has_revenue_evidence"],
            service_names=dict(d.get("service_names", {})),
            service_names_en=dict(d.get("service_names_en", {})),
        )

    def window_for(self, item: LossItemInput) -> ServiceWindow:
        try:
            return self.windows[item.service]
        except KeyError:
            raise UnknownServiceError(f"no outage window for service {item.service!r}") from None


@dataclass(frozen=True)
class Component:
    rule: str
    ref: str
    amount: int
    parameters: dict[str, Any]
    explanation: dict[str, str]


@dataclass(frozen=True)
class Estimate:
    total: int
    claimed_total: int
    components: tuple[Component, ...]
    subtotal: int
    reference_figure: int | None
    reference_code: str | None
    revenue_loss: int
    flags: tuple[str, ...]
    parameters: dict[str, str | int | None]
    windows: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, for storage in a JSONField. Built field by field rather than with
        dataclasses.asdict (whose recursive deep copy costs more than the estimate itself): component parameters
        and explanations hold only scalars, so copying each dict is a full copy."""
        return {
            "total": self.total,
            "claimed_total": self.claimed_total,
            "components": [
                {
                    "rule": c.rule,
                    "ref": c.ref,
                    "amount": c.amount,
                    "parameters": dict(c.parameters),
                    "explanation": dict(c.explanation),
                }
                for c in self.components
            ],
            "subtotal": self.subtotal,
            "reference_figure": self.reference_figure,
            "reference_code": self.reference_code,
            "revenue_loss": self.revenue_loss,
            "flags": list(self.flags),
            "parameters": dict(self.parameters),
            "windows": [dict(window) for window in self.windows],
        }


# --- formatting helpers ----------------------------------------------------


def _won(amount: int) -> str:
    return f"{amount:,}"


# The helpers below get the same few parameter values for every claim of a recompute: each result is kept.
@cache
def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


@cache
def _percent(ratio: Decimal) -> str:
    return _number(ratio * 100)


@cache
def _fraction(value: Decimal) -> Fraction:
    return Fraction(value)


@cache
def _days_in_kst_month(moment: datetime) -> int:
    local = moment.astimezone(KST)
    return calendar.monthrange(local.year, local.month)[1]


def _two_dp(value: Fraction) -> str:
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    return str(decimal.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@cache
def _rounding_note(unit: int) -> tuple[str, str]:
    """The note on a rounded amount, Korean and English."""
    return f" ({_won(unit)}원 단위 반올림)", f" (rounded to {_won(unit)} won)"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- components ------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    claim: ClaimInput
    parameters: Parameters

    def rounded(self, exact: Fraction) -> int:
        return round_half_up(exact, self.parameters.rounding_unit)

    def service_names(self, item: LossItemInput) -> tuple[str, str]:
        """The item's service in the Korean and in the English explanation."""
        return self.claim.service_name(item.service), self.claim.service_name_en(item.service)

    def component(
        self,
        rule: str,
        ref: str,
        amount: int,
        figures: dict[str, Any],
        ko: str,
        en: str,
        rounding_note: bool = True,
    ) -> Component:
        unit = self.parameters.rounding_unit
        ko_note, en_note = _rounding_note(unit) if rounding_note else ("", "")
        return Component(
            rule=rule,
            ref=ref,
            amount=amount,
            parameters={**figures, "rounding_unit": unit},
            explanation={"ko": ko + ko_note, "en": en + en_note},
        )


def _subscription(ctx: _Context, item: LossItemInput) -> Component:
    window = ctx.claim.window_for(item)
    days, month_days = window.damaged_days, ctx.claim.days_in_month
    multiplier = ctx.parameters.subscription_multiplier
    exact = Fraction(item.monthly_fee * days) * _fraction(multiplier) / month_days
    amount = ctx.rounded(exact)
    name, name_en = ctx.service_names(item)
    return ctx.component(
        "subscription",
        item.ref,
        amount,
        {
            "service": item.service,
            "monthly_fee": item.monthly_fee,
            "damaged_days": days,
            "days_in_month": month_days,
            "hours": str(window.hours),
            "subscription_multiplier": str(multiplier),
            "unrounded": _two_dp(exact),
        },
        ko=f"{name} 월 이용료 {_won(item.monthly_fee)}원 × 피해일수 {days}일 "
        f"× {_number(multiplier)}배 ÷ {month_days}일 = {_won(amount)}원",
        en=f"{name_en} monthly fee {_won(item.monthly_fee)} won × "
        f"{_plural(days, 'damaged day')} × {_number(multiplier)} ÷ "
        f"{month_days} days = {_won(amount)} won",
    )


def _business_revenue(ctx: _Context, item: LossItemInput) -> Component:
    ratio = ctx.parameters.revenue_loss_ratio
    loss = item.revenue_loss
    amount = ctx.rounded(loss * _fraction(ratio))
    name, name_en = ctx.service_names(item)
    before, during = _won(item.comparison_revenue), _won(item.outage_revenue)
    return ctx.component(
        "business_revenue",
        item.ref,
        amount,
        {
            "service": item.service,
            "comparison_revenue": item.comparison_revenue,
            "outage_revenue": item.outage_revenue,
            "revenue_loss": loss,
            "revenue_loss_ratio": str(ratio),
        },
        ko=f"{name} 영업손실: 비교기간 매출 {before}원 − 장애기간 매출 {during}원 "
        f"= {_won(loss)}원(0원 미만은 0원) × {_percent(ratio)}% = {_won(amount)}원",
        en=f"{name_en} lost revenue: comparison-period revenue {before} won − "
        f"outage-period revenue {during} won = {_won(loss)} won (never below 0) "
        f"× {_percent(ratio)}% = {_won(amount)} won",
    )


def _expense(ctx: _Context, item: LossItemInput) -> Component:
    if item.has_evidence:
        key, ratio = "documented_expense_ratio", ctx.parameters.documented_expense_ratio
        ko_note, en_note = "증빙 있음", "with evidence"
    else:
        key = "undocumented_expense_ratio"
        ratio = ctx.parameters.undocumented_expense_ratio
        ko_note, en_note = "증빙 없음", "without evidence"
    amount = ctx.rounded(item.amount * _fraction(ratio))
    name, name_en = ctx.service_names(item)
    return ctx.component(
        "expense",
        item.ref,
        amount,
        {
            "service": item.service,
            "amount": item.amount,
            "documented": item.has_evidence,
            key: str(ratio),
        },
        ko=f"{name} 관련 추가 지출 {_won(item.amount)}원({ko_note}) × {_percent(ratio)}% = {_won(amount)}원",
        en=f"{name_en} extra expense of {_won(item.amount)} won ({en_note}) × {_percent(ratio)}% = {_won(amount)} won",
    )


def _other(ctx: _Context, item: LossItemInput) -> Component:
    ratio = ctx.parameters.other_ratio
    amount = ctx.rounded(item.amount * _fraction(ratio))
    name, name_en = ctx.service_names(item)
    return ctx.component(
        "other",
        item.ref,
        amount,
        {"service": item.service, "amount": item.amount, "other_ratio": str(ratio)},
        ko=f"{name} 기타 손해 {_won(item.amount)}원 × {_percent(ratio)}% = {_won(amount)}원",
        en=f"{name_en} other loss of {_won(item.amount)} won × {_percent(ratio)}% = {_won(amount)} won",
    )


_ITEM_RULES: dict[str, Callable[[_Context, LossItemInput], Component]] = {
    "subscription": _subscription,
    "business_revenue": _business_revenue,
    "expense": _expense,
    "other": _other,
}


def _solatium(ctx: _Context) -> Component:
    per_claimant = ctx.parameters.solatium_per_claimant
    has_proof = ctx.claim.has_proof_of_use
    amount = ctx.rounded(Fraction(per_claimant)) if has_proof else 0
    figures = {"solatium_per_claimant": per_claimant, "has_proof_of_use": has_proof}
    if has_proof:
        ko = f"장애 기간 중 서비스 이용 증빙이 있어 위자료 {_won(amount)}원"
        en = (
            f"Solatium (compensation for distress) of {_won(amount)} won, as the "
            "claim shows use of the service during the outage"
        )
    else:
        ko = "장애 기간 중 서비스 이용 증빙이 없어 위자료 0원"
        en = "No solatium (0 won): the claim does not show use of the service during the outage"
    rounded = amount not in (0, per_claimant)
    return ctx.component("solatium", "", amount, figures, ko, en, rounded)


def _deduction(subtotal: int, already_compensated: int) -> Component | None:
    deducted = min(subtotal, already_compensated)
    if deducted <= 0:
        return None
    received, cut = _won(already_compensated), _won(deducted)
    if deducted == already_compensated:
        ko = f"이미 받은 카카오 보상금 {received}원 공제"
        en = f"Compensation already received from Kakao: {received} won deducted"
    else:
        ko = f"이미 받은 카카오 보상금 {received}원 중 {cut}원 공제(합계는 0원 미만이 될 수 없음)"
        en = (
            f"Compensation already received from Kakao: {received} won; "
            f"{cut} won deducted (the total cannot go below 0)"
        )
    return Component(
        rule="compensation_deducted",
        ref="",
        amount=-deducted,
        parameters={
            "already_compensated": already_compensated,
            "deducted": deducted,
            "subtotal": subtotal,
        },
        explanation={"ko": ko, "en": en},
    )


def _cap(before_cap: int, cap: int | None) -> Component | None:
    if cap is None or before_cap <= cap:
        return None
    reduction = _won(before_cap - cap)
    return Component(
        rule="cap",
        ref="",
        amount=cap - before_cap,
        parameters={"per_claim_cap": cap, "before_cap": before_cap},
        explanation={
            "ko": f"청구 1건당 상한 {_won(cap)}원 적용: {_won(before_cap)}원 → {_won(cap)}원 ({reduction}원 감액)",
            "en": f"Per-claim cap of {_won(cap)} won applied: {_won(before_cap)} won → {_won(cap)} won "
            f"(reduced by {reduction} won)",
        },
    )


# --- reference figure and flags -------------------------------------------


def reference_figure(revenue_loss: int) -> tuple[int | None, str | None]:
    """Operator's small-business bracket (amount, code) for lost revenue L."""
    if revenue_loss <= 0:
        return None, None
    if revenue_loss <= 300_000:
        return 30_000, REFERENCE_BRACKET_30000
    if revenue_loss <= 500_000:
        return 50_000, REFERENCE_BRACKET_50000
    return None, REFERENCE_INDIVIDUAL_REVIEW


def _flags(claim: ClaimInput) -> tuple[str, ...]:
    flags = set()
    for item in claim.loss_items:
        window = claim.window_for(item)
        hours = item.affected_hours
        if hours is not None and Fraction(hours) > window.exact_hours:
            flags.add(FLAG_HOURS_EXCEED_WINDOW)
        if item.kind == "business_revenue" and not claim.has_revenue_evidence:
            flags.add(FLAG_REVENUE_WITHOUT_EVIDENCE)
    if not claim.has_proof_of_use:
        flags.add(FLAG_NO_PROOF_OF_USE)
    return tuple(sorted(flags))


# --- entry point -----------------------------------------------------------


def estimate(claim: ClaimInput, parameters: Parameters) -> Estimate:
    """Estimate the damages for one claim; the breakdown sums to the total."""
    ctx = _Context(claim, parameters)
    components = [_ITEM_RULES[item.kind](ctx, item) for item in claim.loss_items]
    components.append(_solatium(ctx))
    subtotal = sum(c.amount for c in components)

    after_deduction = max(0, subtotal - claim.already_compensated)
    adjustments = (
        _deduction(subtotal, claim.already_compensated),
        _cap(after_deduction, parameters.per_claim_cap),
    )
    components.extend(c for c in adjustments if c is not None)

    revenue_loss = sum(item.revenue_loss for item in claim.loss_items)
    figure, code = reference_figure(revenue_loss)
    return Estimate(
        total=sum(c.amount for c in components),
        claimed_total=sum(i.claimed for i in claim.loss_items),
        components=tuple(components),
        subtotal=subtotal,
        reference_figure=figure,
        reference_code=code,
        revenue_loss=revenue_loss,
        flags=_flags(claim),
        parameters=parameters.to_dict(),
        windows=tuple(window.explained() for _slug, window in sorted(claim.windows.items())),
    )
