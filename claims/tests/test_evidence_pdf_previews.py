"""PDF previews: page images drawn on the server by a task (PDFium runs no script), stored privately, served only to
staff who may see the file; PDFs themselves only ever leave as attachments of type application/octet-stream."""

import io
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter

from accounts.roles import Role
from claims import pdfs
from claims.models import Evidence
from claims.services import evidence_previews
from claims.services.evidence_previews import evidence_preview_render
from claims.tasks.evidence import evidence_preview_render_task
from claims.tests import pdf_corpus
from claims.tests.factories import ClaimFactory, EvidenceFactory, SubmittedClaimFactory, claimant_ready
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def pdf_of(pages: int, *, width: float = 595, height: float = 842) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def stored_pdf(data: bytes, *, claim=None, **kwargs) -> Evidence:
    """A PDF stored as it was before the upload check read it (rows made directly, bypassing the check)."""
    kwargs.setdefault("preview_status", Evidence.PreviewStatus.PENDING)
    return EvidenceFactory(
        claim=claim or SubmittedClaimFactory(),
        file=ContentFile(data, name="statement.pdf"),
        original_name="statement.pdf",
        content_type="application/pdf",
        size=len(data),
        **kwargs,
    )


def change_url(claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


def preview_url(evidence: Evidence, page: int) -> str:
    return reverse("admin:claims_claim_evidence_preview", args=[evidence.claim_id, evidence.pk, page])


@pytest.fixture
def paralegal(client):
    user = staff_member(Role.PARALEGAL)
    admin_login(client, user)
    return user


def test_the_task_draws_each_page_as_a_png_stored_privately():
    evidence = stored_pdf(pdf_corpus.clean_pdf())
    assert evidence_preview_render_task.delay(evidence.pk).get() == "ready"
    evidence.refresh_from_db()
    assert (evidence.preview_status, evidence.preview_page_count, evidence.preview_failure) == ("ready", 1, "")
    [page] = evidence.preview_pages
    assert page["name"].startswith(f"evidence/{evidence.claim_id}/")
    with default_storage.open(page["name"], "rb") as handle, Image.open(handle) as image:
        assert image.format == "PNG"
        assert image.size == (page["width"], page["height"])
        assert 300 <= image.width <= 320  # a 200 pt page at 110 dpi


def test_the_pdfium_that_draws_previews_has_no_javascript_engine():
    from pypdfium2.version import PDFIUM_INFO

    assert "V8" not in PDFIUM_INFO.flags and "XFA" not in PDFIUM_INFO.flags


def test_an_a4_page_reads_on_a_laptop_and_only_the_first_pages_are_drawn():
    evidence = stored_pdf(pdf_of(evidence_previews.PREVIEW_MAX_PAGES + 3))
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert evidence.preview_page_count == evidence_previews.PREVIEW_MAX_PAGES + 3
    assert len(evidence.preview_pages) == evidence_previews.PREVIEW_MAX_PAGES
    first = evidence.preview_pages[0]
    assert abs(first["width"] - 909) <= 1 and abs(first["height"] - 1286) <= 1  # A4 at 110 dpi


def test_a_huge_page_is_drawn_within_the_pixel_cap():
    evidence = stored_pdf(pdf_of(1, width=14_000, height=14_000))
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    [page] = evidence.preview_pages
    assert page["width"] * page["height"] <= evidence_previews.PREVIEW_MAX_PIXELS
    assert max(page["width"], page["height"]) <= evidence_previews.PREVIEW_MAX_SIDE


@pytest.mark.parametrize(
    ("data", "failure"),
    [
        (b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", "damaged"),
        (pdf_corpus.password_protected(), "password"),
        (b"%PDF-1.7\n", "damaged"),
    ],
    ids=["garbage", "password", "header-only"],
)
def test_a_broken_pdf_ends_failed_with_its_reason_not_a_crashed_task(client, paralegal, data, failure):
    evidence = stored_pdf(data)
    assert evidence_preview_render_task.delay(evidence.pk).get() == "failed"
    evidence.refresh_from_db()
    assert (evidence.preview_status, evidence.preview_failure, evidence.preview_pages) == ("failed", failure, [])
    page = client.get(change_url(evidence.claim)).content.decode()
    assert 'data-testid="pdf-preview-failed"' in page
    assert {"damaged": "손상", "password": "암호"}[failure] in page


def test_a_file_that_kills_the_worker_is_given_up_after_a_few_attempts():
    evidence = stored_pdf(pdf_corpus.clean_pdf(), preview_attempts=evidence_previews.PREVIEW_MAX_ATTEMPTS)
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert (evidence.preview_status, evidence.preview_failure) == ("failed", "crashed")


def test_a_second_message_for_a_file_being_drawn_leaves_it_alone():
    """The sweep, or a redelivery, while the first run is still drawing: no second drawing, no attempt counted."""
    evidence = stored_pdf(pdf_corpus.clean_pdf(), preview_started_at=timezone.now(), preview_attempts=1)
    assert evidence_preview_render(evidence_id=evidence.pk).status == "pending"
    evidence.refresh_from_db()
    assert (evidence.preview_attempts, evidence.preview_pages) == (1, [])
    old = timezone.now() - timedelta(days=1)
    Evidence.objects.filter(pk=evidence.pk).update(uploaded_at=old)
    assert evidence.pk not in evidence_previews.evidence_previews_due().values_list("pk", flat=True)
    Evidence.objects.filter(pk=evidence.pk).update(preview_started_at=old)  # that run died long ago
    assert evidence.pk in evidence_previews.evidence_previews_due().values_list("pk", flat=True)
    assert evidence_preview_render(evidence_id=evidence.pk).status == "ready"


def test_drawing_stops_at_its_time_limit(monkeypatch):
    """The limit is a signal, not a race: the page drawing below would wait a minute unless interrupted."""

    def endless(*args, **kwargs):
        time.sleep(60)

    monkeypatch.setattr(pdfs, "_render_page", endless)
    started = time.monotonic()
    with pytest.raises(pdfs.PdfUnreadable) as stopped:
        pdfs.pdf_render(
            pdf_corpus.clean_pdf(),
            max_pages=1,
            dpi=110,
            max_side=2000,
            max_pixels=4_000_000,
            max_png_bytes=1_000_000,
            seconds=0.2,
        )
    assert stopped.value.reason == pdfs.TIMEOUT
    assert time.monotonic() - started < 50


def test_a_script_found_in_a_file_uploaded_before_the_check_is_recorded_and_audited(client, paralegal):
    evidence = stored_pdf(pdf_corpus.corpus_refused()["objstm_asciihex"])
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert evidence.preview_status == "ready"  # drawn all the same: PDFium runs no script
    assert evidence.pdf_findings == ["javascript"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EDITED, object_id=str(evidence.pk))
    assert entry.actor is None and entry.claim_id == evidence.claim_id
    assert entry.data["pdf_findings"] == {"old": [], "new": ["javascript"]}
    page = client.get(change_url(evidence.claim)).content.decode()
    assert 'data-testid="pdf-findings"' in page and "스크립트(JavaScript)가 들어 있습니다." in page


def test_running_the_task_twice_draws_once():
    evidence = stored_pdf(pdf_corpus.clean_pdf())
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    first = evidence.preview_pages
    assert evidence_preview_render(evidence_id=evidence.pk).status == "ready"
    evidence.refresh_from_db()
    assert evidence.preview_pages == first and evidence.preview_attempts == 1


def test_the_review_page_shows_page_images_and_never_the_pdf(client, paralegal):
    evidence = stored_pdf(pdf_of(12))
    page = client.get(change_url(evidence.claim)).content.decode()
    assert 'data-testid="pdf-preview-pending"' in page  # before the task has run
    evidence_preview_render(evidence_id=evidence.pk)
    page = client.get(change_url(evidence.claim)).content.decode()
    for number in range(1, 11):
        assert f'src="{preview_url(evidence, number)}"' in page
    assert "전체 12쪽 중 처음 10쪽만 보여 줍니다" in page
    assert "<iframe" not in page and "<embed" not in page and "<object" not in page
    download = reverse("admin:claims_claim_evidence", args=[evidence.claim_id, evidence.pk])
    assert f'href="{download}?download=1"' in page
    assert f'href="{download}" target="_blank"' not in page  # no 'open in a new tab' for a PDF


def test_a_preview_page_is_a_png_for_staff_who_may_see_the_file_and_is_audited(client, paralegal):
    evidence = stored_pdf(pdf_corpus.clean_pdf())
    evidence_preview_render(evidence_id=evidence.pk)
    response = client.get(preview_url(evidence, 1))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIEWED_EVIDENCE, object_id=str(evidence.pk))
    assert (entry.actor, entry.data["variant"], entry.data["page"]) == (paralegal, "preview", 1)
    assert client.get(preview_url(evidence, 2)).status_code == 404
    assert client.get(preview_url(evidence, 0)).status_code == 404


def test_staff_without_the_personal_data_permission_get_no_preview(client):
    evidence = stored_pdf(pdf_corpus.clean_pdf())
    evidence_preview_render(evidence_id=evidence.pk)
    admin_login(client, staff_member(Role.VIEWER))
    assert client.get(preview_url(evidence, 1)).status_code in (302, 403)


@pytest.mark.parametrize("query", ["", "?download=1"])
def test_a_pdf_leaves_only_as_an_octet_stream_attachment(client, paralegal, query):
    evidence = stored_pdf(pdf_corpus.corpus_refused()["open_action_plain"])
    response = client.get(reverse("admin:claims_claim_evidence", args=[evidence.claim_id, evidence.pk]) + query)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_claimant_downloads_their_pdf_as_an_octet_stream_attachment(client):
    evidence = stored_pdf(pdf_corpus.clean_pdf(), claim=ClaimFactory(claimant=claimant_ready()))
    client.force_login(evidence.claim.claimant)
    response = client.get(reverse("claims:evidence_download", args=[evidence.claim_id, evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_pdfs_uploaded_before_previews_existed_get_them_from_the_command(django_capture_on_commit_callbacks):
    old = [stored_pdf(pdf_corpus.clean_pdf()) for _ in range(2)]
    Evidence.objects.filter(pk__in=[e.pk for e in old]).update(uploaded_at=old[0].uploaded_at - timedelta(days=400))
    Evidence.objects.filter(pk=old[0].pk).update(preview_status=Evidence.PreviewStatus.NONE)
    fresh = stored_pdf(pdf_corpus.clean_pdf())  # its own task is on its way
    failed = stored_pdf(pdf_corpus.clean_pdf(), preview_status=Evidence.PreviewStatus.FAILED, preview_failure="error")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("evidence_previews", stdout=out)
    assert out.getvalue().strip() == "queued 2"
    assert set(Evidence.objects.filter(pk__in=[e.pk for e in old]).values_list("preview_status", flat=True)) == {
        "ready"
    }
    failed.refresh_from_db()
    assert failed.preview_status == "failed"  # only tried again when asked
    assert Evidence.objects.get(pk=fresh.pk).preview_status == "pending"
    call_command("evidence_previews", "--now", "--failed", stdout=out)
    failed.refresh_from_db()
    assert failed.preview_status == "ready"


def test_the_sweep_leaves_a_fresh_upload_to_its_own_task():
    fresh = stored_pdf(pdf_corpus.clean_pdf())
    assert fresh.pk not in evidence_previews.evidence_previews_due().values_list("pk", flat=True)
    Evidence.objects.filter(pk=fresh.pk).update(uploaded_at=fresh.uploaded_at - evidence_previews.SWEEP_GRACE * 2)
    assert fresh.pk in evidence_previews.evidence_previews_due().values_list("pk", flat=True)


def test_removing_a_draft_pdf_removes_its_preview_pages(client, django_capture_on_commit_callbacks):
    claim = ClaimFactory(claimant=claimant_ready())
    evidence = stored_pdf(pdf_corpus.clean_pdf(), claim=claim)
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    name = evidence.preview_pages[0]["name"]
    assert default_storage.exists(name)
    client.force_login(claim.claimant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("claims:evidence_remove", args=[claim.pk, evidence.pk]))
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    assert not default_storage.exists(name)


def test_retention_removes_preview_pages_with_the_evidence(settings, django_capture_on_commit_callbacks):
    from claims.models import Claim
    from claims.services.retention import closed_claims_anonymise

    settings.CLOSED_CLAIM_RETENTION_DAYS = 30
    claim = SubmittedClaimFactory(status=Claim.Status.WITHDRAWN, withdrawn_at=timezone.now() - timedelta(days=31))
    evidence = stored_pdf(pdf_corpus.clean_pdf(), claim=claim)
    evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    name = evidence.preview_pages[0]["name"]
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert closed_claims_anonymise()["claims"] == 1
    assert not default_storage.exists(name)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_gets_its_preview_from_a_real_worker(celery_worker, wait_until):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from claims.services.evidence import evidence_attach

    claimant = claimant_ready()
    claim = ClaimFactory(claimant=claimant)
    upload = SimpleUploadedFile("영수증.pdf", pdf_of(2), content_type="application/pdf")
    evidence = evidence_attach(claim=claim, actor=claimant, upload=upload, tag="receipt")
    ready = wait_until(
        lambda: Evidence.objects.filter(pk=evidence.pk, preview_status="ready").first(), timeout=120, interval=0.5
    )
    assert (ready.preview_page_count, len(ready.preview_pages)) == (2, 2)
    assert all(default_storage.exists(page["name"]) for page in ready.preview_pages)


def test_the_review_page_tells_staff_about_a_pdf_in_english_too(client, paralegal):
    evidence = stored_pdf(pdf_corpus.corpus_refused()["launch_action"])
    evidence_preview_render(evidence_id=evidence.pk)
    broken = stored_pdf(pdf_corpus.password_protected(), claim=evidence.claim)
    evidence_preview_render(evidence_id=broken.pk)
    client.cookies["django_language"] = "en"
    page = client.get(change_url(evidence.claim)).content.decode()
    assert "It contains an action that opens a program or a file (Launch)." in page
    assert "No preview: The PDF is password-protected; its pages cannot be drawn." in page
    assert "Evidence PDF statement.pdf, page 1" in page
