"""The claim sheet (CSV, XLSX), the annex (원고 목록) and the claim amount sheet (청구금액 내역) of an export.

Spreadsheets and PDFs are written in Korean (the court's language) whatever the language of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.proof import proof_level_label
from claims.models import Claim, LossItem
from filing.exports import (
    Sheet,
    csv_write,
    pdf_table_write,
    xlsx_write,
)
from filing.models import ExportJob, FilingWave
from filing.selectors.claim_sheet import claim_sheet_csv_copy, claim_sheet_in_sql, claim_sheet_rows
from filing.selectors.claim_sheet_portable import claim_sheet_cells_portable
from filing.selectors.cohorts import (
    LOSS_KINDS,
    cohort_claims,
    wave_annex_rows,
    wave_counts,
)
from filing.tiers import CLAIM_TIERS

Progress = Callable[[int], None]


def plaintiff_name(*, name: str, claimant_type: str, business_name: str) -> str:
    """How the annex names a plaintiff: a company by its name with its representative, a person by name."""
    if claimant_type == Claim.ClaimantType.COMPANY and business_name:
        return _("%(company)s (대표자 %(name)s)") % {"company": business_name, "name": name}
    return name


def claim_sheet_header() -> list[str]:
    """The claim sheet's columns (CSV and XLSX), in a fixed order documented in docs/filing.md."""
    header = [
        _("원고 번호"),
        _("접수번호"),
        _("성명"),
        _("상호"),
        _("휴대전화"),
        _("이메일"),
        _("우편번호"),
        _("주소"),
        _("신청인 유형"),
        _("사업자등록번호"),
        _("피해 서비스"),
    ]
    for kind in LOSS_KINDS:
        label = LossItem.Kind(kind).label
        header += [_("신청액: %(kind)s") % {"kind": label}, _("산정액: %(kind)s") % {"kind": label}]
    header += [
        _("산정액: 위자료"),
        _("산정액: 기보상 공제"),
        _("산정액: 상한 조정"),
        _("신청액 합계"),
        _("산정액 합계"),
        _("산정 모델 버전"),
        _("산정 플래그"),
        _("확인 필요 플래그"),
        _("증명 수준"),  # accounts/proof.py: certified signature > verified identity > verified phone > email only
        _("상태"),
        _("제출 시각"),
        _("결정 시각"),
        _("철회 시각"),
        _("확정 후 철회"),
    ]
    return header


def _claim_sheet_scope(job: ExportJob) -> dict[str, Any]:
    return {"wave": job.wave} if job.wave_id else {"cohort": job.cohort}


def _claims_csv(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    """The byte-order mark and the header from Python, the rows from PostgreSQL (one COPY), then one progress
    mark: the connection is busy until the COPY ends (docs/filing.md). Row by row on another database."""
    scope = _claim_sheet_scope(job)
    if not claim_sheet_in_sql():
        csv_write(out, claim_sheet_header(), claim_sheet_cells_portable(**scope), progress=progress)
        return
    csv_write(out, claim_sheet_header(), rows=())
    progress(claim_sheet_csv_copy(out=out, **scope))


CLAIM_SHEET_WIDTHS = (8, 14, 12, 16, 14, 24, 8, 40, 10, 14, 24, *([12] * 11), 12, 12, 8, 30, 30, 10, 18, 18, 18, 8)


def _claims_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    scope = _claim_sheet_scope(job)
    rows = claim_sheet_rows(**scope) if claim_sheet_in_sql() else claim_sheet_cells_portable(**scope)
    sheet = Sheet(_("신청 목록"), claim_sheet_header(), rows, widths=CLAIM_SHEET_WIDTHS)
    xlsx_write(out, [sheet], progress=progress)


def _scope_total(job: ExportJob) -> int:
    return job.wave.member_count if job.wave_id else cohort_claims(cohort=job.cohort).count()


# --- the annex (원고 목록) and the claim amount sheet (청구금액 내역) ---


def _wave_context(wave: FilingWave) -> dict[str, Any]:
    counts = wave_counts(wave=wave)
    return {
        "wave": wave,
        "member_count": wave.member_count,
        "claimed_total": wave.claimed_total,
        "withdrawn": counts.withdrawn,
        "withdrawn_amount": counts.withdrawn_amount,
        "remaining_total": wave.claimed_total - counts.withdrawn_amount,
        "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }


def _annex_rows(wave: FilingWave, *, by_tier: bool = False) -> Iterator[dict[str, Any]]:
    for row in wave_annex_rows(wave=wave, by_tier=by_tier):
        yield {
            "tier": row.get("tier"),
            "number": row["number"],
            "name": plaintiff_name(
                name=row["name"], claimant_type=row["claimant_type"], business_name=row["business_name"]
            ),
            "address": row["address"],
            "amount": row["amount_claimed"],
            "withdrawn": row["status"] == Claim.Status.WITHDRAWN,
            "by_rule": row["estimated_by_rule"] or {},
            "proof": proof_level_label(row["proof_level"], sandbox=row["proof_level_sandbox"]),
        }


@dataclass(frozen=True)
class TierSubtotal:
    label: str
    count: int
    amount: int


def annex_rows_by_tier(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The annex rows grouped by claim tier (filing/tiers.py): the first row of a tier carries `tier_heading` (its
    label), the last `tier_subtotal` (a TierSubtotal of the tier's plaintiffs and amounts claimed)."""
    previous: dict[str, Any] | None = None
    count = amount = 0
    for row in rows:
        starts = previous is None or previous["tier"] != row["tier"]
        if previous is not None:
            yield {**previous, "tier_subtotal": _tier_subtotal(previous, count, amount) if starts else None}
        if starts:
            count = amount = 0
        count, amount = count + 1, amount + row["amount"]
        previous = {**row, "tier_heading": str(CLAIM_TIERS[row["tier"]].label) if starts else ""}
    if previous is not None:
        yield {**previous, "tier_subtotal": _tier_subtotal(previous, count, amount)}


def _tier_subtotal(row: dict[str, Any], count: int, amount: int) -> TierSubtotal:
    return TierSubtotal(label=str(CLAIM_TIERS[row["tier"]].label), count=count, amount=amount)


def _annex_pdf(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    pdf_table_write(
        out,
        template="filing/exports/annex.html",
        context=_wave_context(job.wave),
        rows=annex_rows_by_tier(_annex_rows(job.wave, by_tier=True)),
        progress=progress,
    )


def _annex_heading(wave: FilingWave, title: str) -> list[list[Any]]:
    case = f"{wave.case_number} {wave.case_name}".strip()
    return [[title], [_("사건"), case], [_("법원"), wave.court], [_("피고"), wave.defendant]]


def _annex_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    wave = job.wave
    mark = _("확정 후 철회")

    def rows() -> Iterator[list[Any]]:
        for row in annex_rows_by_tier(_annex_rows(wave, by_tier=True)):
            if row["tier_heading"]:
                yield [row["tier_heading"]]
            yield [
                row["number"],
                row["name"],
                row["address"],
                row["amount"],
                mark if row["withdrawn"] else "",
                row["proof"],
            ]
            if subtotal := row["tier_subtotal"]:
                count = _("%(count)d명") % {"count": subtotal.count}
                yield [_("소계: %(tier)s") % {"tier": subtotal.label}, count, "", subtotal.amount, "", ""]

    context = _wave_context(wave)

    def totals() -> list[list[Any]]:
        lines = [
            [_("합계"), _("%(count)d명") % {"count": context["member_count"]}, "", context["claimed_total"], "", ""]
        ]
        if context["withdrawn"]:
            lines.append(
                [
                    _("철회 제외"),
                    _("%(count)d명") % {"count": context["member_count"] - context["withdrawn"]},
                    "",
                    context["remaining_total"],
                    "",
                    "",
                ]
            )
        return lines

    sheet = Sheet(
        _("원고 목록"),
        [_("번호"), _("성명"), _("주소"), _("청구금액"), _("비고"), _("증명 수준")],
        rows(),
        preamble=_annex_heading(wave, _("원고 목록")),
        footer=totals,
        widths=(8, 24, 60, 16, 14, 22),
        money_columns=frozenset({3}),
    )
    xlsx_write(out, [sheet], progress=progress)


# The claim amount sheet's columns after number and name: loss kinds, then the claim-level rules.
AMOUNT_COLUMNS = (*LOSS_KINDS, "solatium", "adjustments")


def amount_column_labels() -> list[str]:
    return [*(str(LossItem.Kind(kind).label) for kind in LOSS_KINDS), _("위자료"), _("공제·상한 조정")]


class AmountTotals:
    """Column totals of the claim amount sheet, added up as the rows stream past."""

    def __init__(self) -> None:
        self.columns = dict.fromkeys(AMOUNT_COLUMNS, 0)
        self.amount = 0
        self.count = 0

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        by_rule = row["by_rule"]
        values = {rule: by_rule.get(rule, 0) for rule in (*LOSS_KINDS, "solatium")}
        values["adjustments"] = by_rule.get("compensation_deducted", 0) + by_rule.get("cap", 0)
        for column, value in values.items():
            self.columns[column] += value
        self.amount += row["amount"]
        self.count += 1
        return {**row, "columns": [values[column] for column in AMOUNT_COLUMNS]}

    @property
    def column_list(self) -> list[int]:
        return [self.columns[column] for column in AMOUNT_COLUMNS]


def _amounts_pdf(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    totals = AmountTotals()
    context = {**_wave_context(job.wave), "labels": amount_column_labels(), "totals": totals}
    rows = (totals.add(row) for row in _annex_rows(job.wave))
    pdf_table_write(out, template="filing/exports/amounts.html", context=context, rows=rows, progress=progress)


def _amounts_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    wave = job.wave
    totals = AmountTotals()
    mark = _("확정 후 철회")
    rows = (
        [row["number"], row["name"], *row["columns"], row["amount"], mark if row["withdrawn"] else ""]
        for row in (totals.add(row) for row in _annex_rows(wave))
    )
    labels = amount_column_labels()
    sheet = Sheet(
        _("청구금액 내역"),
        [_("번호"), _("성명"), *labels, _("청구금액"), _("비고")],
        rows,
        preamble=_annex_heading(wave, _("청구금액 내역")),
        footer=lambda: [
            [_("합계"), _("%(count)d명") % {"count": totals.count}, *totals.column_list, totals.amount, ""]
        ],
        widths=(8, 24, *([14] * len(labels)), 16, 14),
        money_columns=frozenset(range(2, 3 + len(labels))),
    )
    xlsx_write(out, [sheet], progress=progress)
