"""A corpus of hostile uploads: each is refused with a clear message, or stored under a random name and served
only as a download with `nosniff` and a safe file name. Nothing a claimant uploads is ever served inline as-is:
staff see pictures through a re-encoded copy and PDFs as page images (claims/tests/test_evidence_pdf*.py)."""

import io
import struct
import unicodedata
import zlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.roles import Role
from claims.models import Evidence
from claims.services.evidence_previews import evidence_preview_render
from claims.tests.factories import pdf_bytes, png_bytes
from claims.tests.staff import admin_login, staff_member

pytestmark = pytest.mark.django_db

REFUSED_TYPE = "사진(JPG, PNG, HEIC)이나 PDF 파일만 올릴 수 있습니다"
ACTIVE_PDF = "스크립트나 프로그램 실행 기능이 들어 있는 PDF는 받지 않습니다"
HTML_PAYLOAD = b"<html><body><script>alert(document.domain)</script></body></html>"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def upload(client, claim, content: bytes, name: str):
    data = {"tag": "proof_of_use", "file": SimpleUploadedFile(name, content)}
    return client.post(
        reverse("claims:evidence_upload", args=[claim.pk]), data, headers={"X-Requested-With": "XMLHttpRequest"}
    )


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def zip_bytes() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", HTML_PAYLOAD)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb() -> bytes:
    """A tiny PNG that declares 100,000 x 100,000 pixels (10 gigapixels, 30 GB once decoded)."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def pdf_with(objects: bytes) -> bytes:
    return b"%PDF-1.7\n" + objects + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


JS_OPEN_ACTION = pdf_with(b"1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert('x')) >> >> endobj")
LAUNCH_ACTION = pdf_with(b"1 0 obj << /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >> endobj")
ESCAPED_NAME_JS = pdf_with(b"1 0 obj << /Type /Catalog /OpenAction << /S /J#61vaScript /J#53 (x) >> >> endobj")
EMBEDDED_FILE = pdf_with(b"1 0 obj << /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >> endobj")
_hidden = zlib.compress(b"<< /S /JavaScript /JS (app.alert(1)) >>")
JS_IN_COMPRESSED_STREAM = pdf_with(
    b"1 0 obj << /Type /ObjStm /Filter /FlateDecode /Length %d >>\nstream\n" % len(_hidden)
    + _hidden
    + b"\nendstream\nendobj"
)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\0" * 60 + b"PE\0\0" + b"\0" * 200, "사진.jpg", REFUSED_TYPE),
        (HTML_PAYLOAD, "screenshot.png", REFUSED_TYPE),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
            "chart.svg",
            REFUSED_TYPE,
        ),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
            "a.png",
            REFUSED_TYPE,
        ),
        (zip_bytes(), "receipt.pdf", REFUSED_TYPE),
        (JS_OPEN_ACTION, "statement.pdf", ACTIVE_PDF),
        (LAUNCH_ACTION, "statement.pdf", ACTIVE_PDF),
        (ESCAPED_NAME_JS, "statement.pdf", ACTIVE_PDF),
        (EMBEDDED_FILE, "statement.pdf", "PDF 파일이 손상되었거나"),  # no pages; a real one is flagged
        (JS_IN_COMPRESSED_STREAM, "statement.pdf", ACTIVE_PDF),
        (png_bomb(), "bomb.png", "손상"),
        (b"", "empty.jpg", "빈 파일"),
    ],
    ids=[
        "exe-as-jpg",
        "html-as-png",
        "svg-with-script",
        "svg-as-png",
        "zip-as-pdf",
        "pdf-openaction-javascript",
        "pdf-launch",
        "pdf-escaped-javascript-name",
        "pdf-embedded-file-without-pages",
        "pdf-javascript-in-compressed-stream",
        "png-decompression-bomb",
        "zero-bytes",
    ],
)
def test_hostile_files_are_refused_with_a_clear_message(client, draft, content, name, message):
    response = upload(client, draft, content, name)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Evidence.objects.exists()


def test_an_oversized_file_is_refused(client, draft, settings):
    settings.EVIDENCE_MAX_BYTES = 2048

    response = upload(client, draft, png_bytes(size=(400, 400)) + b"\0" * 4096, "big.png")

    assert response.status_code in (400, 413)
    assert "파일이 너무 큽니다" in response.json()["error"]


def test_an_ordinary_pdf_and_a_big_phone_photo_are_still_accepted(client, draft):
    assert upload(client, draft, pdf_bytes(), "영수증.pdf").status_code == 201
    buffer = io.BytesIO()
    Image.new("RGB", (4032, 3024), (90, 90, 90)).save(buffer, format="JPEG", quality=50)  # a 12 MP photo
    assert upload(client, draft, buffer.getvalue(), "IMG_0001.jpg").status_code == 201


@pytest.mark.parametrize(
    ("content", "payload"),
    [(jpeg_bytes() + HTML_PAYLOAD, HTML_PAYLOAD), (jpeg_bytes() + zip_bytes(), b"PK\x03\x04")],
    ids=["jpeg-with-html-appended", "jpeg-with-zip-appended"],
)
def test_a_polyglot_is_only_ever_served_as_a_download_and_staff_see_a_clean_copy(client, draft, content, payload):
    assert upload(client, draft, content, "photo.jpg").status_code == 201
    evidence = Evidence.objects.get()

    original = client.get(reverse("claims:evidence_download", args=[draft.pk, evidence.pk]))
    assert original["Content-Disposition"].startswith("attachment;")
    assert original["X-Content-Type-Options"] == "nosniff"
    assert original["Content-Type"] == "image/jpeg"

    staff = admin_login(Client(), staff_member(Role.PARALEGAL))
    pending = staff.get(reverse("admin:claims_claim_evidence", args=[draft.pk, evidence.pk]))
    assert pending["Content-Disposition"].startswith("attachment;")  # no clean copy yet: the upload is no inline
    assert pending["Content-Type"] == "application/octet-stream"
    evidence_preview_render(evidence_id=evidence.pk)
    inline = staff.get(reverse("admin:claims_claim_evidence", args=[draft.pk, evidence.pk]))
    assert inline["Content-Disposition"].startswith("inline;")
    assert inline["X-Content-Type-Options"] == "nosniff"
    assert payload not in b"".join(inline.streaming_content)  # the re-encoded copy, not the uploaded bytes
    raw = staff.get(reverse("admin:claims_claim_evidence", args=[draft.pk, evidence.pk]) + "?download=1")
    assert raw["Content-Disposition"].startswith("attachment;")
    assert raw["Content-Type"] == "application/octet-stream"


NFD_NAME = unicodedata.normalize("NFD", "카카오톡 오류 화면.png")


@pytest.mark.parametrize(
    ("name", "stored", "download_stem"),
    [
        ("../../../etc/passwd.png", "passwd.png", "passwd"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png", "win.ini"),
        ("영수증\x00\x07\x1b[31m.png", "영수증[31m.png", "영수증[31m"),
        ("invoice\u202egnp.exe", "invoicegnp.exe", "invoicegnp"),
        ("가" * 300 + ".png", "가" * 251 + ".png", "가" * 80),  # 255 characters, the extension kept
        (NFD_NAME, "카카오톡 오류 화면.png", "카카오톡_오류_화면"),
        # The multipart header itself is broken by the quote: whatever name arrives, .html is never served.
        ('"; filename=evil.html; x=".png', "evil.html", "evil"),
    ],
    ids=[
        "path-traversal",
        "windows-path",
        "control-characters",
        "right-to-left-override",
        "300-characters",
        "nfd",
        "header-injection",
    ],
)
def test_hostile_names_are_cleaned_when_stored_and_when_downloaded(client, draft, name, stored, download_stem):
    assert upload(client, draft, png_bytes(), name).status_code == 201
    evidence = Evidence.objects.get()

    assert evidence.original_name == stored
    assert (
        evidence.file.name.startswith(f"evidence/{draft.pk}/")
        and "/" not in evidence.file.name[len("evidence/") + len(str(draft.pk)) + 1 :]
    )
    response = client.get(reverse("claims:evidence_download", args=[draft.pk, evidence.pk]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    for forbidden in ("/", "\\", "\x00", "\u202e", "\n", "\r", '";'):
        assert forbidden not in disposition.split(";", 1)[1]
    assert ".html" not in disposition
    assert response.filename == f"{download_stem}.png"
    assert unicodedata.is_normalized("NFC", response.filename)


def test_uploads_are_rate_limited_per_claimant(client, draft, settings):
    settings.UPLOAD_RATE = "3/h"
    statuses = [upload(client, draft, png_bytes(color=(n, 0, 0)), f"{n}.png").status_code for n in range(4)]

    assert statuses == [201, 201, 201, 429]
    refused = upload(client, draft, png_bytes(color=(9, 9, 9)), "again.png")
    assert refused.status_code == 429
    assert "파일을 너무 많이 올렸습니다" in refused.json()["error"]
    assert Evidence.objects.count() == 3
