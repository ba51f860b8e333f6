"""Page images of evidence PDFs, drawn on the server so that staff read a PDF without their browser's PDF viewer
ever opening it (a viewer runs the file's scripts; PDFium as used here runs none, see claims/pdfs.py); and for a
picture, its display copy (upright, without metadata, at most DISPLAY_MAX_SIDE on a side) and its perceptual hash,
made here rather than in the upload request, which only checks, hashes and stores the file.

A picture's render and the reading task's masking of resident numbers (claims.services.evidence_findings), which
replaces the file and the display copy, may run in either order: both store under the row's lock, and the render
keeps its copy only if the file it drew from is still the row's file (otherwise the masking made the copy). Once a
picture's perceptual hash lands on a submitted claim, the claim's fraud check is queued (similar pictures).

A preview is made by claims.tasks.evidence after each PDF upload, and by the sweep (or `manage.py
evidence_previews`) for PDFs uploaded before previews existed. The same pass reads the file with the upload check's
parser: what it finds in a file uploaded before that check is stored on the evidence row with an audit entry, and
shown to staff beside the preview.
"""

import io
import logging
from dataclasses import dataclass
from datetime import timedelta

import imagehash
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from claims import pdfs
from claims.models import Claim, Evidence, evidence_path
from claims.services.evidence_findings import masked_pdf_page, pdf_resident_numbers
from claims.validators import EVIDENCE_KINDS
from config.files import stored_files_delete
from core.audit import audit_record
from core.models import AuditEntry

logger = logging.getLogger(__name__)

# The first pages only: evidence is a receipt or a statement; the original is a download away for the rest.
PREVIEW_MAX_PAGES = 10
# 110 dpi draws an A4 page about 910 x 1290 pixels: small print reads on a laptop and zoomed on a phone.
PREVIEW_DPI = 110
PREVIEW_MAX_SIDE = 2400  # a long receipt or a poster-sized page is drawn smaller
PREVIEW_MAX_PIXELS = 4_000_000  # per page; about 16 MB of memory while drawing
PREVIEW_MAX_PNG_BYTES = 3 * 1024 * 1024  # per page; a page over it is drawn again at a lower resolution
PREVIEW_SECONDS = 90  # for the whole file; the task's own time limit is a little longer
PREVIEW_MAX_ATTEMPTS = 3  # a file that kills the worker three times is marked failed instead of tried forever
SWEEP_GRACE = timedelta(minutes=10)  # a new upload's own task gets this long before the sweep queues it again
# A run that started less than this long ago is still drawing (or was killed at its hard time limit): a second
# message for the same file leaves it alone, and the sweep does not queue it.
IN_FLIGHT = timedelta(seconds=PREVIEW_SECONDS + 90)
SWEEP_BATCH = 500
# A picture's display copy: no metadata, turned upright, at most this many pixels on a side.
DISPLAY_MAX_SIDE = 3000
DISPLAY_JPEG_QUALITY = 88
PDF = "application/pdf"
IMAGE_TYPES = frozenset(content_type for content_type, kind in EVIDENCE_KINDS.items() if kind.is_image)

# Why a preview could not be made, as shown to staff (claims/admin templates translate them).
FAILURE_MISSING = "missing"
FAILURE_CRASHED = "crashed"
FAILURE_ERROR = "error"
FAILURE_UNREADABLE = "unreadable"  # a picture that passed the upload check but cannot be decoded


@dataclass(frozen=True)
class PreviewOutcome:
    status: str
    pages: int = 0
    failure: str = ""


def _read_original(evidence: Evidence) -> bytes | None:
    try:
        with evidence.file.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, ValueError):  # removed by the retention rules, or no file at all
        return None


def _attempt_start(evidence_id: int) -> Evidence | None:
    """Count the attempt before the work, so that a file that crashes the worker is given up after a few."""
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().filter(pk=evidence_id).first()
        if evidence is None or (evidence.content_type != PDF and evidence.content_type not in IMAGE_TYPES):
            return None
        if evidence.preview_status in (Evidence.PreviewStatus.READY, Evidence.PreviewStatus.FAILED):
            return None
        made_at_upload = evidence.preview_status == Evidence.PreviewStatus.NONE and evidence.display_file
        if evidence.content_type != PDF and made_at_upload:
            return None  # made in the upload request, before pictures had their copy made here
        now = timezone.now()
        if evidence.preview_started_at and evidence.preview_started_at > now - IN_FLIGHT:
            return None  # another run is drawing it (a second message for the same file)
        if evidence.preview_attempts >= PREVIEW_MAX_ATTEMPTS:
            _finish(evidence, pages=[], page_count=None, failure=FAILURE_CRASHED, findings=None)
            return None
        evidence.preview_attempts += 1
        evidence.preview_started_at = now
        evidence.preview_status = Evidence.PreviewStatus.PENDING
        evidence.save(update_fields=["preview_attempts", "preview_started_at", "preview_status"])
        return evidence


def evidence_preview_render(*, evidence_id: int) -> PreviewOutcome:
    """Draw the first pages of one evidence PDF (or a picture's display copy and perceptual hash) and store them
    privately; safe to run twice (a preview already made or given up is left alone). A damaged, locked, oversized
    or slow file ends as FAILED with its reason."""
    evidence = _attempt_start(evidence_id)
    if evidence is None:
        current = Evidence.objects.filter(pk=evidence_id).values_list("preview_status", flat=True).first()
        return PreviewOutcome(status=current or "")
    drawn_from = evidence.file.name
    data = _read_original(evidence)
    if data is None:
        return _store(evidence_id, pages=[], page_count=None, failure=FAILURE_MISSING, findings=None)
    if evidence.content_type != PDF:
        return _image_render(evidence_id, data, drawn_from)
    findings = None
    try:
        findings = sorted(pdfs.pdf_inspect(data).findings)
        rendering = pdfs.pdf_render(
            data,
            max_pages=PREVIEW_MAX_PAGES,
            dpi=PREVIEW_DPI,
            max_side=PREVIEW_MAX_SIDE,
            max_pixels=PREVIEW_MAX_PIXELS,
            max_png_bytes=PREVIEW_MAX_PNG_BYTES,
            seconds=PREVIEW_SECONDS,
        )
        # Resident numbers in the text layer are masked on the pages staff see (the whole page where the text
        # layer does not place them): a preview is never stored unmasked, whichever task runs first.
        texts = pdfs.pdf_pages_text(data, max_pages=PREVIEW_MAX_PAGES, seconds=PREVIEW_SECONDS)
        resident_numbers = pdf_resident_numbers(texts)
    except pdfs.PdfUnreadable as error:
        return _store(evidence_id, pages=[], page_count=None, failure=error.reason, findings=findings)
    except Exception:  # a bug or a PDFium failure on one hostile file must not leave the row pending forever
        logger.exception("Could not draw the preview of evidence %s", evidence_id)
        return _store(evidence_id, pages=[], page_count=None, failure=FAILURE_ERROR, findings=findings)
    names = []
    try:
        for index, page in enumerate(rendering.pages):
            on_page = [number for number in resident_numbers if number.page == index]
            png = masked_pdf_page(page.png, page_width=texts[index].width, numbers=on_page) if on_page else page.png
            name = default_storage.save(evidence_path(evidence, "preview"), ContentFile(png))
            entry = {"name": name, "width": page.width, "height": page.height}
            if on_page:
                entry["masked"] = "page" if any(number.whole_page for number in on_page) else "digits"
            names.append(entry)
    except OSError:
        stored_files_delete([entry["name"] for entry in names])
        raise  # storage unreachable: the task retries
    return _store(evidence_id, pages=names, page_count=rendering.page_count, failure="", findings=findings)


def _store(
    evidence_id: int, *, pages: list[dict], page_count: int | None, failure: str, findings: list[str] | None
) -> PreviewOutcome:
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().filter(pk=evidence_id).first()
        if evidence is None or evidence.preview_status != Evidence.PreviewStatus.PENDING:
            # removed meanwhile, or another run finished first: these pages are nobody's
            names = [entry["name"] for entry in pages]
            transaction.on_commit(lambda: stored_files_delete(names))
            return PreviewOutcome(status=evidence.preview_status if evidence else "")
        _finish(evidence, pages=pages, page_count=page_count, failure=failure, findings=findings)
    return PreviewOutcome(status=evidence.preview_status, pages=len(pages), failure=failure)


def _finish(
    evidence: Evidence, *, pages: list[dict], page_count: int | None, failure: str, findings: list[str] | None
) -> None:
    """Inside the caller's transaction, with the row locked. New findings on a file (one uploaded before the
    check read every filter and revision) are part of the evidence record: they get an audit entry."""
    evidence.preview_status = Evidence.PreviewStatus.FAILED if failure else Evidence.PreviewStatus.READY
    evidence.preview_failure = failure
    evidence.preview_pages = pages
    evidence.preview_page_count = page_count
    fields = ["preview_status", "preview_failure", "preview_pages", "preview_page_count"]
    if findings is not None and set(findings) - set(evidence.pdf_findings):
        previous = list(evidence.pdf_findings)
        evidence.pdf_findings = sorted(set(findings) | set(previous))
        fields.append("pdf_findings")
        audit_record(
            actor=None,
            action=AuditEntry.Action.EDITED,
            target=evidence,
            claim=evidence.claim,
            data={"pdf_findings": {"old": previous, "new": evidence.pdf_findings}, "sha256": evidence.sha256},
        )
    evidence.save(update_fields=fields)
    if failure and evidence.content_type != PDF:
        audit_record(
            actor=None,
            action="evidence.display_failed",
            target=evidence,
            claim=evidence.claim,
            data={"failure": failure, "sha256": evidence.sha256},
        )


def display_copy(data: bytes) -> tuple[bytes, str]:
    """A picture re-encoded without its metadata (location, camera, EXIF), turned upright as its EXIF orientation
    said and at most DISPLAY_MAX_SIDE on a side: PNG stays PNG, JPEG and HEIC become JPEG. With its phash.
    Encoded without the encoders' `optimize` pass: for a phone screenshot it took three times the CPU (330 against
    90 ms) to save 5 % of the bytes, on every picture every claimant uploads."""
    with Image.open(io.BytesIO(data)) as source:
        image = ImageOps.exif_transpose(source)
        image.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE))
        perceptual_hash = str(imagehash.phash(image))
        buffer = io.BytesIO()
        if source.format == "PNG":
            image.save(buffer, format="PNG")
        else:
            image.convert("RGB").save(buffer, format="JPEG", quality=DISPLAY_JPEG_QUALITY)
    return buffer.getvalue(), perceptual_hash


def _image_render(evidence_id: int, data: bytes, drawn_from: str) -> PreviewOutcome:
    try:
        display, perceptual_hash = display_copy(data)
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, ValueError, OSError):
        logger.warning("Could not draw the display copy of evidence %s", evidence_id)
        return _store(evidence_id, pages=[], page_count=None, failure=FAILURE_UNREADABLE, findings=None)
    except Exception:  # a decoder bug on one hostile file must not leave the row pending forever
        logger.exception("Could not draw the display copy of evidence %s", evidence_id)
        return _store(evidence_id, pages=[], page_count=None, failure=FAILURE_ERROR, findings=None)
    evidence = Evidence.objects.only("pk", "claim_id").filter(pk=evidence_id).first()
    if evidence is None:
        return PreviewOutcome(status="")
    name = default_storage.save(evidence_path(evidence, "display"), ContentFile(display))  # OSError: the task retries
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().select_related("claim").filter(pk=evidence_id).first()
        if evidence is None or evidence.preview_status != Evidence.PreviewStatus.PENDING:
            transaction.on_commit(lambda: stored_files_delete([name]))  # removed meanwhile, or another run finished
            return PreviewOutcome(status=evidence.preview_status if evidence else "")
        # The file was replaced meanwhile (resident numbers masked): the masking made the display copy from it,
        # and this copy, drawn from the unmasked file, is nobody's.
        kept = evidence.file.name == drawn_from
        replaced = [evidence.display_file.name] if kept and evidence.display_file.name else []
        if kept:
            evidence.display_file.name = name
        else:
            replaced = [name]
        evidence.perceptual_hash = perceptual_hash
        evidence.preview_status, evidence.preview_failure = Evidence.PreviewStatus.READY, ""
        evidence.save(update_fields=["display_file", "perceptual_hash", "preview_status", "preview_failure"])
        audit_record(
            actor=None,
            action="evidence.display_made",
            target=evidence,
            claim=evidence.claim,
            data={"perceptual_hash": perceptual_hash, "display_kept": kept, "sha256": evidence.sha256},
        )
        transaction.on_commit(lambda: stored_files_delete(replaced))
        if evidence.claim.status != Claim.Status.DRAFT:  # the hash came after the claim's own check
            from claims.tasks.fraud import claim_fraud_check_task

            claim_fraud_check_task.delay_on_commit(evidence.claim_id)
    return PreviewOutcome(status=Evidence.PreviewStatus.READY)


def evidence_preview_timed_out(*, evidence_id: int) -> PreviewOutcome:
    """The task ran out of time outside the drawing's own limit (reading the file, storing the pages)."""
    return _store(evidence_id, pages=[], page_count=None, failure=pdfs.TIMEOUT, findings=None)


def evidence_preview_files(evidence: Evidence) -> list[str]:
    """The storage names of a row's preview pages (for whoever deletes the row's files)."""
    return [entry["name"] for entry in evidence.preview_pages or [] if entry.get("name")]


def evidence_previews_due(*, include_failed: bool = False, now=None):
    """PDFs that still need a preview: pending past the grace period (a lost task), or never queued at all; and
    pictures whose display copy is pending past it (a picture uploaded before the copy was made by a task has its
    copy already, status NONE)."""
    now = now or timezone.now()
    statuses = [Evidence.PreviewStatus.NONE, Evidence.PreviewStatus.PENDING]
    image_statuses = [Evidence.PreviewStatus.PENDING]
    if include_failed:
        statuses.append(Evidence.PreviewStatus.FAILED)
        image_statuses.append(Evidence.PreviewStatus.FAILED)
    return (
        Evidence.objects.filter(
            Q(content_type=PDF, preview_status__in=statuses)
            | Q(content_type__in=IMAGE_TYPES, preview_status__in=image_statuses)
        )
        .exclude(preview_status=Evidence.PreviewStatus.PENDING, uploaded_at__gt=now - SWEEP_GRACE)
        .exclude(preview_status=Evidence.PreviewStatus.PENDING, preview_started_at__gt=now - IN_FLIGHT)
        .order_by("pk")
    )


def evidence_previews_queue(*, include_failed: bool = False, limit: int | None = SWEEP_BATCH, now=None) -> int:
    """Queue a preview for every PDF that lacks one (files uploaded before previews existed, lost tasks). Failed
    previews are tried again only when asked (`include_failed`, after a fix), with their attempts reset."""
    from claims.tasks.evidence import evidence_preview_render_task

    ids = list(evidence_previews_due(include_failed=include_failed, now=now).values_list("pk", flat=True)[:limit])
    with transaction.atomic():
        Evidence.objects.filter(pk__in=ids).exclude(preview_status=Evidence.PreviewStatus.PENDING).update(
            preview_status=Evidence.PreviewStatus.PENDING,
            preview_failure="",
            preview_attempts=0,
            preview_started_at=None,
        )
        for evidence_id in ids:
            evidence_preview_render_task.delay_on_commit(evidence_id)
    return len(ids)


THUMBNAIL_SIDE = 160  # shown at 56 px: sharp on a 3x phone screen
THUMBNAIL_JPEG_QUALITY = 80


def evidence_thumbnail(*, evidence: Evidence) -> bytes | None:
    """A small JPEG of a file for its owner's list: from a picture's metadata-free display copy, or from the first
    page drawn from a PDF (masked as staff see it). Never from the upload itself; None while there is nothing to
    draw it from (a PDF whose preview is pending or failed) or once the file is gone."""
    if evidence.display_file:
        name = evidence.display_file.name
    elif evidence.preview_status == Evidence.PreviewStatus.READY and evidence.preview_pages:
        name = evidence.preview_pages[0].get("name", "")
    else:
        return None
    try:
        with default_storage.open(name, "rb") as handle, Image.open(handle) as image:
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=THUMBNAIL_JPEG_QUALITY)
    except (FileNotFoundError, OSError, ValueError):  # removed by the retention rules, or unreadable
        return None
    return buffer.getvalue()
