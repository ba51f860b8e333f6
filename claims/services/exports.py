"""Exports of cohorts and filing waves, from request to expiry.

1. A member of staff with `claims.export_personal_data` requests an export (`export_request`): an `ExportJob` row
   and an audit entry are written, and the build task is queued after commit.
2. The task (`export_build`) streams the rows from the database into a temporary file through the writers in
   `claims/exports.py`, recording progress and a heartbeat on the job every EXPORT_PROGRESS_ROWS rows (2,000), then
   stores the file privately with its SHA-256 and size and sets it to expire after EXPORT_TTL_HOURS. Each run of
   the task takes the job with a lease of its own; a worker that dies is replaced by the sweep (see
   claims/services/jobs.py and recovery.py).
3. The file is downloaded through a permission-checked view (`export_download_open`, audited).
4. A periodic task (`exports_expire`) deletes expired files from storage.

Spreadsheets and PDFs are written in Korean (the court's language) whatever the language of the page.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import functools
import io
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from accounts.models import User
from accounts.validators import mobile_phone_format
from claims.exports import (
    Sheet,
    SpooledCsv,
    ZipBundle,
    csv_write,
    pdf_compose_write,
    pdf_readable,
    pdf_table_write,
    safe_file_name,
    xlsx_write,
)
from claims.models import Claim, Cohort, Evidence, ExportJob, FilingWave, Flag, LossItem
from claims.selectors.cohorts import (
    CLAIM_RULES,
    KST,
    LOSS_KINDS,
    StandingPlaintiff,
    cohort_claims,
    cohort_sheet_rows,
    wave_annex_rows,
    wave_counts,
    wave_evidence_count,
    wave_evidence_files,
    wave_sheet_rows,
    wave_standing_count,
    wave_standing_plaintiffs,
)
from claims.selectors.estimates import ESTIMATE_FLAG_LABELS
from claims.services.jobs import (
    JobSupersededError,
    heartbeat_cutoff,
    heartbeat_kept,
    job_test_park,
    job_transition_audit,
)
from config.hashing import sha256_file, sha256_hex
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError, NotFoundError
from core.models import AuditEntry

logger = logging.getLogger(__name__)

PERMISSION_EXPORT = "claims.export_personal_data"
COHORT_KINDS = (ExportJob.Kind.CLAIMS_CSV, ExportJob.Kind.CLAIMS_XLSX)
WAVE_KINDS = tuple(ExportJob.Kind)
EMBEDDED_IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
SPOOL_BYTES = 8 * 1024 * 1024


class ExportError(InvalidInputError):
    """An export cannot be requested or downloaded; the message is for the member of staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ExportExpiredError(NotFoundError, ExportError):
    """The export's file has expired and been deleted."""


# --- requesting ------------------------------------------------------------------------------------------------


def export_kinds_available(*, cohort: Cohort | None = None, wave: FilingWave | None = None) -> tuple[str, ...]:
    """What can be exported: a cohort's claims as spreadsheets; everything for a frozen or filed wave."""
    if cohort is not None:
        return COHORT_KINDS
    if wave is not None and wave.status != FilingWave.Status.DRAFT:
        return WAVE_KINDS
    return ()


@transaction.atomic
def export_request(
    *,
    kind: str,
    actor: User,
    cohort: Cohort | None = None,
    wave: FilingWave | None = None,
    meta: RequestMeta = NO_REQUEST,
) -> ExportJob:
    """Queue the export of a cohort or a wave (audited). Only staff allowed to export personal data may."""
    if not actor.has_perm(PERMISSION_EXPORT):
        raise PermissionDenied
    if (cohort is None) == (wave is None):
        raise ExportError(_("원고 집단이나 차수 중 하나를 골라 주세요."))
    if kind not in ExportJob.Kind.values:
        raise ExportError(_("알 수 없는 내보내기 종류입니다."))
    if kind not in export_kinds_available(cohort=cohort, wave=wave):
        raise ExportError(
            _(
                "이 내보내기는 원고가 확정된 차수에서만 만들 수 있습니다. "
                "원고 집단에서는 신청 목록(CSV, 엑셀)만 내보낼 수 있습니다."
            )
        )
    job = ExportJob(kind=kind, cohort=cohort, wave=wave, requested_by=actor)
    job.full_clean()
    job.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORTED,
        target=job,
        meta=meta,
        data={"event": "requested", "kind": kind, "cohort": cohort and cohort.pk, "wave": wave and wave.pk},
    )
    from claims.tasks.exports import export_build_task

    export_build_task.delay_on_commit(job.pk)
    return job


# --- building ---------------------------------------------------------------------------------------------------

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Builder:
    build: Callable[[ExportJob, BinaryIO, Progress], None]
    total: Callable[[ExportJob], int]
    extension: str
    label: str


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Seoul wall-clock time to the second, without a time zone (what spreadsheets can hold)."""
    return moment.astimezone(KST).replace(tzinfo=None, microsecond=0) if moment else None


def _business_number(number: str) -> str:
    return f"{number[:3]}-{number[3:5]}-{number[5:]}" if len(number) == 10 and number.isdigit() else number


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
        _("상태"),
        _("제출 시각"),
        _("결정 시각"),
        _("철회 시각"),
        _("확정 후 철회"),
    ]
    return header


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
        _business_number(row["business_number"]),
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
        labels.statuses.get(row["status"], row["status"]),
        _local(row["submitted_at"]),
        _local(row["decided_at"]),
        _local(row["withdrawn_at"]),
        labels.withdrawn_mark if wave and row["status"] == Claim.Status.WITHDRAWN else "",
    ]


def _claim_sheet_rows(job: ExportJob) -> Iterator[list[Any]]:
    if job.wave_id:
        return claim_sheet_cells(wave_sheet_rows(wave=job.wave), wave=True)
    return claim_sheet_cells(cohort_sheet_rows(cohort=job.cohort), wave=False)


def _claims_csv(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    csv_write(out, claim_sheet_header(), _claim_sheet_rows(job), progress=progress)


CLAIM_SHEET_WIDTHS = (8, 14, 12, 16, 14, 24, 8, 40, 10, 14, 24, *([12] * 11), 12, 12, 8, 30, 30, 10, 18, 18, 18, 8)


def _claims_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    sheet = Sheet(_("신청 목록"), claim_sheet_header(), _claim_sheet_rows(job), widths=CLAIM_SHEET_WIDTHS)
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


def _annex_rows(wave: FilingWave) -> Iterator[dict[str, Any]]:
    for row in wave_annex_rows(wave=wave):
        yield {
            "number": row["number"],
            "name": plaintiff_name(
                name=row["name"], claimant_type=row["claimant_type"], business_name=row["business_name"]
            ),
            "address": row["address"],
            "amount": row["amount_claimed"],
            "withdrawn": row["status"] == Claim.Status.WITHDRAWN,
            "by_rule": row["estimated_by_rule"] or {},
        }


def _annex_pdf(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    pdf_table_write(
        out,
        template="claims/exports/annex.html",
        context=_wave_context(job.wave),
        rows=_annex_rows(job.wave),
        progress=progress,
    )


def _annex_heading(wave: FilingWave, title: str) -> list[list[Any]]:
    case = f"{wave.case_number} {wave.case_name}".strip()
    return [[title], [_("사건"), case], [_("법원"), wave.court], [_("피고"), wave.defendant]]


def _annex_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    wave = job.wave
    mark = _("확정 후 철회")
    rows = (
        [row["number"], row["name"], row["address"], row["amount"], mark if row["withdrawn"] else ""]
        for row in _annex_rows(wave)
    )
    context = _wave_context(wave)

    def totals() -> list[list[Any]]:
        lines = [[_("합계"), _("%(count)d명") % {"count": context["member_count"]}, "", context["claimed_total"], ""]]
        if context["withdrawn"]:
            lines.append(
                [
                    _("철회 제외"),
                    _("%(count)d명") % {"count": context["member_count"] - context["withdrawn"]},
                    "",
                    context["remaining_total"],
                    "",
                ]
            )
        return lines

    sheet = Sheet(
        _("원고 목록"),
        [_("번호"), _("성명"), _("주소"), _("청구금액"), _("비고")],
        rows,
        preamble=_annex_heading(wave, _("원고 목록")),
        footer=totals,
        widths=(8, 24, 60, 16, 14),
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
    pdf_table_write(out, template="claims/exports/amounts.html", context=context, rows=rows, progress=progress)


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


# --- standing packs ---


def _stored_bytes(name: str) -> bytes | None:
    """A stored file's bytes, or None when it is missing from storage."""
    try:
        with default_storage.open(name, "rb") as stored:
            return stored.read()
    except FileNotFoundError:
        return None


def _data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def standing_pack_parts(plaintiff: StandingPlaintiff) -> tuple[dict[str, Any], list[PdfReader]]:
    """The context of one plaintiff's standing pack and the PDFs appended after it (signed powers of attorney
    with their audit certificates, then PDF evidence)."""
    member = plaintiff.member
    appendices: list[PdfReader] = []
    powers = []
    for power in plaintiff.powers_of_attorney:
        data = _stored_bytes(power.pdf.name) if power.pdf else None
        reader = pdf_readable(data) if data else None
        if reader is not None:
            appendices.append(reader)
        powers.append(
            {
                "power": power,
                "stored": data is not None,
                "hash_matches": data is not None and sha256_hex(data) == power.pdf_sha256,
                "attached_pages": len(reader.pages) if reader else 0,
            }
        )
    evidence = []
    for item in plaintiff.proof_of_use:
        entry = {"evidence": item, "image": "", "attached_pages": 0, "stored": True}
        if item.content_type == "application/pdf":
            data = _stored_bytes(item.file.name)
            reader = pdf_readable(data) if data else None
            entry["stored"] = data is not None
            if reader is not None:
                appendices.append(reader)
                entry["attached_pages"] = len(reader.pages)
        else:
            stored = item.display_file or item.file
            content_type = "image/jpeg" if item.display_file and item.content_type != "image/png" else item.content_type
            if content_type in EMBEDDED_IMAGE_TYPES:
                data = _stored_bytes(stored.name)
                entry["stored"] = data is not None
                entry["image"] = _data_uri(content_type, data) if data else ""
        evidence.append(entry)
    claimant = member.claim.claimant
    context = {
        "member": member,
        "claim": member.claim,
        "claimant": claimant,
        "plaintiff_name": plaintiff_name(
            name=member.name, claimant_type=member.claimant_type, business_name=member.business_name
        ),
        "phone": mobile_phone_format(claimant.phone),
        "business_number": _business_number(member.business_number),
        "consents": plaintiff.consents,
        "powers": powers,
        "evidence": evidence,
    }
    return context, appendices


def _member_folder(number: int, name: str, width: int) -> str:
    return f"{number:0{width}d}_{safe_file_name(name, max_length=40, fallback=_('원고'))}"


def _power_of_attorney_state(powers: list[dict[str, Any]]) -> str:
    if not powers:
        return _("없음")
    if all(entry["hash_matches"] for entry in powers):
        return _("확인 (%(count)d건)") % {"count": len(powers)}
    return _("확인 필요")


def _standing_pack(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    """A ZIP: one PDF per plaintiff who has not withdrawn, an index (PDF and CSV) and SHA256SUMS."""
    wave = job.wave
    width = max(4, len(str(wave.member_count)))
    base = _wave_context(wave)
    bundle = ZipBundle(out)
    index = SpooledCsv([_("번호"), _("성명"), _("접수번호"), _("소송위임장"), _("이용 증빙"), _("파일"), _("쪽수")])
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sums, tempfile.TemporaryFile() as index_pdf:
        try:
            for count, plaintiff in enumerate(wave_standing_plaintiffs(wave=wave), start=1):
                context, appendices = standing_pack_parts(plaintiff)
                member = plaintiff.member
                path = f"{_member_folder(member.number, member.name, width)}.pdf"
                with tempfile.TemporaryFile() as pdf:
                    pages = pdf_compose_write(
                        pdf,
                        template="claims/exports/standing_pack.html",
                        context={**base, **context},
                        appendices=appendices,
                    )
                    pdf.seek(0)
                    stored = bundle.add_stream(path, pdf)
                sums.write(f"{stored.sha256}  {stored.path}\n".encode())
                index.writerow(
                    [
                        member.number,
                        context["plaintiff_name"],
                        member.claim.reference_code,
                        _power_of_attorney_state(context["powers"]),
                        len(plaintiff.proof_of_use),
                        path,
                        pages,
                    ]
                )
                if count % 100 == 0:
                    progress(count)
            index_csv = index.finished()
            _standing_index_pdf(base, index_csv, index_pdf)
            for name, source in (("index.csv", index_csv), ("index.pdf", index_pdf)):
                stored = bundle.add_stream(name, source, compress=True)
                sums.write(f"{stored.sha256}  {stored.path}\n".encode())
            sums.seek(0)
            bundle.add_stream("SHA256SUMS", sums, compress=True)
            bundle.close()
        finally:
            index.close()


def _standing_index_pdf(base: dict[str, Any], index_csv: IO[bytes], out: BinaryIO) -> None:
    """The index page(s), rendered from the index CSV read back a row at a time; both files are left rewound."""
    text = io.TextIOWrapper(index_csv, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    next(reader)
    pdf_table_write(out, template="claims/exports/standing_index.html", context=base, rows=reader)
    text.detach()
    index_csv.seek(0)
    out.seek(0)


# --- evidence bundles ---


def evidence_manifest_header() -> list[str]:
    return [
        _("원고 번호"),
        _("접수번호"),
        _("증빙 종류"),
        _("증빙 종류 이름"),
        _("원래 파일명"),
        _("ZIP 안 경로"),
        _("크기 (바이트)"),
        "SHA-256",
        _("업로드 시각"),
        _("비고"),
    ]


def _evidence_bundle(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    """A ZIP: the evidence files in one folder per plaintiff (`0001_김철수/proof_of_use_01_name.png`),
    manifest.csv (one row per file, with its SHA-256 as written) and manifest.csv.sha256."""
    wave = job.wave
    width = max(4, len(str(wave.member_count)))
    tags = {value: str(label) for value, label in Evidence.Tag.choices}
    manifest = SpooledCsv(evidence_manifest_header())
    bundle = ZipBundle(out)
    seen: dict[int, int] = {}
    try:
        for count, row in enumerate(wave_evidence_files(wave=wave), start=1):
            sequence = seen[row["number"]] = seen.get(row["number"], 0) + 1
            folder = _member_folder(row["number"], row["member_name"], width)
            name = safe_file_name(row["original_name"], max_length=80, fallback="evidence")
            path = f"{folder}/{row['tag']}_{sequence:02d}_{name}"
            notes = []
            try:
                with default_storage.open(row["file"], "rb") as source:
                    stored = bundle.add_stream(path, source)
            except FileNotFoundError:
                stored = None
                notes.append(_("저장소에 파일이 없습니다"))
            if stored and stored.sha256 != row["sha256"]:
                notes.append(_("업로드할 때의 SHA-256(%(sha256)s)과 다릅니다") % {"sha256": row["sha256"]})
            manifest.writerow(
                [
                    row["number"],
                    row["reference_code"],
                    row["tag"],
                    tags.get(row["tag"], row["tag"]),
                    row["original_name"],
                    stored.path if stored else "",
                    stored.size if stored else "",
                    stored.sha256 if stored else "",
                    _local(row["uploaded_at"]),
                    "; ".join(notes),
                ]
            )
            if count % 100 == 0:
                progress(count)
        stored = bundle.add_stream("manifest.csv", manifest.finished(), compress=True)
        bundle.add_bytes("manifest.csv.sha256", f"{stored.sha256}  manifest.csv\n".encode("ascii"))
        bundle.close()
    finally:
        manifest.close()


BUILDERS = {
    ExportJob.Kind.CLAIMS_CSV: Builder(_claims_csv, _scope_total, "csv", "신청목록"),
    ExportJob.Kind.CLAIMS_XLSX: Builder(_claims_xlsx, _scope_total, "xlsx", "신청목록"),
    ExportJob.Kind.ANNEX_PDF: Builder(_annex_pdf, _scope_total, "pdf", "원고목록"),
    ExportJob.Kind.ANNEX_XLSX: Builder(_annex_xlsx, _scope_total, "xlsx", "원고목록"),
    ExportJob.Kind.AMOUNTS_PDF: Builder(_amounts_pdf, _scope_total, "pdf", "청구금액내역"),
    ExportJob.Kind.AMOUNTS_XLSX: Builder(_amounts_xlsx, _scope_total, "xlsx", "청구금액내역"),
    ExportJob.Kind.STANDING_PACK: Builder(
        _standing_pack, lambda job: wave_standing_count(wave=job.wave), "zip", "원고적격자료"
    ),
    ExportJob.Kind.EVIDENCE_BUNDLE: Builder(
        _evidence_bundle, lambda job: wave_evidence_count(wave=job.wave), "zip", "증빙묶음"
    ),
}


def export_file_name(job: ExportJob, builder: Builder) -> str:
    scope = job.wave.name if job.wave_id else job.cohort.name
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    return f"{safe_file_name(scope, max_length=60, fallback='export')}_{builder.label}_{stamp}.{builder.extension}"


def _progress_recorder(job_id: int, lease: uuid.UUID) -> Progress:
    """Records progress and the heartbeat (one single-row UPDATE, committed at once, no lock kept) while this run
    holds the job; a run that lost the job to another (the sweep thought it dead) stops here."""

    def record(done: int) -> None:
        _export_heartbeat(job_id, lease, done=done)
        job_test_park(job="export", job_id=job_id)

    return record


def _export_heartbeat(job_id: int, lease: uuid.UUID, **fields: Any) -> None:
    if not ExportJob.objects.filter(pk=job_id, lease=lease, status=ExportJob.Status.RUNNING).update(
        heartbeat_at=timezone.now(), **fields
    ):
        raise JobSupersededError(job_id)


def _export_claim(*, job_id: int, lease: uuid.UUID) -> ExportJob | None:
    """Take the job for this run (compare-and-set under the row lock): a pending job, or a running one whose lease
    was released (re-queued) or whose heartbeat stopped. None when the job is finished or another run that is alive
    holds it; a message delivered twice, or the dead worker's message redelivered an hour later, does nothing."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
            return None
        if job.lease and job.heartbeat_at and job.heartbeat_at >= heartbeat_cutoff():
            return None
        job = ExportJob.objects.select_related("cohort", "wave__cohort").get(pk=job_id)
        job.status, job.done, job.error = ExportJob.Status.RUNNING, 0, ""
        job.lease, job.heartbeat_at = lease, timezone.now()
        job.total = BUILDERS[job.kind].total(job)
        job.save(update_fields=["status", "done", "total", "error", "lease", "heartbeat_at"])
    return job


def export_build(*, job_id: int) -> ExportJob:
    """Build the job's file (see the module docstring). A job that is finished, or held by another run that is
    alive, is left alone; a job whose worker died is built again from the start (the half-written file was a
    temporary file that died with it). Raises JobSupersededError when this run lost the job to another."""
    lease = uuid.uuid4()
    job = _export_claim(job_id=job_id, lease=lease)
    if job is None:
        return ExportJob.objects.get(pk=job_id)
    builder = BUILDERS[job.kind]
    try:
        with tempfile.TemporaryFile() as out, translation.override(settings.LANGUAGE_CODE):
            builder.build(job, out, _progress_recorder(job.pk, lease))
            # Hashing and storing a large file (to object storage) can outlast the heartbeat timeout.
            with heartbeat_kept(beat=functools.partial(_export_heartbeat, job.pk, lease)):
                job.size, job.sha256 = sha256_file(out)
                job.file_name = export_file_name(job, builder)
                job.file.save(job.file_name, File(out), save=False)
    except JobSupersededError:
        raise
    except Exception:
        # Let a retry of this task take the job at once (it is a new run with a new lease).
        ExportJob.objects.filter(pk=job_id, lease=lease).update(lease=None)
        raise
    job.status, job.done = ExportJob.Status.DONE, job.total
    job.finished_at = timezone.now()
    job.expires_at = job.finished_at + dt.timedelta(hours=settings.EXPORT_TTL_HOURS)
    fields = ["status", "done", "file", "file_name", "size", "sha256", "finished_at", "expires_at"]
    finished = ExportJob.objects.filter(pk=job.pk, lease=lease, status=ExportJob.Status.RUNNING).update(
        lease=None, **{name: getattr(job, name) for name in fields}
    )
    if not finished:
        job.file.delete(save=False)  # another run builds (or built) the job's file
        raise JobSupersededError(job_id)
    return job


@transaction.atomic
def export_fail(*, job_id: int, error: str) -> None:
    """Mark the job failed with a message for staff (never personal data: the error's type and the job id)."""
    job = ExportJob.objects.select_for_update().get(pk=job_id)
    if job.status not in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
        return
    job.status, job.error, job.finished_at, job.lease = ExportJob.Status.FAILED, error, timezone.now(), None
    job.save(update_fields=["status", "error", "finished_at", "lease"])
    job_transition_audit(job=job, event="failed", reason=error).save()


# --- downloading and expiry -------------------------------------------------------------------------------------


def export_download_open(*, job: ExportJob, actor: User, meta: RequestMeta = NO_REQUEST) -> File:
    """The finished file, opened for reading; each download is audited. Refused once the file has expired."""
    if not actor.has_perm(PERMISSION_EXPORT):
        raise PermissionDenied
    if job.status == ExportJob.Status.EXPIRED or (job.expires_at and job.expires_at <= timezone.now()):
        raise ExportExpiredError(_("보관 기간이 지나 파일을 지웠습니다. 다시 내보내기를 요청하세요."))
    if job.status != ExportJob.Status.DONE or not job.file:
        raise ExportError(_("아직 파일이 준비되지 않았습니다."))
    handle = job.file.open("rb")
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORTED,
        target=job,
        meta=meta,
        data={"event": "downloaded", "kind": job.kind, "sha256": job.sha256},
    )
    return handle


def exports_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of finished exports whose time is up; returns how many were deleted."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now).only("pk", "file"):
        if job.file:
            job.file.delete(save=False)
        expired += ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.DONE).update(
            status=ExportJob.Status.EXPIRED, file=""
        )
    if expired:
        logger.info("Deleted %d expired export file(s).", expired)
    return expired
