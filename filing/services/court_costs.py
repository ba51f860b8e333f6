"""The court-cost sheet of a filing wave: 소가, stamp duty (인지액), the service-fee deposit (송달료 예납) and each
plaintiff's share, by joinder (every plaintiff a party) and by selected parties (선정당사자). The rules and their
sources are in docs/filing.md, "Court costs".

The arithmetic is plain functions over whole won (exact fractions where the law multiplies by a rate); the
wave-level functions load the amounts through `filing.selectors.court_costs` and, for the firm's CSV, audit the
export.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError
from core.models import AuditEntry
from filing.exports import csv_write
from filing.models import FilingWave
from filing.selectors.court_costs import WavePlaintiff, wave_claim_value, wave_plaintiffs
from filing.services.exports import PERMISSION_EXPORT

# 민사소송 등 인지법 제2조 제1항: (upper bound of 소가, exclusive; rate in 1/10,000; fixed addition in won).
STAMP_DUTY_BRACKETS: tuple[tuple[int | None, int, int], ...] = (
    (10_000_000, 50, 0),
    (100_000_000, 45, 5_000),
    (1_000_000_000, 40, 55_000),
    (None, 35, 555_000),
)
STAMP_DUTY_MINIMUM = 1_000  # 민사소송 등 인지법 제2조: under 1,000 won becomes 1,000
STAMP_DUTY_UNIT = 100  # same article: otherwise amounts under 100 won are dropped
ELECTRONIC_FILING_RATE = Fraction(9, 10)  # 전자소송: 9/10 of the paper amount (see docs/filing.md)
SMALL_CLAIMS_LIMIT = 30_000_000  # 소액사건심판규칙 제1조의2
PANEL_THRESHOLD = 500_000_000  # 민사 및 가사소송의 사물관할에 관한 규칙 제2조: above this, a panel (합의부)
SERVICE_ROUNDS_SMALL_CLAIMS = 10  # 송달료규칙: rounds per party, by case type
SERVICE_ROUNDS_FIRST_INSTANCE = 15


class CourtCostError(InvalidInputError):
    """The sheet cannot be computed from these inputs; the message is for the member of staff."""


# --- the rules --------------------------------------------------------------------------------------------------


def _stamp_duty_rounded(amount: Fraction) -> int:
    if amount < STAMP_DUTY_MINIMUM:
        return STAMP_DUTY_MINIMUM
    return int(amount) // STAMP_DUTY_UNIT * STAMP_DUTY_UNIT


def _stamp_duty_unrounded(claim_value: int) -> Fraction:
    for upper, rate, addition in STAMP_DUTY_BRACKETS:
        if upper is None or claim_value < upper:
            return Fraction(claim_value * rate, 10_000) + addition
    raise AssertionError("the last bracket has no upper bound")


def stamp_duty_paper(claim_value: int) -> int:
    """인지액 for a complaint filed on paper."""
    return _stamp_duty_rounded(_stamp_duty_unrounded(claim_value))


def stamp_duty_electronic(claim_value: int) -> int:
    """인지액 for a complaint filed electronically: 9/10 of the paper amount before rounding, then the same
    rounding (minimum 1,000 won, under 100 won dropped)."""
    return _stamp_duty_rounded(_stamp_duty_unrounded(claim_value) * ELECTRONIC_FILING_RATE)


class Track:
    SMALL_CLAIMS = "small_claims"
    SINGLE_JUDGE = "single_judge"
    PANEL = "panel"


def case_track(claim_value: int) -> str:
    if claim_value <= SMALL_CLAIMS_LIMIT:
        return Track.SMALL_CLAIMS
    if claim_value <= PANEL_THRESHOLD:
        return Track.SINGLE_JUDGE
    return Track.PANEL


def track_label(track: str) -> str:
    return {
        Track.SMALL_CLAIMS: _("소액사건"),
        Track.SINGLE_JUDGE: _("단독사건"),
        Track.PANEL: _("합의사건"),
    }[track]


def service_rounds(claim_value: int) -> int:
    """송달료 rounds per party in a first-instance civil case: 10 for small claims, otherwise 15."""
    if case_track(claim_value) == Track.SMALL_CLAIMS:
        return SERVICE_ROUNDS_SMALL_CLAIMS
    return SERVICE_ROUNDS_FIRST_INSTANCE


def service_fee_unit(on: dt.date) -> int:
    """The per-service unit (won) in force on `on`, from the dated setting COURT_SERVICE_FEE_UNITS."""
    in_force = [(start, won) for start, won in settings.COURT_SERVICE_FEE_UNITS if start <= on]
    if not in_force:
        raise CourtCostError(_("%(date)s에 적용되는 송달료 단가가 설정에 없습니다.") % {"date": on.isoformat()})
    return max(in_force)[1]


def shares_proportional(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` in whole won, summing exactly to `total`: each gets the floor of
    their exact share and the leftover won go one each to the largest remainders (earlier first on ties). Equal
    weights when every weight is zero."""
    if not weights:
        return []
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    exact = [Fraction(total * weight, whole) for weight in weights]
    shares = [int(share) for share in exact]
    by_remainder = sorted(range(len(weights)), key=lambda index: (-(exact[index] - shares[index]), index))
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares


# --- the sheet --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingRoute:
    """The costs of one way of suing: who the parties are and what that costs."""

    plaintiff_parties: int
    defendants: int
    service_rounds: int
    service_fee_unit: int
    stamp_duty_paper: int
    stamp_duty_electronic: int

    @property
    def parties(self) -> int:
        return self.plaintiff_parties + self.defendants

    @property
    def service_deposit(self) -> int:
        return self.parties * self.service_fee_unit * self.service_rounds

    @property
    def total_paper(self) -> int:
        return self.stamp_duty_paper + self.service_deposit

    @property
    def total_electronic(self) -> int:
        return self.stamp_duty_electronic + self.service_deposit

    def as_dict(self) -> dict[str, int]:
        return {
            "plaintiff_parties": self.plaintiff_parties,
            "defendants": self.defendants,
            "parties": self.parties,
            "service_rounds": self.service_rounds,
            "service_fee_unit": self.service_fee_unit,
            "service_deposit": self.service_deposit,
            "stamp_duty_paper": self.stamp_duty_paper,
            "stamp_duty_electronic": self.stamp_duty_electronic,
            "total_paper": self.total_paper,
            "total_electronic": self.total_electronic,
        }


@dataclass(frozen=True)
class PlaintiffShare:
    """One plaintiff's part of each total, in proportion to their claimed amount."""

    number: int
    name: str
    amount_claimed: int
    joinder_paper: int
    joinder_electronic: int
    selected_paper: int
    selected_electronic: int


@dataclass(frozen=True)
class CourtCostSheet:
    claim_value: int
    plaintiff_count: int
    track: str
    filed_on: dt.date
    joinder: FilingRoute
    selected_parties: FilingRoute
    shares: tuple[PlaintiffShare, ...] = ()

    @property
    def track_label(self) -> str:
        return track_label(self.track)

    def as_dict(self) -> dict:
        return {
            "claim_value": self.claim_value,
            "track": self.track,
            "filed_on": self.filed_on.isoformat(),
            "plaintiffs": self.plaintiff_count,
            "joinder": self.joinder.as_dict(),
            "selected_parties": self.selected_parties.as_dict(),
            "shares": [share.__dict__ for share in self.shares],
        }


def court_cost_totals(
    *, plaintiff_count: int, claim_value: int, defendants: int, selected_parties: int, filed_on: dt.date
) -> CourtCostSheet:
    """The sheet's totals (no shares) by joinder and by `selected_parties` 선정당사자 (소가 is the same)."""
    if defendants < 1:
        raise CourtCostError(_("피고는 한 명 이상이어야 합니다."))
    if not 1 <= selected_parties <= max(plaintiff_count, 1):
        raise CourtCostError(
            _("선정당사자 수는 1명 이상, 원고 수(%(count)s명) 이하여야 합니다.") % {"count": plaintiff_count}
        )
    common = {
        "defendants": defendants,
        "service_rounds": service_rounds(claim_value),
        "service_fee_unit": service_fee_unit(filed_on),
        "stamp_duty_paper": stamp_duty_paper(claim_value),
        "stamp_duty_electronic": stamp_duty_electronic(claim_value),
    }
    return CourtCostSheet(
        claim_value=claim_value,
        plaintiff_count=plaintiff_count,
        track=case_track(claim_value),
        filed_on=filed_on,
        joinder=FilingRoute(plaintiff_parties=plaintiff_count, **common),
        selected_parties=FilingRoute(plaintiff_parties=selected_parties, **common),
    )


def court_cost_sheet(
    *, plaintiffs: Sequence[WavePlaintiff], defendants: int, selected_parties: int, filed_on: dt.date
) -> CourtCostSheet:
    """The totals for these plaintiffs and each one's share of every total."""
    weights = [plaintiff.amount_claimed for plaintiff in plaintiffs]
    totals = court_cost_totals(
        plaintiff_count=len(plaintiffs),
        claim_value=sum(weights),
        defendants=defendants,
        selected_parties=selected_parties,
        filed_on=filed_on,
    )
    joinder, selected = totals.joinder, totals.selected_parties
    columns = [
        shares_proportional(total, weights)
        for total in (joinder.total_paper, joinder.total_electronic, selected.total_paper, selected.total_electronic)
    ]
    shares = tuple(
        PlaintiffShare(plaintiff.number, plaintiff.name, plaintiff.amount_claimed, *parts)
        for plaintiff, *parts in zip(plaintiffs, *columns, strict=True)
    )
    return replace(totals, shares=shares)


def _sheet_date(wave: FilingWave, filed_on: dt.date | None) -> dt.date:
    return filed_on or wave.filed_on or timezone.localdate()


def wave_selected_parties(*, wave: FilingWave, selected_parties: int | None = None) -> int:
    """How many selected parties the sheet counts: the number given, else the wave's picked selected parties
    (filing/services/selected_parties.py), else 1 (the fewest the route allows)."""
    if selected_parties is not None:
        return selected_parties
    return wave.selected_parties.count() or 1


def wave_court_cost_totals(
    *, wave: FilingWave, selected_parties: int | None = None, filed_on: dt.date | None = None
) -> CourtCostSheet:
    """The wave's totals from one aggregate query, whatever its size (for its admin page). The service-fee unit
    is the one in force on `filed_on`, else the wave's filing date, else today; the selected parties are
    `selected_parties`, else those picked for the wave (see wave_selected_parties)."""
    plaintiff_count, claim_value = wave_claim_value(wave=wave)
    return court_cost_totals(
        plaintiff_count=plaintiff_count,
        claim_value=claim_value,
        defendants=wave.defendant_count,
        selected_parties=wave_selected_parties(wave=wave, selected_parties=selected_parties),
        filed_on=_sheet_date(wave, filed_on),
    )


def wave_court_cost_sheet(
    *, wave: FilingWave, selected_parties: int | None = None, filed_on: dt.date | None = None
) -> CourtCostSheet:
    """The wave's sheet with each plaintiff's share: its frozen plaintiffs, or for a draft wave the claims a
    freeze now would take."""
    return court_cost_sheet(
        plaintiffs=list(wave_plaintiffs(wave=wave)),
        defendants=wave.defendant_count,
        selected_parties=wave_selected_parties(wave=wave, selected_parties=selected_parties),
        filed_on=_sheet_date(wave, filed_on),
    )


def court_cost_sheet_csv(
    *,
    wave: FilingWave,
    actor: User,
    selected_parties: int | None = None,
    filed_on: dt.date | None = None,
    meta: RequestMeta = NO_REQUEST,
) -> bytes:
    """The sheet as a CSV for the firm (totals of both routes, then each plaintiff's share); audited, and only
    for staff allowed to export personal data (the shares name the plaintiffs)."""
    if not actor.has_perm(PERMISSION_EXPORT):
        raise PermissionDenied
    selected_parties = wave_selected_parties(wave=wave, selected_parties=selected_parties)
    sheet = wave_court_cost_sheet(wave=wave, selected_parties=selected_parties, filed_on=filed_on)
    out = io.BytesIO()
    with translation.override("ko"):  # the firm's files are in Korean whatever the language of the page
        csv_write(out, *_csv_rows(sheet))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORTED,
        target=wave,
        meta=meta,
        data={
            "event": "court_costs_csv",
            "selected_parties": selected_parties,
            "filed_on": sheet.filed_on.isoformat(),
            "plaintiffs": sheet.plaintiff_count,
        },
    )
    return out.getvalue()


def _csv_rows(sheet: CourtCostSheet) -> tuple[list[str], list[list]]:
    """One table: a header, two summary lines (one per route) and one line per plaintiff."""
    header = [
        _("구분"),
        _("원고 번호"),
        _("성명"),
        _("청구금액 (원)"),
        _("당사자 수"),
        _("송달료 예납 (원)"),
        _("인지액 종이 (원)"),
        _("인지액 전자 (원)"),
        _("공동소송 종이 합계 (원)"),
        _("공동소송 전자 합계 (원)"),
        _("선정당사자 종이 합계 (원)"),
        _("선정당사자 전자 합계 (원)"),
    ]
    rows: list[list] = []
    joinder, selected = sheet.joinder, sheet.selected_parties
    for label, route, totals in (
        (_("공동소송"), joinder, [joinder.total_paper, joinder.total_electronic, "", ""]),
        (_("선정당사자"), selected, ["", "", selected.total_paper, selected.total_electronic]),
    ):
        rows.append(
            [
                label,
                "",
                "",
                sheet.claim_value,
                route.parties,
                route.service_deposit,
                route.stamp_duty_paper,
                route.stamp_duty_electronic,
                *totals,
            ]
        )
    for share in sheet.shares:
        rows.append(
            [
                _("원고별 분담액"),
                share.number,
                share.name,
                share.amount_claimed,
                "",
                "",
                "",
                "",
                share.joinder_paper,
                share.joinder_electronic,
                share.selected_paper,
                share.selected_electronic,
            ]
        )
    return header, rows
