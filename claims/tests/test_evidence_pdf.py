"""The upload check for PDFs (claims/validators.py, claims/pdfs.py): a generated corpus of script-bearing PDFs in
every standard filter and structure is refused with a reason that tells the claimant what to do; forms that send
data, XFA forms and embedded files are accepted and flagged for staff; ordinary PDFs pass."""

import io

import pytest
import weasyprint
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claims import pdfs
from claims.models import ClaimEvent, Evidence
from claims.tests import pdf_corpus
from claims.tests.factories import pdf_bytes
from claims.validators import evidence_check, pdf_findings_check
from core.models import AuditEntry

REFUSED = pdf_corpus.corpus_refused()
FLAGGED = pdf_corpus.corpus_flagged()
ACTIVE_MESSAGE = "스크립트나 프로그램 실행 기능이 들어 있는 PDF는 받지 않습니다"


def as_upload(data: bytes, name: str = "statement.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def weasyprint_pdf() -> bytes:
    html = (
        "<html lang='ko'><body><h1>카카오 T 결제 내역</h1><p>2022-10-15 39,000원</p>"
        "<p><a href='https://example.com/receipt'>영수증 보기</a></p></body></html>"
    )
    return weasyprint.HTML(string=html).write_pdf()


def test_the_corpus_covers_every_filter_and_structure():
    """The generated files really are what their names say: readable PDFs whose page says Hello."""
    from pypdf import PdfReader

    for name, data in REFUSED.items():
        assert "Hello" in PdfReader(io.BytesIO(data)).pages[0].extract_text(), name
    filters = {"flate", "asciihex", "ascii85", "lzw", "runlength"}
    assert {f"objstm_{name}" for name in filters} <= set(REFUSED)
    assert b"/Type /XRef" in REFUSED["objstm_asciihex"] and b"/Type /ObjStm" in REFUSED["objstm_asciihex"]
    assert REFUSED["incremental_update_adds_script"].count(b"%%EOF") == 2
    assert b"/JavaScript" not in REFUSED["objstm_asciihex"]  # hidden from a search of the raw bytes


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_script_bearing_pdfs_are_refused_in_every_filter_and_structure(name):
    with pytest.raises(ValidationError) as refused:
        pdf_findings_check(as_upload(REFUSED[name]))
    assert refused.value.code == "active"
    assert ACTIVE_MESSAGE in refused.value.messages[0]
    assert "PDF로 저장" in refused.value.messages[0]  # what to do instead


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_refusal_names_the_right_feature(name):
    expected = pdfs.LAUNCH if name == "launch_action" else pdfs.JAVASCRIPT
    assert pdfs.pdf_inspect(REFUSED[name]).findings == {expected}


@pytest.mark.parametrize("name", ["incremental_update_hides_script", "incremental_update_hides_objstm_script"])
def test_a_script_only_in_an_earlier_revision_is_still_found(name):
    """The newest revision is clean; the replaced object is still in the file, and some viewers reach it."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(REFUSED[name]))
    assert "/OpenAction" not in reader.trailer["/Root"]
    assert pdfs.JAVASCRIPT in pdfs.pdf_inspect(REFUSED[name]).findings


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_forms_and_embedded_files_are_accepted_and_flagged(name):
    data, finding = FLAGGED[name]
    check = evidence_check(as_upload(data))
    assert check.kind.content_type == "application/pdf"
    assert check.pdf_findings == (finding,)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(weasyprint_pdf(), id="weasyprint-with-link"),
        pytest.param(pdf_bytes(), id="pypdf-blank-page"),
        pytest.param(pdf_corpus.clean_pdf(), id="object-and-xref-streams"),
        pytest.param(pdf_corpus.encrypted(pdf_corpus.base_objects(), algorithm="AES-256"), id="owner-password-only"),
    ],
)
def test_ordinary_pdfs_are_accepted_without_flags(data):
    assert evidence_check(as_upload(data)).pdf_findings == ()


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (pdf_corpus.password_protected(), "password", "암호가 걸린 PDF"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "damaged", "PDF 파일이 손상되었거나"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", "damaged", "PDF 파일이 손상되었거나"),
    ],
    ids=["password", "no-pages", "garbage"],
)
def test_a_pdf_no_parser_can_read_is_refused_with_a_reason(data, code, message):
    with pytest.raises(ValidationError) as refused:
        pdf_findings_check(as_upload(data))
    assert refused.value.code == code
    assert message in refused.value.messages[0]


def test_the_refusal_reads_in_english_too():
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            pdf_findings_check(as_upload(REFUSED["objstm_asciihex"]))
        assert "scripts" in refused.value.messages[0] and "Save as PDF" in refused.value.messages[0]


# --- through the upload page ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def upload(client, claim, content: bytes, name: str = "statement.pdf"):
    data = {"tag": "proof_of_use", "file": SimpleUploadedFile(name, content)}
    return client.post(
        reverse("claims:evidence_upload", args=[claim.pk]), data, headers={"X-Requested-With": "XMLHttpRequest"}
    )


@pytest.mark.django_db
def test_the_reported_file_is_refused_at_upload_and_nothing_is_stored(client, draft):
    """/OpenAction JavaScript in an object stream encoded with /ASCIIHexDecode: it passed the old check."""
    response = upload(client, draft, REFUSED["objstm_asciihex"])
    assert response.status_code == 400
    assert ACTIVE_MESSAGE in response.json()["error"]
    assert not Evidence.objects.filter(claim=draft).exists()


@pytest.mark.django_db
def test_a_flagged_pdf_keeps_its_findings_on_the_row_and_in_the_timeline(
    client, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, draft, FLAGGED["embedded_file"][0])
    assert response.status_code == 201
    evidence = Evidence.objects.get(claim=draft)
    assert evidence.pdf_findings == ["embedded_file"]
    event = ClaimEvent.objects.get(claim=draft, kind=ClaimEvent.Kind.EVIDENCE_ADDED)
    assert event.data["pdf_findings"] == ["embedded_file"]
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EDITED).exists()  # nothing new for the task


@pytest.mark.django_db
def test_an_ordinary_pdf_upload_queues_its_preview(client, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert upload(client, draft, weasyprint_pdf(), "영수증.pdf").status_code == 201
    evidence = Evidence.objects.get(claim=draft)
    assert (evidence.pdf_findings, evidence.preview_status) == ([], Evidence.PreviewStatus.PENDING)
    # The preview and the reading (claims/services/evidence_findings.py), queued once the row is committed.
    assert [callback.func.__self__.name for callback in callbacks] == [
        "claims.tasks.evidence.evidence_preview_render_task",
        "claims.tasks.evidence_reading.evidence_read_task",
    ]


# --- damaged and hostile variations ---------------------------------------------------------------------------

SEEDS = [REFUSED["objstm_asciihex"], REFUSED["incremental_update_hides_objstm_script"], pdf_corpus.clean_pdf()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(seed=SEEDS[1], cut=191, flips=[(2935, 0)])  # found by Hypothesis: a page PDFium lists but cannot load
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.integers(min_value=0, max_value=10_000),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(0, 255)), max_size=8),
)
def test_a_damaged_pdf_is_refused_or_accepted_never_an_error(seed, cut, flips):
    """Truncated and corrupted versions of the corpus: the check answers with a reason (or accepts), and drawing
    them ends in a preview or a clear failure; neither raises anything else."""
    data = bytearray(seed[: max(16, len(seed) - cut)])
    for position, value in flips:
        data[position % len(data)] = value
    data = bytes(data)
    inspection = pdfs.pdf_inspect(data)
    assert inspection.unreadable in ("", pdfs.DAMAGED, pdfs.PASSWORD, pdfs.NO_PAGES, pdfs.TOO_COMPLEX)
    try:
        pdfs.pdf_render(data, max_pages=2, dpi=36, max_side=500, max_pixels=250_000, max_png_bytes=500_000, seconds=30)
    except pdfs.PdfUnreadable as error:
        assert error.reason in (pdfs.DAMAGED, pdfs.PASSWORD, pdfs.NO_PAGES)


def test_a_scripted_pdf_stored_before_the_check_brings_no_script_into_a_standing_pack():
    """Exports append evidence PDFs' pages after the plaintiff's pack (filing/exports.py); a page's /AA and its
    annotations' script actions stay behind."""
    from pypdf import PdfReader

    from filing.exports import pdf_compose_write

    scripted = pdf_corpus.base_objects()
    scripted[3] = scripted[3].replace(b"/Contents", b"/AA << /O 6 0 R >> /Annots [7 0 R] /Contents")
    scripted[6] = pdf_corpus.JS_ACTION
    scripted[7] = b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 20] /A 6 0 R >>"
    appendices = [
        PdfReader(io.BytesIO(pdf_corpus.write_table(scripted))),
        PdfReader(io.BytesIO(REFUSED["names_tree_javascript"])),
    ]
    out = io.BytesIO()
    pages = pdf_compose_write(
        out, template="filing/exports/standing_pack.html", context={"evidence": [], "powers": []}, appendices=appendices
    )
    assert pages >= 3
    assert pdfs.pdf_inspect(out.getvalue()).findings == set()
