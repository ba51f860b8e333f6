"""Reads for cohorts, filing waves and their exports.

A cohort's criteria become one SQL filter over the incident's claims; its count and totals are one aggregate
query. The export rows are streamed from the database in chunks (`.iterator(chunk_size=...)`), with everything a
row needs (claimant, services, per-kind amounts, the current estimate's per-rule amounts, flags) computed in the
same SQL statement, so an export costs a fixed number of queries and constant memory whatever its size. The
claim sheet (CSV, XLSX) is one set-based statement of its own: filing/selectors/claim_sheet.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Greatest, JSONObject, Trim

from accounts.models import ConsentRecord, PowerOfAttorney, User
from accounts.proof import ProofLevel, proof_level_annotations
from claims.models import Claim, Estimate, Evidence, Flag, LossItem
from filing.exports import chunked
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.readiness import Rule, claims_ready_or_overridden, jit_off
from filing.tiers import claim_tier_order

KST = ZoneInfo("Asia/Seoul")
STREAM_CHUNK_SIZE = 2000
# A claim in these statuses can be a plaintiff; drafts, rejected and withdrawn claims cannot.
FILABLE_STATUSES = (
    Claim.Status.SUBMITTED,
    Claim.Status.IN_REVIEW,
    Claim.Status.INFO_REQUESTED,
    Claim.Status.ACCEPTED,
)
# The rules of an estimate's components (claims/damages.py): one per loss kind, then the claim-level ones.
LOSS_KINDS = tuple(LossItem.Kind.values)
CLAIM_RULES = ("solatium", "compensation_deducted", "cap")


# --- criteria ---------------------------------------------------------------------------------------------------


def _kst_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=KST)


@dataclass(frozen=True)
class CohortCriteria:
    """What a cohort selects, stored as JSON in `Cohort.criteria`. Empty values select everything; lists match
    any of their values; `proof_of_use` / `revenue_evidence` are True (has such evidence), False (has none) or
    None (either); the submitted dates are Seoul calendar days, both inclusive."""

    services: tuple[str, ...] = ()
    claimant_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    flags_present: tuple[str, ...] = ()
    flags_absent: tuple[str, ...] = ()
    estimate_min: int | None = None
    estimate_max: int | None = None
    proof_of_use: bool | None = None
    revenue_evidence: bool | None = None
    reviewer_id: int | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CohortCriteria:
        values: dict[str, Any] = {}
        for spec in fields(cls):
            value = data.get(spec.name)
            if value in (None, "", []):
                continue
            if spec.name in ("submitted_from", "submitted_to"):
                value = dt.date.fromisoformat(value)
            elif isinstance(value, list):
                value = tuple(value)
            values[spec.name] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value in (None, ()):
                continue
            data[spec.name] = value.isoformat() if isinstance(value, dt.date) else value
            if isinstance(value, tuple):
                data[spec.name] = list(value)
        return data

    def condition(self) -> Q:
        """The criteria as one filter on `Claim`."""
        condition = Q()
        if self.services:
            through = Claim.services.through.objects.filter(claim_id=OuterRef("pk"), service__slug__in=self.services)
            condition &= Q(Exists(through))
        if self.claimant_types:
            condition &= Q(claimant_type__in=self.claimant_types)
        if self.statuses:
            condition &= Q(status__in=self.statuses)
        if self.flags_present:
            condition &= Q(Exists(_open_flags(self.flags_present)))
        if self.flags_absent:
            condition &= ~Q(Exists(_open_flags(self.flags_absent)))
        if self.estimate_min is not None:
            condition &= Q(estimate_total__gte=self.estimate_min)
        if self.estimate_max is not None:
            condition &= Q(estimate_total__lte=self.estimate_max)
        for value, tag in (
            (self.proof_of_use, Evidence.Tag.PROOF_OF_USE),
            (self.revenue_evidence, Evidence.Tag.REVENUE_RECORDS),
        ):
            if value is not None:
                has = Q(Exists(Evidence.objects.filter(claim_id=OuterRef("pk"), tag=tag)))
                condition &= has if value else ~has
        if self.reviewer_id is not None:
            condition &= Q(reviewer_id=self.reviewer_id)
        if self.submitted_from:
            condition &= Q(submitted_at__gte=_kst_day_start(self.submitted_from))
        if self.submitted_to:
            condition &= Q(submitted_at__lt=_kst_day_start(self.submitted_to + dt.timedelta(days=1)))
        return condition


def _open_flags(codes: Sequence[str]) -> QuerySet[Flag]:
    return Flag.objects.filter(claim_id=OuterRef("pk"), status=Flag.Status.OPEN, code__in=codes)


def cohort_claims(*, cohort: Cohort) -> QuerySet[Claim]:
    """The claims the cohort selects now."""
    criteria = CohortCriteria.from_dict(cohort.criteria)
    return Claim.objects.filter(incident_id=cohort.incident_id).filter(criteria.condition())


def claims_in_a_wave() -> Exists:
    return Exists(WaveMember.objects.filter(claim_id=OuterRef("pk")))


@dataclass(frozen=True)
class CohortSummary:
    count: int
    claimed_total: int
    estimate_total: int
    unestimated: int
    not_filable: int
    in_a_wave: int
    taken: int  # not in a wave and ready for filing or overridden (filing/selectors/readiness.py)

    @property
    def freezable(self) -> int:
        """How many plaintiffs a wave frozen now would have (claims already in a wave, and claims not ready for
        filing, are left out)."""
        return self.taken


def cohort_summary(*, cohort: Cohort) -> CohortSummary:
    """The cohort's live count and totals, and what a freeze now would take and leave out, in one query (and one
    for the readiness rules)."""
    outside_waves = ~Q(claims_in_a_wave())
    with jit_off():
        totals = _cohort_totals(cohort, outside_waves)
    totals["claimed_total"], totals["estimate_total"] = totals.pop("claimed"), totals.pop("estimated")
    return CohortSummary(**totals)


def _cohort_totals(cohort: Cohort, outside_waves: Q) -> dict:
    return cohort_claims(cohort=cohort).aggregate(
        count=Count("pk"),
        claimed=Coalesce(Sum("claimed_total"), 0),
        estimated=Coalesce(Sum("estimate_total"), 0),
        unestimated=Count("pk", filter=Q(estimate_total__isnull=True) & outside_waves),
        not_filable=Count("pk", filter=~Q(status__in=FILABLE_STATUSES) & outside_waves),
        in_a_wave=Count("pk", filter=Q(claims_in_a_wave())),
        taken=Count("pk", filter=outside_waves & claims_ready_or_overridden()),
    )


def wave_candidates(*, cohort: Cohort) -> QuerySet[Claim]:
    """The cohort's claims that are not already in a wave: those a wave frozen now considers."""
    return cohort_claims(cohort=cohort).exclude(claims_in_a_wave())


def wave_takes(*, cohort: Cohort, rules: Sequence[Rule] | None = None) -> QuerySet[Claim]:
    """The claims a wave frozen now would list: the candidates ready for filing, or let through by a Lawyer's
    override (filing/selectors/readiness.py); one SQL filter."""
    return wave_candidates(cohort=cohort).filter(claims_ready_or_overridden(rules=rules))


# --- SQL building blocks for the export rows --------------------------------------------------------------------


class EstimatedByRule(Func):
    """{rule: amount} summed over the components of the claim's current estimate, as a JSON object (NULL when
    the claim has no estimate). The argument is the claim's id column."""

    output_field = JSONField()
    template = (
        "(SELECT jsonb_object_agg(r.rule, r.amount) FROM ("
        "SELECT c.value->>'rule' AS rule, SUM((c.value->>'amount')::bigint) AS amount "
        "FROM %(table)s e CROSS JOIN LATERAL jsonb_array_elements(e.breakdown->'components') c "
        "WHERE e.claim_id = %(expressions)s AND e.is_current GROUP BY 1) r)"
    )
    sqlite_template = (
        "(SELECT json_group_object(r.rule, r.amount) FROM ("
        "SELECT json_extract(c.value, '$.rule') AS rule, SUM(json_extract(c.value, '$.amount')) AS amount "
        "FROM %(table)s e, json_each(e.breakdown, '$.components') c "
        "WHERE e.claim_id = %(expressions)s AND e.is_current GROUP BY 1) r)"
    )

    def as_sql(self, compiler, connection, **extra_context):
        table = connection.ops.quote_name(Estimate._meta.db_table)
        return super().as_sql(compiler, connection, table=table, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=self.sqlite_template, **extra_context)


def claimed_amount() -> Case:
    """What the claimant entered for a loss item: the monthly fee, the lost revenue, or the amount."""
    return Case(
        When(kind=LossItem.Kind.SUBSCRIPTION, then=F("monthly_fee")),
        When(
            kind=LossItem.Kind.BUSINESS_REVENUE,
            then=Greatest(F("comparison_revenue") - F("outage_revenue"), Value(0)),
        ),
        default=F("amount"),
        output_field=BigIntegerField(),
    )


def claimed_by_kind(claim: OuterRef) -> Subquery:
    """{kind: amount} of the claim's loss items by conditional aggregation, as a JSON object."""
    per_kind = {kind: Coalesce(Sum(claimed_amount(), filter=Q(kind=kind)), 0) for kind in LOSS_KINDS}
    items = LossItem.objects.filter(claim_id=claim).order_by().values("claim_id")
    return Subquery(items.annotate(amounts=JSONObject(**per_kind)).values("amounts"), output_field=JSONField())


def model_version(claim: OuterRef) -> Subquery:
    current = Estimate.objects.filter(claim_id=claim, is_current=True).order_by()
    return Subquery(current.values("model_version__version")[:1])


def full_address(prefix: str = "") -> Trim:
    return Trim(Concat(F(f"{prefix}address"), Value(" "), F(f"{prefix}address_detail"), output_field=TextField()))


def wave_member_snapshot(*, cohort: Cohort, rules: Sequence[Rule] | None = None) -> QuerySet:
    """The wave candidates as the columns a `WaveMember` copies, in the order of `WAVE_MEMBER_SNAPSHOT` (for the
    freeze's INSERT ... SELECT)."""
    return (
        wave_takes(cohort=cohort, rules=rules)
        .order_by()
        .values(
            s_claim=F("pk"),
            s_submitted_at=F("submitted_at"),
            s_name=F("claimant__legal_name"),
            s_postal_code=F("claimant__postal_code"),
            s_address=full_address("claimant__"),
            s_claimant_type=F("claimant_type"),
            s_business_name=F("business_name"),
            s_business_number=F("business_registration_number"),
            s_amount=F("estimate_total"),
            s_claimed=claimed_by_kind(OuterRef("pk")),
            s_estimated=EstimatedByRule(F("pk")),
            s_model_version=model_version(OuterRef("pk")),
        )
    )


# --- export rows ------------------------------------------------------------------------------------------------

# What every list of a wave's plaintiffs shows of each (frozen at the freeze).
MEMBER_LIST_FIELDS = ("number", "name", "address", "claimant_type", "business_name", "amount_claimed")


def wave_annex_rows(*, wave: FilingWave, by_tier: bool = False) -> Iterator[dict[str, Any]]:
    """The frozen plaintiffs by number with the claim's live status, streamed; `by_tier`: grouped by claim tier
    (filing/tiers.py, each row's `tier` is its index in CLAIM_TIERS), by number within a tier."""
    members = WaveMember.objects.filter(wave=wave)
    if by_tier:
        members = members.annotate(tier=claim_tier_order()).order_by("tier", "number")
    else:
        members = members.order_by("number")
    rows = members.values(
        *(["tier"] if by_tier else []),
        "number",
        "name",
        "address",
        "claimant_type",
        "business_name",
        "amount_claimed",
        "estimated_by_rule",
        status=F("claim__status"),
        **proof_level_annotations("claim__claimant__"),
    )
    return rows.iterator(chunk_size=STREAM_CHUNK_SIZE)


def wave_members_page(*, wave: FilingWave) -> QuerySet[WaveMember]:
    """The plaintiffs for the wave's admin page, with the live claim status."""
    return (
        WaveMember.objects.filter(wave=wave)
        .select_related("claim")
        .only(
            *MEMBER_LIST_FIELDS,
            "claim__reference_code",
            "claim__status",
            "claim__withdrawn_at",
        )
        .order_by("number")
    )


@dataclass(frozen=True)
class WaveCounts:
    members: int
    withdrawn: int
    withdrawn_amount: int


def wave_counts(*, wave: FilingWave) -> WaveCounts:
    """How many plaintiffs withdrew after the freeze, and what they had claimed."""
    withdrawn = Q(claim__status=Claim.Status.WITHDRAWN)
    totals = WaveMember.objects.filter(wave=wave).aggregate(
        members=Count("pk"),
        withdrawn=Count("pk", filter=withdrawn),
        withdrawn_amount=Coalesce(Sum("amount_claimed", filter=withdrawn), 0),
    )
    return WaveCounts(**totals)


# --- standing packs and evidence bundles --------------------------------------------------------------------------

STANDING_BATCH_SIZE = 100


@dataclass
class StandingPlaintiff:
    """What one plaintiff's standing pack shows."""

    member: WaveMember
    consents: list[ConsentRecord] = field(default_factory=list)
    powers_of_attorney: list[PowerOfAttorney] = field(default_factory=list)
    proof_of_use: list[Evidence] = field(default_factory=list)
    proof_level: int = ProofLevel.EMAIL  # accounts/proof.py
    proof_level_sandbox: bool = False


def wave_standing_plaintiffs(*, wave: FilingWave) -> Iterator[StandingPlaintiff]:
    """The wave's plaintiffs who have not withdrawn, by number, with their consent ledger, powers of attorney and
    proof-of-use evidence: one streamed query for the members and four per batch of STANDING_BATCH_SIZE."""
    members = (
        WaveMember.objects.filter(wave=wave)
        .exclude(claim__status=Claim.Status.WITHDRAWN)
        .select_related("claim__claimant")
        .order_by("number")
    )
    for batch in chunked(members.iterator(chunk_size=STANDING_BATCH_SIZE), STANDING_BATCH_SIZE):
        plaintiffs = {member.claim.claimant_id: StandingPlaintiff(member) for member in batch}
        by_claim = {member.claim_id: plaintiffs[member.claim.claimant_id] for member in batch}
        consents = ConsentRecord.objects.filter(user_id__in=plaintiffs).select_related("document")
        for record in consents.order_by("at", "pk"):
            plaintiffs[record.user_id].consents.append(record)
        powers = PowerOfAttorney.objects.filter(user_id__in=plaintiffs).select_related("document")
        for power in powers.order_by("signed_at", "pk"):
            plaintiffs[power.user_id].powers_of_attorney.append(power)
        levels = User.objects.filter(pk__in=plaintiffs).annotate(**proof_level_annotations())
        for user_id, level, sandbox in levels.values_list("pk", "proof_level", "proof_level_sandbox"):
            plaintiffs[user_id].proof_level, plaintiffs[user_id].proof_level_sandbox = level, sandbox
        evidence = Evidence.objects.filter(claim_id__in=by_claim, tag=Evidence.Tag.PROOF_OF_USE)
        for item in evidence.order_by("uploaded_at", "pk"):
            by_claim[item.claim_id].proof_of_use.append(item)
        yield from plaintiffs.values()


def wave_evidence_files(*, wave: FilingWave) -> Iterator[dict[str, Any]]:
    """Every evidence file of the wave's plaintiffs who have not withdrawn, by plaintiff number then upload time,
    streamed."""
    member = WaveMember.objects.filter(wave=wave, claim_id=OuterRef("claim_id"))
    rows = (
        Evidence.objects.filter(Exists(member))
        .exclude(claim__status=Claim.Status.WITHDRAWN)
        .annotate(number=Subquery(member.values("number")[:1]), member_name=Subquery(member.values("name")[:1]))
        .order_by("number", "uploaded_at", "pk")
        .values(
            "pk",
            "number",
            "member_name",
            "tag",
            "original_name",
            "content_type",
            "file",
            "size",
            "sha256",
            "uploaded_at",
            reference_code=F("claim__reference_code"),
        )
    )
    return rows.iterator(chunk_size=STREAM_CHUNK_SIZE)


def wave_evidence_count(*, wave: FilingWave) -> int:
    member = WaveMember.objects.filter(wave=wave, claim_id=OuterRef("claim_id"))
    return Evidence.objects.filter(Exists(member)).exclude(claim__status=Claim.Status.WITHDRAWN).count()


def wave_standing_count(*, wave: FilingWave) -> int:
    return WaveMember.objects.filter(wave=wave).exclude(claim__status=Claim.Status.WITHDRAWN).count()


def claimant_is_plaintiff_of_filed_wave(*, claimant_id: int) -> bool:
    """Whether a claim of this claimant is a plaintiff of a filed wave (claims.closing asks for the refund rule)."""
    return WaveMember.objects.filter(claim__claimant_id=claimant_id, wave__status=FilingWave.Status.FILED).exists()


def claim_is_plaintiff_of_filed_wave(*, claim_id: int) -> bool:
    """Whether this claim is a plaintiff's claim in a filed wave (claims.closing asks before taking additions)."""
    return WaveMember.objects.filter(claim_id=claim_id, wave__status=FilingWave.Status.FILED).exists()
