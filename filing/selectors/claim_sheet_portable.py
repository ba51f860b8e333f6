"""The claim sheet built row by row (the ORM's rows with a subquery per cell, formatted in Python), for a database
other than PostgreSQL: the SQLite of `make run`. On PostgreSQL the export uses filing/selectors/claim_sheet.py, one
statement that PostgreSQL writes itself; filing/tests/test_claim_sheet.py checks that both write the same sheet.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, F, OuterRef, Q, QuerySet, Subquery, TextField
from django.utils.translation import gettext as _

from accounts.proof import proof_level_annotations, proof_level_label
from accounts.validators import mobile_phone_format
from claims.models import Claim, Flag
from claims.selectors.estimates import ESTIMATE_FLAG_LABELS
from filing.exports import business_number_display, spreadsheet_local_time
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.cohorts import (
    CLAIM_RULES,
    LOSS_KINDS,
    STREAM_CHUNK_SIZE,
    EstimatedByRule,
    claimed_by_kind,
    cohort_claims,
    full_address,
    model_version,
)


class TextList(Aggregate):
    """The sorted values of a text column joined with ', ' (STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ', ' ORDER BY %(expressions)s)"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # On a copy: Aggregate.as_sql passes its own `template` beside extra_context's when there is a FILTER.
        # SQLite before 3.44 has no ORDER BY inside an aggregate, so the values come in table order there.
        group_concat = self.copy()
        group_concat.function = "GROUP_CONCAT"
        group_concat.template = "%(function)s(%(expressions)s, ', ')"
        return super(TextList, group_concat).as_sql(compiler, connection, **extra_context)


def service_names(claim: OuterRef) -> Subquery:
    through = Claim.services.through.objects.filter(claim_id=claim).order_by().values("claim_id")
    return Subquery(through.annotate(names=TextList("service__name_ko")).values("names"))


def open_flag_codes(claim: OuterRef) -> Subquery:
    """The claim's open flags' codes. The status is a FILTER of the aggregate, not a WHERE condition: with
    `status = 'open'` in the WHERE, PostgreSQL read every open flag of the table for each claim (through the
    (status, code) index) instead of the claim's few (through (claim, status))."""
    flags = Flag.objects.filter(claim_id=claim).order_by().values("claim_id")
    return Subquery(flags.annotate(codes=TextList("code", filter=Q(status=Flag.Status.OPEN))).values("codes"))


def cohort_sheet_queryset(*, cohort: Cohort) -> QuerySet:
    """The claim-sheet SELECT for a cohort: one row per claim, oldest submission first ."""
    claim = OuterRef("pk")
    return (
        cohort_claims(cohort=cohort)
        .order_by("submitted_at", "pk")
        .values(
            "reference_code",
            "business_name",
            "claimant_type",
            "claimed_total",
            "estimate_flags",
            "status",
            "submitted_at",
            "decided_at",
            "withdrawn_at",
            name=F("claimant__legal_name"),
            phone=F("claimant__phone"),
            email=F("claimant__email"),
            postal_code=F("claimant__postal_code"),
            address=full_address("claimant__"),
            business_number=F("business_registration_number"),
            service_list=service_names(claim),
            claimed_by_kind=claimed_by_kind(claim),
            estimated_by_rule=EstimatedByRule(F("pk")),
            amount=F("estimate_total"),
            model_version=model_version(claim),
            open_flags=open_flag_codes(claim),
            **proof_level_annotations("claimant__"),
        )
    )


def cohort_sheet_rows(*, cohort: Cohort) -> Iterator[dict[str, Any]]:
    """One dict per claim of the cohort , streamed in chunks."""
    for row in cohort_sheet_queryset(cohort=cohort).iterator(chunk_size=STREAM_CHUNK_SIZE):
        row["number"] = None
        yield row


def wave_sheet_rows(*, wave: FilingWave) -> Iterator[dict[str, Any]]:
    """One dict per plaintiff of the wave , by number, streamed. Names, addresses and
    amounts are the frozen copy; contact details, flags, status and dates are live."""
    claim = OuterRef("claim_id")
    rows = (
        WaveMember.objects.filter(wave=wave)
        .order_by("number")
        .values(
            "number",
            "name",
            "business_name",
            "postal_code",
            "address",
            "claimant_type",
            "business_number",
            "claimed_by_kind",
            "estimated_by_rule",
            "model_version",
            reference_code=F("claim__reference_code"),
            phone=F("claim__claimant__phone"),
            email=F("claim__claimant__email"),
            service_list=service_names(claim),
            amount=F("amount_claimed"),
            estimate_flags=F("claim__estimate_flags"),
            open_flags=open_flag_codes(claim),
            status=F("claim__status"),
            submitted_at=F("claim__submitted_at"),
            decided_at=F("claim__decided_at"),
            withdrawn_at=F("claim__withdrawn_at"),
            **proof_level_annotations("claim__claimant__"),
        )
    )
    for row in rows.iterator(chunk_size=STREAM_CHUNK_SIZE):
        row["claimed_total"] = sum((row["claimed_by_kind"] or {}).values())
        yield row


@dataclass(frozen=True)
class _SheetLabels:
    """The display labels of the codes in a claim-sheet row, built once per sheet."""

    types: dict[str, str]
    statuses: dict[str, str]
    flags: dict[str, str]
    estimate_flags: dict[str, str]
    withdrawn_mark: str

    @classmethod
    def build(cls) -> _SheetLabels:
        return cls(
            types={value: str(label) for value, label in Claim.ClaimantType.choices},
            statuses={value: str(label) for value, label in Claim.Status.choices},
            flags={code: str(label) for code, label in Flag.Code.choices},
            estimate_flags={code: str(label) for code, label in ESTIMATE_FLAG_LABELS.items()},
            withdrawn_mark=_("철회"),
        )


def claim_sheet_cells(rows: Iterable[dict[str, Any]], *, wave: bool) -> Iterator[list[Any]]:
    """Claim-sheet rows (see claim_sheet_header) from the selector's dicts."""
    labels = _SheetLabels.build()
    for row in rows:
        yield [
            *_claimant_cells(row=row, labels=labels),
            *_amount_cells(row=row),
            *_status_cells(row=row, labels=labels, wave=wave),
        ]


def _claimant_cells(*, row: dict[str, Any], labels: _SheetLabels) -> list[Any]:
    """Plaintiff number to damaged services: who the claimant is and how to reach them."""
    return [
        row["number"],
        row["reference_code"] or "",
        row["name"],
        row["business_name"],
        mobile_phone_format(row["phone"]),
        row["email"],
        row["postal_code"],
        row["address"],
        labels.types.get(row["claimant_type"], row["claimant_type"]),
        business_number_display(row["business_number"]),
        row["service_list"] or "",
    ]


def _amount_cells(*, row: dict[str, Any]) -> list[Any]:
    """Claimed and estimated amounts by loss kind, then the estimate's other rules (empty when not estimated)."""
    claimed = row["claimed_by_kind"] or {}
    estimated = row["estimated_by_rule"]
    cells = []
    for kind in LOSS_KINDS:
        cells += [claimed.get(kind, 0), None if estimated is None else estimated.get(kind, 0)]
    cells += [None if estimated is None else estimated.get(rule, 0) for rule in CLAIM_RULES]
    return cells


def _status_cells(*, row: dict[str, Any], labels: _SheetLabels, wave: bool) -> list[Any]:
    """Totals, model version, flags, status and its times, and the withdrawn-after-filing mark (waves only)."""
    open_flags = (row["open_flags"] or "").split(", ") if row["open_flags"] else []
    return [
        row["claimed_total"],
        row["amount"],
        row["model_version"],
        "; ".join(labels.estimate_flags.get(flag, flag) for flag in row["estimate_flags"] or []),
        "; ".join(labels.flags.get(code, code) for code in open_flags),
        proof_level_label(row["proof_level"], sandbox=row["proof_level_sandbox"]),
        labels.statuses.get(row["status"], row["status"]),
        spreadsheet_local_time(row["submitted_at"]),
        spreadsheet_local_time(row["decided_at"]),
        spreadsheet_local_time(row["withdrawn_at"]),
        labels.withdrawn_mark if wave and row["status"] == Claim.Status.WITHDRAWN else "",
    ]


def claim_sheet_cells_portable(*, cohort: Cohort | None = None, wave: FilingWave | None = None) -> Iterator[list[Any]]:
    """The claim sheet's rows (see claim_sheet_header) of a cohort or of a wave, built row by row."""
    if wave is not None:
        return claim_sheet_cells(wave_sheet_rows(wave=wave), wave=True)
    return claim_sheet_cells(cohort_sheet_rows(cohort=cohort), wave=False)
