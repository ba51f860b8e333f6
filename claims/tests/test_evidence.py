"""Evidence files: checked by content, stored privately under random names with their hashes, a metadata-free
display copy for pictures (made by the preview task after the upload commits), audited removal, and downloads only
for the owner and authorised staff."""

import hashlib
import io

import pillow_heif
import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from accounts.tests.factories import UserFactory
from claims.models import Claim, ClaimEvent, Evidence
from claims.services import evidence as evidence_services
from claims.services.intake import ClaimError
from claims.tests.factories import (
    EvidenceFactory,
    LossItemFactory,
    pdf_bytes,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import admin_login
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\0" * 200
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def upload(client, claim, content: bytes, name: str, *, tag="proof_of_use", xhr=True, follow=False, **extra):
    data = {"tag": tag, "file": SimpleUploadedFile(name, content), **extra}
    headers = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"} if xhr else {}
    return client.post(reverse("claims:evidence_upload", args=[claim.pk]), data, follow=follow, **headers)


def upload_and_render(client, claim, content: bytes, name: str, callbacks, **extra):
    """Upload, then run what was queued on commit (the display copy, the reading) as the workers would."""
    with callbacks(execute=True):
        response = upload(client, claim, content, name, **extra)
    return response


def jpeg_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {2: (37.0, 24.0, 5.0), 1: "N", 4: (127.0, 6.0, 40.0), 3: "E"}  # GPS: Pangyo
    return png_bytes(size=(80, 60), exif=exif)


def heic_bytes() -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(buffer, format="HEIF")
    return buffer.getvalue()


# --- what may be uploaded --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name"),
    [(WINDOWS_EXE, "capture.jpg"), (HTML_PAGE, "screenshot.jpg"), (b"plain text, not a photo", "note.png")],
    ids=["renamed-executable", "html-named-jpg", "text-named-png"],
)
def test_files_that_are_not_really_pictures_or_pdfs_are_refused_with_a_clear_message(client, draft, content, name):
    response = upload(client, draft, content, name)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "사진(JPG, PNG, HEIC)이나 PDF 파일만 올릴 수 있습니다" in error
    assert not Evidence.objects.exists()


def test_a_damaged_picture_with_the_right_first_bytes_is_refused(client, draft):
    response = upload(client, draft, png_bytes()[:40], "cut.png")
    assert response.status_code == 400
    assert "손상" in response.json()["error"]


def test_an_oversized_file_is_refused(client, draft, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    content = png_bytes(size=(300, 300))
    assert len(content) > 1024
    response = upload(client, draft, content, "big.png")
    assert response.status_code in (400, 413)
    assert "파일이 너무 큽니다" in response.json()["error"]
    assert not Evidence.objects.exists()


def test_a_request_body_far_over_the_limit_is_refused_before_it_is_read(client, draft, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = upload(client, draft, b"\0" * 200_000, "huge.png")
    assert response.status_code == 413


def test_a_png_is_stored_privately_under_a_random_name_with_its_hashes(
    client, draft, django_capture_on_commit_callbacks
):
    content = png_bytes()
    with django_capture_on_commit_callbacks() as queued:
        response = upload(client, draft, content, "카카오T 호출 없음.png")
    assert response.status_code == 201
    body = response.json()
    evidence = Evidence.objects.get(pk=body["id"])
    assert "카카오T 호출 없음.png" in body["html"]
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.content_type == "image/png" and evidence.size == len(content)
    assert "호출" not in evidence.file.name and evidence.file.name.startswith(f"evidence/{draft.pk}/")
    assert default_storage.open(evidence.file.name).read() == content  # the original is untouched
    assert evidence.uploaded_by == draft.claimant
    # the request did not decode the picture: no display copy and no perceptual hash until the task has run
    assert (evidence.display_file.name, evidence.perceptual_hash, evidence.preview_status) == ("", "", "pending")
    for callback in queued:
        callback()
    evidence.refresh_from_db()
    assert evidence.display_file and len(evidence.perceptual_hash) == 16
    assert evidence.preview_status == Evidence.PreviewStatus.READY
    event = draft.events.get(kind=ClaimEvent.Kind.EVIDENCE_ADDED)
    assert event.data["sha256"] == evidence.sha256


def test_the_display_copy_of_a_photo_has_no_location_or_camera_data(client, draft, django_capture_on_commit_callbacks):
    content = jpeg_with_location()
    with Image.open(io.BytesIO(content)) as original:
        assert original.getexif().get(0x8825)
    response = upload_and_render(client, draft, content, "IMG_0001.jpg", django_capture_on_commit_callbacks)
    evidence = Evidence.objects.get(pk=response.json()["id"])
    assert default_storage.open(evidence.file.name).read() == content
    with Image.open(default_storage.open(evidence.display_file.name)) as display:
        assert display.format == "JPEG"
        assert not display.getexif()
        assert "exif" not in display.info


def test_an_iphone_heic_photo_is_accepted_and_shown_as_jpeg(client, draft, django_capture_on_commit_callbacks):
    response = upload_and_render(client, draft, heic_bytes(), "IMG_1234.HEIC", django_capture_on_commit_callbacks)
    assert response.status_code == 201
    evidence = Evidence.objects.get(pk=response.json()["id"])
    assert evidence.content_type == "image/heic"
    with Image.open(default_storage.open(evidence.display_file.name)) as display:
        assert display.format == "JPEG"


def test_a_pdf_is_accepted_without_a_display_copy(client, draft):
    item = LossItemFactory(claim=draft, service=service_by_slug("kakao-t"))
    response = upload(client, draft, pdf_bytes(), "결제내역.pdf", tag="subscription_payment", loss_item=item.pk)
    assert response.status_code == 201
    evidence = Evidence.objects.get()
    assert (evidence.content_type, evidence.loss_item, evidence.perceptual_hash) == ("application/pdf", item, "")
    assert not evidence.display_file


def test_a_loss_item_of_another_claim_cannot_be_tagged(client, draft):
    other = LossItemFactory()
    response = upload(client, draft, png_bytes(), "a.png", loss_item=other.pk)
    assert response.status_code == 400
    assert not Evidence.objects.exists()


def test_the_file_count_per_claim_is_capped(client, draft, settings):
    settings.EVIDENCE_MAX_FILES = 2
    assert upload(client, draft, png_bytes(), "1.png").status_code == 201
    assert upload(client, draft, pdf_bytes(), "2.pdf").status_code == 201
    response = upload(client, draft, png_bytes(color=(1, 2, 3)), "3.png")
    assert response.status_code == 400
    assert "2개까지" in response.json()["error"]
    assert Evidence.objects.count() == 2


def test_a_failed_upload_never_loses_files_already_stored(client, draft):
    first = upload(client, draft, png_bytes(), "good.png")
    failed = upload(client, draft, HTML_PAGE, "bad.jpg")
    missing_tag = upload(client, draft, png_bytes(), "no-tag.png", tag="")
    assert first.status_code == 201 and failed.status_code == 400 and missing_tag.status_code == 400
    assert list(Evidence.objects.values_list("original_name", flat=True)) == ["good.png"]
    assert default_storage.exists(Evidence.objects.get().file.name)


def test_without_javascript_the_form_posts_and_comes_back_with_a_message(client, draft):
    response = upload(client, draft, png_bytes(), "plain.png", xhr=False, follow=True)
    assert response.redirect_chain[-1][0] == reverse("claims:wizard_evidence", args=[draft.pk])
    assert "파일을 올렸습니다" in response.content.decode()
    refused = upload(client, draft, WINDOWS_EXE, "setup.jpg", xhr=False, follow=True)
    assert "PDF 파일만 올릴 수 있습니다" in refused.content.decode()


@pytest.mark.parametrize("status", [Claim.Status.WITHDRAWN, Claim.Status.REJECTED])
def test_a_closed_claim_takes_no_new_files(client, draft, status):
    """A submitted claim takes more files (claims/tests/test_additions.py); a withdrawn or rejected one does not."""
    draft.status = status
    draft.save()
    response = upload(client, draft, png_bytes(), "late.png")
    assert response.status_code == 400
    assert not Evidence.objects.exists()


# --- removal -----------------------------------------------------------------------------------------------------


def test_removing_a_file_before_submission_is_audited_with_its_hash(client, draft, django_capture_on_commit_callbacks):
    upload(client, draft, png_bytes(), "wrong.png")
    evidence = Evidence.objects.get()
    stored = evidence.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("claims:evidence_remove", args=[draft.pk, evidence.pk]))
    assert response.status_code == 302
    assert not Evidence.objects.exists()
    assert not default_storage.exists(stored)
    event = draft.events.get(kind=ClaimEvent.Kind.EVIDENCE_REMOVED)
    assert event.data["sha256"] == evidence.sha256 and event.actor == draft.claimant


def test_files_of_a_submitted_claim_cannot_be_removed(draft):
    evidence = EvidenceFactory(claim=draft)
    draft.status = Claim.Status.SUBMITTED
    draft.save()
    with pytest.raises(ClaimError):
        evidence_services.evidence_remove(evidence=evidence, actor=draft.claimant)
    assert Evidence.objects.filter(pk=evidence.pk).exists()


# --- downloads ---------------------------------------------------------------------------------------------------


def test_the_owner_downloads_files_as_attachments_with_a_safe_name(client, draft, django_capture_on_commit_callbacks):
    upload_and_render(client, draft, png_bytes(), '../../"evil"; name.png', django_capture_on_commit_callbacks)
    evidence = Evidence.objects.get()
    response = client.get(reverse("claims:evidence_download", args=[draft.pk, evidence.pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and '"evil"' not in disposition
    assert disposition.endswith('.png"') or ".png" in disposition
    assert b"".join(response.streaming_content) == default_storage.open(evidence.file.name).read()
    display = client.get(reverse("claims:evidence_display", args=[draft.pk, evidence.pk]))
    assert display["Content-Disposition"].startswith("attachment;") and display["Content-Type"] == "image/png"


def test_staff_need_the_personal_data_permission_and_each_download_is_recorded(client, draft):
    evidence = EvidenceFactory(claim=draft)
    url = reverse("claims:staff_evidence_download", args=[evidence.pk])
    staff = UserFactory(is_staff=True)
    TOTPDevice.objects.create(user=staff, name="test", confirmed=True)
    admin_login(client, staff)  # staff reach nothing with a password alone
    assert client.get(url).status_code == 404
    staff.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    admin_login(client, staff)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    viewed = draft.events.get(kind=ClaimEvent.Kind.VIEWED)
    assert viewed.actor == staff and viewed.data["evidence"] == evidence.pk
    audit = AuditEntry.objects.get(action=AuditEntry.Action.VIEWED_EVIDENCE, object_id=str(evidence.pk))
    assert audit.actor == staff and audit.claim_id == draft.pk and audit.ip == "127.0.0.1"


def test_a_non_staff_user_with_the_permission_still_gets_nothing(client, draft):
    evidence = EvidenceFactory(claim=draft)
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client.force_login(user)
    assert client.get(reverse("claims:staff_evidence_download", args=[evidence.pk])).status_code == 404


def test_no_url_serves_the_private_storage(client, draft):
    evidence = EvidenceFactory(claim=draft)
    assert client.get("/private-not-served/" + evidence.file.name).status_code == 404
    assert client.get("/x/" + evidence.file.name).status_code == 404


@pytest.mark.parametrize("count", [1, 12])
def test_the_evidence_list_runs_a_fixed_number_of_queries(client, draft, count, django_assert_max_num_queries):
    items = [LossItemFactory(claim=draft, service=service_by_slug("kakao-t")) for _ in range(3)]
    for index in range(count):
        EvidenceFactory(claim=draft, loss_item=items[index % 3])
    with django_assert_max_num_queries(11):
        response = client.get(reverse("claims:wizard_evidence", args=[draft.pk]))
    assert response.content.decode().count('data-testid="evidence-row"') == count
