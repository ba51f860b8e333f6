"""Reading each evidence file after its upload (issue 22, docs/evidence-reading.md): OCR for pictures, the text of
PDFs, the EXIF time a photo was taken; the finding (proof of use inside the claimed service's outage window, the
amounts against the loss item, the service names, where resident numbers stand) stored with an audit entry.

A picture showing resident registration numbers has their last seven digits blacked out in the copies staff see
(the file and its display copy), while the original is kept encrypted for the claimant's own download only. A PDF
whose text layer holds one is masked the same way: the file staff see becomes its pages drawn with black boxes over
the digits (where the text layer places them; the whole page where it does not), and its page previews are masked
when they are drawn (claims.services.evidence_previews).

`evidence_read` runs in claims.tasks.evidence_reading on its own queue: the upload only adds a pending row and
queues the task on commit, so intake is never slowed by the engine.
"""

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from claims import pdfs
from claims.models import Evidence, EvidenceFinding, Flag, OutageWindow, Service, evidence_path
from claims.services.evidence_reading import (
    RESIDENT_NUMBER_PATTERN,
    FoundMoment,
    ReadLine,
    amount_matched,
    amounts_found,
    lines_from_text,
    lines_from_words,
    moments_found,
    proof_of_use_judged,
    resident_number_valid,
    resident_numbers_found,
    service_names,
    services_found,
)
from claims.services.evidence_reading import (
    Evidence as ReadEvidence,
)
from config.crypto import decrypt_bytes, encrypt_bytes
from config.files import stored_files_delete
from core.audit import audit_record
from core.exceptions import ProviderError
from integrations.ocr import OcrImageError, ocr_backend

logger = logging.getLogger(__name__)

READING_MAX_ATTEMPTS = 3  # a file that fails (or kills the worker) three times is marked failed
PDF_TEXT_MAX_PAGES = 10
PDF_TEXT_SECONDS = 30
EXIF_IFD = 0x8769
EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_OFFSET_TIME_ORIGINAL = 0x9011
FAILURE_MISSING = "missing"
FAILURE_UNREADABLE = "unreadable"
FAILURE_ENGINE = "engine"
FAILURE_TIMEOUT = "timeout"
MASK_MARGIN = 3  # pixels around each digit box, so anti-aliased edges of the digits are covered too
DISPLAY_MAX_SIDE = 3000  # as the display copy made by the preview task (claims/services/evidence_previews.py)
MASKED_JPEG_QUALITY = 92
# The masked copy of a PDF: every page drawn at this resolution, within these bounds and this time.
MASKED_PDF_DPI = 150
MASKED_PDF_MAX_PAGES = 200
MASKED_PDF_MAX_SIDE = 3000
MASKED_PDF_MAX_PIXELS = 9_000_000
MASKED_PDF_MAX_PNG_BYTES = 6 * 1024 * 1024
MASKED_PDF_SECONDS = 60


def screen_timezone() -> ZoneInfo:
    """The time zone a Korean screen or receipt shows its times in."""
    return ZoneInfo(settings.TIME_ZONE)


def evidence_finding_start(*, evidence: Evidence) -> EvidenceFinding:
    """A pending finding for a new upload, with its reading task queued on commit (inside the upload's
    transaction: one row, no reading)."""
    from claims.tasks.evidence_reading import evidence_read_task

    finding = EvidenceFinding.objects.create(evidence=evidence)
    evidence_read_task.delay_on_commit(evidence.pk)
    return finding


def photo_taken_at(data: bytes) -> datetime | None:
    """A photo's EXIF DateTimeOriginal as an aware datetime (its OffsetTimeOriginal, else Korean time); None when
    the file has none or is no picture."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif().get_ifd(EXIF_IFD)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    raw, offset = exif.get(EXIF_DATETIME_ORIGINAL), exif.get(EXIF_OFFSET_TIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        if isinstance(offset, str) and offset.strip():
            return datetime.strptime(f"{raw.strip()}{offset.strip()}", "%Y:%m:%d %H:%M:%S%z")
        return datetime.strptime(raw.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=screen_timezone())
    except ValueError:
        return None


def _attempt_start(evidence_id: int) -> EvidenceFinding | None:
    with transaction.atomic():
        finding = EvidenceFinding.objects.select_for_update().filter(evidence_id=evidence_id).first()
        if finding is None or finding.status != EvidenceFinding.Status.PENDING:
            return None
        if finding.attempts >= READING_MAX_ATTEMPTS:
            _fail(finding, FAILURE_ENGINE)
            return None
        finding.attempts += 1
        finding.attempted_at = timezone.now()
        finding.save(update_fields=["attempts", "attempted_at"])
        return finding


def _fail(finding: EvidenceFinding, failure: str) -> EvidenceFinding:
    finding.status, finding.failure, finding.read_at = EvidenceFinding.Status.FAILED, failure, timezone.now()
    finding.save(update_fields=["status", "failure", "read_at"])
    audit_record(
        actor=None,
        action="evidence.read_failed",
        target=finding.evidence,
        claim=finding.evidence.claim,
        data={"failure": failure},
    )
    return finding


def evidence_read_timed_out(*, evidence_id: int) -> EvidenceFinding | None:
    """The reading ran past its queue's time limit: the finding is marked failed (staff read the file themselves)."""
    with transaction.atomic():
        finding = EvidenceFinding.objects.select_for_update().filter(evidence_id=evidence_id).first()
        if finding is None or finding.status != EvidenceFinding.Status.PENDING:
            return finding
        return _fail(finding, FAILURE_TIMEOUT)


def _evidence_json(reason: ReadEvidence) -> dict:
    return {"text": reason.text, "boxes": [list(box) for box in reason.boxes]}


def _moment_json(moment: FoundMoment) -> dict:
    return {
        "date": moment.day.isoformat() if moment.day else None,
        "time": moment.clock.isoformat() if moment.clock else None,
        "reason": [_evidence_json(part) for part in moment.reason],
    }


def _lines(evidence: Evidence, data: bytes) -> tuple[str, list[ReadLine], dict]:
    """The lines of the file, how they were read, and what is known of the picture (for a PDF, its pages' text
    with the characters' positions, under "pages")."""
    if evidence.content_type == "application/pdf":
        pages = pdfs.pdf_pages_text(data, max_pages=PDF_TEXT_MAX_PAGES, seconds=PDF_TEXT_SECONDS)
        text = "\n".join(page.text for page in pages).replace("\r\n", "\n").replace("\r", "\n")
        return EvidenceFinding.Source.PDF_TEXT, lines_from_text(text), {"pages": pages}
    if evidence.content_type.startswith("image/"):
        result = ocr_backend().image_read(data)
        width, height = result.image_size
        picture = {"engine": f"{result.engine} {result.engine_version}".strip(), "width": width, "height": height}
        return EvidenceFinding.Source.OCR, lines_from_words(result.words), picture
    return EvidenceFinding.Source.NONE, [], {}


def _windows(evidence: Evidence) -> list[tuple[datetime, datetime]]:
    """The outage windows the file may prove use in: the loss item's service's, else every claimed service's."""
    claim = evidence.claim
    services = (
        [evidence.loss_item.service_id] if evidence.loss_item_id else list(claim.services.values_list("pk", flat=True))
    )
    windows = OutageWindow.objects.filter(incident_id=claim.incident_id, service__in=services).select_related(
        "incident"
    )
    return [(window.effective_start, window.end) for window in windows]


def _claimed_amount(evidence: Evidence) -> int | None:
    """What the file's loss item claims in won: its amount, else (a subscription) its monthly fee."""
    if not evidence.loss_item_id:
        return None
    return evidence.loss_item.amount or evidence.loss_item.monthly_fee or None


def masked_picture(data: bytes, boxes: list[list[int]]) -> tuple[bytes, bytes]:
    """The picture upright with a black box over each (left, top, width, height) box (in the upright picture's
    pixels, as OCR gives them), and its display copy (at most DISPLAY_MAX_SIDE on a side); no metadata is kept.
    PNG stays PNG, anything else becomes JPEG."""
    with Image.open(io.BytesIO(data)) as source:
        keep_png = source.format == "PNG"
        image = ImageOps.exif_transpose(source).convert("RGB")
    draw = ImageDraw.Draw(image)
    for left, top, width, height in boxes:
        draw.rectangle(
            (left - MASK_MARGIN, top - MASK_MARGIN, left + width + MASK_MARGIN, top + height + MASK_MARGIN),
            fill="black",
        )
    copies = []
    for side in (None, DISPLAY_MAX_SIDE):
        copy = image.copy()
        if side:
            copy.thumbnail((side, side))
        buffer = io.BytesIO()
        if keep_png:
            copy.save(buffer, format="PNG", optimize=True)
        else:
            copy.save(buffer, format="JPEG", quality=MASKED_JPEG_QUALITY)
        copies.append(buffer.getvalue())
    return copies[0], copies[1]


def _resident_numbers_mask(evidence: Evidence, finding: EvidenceFinding, data: bytes, count: int) -> None:
    """Replace the file and display copy staff see with masked ones, seal the original, audit it (inside the
    caller's transaction; the unmasked files are deleted once it commits)."""
    boxes = [box for number in finding.resident_number_boxes for box in number]
    masked, display = masked_picture(data, boxes)
    # The display copy as it is now, under the row's lock: the preview task may have stored one since this reading
    # began (it is replaced and deleted here), or store one later (it then sees the file replaced and drops its own).
    locked = Evidence.objects.select_for_update().filter(pk=evidence.pk)
    evidence.display_file = locked.values_list("display_file", flat=True).get()
    sealed = default_storage.save(evidence_path(evidence, "sealed"), ContentFile(encrypt_bytes(data)))
    stored = [sealed]
    try:
        old_names = [field.name for field in (evidence.file, evidence.display_file) if field.name]
        evidence.file.save("masked", ContentFile(masked), save=False)
        stored.append(evidence.file.name)
        evidence.display_file.save("display", ContentFile(display), save=False)
        stored.append(evidence.display_file.name)
        evidence.save(update_fields=["file", "display_file"])
        finding.sealed_original = sealed
        finding.save(update_fields=["sealed_original"])
        audit_record(
            actor=None,
            action="evidence.resident_numbers_masked",
            target=evidence,
            claim=evidence.claim,
            data={"resident_numbers": count, "boxes": len(boxes), "original_sha256": evidence.sha256},
        )
    except BaseException:
        stored_files_delete(stored)
        raise
    transaction.on_commit(lambda: stored_files_delete(old_names))


@dataclass(frozen=True)
class PdfResidentNumber:
    """A resident registration number in a PDF's text layer: its page (from 0) and the boxes of its last seven
    digits as (left, top, width, height) in points from the page's top-left corner. `whole_page` when the text
    layer does not place those digits (or the page is turned): the whole page is masked instead."""

    page: int
    boxes: tuple[tuple[float, float, float, float], ...]
    whole_page: bool

    def as_json(self) -> dict:
        return {"page": self.page, "boxes": [list(box) for box in self.boxes], "whole_page": self.whole_page}


def pdf_resident_numbers(pages: list[pdfs.PageText]) -> list[PdfResidentNumber]:
    """The resident numbers in the pages' text (the same pattern and birth-date check as in pictures)."""
    found = []
    for index, page in enumerate(pages):
        for match in RESIDENT_NUMBER_PATTERN.finditer(page.text):
            if not resident_number_valid(match["birth"], match["gender"]):
                continue
            chars = page.char_boxes[match.start("gender") : match.end("serial")]
            if page.rotation or any(box is None for box in chars):
                found.append(PdfResidentNumber(page=index, boxes=(), whole_page=True))
            else:
                boxes = tuple((left, top, right - left, bottom - top) for left, top, right, bottom in chars)
                found.append(PdfResidentNumber(page=index, boxes=boxes, whole_page=False))
    return found


def masked_pdf_page(png: bytes, *, page_width: float, numbers: list[PdfResidentNumber]) -> bytes:
    """A drawn page (PNG) with a black box over the digits of each number on it, or all black when one of them
    has no position. `page_width` in points gives the drawing's scale."""
    with Image.open(io.BytesIO(png)) as source:
        image = source.convert("RGB")
    draw = ImageDraw.Draw(image)
    scale = image.width / page_width
    for number in numbers:
        if number.whole_page:
            draw.rectangle((0, 0, image.width, image.height), fill="black")
        for left, top, width, height in number.boxes:
            draw.rectangle(
                (
                    left * scale - MASK_MARGIN,
                    top * scale - MASK_MARGIN,
                    (left + width) * scale + MASK_MARGIN,
                    (top + height) * scale + MASK_MARGIN,
                ),
                fill="black",
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def masked_pdf(data: bytes, pages: list[pdfs.PageText], numbers: list[PdfResidentNumber]) -> bytes:
    """The PDF as pictures of its pages (no text layer left), each page with its numbers masked, at the page's
    own size. Raises PdfUnreadable when the pages cannot be drawn in MASKED_PDF_SECONDS."""
    rendering = pdfs.pdf_render(
        data,
        max_pages=MASKED_PDF_MAX_PAGES,
        dpi=MASKED_PDF_DPI,
        max_side=MASKED_PDF_MAX_SIDE,
        max_pixels=MASKED_PDF_MAX_PIXELS,
        max_png_bytes=MASKED_PDF_MAX_PNG_BYTES,
        seconds=MASKED_PDF_SECONDS,
    )
    images = []
    for index, page in enumerate(rendering.pages):
        on_page = [number for number in numbers if number.page == index]
        png = page.png
        if on_page:
            png = masked_pdf_page(png, page_width=pages[index].width, numbers=on_page)
        with Image.open(io.BytesIO(png)) as image:
            images.append(image.convert("RGB"))
    resolution = 72 * images[0].width / pages[0].width if pages else MASKED_PDF_DPI
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=resolution)
    return buffer.getvalue()


def withheld_pdf() -> bytes:
    """The file staff see when a PDF holding resident numbers could not be drawn masked: one page saying so."""
    from weasyprint import HTML, URLFetcher

    notice = escape(
        _(
            "이 PDF에는 주민등록번호가 있으나 가린 사본을 만들지 못해 직원에게 보여 주지 않습니다. "
            "원본은 신청인만 내려받을 수 있습니다."
        )
    )
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=f"<html lang='ko'><body><p>{notice}</p></body></html>", url_fetcher=fetcher).write_pdf()


def _pdf_resident_numbers_mask(evidence: Evidence, finding: EvidenceFinding, data: bytes, masked: bytes) -> None:
    """Replace the PDF staff see with its masked copy, seal the original, audit it (inside the caller's
    transaction; the unmasked file is deleted once it commits)."""
    sealed = default_storage.save(evidence_path(evidence, "sealed"), ContentFile(encrypt_bytes(data)))
    stored = [sealed]
    try:
        old_name = evidence.file.name
        evidence.file.save("masked.pdf", ContentFile(masked), save=False)
        stored.append(evidence.file.name)
        evidence.save(update_fields=["file"])
        finding.sealed_original = sealed
        finding.save(update_fields=["sealed_original"])
        audit_record(
            actor=None,
            action="evidence.resident_numbers_masked",
            target=evidence,
            claim=evidence.claim,
            data={
                "resident_numbers": len(finding.resident_number_boxes),
                "whole_pages": sorted({n["page"] for n in finding.resident_number_boxes if n["whole_page"]}),
                "original_sha256": evidence.sha256,
            },
        )
    except BaseException:
        stored_files_delete(stored)
        raise
    transaction.on_commit(lambda: stored_files_delete([old_name]))


def evidence_original_open(evidence: Evidence) -> io.BufferedIOBase:
    """The file as the claimant uploaded it, for the claimant's own download: decrypted when it was sealed."""
    finding = EvidenceFinding.objects.filter(evidence=evidence).exclude(sealed_original="").first()
    if finding is None:
        return evidence.file.open("rb")
    with default_storage.open(finding.sealed_original, "rb") as handle:
        return io.BytesIO(decrypt_bytes(handle.read()))


def _mismatch_flags(evidence: Evidence, finding: EvidenceFinding) -> None:
    """A review flag for a file whose moments all lie outside the window, and one for an amount that differs from
    its loss item's; a file read again and matching clears its flag."""
    flags = {
        Flag.Code.EVIDENCE_OUTSIDE_WINDOW: (
            finding.proof_of_use == EvidenceFinding.ProofOfUse.NO,
            {"reason": [part["text"] for part in finding.proof_reason]},
        ),
        Flag.Code.EVIDENCE_AMOUNT_MISMATCH: (
            finding.amount_match == EvidenceFinding.AmountMatch.DIFFERENT,
            {"amounts": [amount["won"] for amount in finding.amounts], "expected": _claimed_amount(evidence)},
        ),
    }
    fingerprint = f"evidence:{evidence.pk}"
    now = timezone.now()
    for code, (raised, details) in flags.items():
        if raised:
            Flag.objects.update_or_create(
                claim=evidence.claim,
                code=code,
                fingerprint=fingerprint,
                defaults={
                    "severity": Flag.Severity.MEDIUM,
                    "details": {"evidence": evidence.pk, "file": evidence.original_name, **details},
                    "status": Flag.Status.OPEN,
                    "updated_at": now,
                },
            )
        else:
            Flag.objects.filter(
                claim=evidence.claim, code=code, fingerprint=fingerprint, status=Flag.Status.OPEN
            ).update(status=Flag.Status.CLEARED, updated_at=now)


def evidence_read(*, evidence_id: int) -> EvidenceFinding | None:
    """Read one evidence file and store its finding with an audit entry; safe to run twice (a finding already
    read or given up is left alone). A retryable engine failure (a time-out) is raised for the task to retry."""
    finding = _attempt_start(evidence_id)
    if finding is None:
        return EvidenceFinding.objects.filter(evidence_id=evidence_id).first()
    evidence = Evidence.objects.select_related("claim__incident", "loss_item").get(pk=evidence_id)
    try:
        with evidence.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ValueError):
        return _fail(finding, FAILURE_MISSING)
    try:
        source, lines, picture = _lines(evidence, data)
    except (OcrImageError, pdfs.PdfUnreadable):
        return _fail(finding, FAILURE_UNREADABLE)
    except ProviderError as error:
        if error.retryable and finding.attempts < READING_MAX_ATTEMPTS:
            raise
        return _fail(finding, FAILURE_ENGINE)
    tzinfo = screen_timezone()
    default_year = evidence.claim.incident.outage_started.astimezone(tzinfo).year
    moments = moments_found(lines, default_year=default_year)
    taken_at = photo_taken_at(data) if source == EvidenceFinding.Source.OCR else None
    proof = proof_of_use_judged(moments, _windows(evidence), tzinfo=tzinfo, taken_at=taken_at)
    amounts = amounts_found(lines)
    expected = _claimed_amount(evidence)
    amount_match, _amount_reason = amount_matched(amounts, expected)
    names = service_names(Service.objects.values_list("slug", "name_ko", "name_en"))
    resident_numbers = resident_numbers_found(lines)
    finding.source = source
    finding.engine = picture.get("engine", "")
    finding.image_width, finding.image_height = picture.get("width"), picture.get("height")
    finding.taken_at = taken_at
    finding.moments = [_moment_json(moment) for moment in moments]
    finding.proof_of_use = proof.verdict
    finding.moment = proof.moment
    finding.proof_reason = [_evidence_json(part) for part in proof.reason]
    finding.amounts = [{"won": amount.won, **_evidence_json(amount.reason)} for amount in amounts]
    finding.amount_match = amount_match
    finding.services = sorted({found.slug for found in services_found(lines, names)})
    finding.resident_number_boxes = [[list(box) for box in found.hidden_boxes] for found in resident_numbers]
    masked_copy = None
    if source == EvidenceFinding.Source.PDF_TEXT:
        pdf_numbers = pdf_resident_numbers(picture["pages"])
        finding.resident_number_boxes = [number.as_json() for number in pdf_numbers]
        if pdf_numbers:
            try:
                masked_copy = masked_pdf(data, picture["pages"], pdf_numbers)
            except pdfs.PdfUnreadable:  # the pages could not be drawn: staff get a notice instead of the file
                masked_copy = withheld_pdf()
    finding.status, finding.failure, finding.read_at = EvidenceFinding.Status.DONE, "", timezone.now()
    with transaction.atomic():
        finding.save()
        if resident_numbers and source == EvidenceFinding.Source.OCR:
            _resident_numbers_mask(evidence, finding, data, len(resident_numbers))
        if masked_copy is not None:
            _pdf_resident_numbers_mask(evidence, finding, data, masked_copy)
        _mismatch_flags(evidence, finding)
        audit_record(
            actor=None,
            action="evidence.read",
            target=evidence,
            claim=evidence.claim,
            data={
                "source": source,
                "proof_of_use": proof.verdict,
                "moment": proof.moment.isoformat() if proof.moment else None,
                "amount_match": amount_match,
                "services": finding.services,
                "resident_numbers": len(finding.resident_number_boxes),
            },
        )
    return finding
