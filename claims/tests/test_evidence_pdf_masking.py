"""Resident registration numbers in a PDF's text layer (claims/services/evidence_findings.py): the file staff see
becomes the pages drawn with the last seven digits blacked out where the text layer places them (the whole page
where it does not), the page previews are masked when drawn, the finding records it, and only the claimant's own
download (and their personal-data download) opens the sealed original. PDFs written by WeasyPrint (real text
layers with positions)."""

import io
import json
import zipfile
from unittest import mock

import pypdfium2
import pytest
import weasyprint
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader, PdfWriter

from accounts.roles import Role
from accounts.services.data_rights import user_data_export
from claims import pdfs
from claims.models import EvidenceFinding
from claims.services.evidence_findings import (
    evidence_original_open,
    evidence_read,
    masked_pdf_page,
    pdf_resident_numbers,
)
from claims.services.evidence_previews import evidence_preview_render
from claims.tests.factories import EvidenceFactory, SubmittedClaimFactory, claimant_ready
from claims.tests.staff import admin_login, staff_member
from claims.tests.test_evidence_findings import dark_share, evidence_with
from core.models import AuditEntry

pytestmark = pytest.mark.django_db
CERTIFICATE = (
    "<html lang='ko'><body><h1>주민등록표 등본</h1>"
    "<p style='font-size:20pt'>주민등록번호 900101-1234567</p><p>발급일 2022-10-15</p></body></html>"
)


def certificate_pdf(*, rotated: bool = False) -> bytes:
    data = weasyprint.HTML(string=CERTIFICATE).write_pdf()
    if not rotated:
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.pages[0].rotate(90)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def digit_boxes(data: bytes) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float], float]:
    """Where the last seven digits and the birth date stand on page 1, in points (left, top, right, bottom)."""
    page = pdfs.pdf_pages_text(data, max_pages=1, seconds=10)[0]
    start = page.text.index("1234567")
    serial = [page.char_boxes[i] for i in range(start, start + 7)]
    birth = [page.char_boxes[i] for i in range(start - 7, start - 1)]

    def union(boxes):
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

    return union(serial), union(birth), page.width


def scaled(box, scale: float, inset: float = 1.0):
    return tuple(round(value * scale + (inset if i < 2 else -inset)) for i, value in enumerate(box))


def first_page(data: bytes) -> Image.Image:
    document = pypdfium2.PdfDocument(data)
    try:
        return document[0].render(scale=2).to_pil().convert("RGB")
    finally:
        document.close()


def test_the_file_staff_see_has_the_digits_blacked_out_and_no_text_and_the_original_is_sealed():
    original = certificate_pdf()
    serial, birth, _width = digit_boxes(original)
    evidence = evidence_with(original, content_type="application/pdf")
    finding = evidence_read(evidence_id=evidence.pk)
    evidence.refresh_from_db()

    assert [(n["page"], n["whole_page"], len(n["boxes"])) for n in finding.resident_number_boxes] == [(0, False, 7)]
    assert finding.sealed_original
    masked = evidence.file.read()
    assert masked.startswith(b"%PDF") and masked != original
    assert "1234567" not in pdfs.pdf_text(masked, max_pages=5, seconds=10)  # no text layer left
    page = first_page(masked)
    assert dark_share(page, scaled(serial, 2)) > 0.95
    assert dark_share(page, scaled(birth, 2)) < 0.5  # the birth date stays readable

    sealed = default_storage.open(finding.sealed_original).read()
    assert b"1234567" not in sealed and not sealed.startswith(b"%PDF")
    assert evidence_original_open(evidence).read() == original
    masking = AuditEntry.objects.get(action="evidence.resident_numbers_masked")
    assert masking.data["resident_numbers"] == 1 and masking.data["whole_pages"] == []
    assert "1234567" not in str(list(AuditEntry.objects.values_list("data", flat=True)))
    assert "1234567" not in str(EvidenceFinding.objects.filter(pk=finding.pk).values().get())


def test_the_page_previews_are_masked_when_drawn_before_the_reading():
    original = certificate_pdf()
    serial, birth, width = digit_boxes(original)
    evidence = evidence_with(original, content_type="application/pdf")
    assert evidence_preview_render(evidence_id=evidence.pk).status == "ready"
    evidence.refresh_from_db()
    (entry,) = evidence.preview_pages
    assert entry["masked"] == "digits"
    with Image.open(default_storage.open(entry["name"])) as preview:
        scale = preview.width / width
        assert dark_share(preview, scaled(serial, scale)) > 0.95
        assert dark_share(preview, scaled(birth, scale)) < 0.5


def test_a_turned_page_is_masked_whole_and_the_review_page_says_so(client):
    evidence = evidence_with(certificate_pdf(rotated=True), content_type="application/pdf")
    evidence_preview_render(evidence_id=evidence.pk)
    finding = evidence_read(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert finding.resident_number_boxes == [{"page": 0, "boxes": [], "whole_page": True}]
    assert evidence.preview_pages[0]["masked"] == "page"
    with Image.open(default_storage.open(evidence.preview_pages[0]["name"])) as preview:
        assert dark_share(preview, (0, 0, preview.width, preview.height)) > 0.99
    assert dark_share(first_page(evidence.file.read()), (0, 0, 100, 100)) > 0.99

    admin_login(client, staff_member(Role.PARALEGAL))
    html = client.get(reverse("admin:claims_claim_change", args=[evidence.claim_id])).content.decode()
    assert 'data-testid="page-masked"' in html


def test_a_number_the_text_layer_does_not_place_masks_the_whole_page():
    text = "번호 900101-1234567"
    boxes = [(float(i), 0.0, i + 1.0, 10.0) for i in range(len(text))]
    boxes[-1] = None
    page = pdfs.PageText(text=text, char_boxes=boxes, width=100.0, height=50.0, rotation=0)
    (number,) = pdf_resident_numbers([page])
    assert number.whole_page and number.boxes == ()
    blank = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(blank, format="PNG")
    with Image.open(io.BytesIO(masked_pdf_page(blank.getvalue(), page_width=100.0, numbers=[number]))) as masked:
        assert dark_share(masked, (0, 0, 200, 100)) == 1.0


def test_a_pdf_without_resident_numbers_is_left_as_it_is():
    data = weasyprint.HTML(string="<p>2022-10-15 결제 금액 39,000원</p>").write_pdf()
    evidence = evidence_with(data, content_type="application/pdf")
    finding = evidence_read(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert (finding.resident_number_boxes, finding.sealed_original) == ([], "")
    assert evidence.file.read() == data


# --- the claimant's own personal-data download -----------------------------------------------------------------


def test_the_claimants_data_download_carries_the_original_of_a_masked_file():
    claimant = claimant_ready(retainer_paid=False)
    claim = SubmittedClaimFactory(claimant=claimant)
    original = certificate_pdf()
    masked_evidence = evidence_with(original, content_type="application/pdf", claim=claim)
    evidence_read(evidence_id=masked_evidence.pk)
    plain = EvidenceFactory(claim=claim, file=ContentFile(b"plain evidence", name="plain.png"))
    masked_evidence.refresh_from_db()
    assert masked_evidence.file.read() != original  # staff's copy is masked

    out = io.BytesIO()
    user_data_export(user=claimant, out=out)
    archive = zipfile.ZipFile(out)
    rows = {row["id"]: row for row in json.loads(archive.read("data.json"))["claims"][0]["evidence"]}
    assert archive.read(rows[masked_evidence.pk]["file_in_zip"]) == original
    assert archive.read(rows[plain.pk]["file_in_zip"]) == b"plain evidence"


def test_a_pdf_whose_pages_cannot_be_drawn_is_withheld_from_staff_not_shown_unmasked():
    original = certificate_pdf()
    evidence = evidence_with(original, content_type="application/pdf")
    with mock.patch("claims.pdfs.pdf_render", side_effect=pdfs.PdfUnreadable(pdfs.TIMEOUT)):
        finding = evidence_read(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    staff_copy = evidence.file.read()
    text = pdfs.pdf_text(staff_copy, max_pages=2, seconds=10)
    assert "1234567" not in text and "가린 사본을 만들지 못해" in text
    assert finding.sealed_original and evidence_original_open(evidence).read() == original
