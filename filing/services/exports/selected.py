"""The selected-party route's exports of a wave (filing/services/selected_parties.py): the 선정서 bundle (every signed
선정서 PDF with a manifest of its signature evidence), the list of selected parties (선정당사자 목록) and the
선정자 annex (the plaintiffs who designated them, with their amounts)."""

from __future__ import annotations

from typing import Any, BinaryIO

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from accounts.models import SignatureEvidence
from accounts.selectors import signed_document_pdf_ready
from claims.models import Claim
from filing.exports import Sheet, SpooledCsv, ZipBundle, spreadsheet_local_time, xlsx_write
from filing.models import ExportJob
from filing.selectors.selected_parties import designations_for_wave, selected_parties_for_wave, selectors_annex_rows
from filing.services.exports.packs import _member_folder, manifest_close
from filing.services.exports.sheets import Progress, _annex_heading, plaintiff_name


def designation_manifest_header() -> list[str]:
    return [
        _("원고 번호"),
        _("성명"),
        _("문서 번호"),
        _("ZIP 안 경로"),
        _("PDF SHA-256 (서명 때 기록)"),
        _("PDF SHA-256 (이 파일)"),
        _("서명 내용 SHA-256"),
        _("서명 방식"),
        _("서명 시각"),
        _("IP"),
        _("사용자 에이전트"),
        _("인증서 제공자"),
        _("인증 접수 번호"),
        _("서명한 문서 SHA-256"),
        _("샌드박스"),
        _("선정당사자 원고 번호"),
        _("비고"),
    ]


def _designation_bundle(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    """A ZIP: each signed 선정서 PDF (`0001_김철수_SEL-0000001.pdf`), manifest.csv (one row per 선정서 with its
    signature evidence and the SHA-256 of the file as written) and manifest.csv.sha256."""
    wave = job.wave
    width = max(4, len(str(wave.member_count)))
    methods = {value: str(label) for value, label in SignatureEvidence.SignatureMethod.choices}
    manifest = SpooledCsv(designation_manifest_header())
    bundle = ZipBundle(out)
    try:
        for count, designation in enumerate(designations_for_wave(wave=wave), start=1):
            member = designation.request.member
            path = f"{_member_folder(member.number, member.name, width)}_{designation.document_number}.pdf"
            notes, stored = [], None
            if not signed_document_pdf_ready(designation):
                notes.append(_("서명한 선정서 PDF를 만들고 있습니다"))
            else:
                try:
                    with default_storage.open(designation.pdf.name, "rb") as source:
                        stored = bundle.add_stream(path, source)
                except FileNotFoundError:
                    notes.append(_("저장소에 파일이 없습니다"))
            if stored and stored.sha256 != designation.pdf_sha256:
                notes.append(_("서명 때 기록한 SHA-256과 다릅니다"))
            certified = designation.certified_signature
            manifest.writerow(
                [
                    member.number,
                    member.name,
                    designation.document_number,
                    stored.path if stored else "",
                    designation.pdf_sha256,
                    stored.sha256 if stored else "",
                    designation.content_sha256,
                    methods.get(designation.signature_method, designation.signature_method),
                    spreadsheet_local_time(designation.signed_at),
                    designation.ip or "",
                    designation.user_agent,
                    certified.provider if certified else "",
                    certified.receipt_id if certified else "",
                    certified.document_sha256 if certified else "",
                    "SANDBOX" if certified and certified.sandbox else "",
                    " ".join(str(number) for number in designation.selected_numbers),
                    "; ".join(notes),
                ]
            )
            if count % 100 == 0:
                progress(count)
        manifest_close(bundle, manifest)
    finally:
        manifest.close()


def _name(row: Any) -> str:
    return plaintiff_name(name=row.name, claimant_type=row.claimant_type, business_name=row.business_name)


def _selected_parties_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    """The selected parties by plaintiff number, name, address and amount claimed."""
    wave = job.wave
    parties = selected_parties_for_wave(wave=wave)
    rows = (
        [index, member.number, _name(member), member.address, member.amount_claimed]
        for index, member in enumerate(parties, start=1)
    )
    sheet = Sheet(
        _("선정당사자 목록"),
        [_("순번"), _("원고 번호"), _("성명"), _("주소"), _("청구금액")],
        rows,
        preamble=_annex_heading(wave, _("선정당사자 목록")),
        footer=lambda: [[_("합계"), _("%(count)d명") % {"count": len(parties)}, "", "", ""]],
        widths=(8, 10, 24, 60, 16),
        money_columns=frozenset({4}),
    )
    xlsx_write(out, [sheet], progress=progress)


class _SelectorTotals:
    def __init__(self) -> None:
        self.count = 0
        self.amount = 0

    def add(self, row: dict[str, Any]) -> list[Any]:
        self.count += 1
        self.amount += row["amount_claimed"]
        notes = []
        if row["selected"]:
            notes.append(_("선정당사자"))
        if row["status"] == Claim.Status.WITHDRAWN:
            notes.append(_("확정 후 철회"))
        name = plaintiff_name(name=row["name"], claimant_type=row["claimant_type"], business_name=row["business_name"])
        return [
            row["number"],
            name,
            row["address"],
            row["amount_claimed"],
            spreadsheet_local_time(row["signed_at"]),
            ", ".join(notes),
        ]


def _selectors_annex_xlsx(job: ExportJob, out: BinaryIO, progress: Progress) -> None:
    """The 선정자 annex: every plaintiff who signed a 선정서, by number, with the amount claimed and a total."""
    wave = job.wave
    totals = _SelectorTotals()
    sheet = Sheet(
        _("선정자 목록"),
        [_("번호"), _("성명"), _("주소"), _("청구금액"), _("선정서 서명 시각"), _("비고")],
        (totals.add(row) for row in selectors_annex_rows(wave=wave)),
        preamble=_annex_heading(wave, _("선정자 목록")),
        footer=lambda: [[_("합계"), _("%(count)d명") % {"count": totals.count}, "", totals.amount, "", ""]],
        widths=(8, 24, 60, 16, 20, 20),
        money_columns=frozenset({3}),
    )
    xlsx_write(out, [sheet], progress=progress)
