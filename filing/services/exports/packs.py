"""The standing packs (원고적격자료) and the evidence bundles of a filing wave's export."""

from __future__ import annotations

import base64
import csv
import io
import tempfile
from typing import IO, Any, BinaryIO

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from pypdf import PdfReader

from accounts.proof import PROOF_LEVEL_MEANINGS, ProofLevel, proof_level_label
from accounts.validators import mobile_phone_format
from claims.models import Evidence
from config.hashing import sha256_hex
from filing.exports import (
    SpooledCsv,
    ZipBundle,
    business_number_display,
    pdf_compose_write,
    pdf_readable,
    pdf_table_write,
    safe_file_name,
    spreadsheet_local_time,
)
from filing.models import ExportJob
from filing.selectors.cohorts import (
    StandingPlaintiff,
    wave_evidence_files,
    wave_standing_plaintiffs,
)
from filing.services.exports.sheets import Progress, _wave_context, plaintiff_name

EMBEDDED_IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
SPOOL_BYTES = 8 * 1024 * 1024


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
        "business_number": business_number_display(member.business_number),
        "consents": plaintiff.consents,
        "powers": powers,
        "evidence": evidence,
        "proof_level_label": proof_level_label(plaintiff.proof_level, sandbox=plaintiff.proof_level_sandbox),
        "proof_level_meaning": PROOF_LEVEL_MEANINGS[ProofLevel(plaintiff.proof_level)],
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
    index = SpooledCsv(
        [_("번호"), _("성명"), _("접수번호"), _("소송위임장"), _("증명 수준"), _("이용 증빙"), _("파일"), _("쪽수")]
    )
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sums, tempfile.TemporaryFile() as index_pdf:
        try:
            for count, plaintiff in enumerate(wave_standing_plaintiffs(wave=wave), start=1):
                context, appendices = standing_pack_parts(plaintiff)
                member = plaintiff.member
                path = f"{_member_folder(member.number, member.name, width)}.pdf"
                with tempfile.TemporaryFile() as pdf:
                    pages = pdf_compose_write(
                        pdf,
                        template="filing/exports/standing_pack.html",
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
                        context["proof_level_label"],
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
    pdf_table_write(out, template="filing/exports/standing_index.html", context=base, rows=reader)
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
                    spreadsheet_local_time(row["uploaded_at"]),
                    "; ".join(notes),
                ]
            )
            if count % 100 == 0:
                progress(count)
        manifest_close(bundle, manifest)
    finally:
        manifest.close()


def manifest_close(bundle: ZipBundle, manifest: SpooledCsv) -> None:
    """Add manifest.csv and manifest.csv.sha256 (its SHA-256 as written) and close the archive."""
    stored = bundle.add_stream("manifest.csv", manifest.finished(), compress=True)
    bundle.add_bytes("manifest.csv.sha256", f"{stored.sha256}  manifest.csv\n".encode("ascii"))
    bundle.close()
