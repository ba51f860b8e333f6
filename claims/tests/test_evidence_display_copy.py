"""A picture's display copy and perceptual hash are made by the preview task after the upload commits
(claims/services/evidence_previews.py), never in the upload request: idempotent and audited, safe against the
reading's masking of resident numbers in either order, followed by the claim's fraud check, and shown as preparing
or failed on the claimant's and the staff's pages meanwhile."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.roles import Role
from claims.models import Claim, Evidence, EvidenceFinding, Flag
from claims.services import evidence_findings, evidence_previews
from claims.services.evidence import evidence_attach
from claims.services.evidence_findings import evidence_read
from claims.services.evidence_previews import evidence_preview_render, evidence_previews_due
from claims.services.fraud import claim_fraud_check
from claims.services.intake import ClaimError
from claims.tasks.evidence import evidence_preview_render_task
from claims.tasks.fraud import claim_fraud_check_task
from claims.tests.factories import ClaimFactory, EvidenceFactory, png_bytes, service_by_slug
from claims.tests.staff import admin_login, staff_member
from claims.tests.test_evidence_findings import ID_CARD, dark_share
from core.models import AuditEntry
from devtools.drawing import drawn_png

pytestmark = pytest.mark.django_db


def attach(claim, content: bytes, name: str = "photo.png") -> Evidence:
    return evidence_attach(
        claim=claim, actor=claim.claimant, upload=SimpleUploadedFile(name, content), tag="proof_of_use"
    )


def stored_in(claim_id: int) -> set[str]:
    _folders, files = default_storage.listdir(f"evidence/{claim_id}")
    return {f"evidence/{claim_id}/{name}" for name in files}


# --- the request ------------------------------------------------------------------------------------------------


def test_the_upload_request_does_not_decode_the_picture_and_queues_its_render_on_commit(
    draft, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(evidence_previews, "display_copy", wraps=evidence_previews.display_copy) as drawn,
        mock.patch.object(evidence_preview_render_task, "apply_async") as queued,
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            evidence = attach(draft, png_bytes(size=(800, 600)))
        drawn.assert_not_called()
        queued.assert_not_called()
        for callback in callbacks:
            callback()
        drawn.assert_not_called()  # the task itself is only queued
    queued.assert_called_once()
    assert queued.call_args.args[0] == (evidence.pk,)
    evidence.refresh_from_db()
    assert (evidence.display_file.name, evidence.perceptual_hash, evidence.preview_status) == ("", "", "pending")

    assert evidence_preview_render(evidence_id=evidence.pk).status == "ready"
    evidence.refresh_from_db()
    assert evidence.display_file and len(evidence.perceptual_hash) == 16
    with Image.open(default_storage.open(evidence.display_file.name)) as display:
        assert display.size == (800, 600)


def test_the_render_runs_on_the_preview_queue_with_its_limits():
    assert evidence_preview_render_task.acks_late
    assert (evidence_preview_render_task.soft_time_limit, evidence_preview_render_task.time_limit) == (120, 150)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "빈 파일"), (png_bytes()[:40], "손상"), (b"plain text", "사진(JPG, PNG, HEIC)이나 PDF")],
    ids=["empty", "damaged", "not-a-picture"],
)
def test_a_refused_file_is_refused_in_the_request_with_nothing_stored_or_queued(
    draft, django_capture_on_commit_callbacks, content, message
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ClaimError) as refused:
        attach(draft, content, "photo.png")
    assert message in refused.value.message
    assert not callbacks and not Evidence.objects.exists()


# --- the render ---------------------------------------------------------------------------------------------------


def test_the_render_is_idempotent_and_audited_once(draft, django_capture_on_commit_callbacks):
    evidence = attach(draft, png_bytes(size=(400, 300)))
    with django_capture_on_commit_callbacks(execute=True):
        evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    first = (evidence.display_file.name, evidence.perceptual_hash)
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_preview_render(evidence_id=evidence.pk).status == "ready"
        evidence_preview_render_task.delay(evidence.pk)  # a second message for the same file
    evidence.refresh_from_db()
    assert (evidence.display_file.name, evidence.perceptual_hash) == first
    assert stored_in(draft.pk) == {evidence.file.name, evidence.display_file.name}
    made = AuditEntry.objects.get(action="evidence.display_made", object_id=str(evidence.pk))
    assert made.actor is None and made.claim_id == draft.pk
    assert made.data["perceptual_hash"] == evidence.perceptual_hash and made.data["display_kept"] is True


def test_a_picture_that_cannot_be_decoded_ends_failed_with_an_audit_entry():
    evidence = EvidenceFactory(preview_status=Evidence.PreviewStatus.PENDING)  # a PNG signature and zeros
    outcome = evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    assert (outcome.status, evidence.preview_failure, evidence.display_file.name) == ("failed", "unreadable", "")
    failed = AuditEntry.objects.get(action="evidence.display_failed", object_id=str(evidence.pk))
    assert failed.data["failure"] == "unreadable"
    assert evidence_preview_render(evidence_id=evidence.pk).status == "failed"  # given up, not tried again
    assert AuditEntry.objects.filter(action="evidence.display_failed").count() == 1


def test_the_sweep_queues_pictures_left_pending_but_not_those_made_at_upload_before():
    now = timezone.now()
    lost = EvidenceFactory(preview_status=Evidence.PreviewStatus.PENDING, uploaded_at=now - timedelta(hours=1))
    fresh = EvidenceFactory(preview_status=Evidence.PreviewStatus.PENDING, uploaded_at=now)
    older = EvidenceFactory(preview_status=Evidence.PreviewStatus.NONE, uploaded_at=now - timedelta(days=30))
    due = set(evidence_previews_due(now=now).values_list("pk", flat=True))
    assert lost.pk in due and fresh.pk not in due and older.pk not in due


# --- the masking of resident numbers, in either order ------------------------------------------------------------


def masked_number(evidence: Evidence, boxes) -> bool:
    line = boxes[2]
    with Image.open(default_storage.open(evidence.display_file.name)) as display:
        return dark_share(display, (line[2] - 150, line[1] + 4, line[2] - 5, line[3] - 4)) > 0.95


@pytest.fixture
def id_card(draft):
    picture, boxes = drawn_png(ID_CARD, size=(1000, 360))
    return attach(draft, picture, "신분증.png"), boxes


def test_masking_after_the_render_replaces_its_display_copy(draft, id_card, django_capture_on_commit_callbacks):
    evidence, boxes = id_card
    with django_capture_on_commit_callbacks(execute=True):
        evidence_preview_render(evidence_id=evidence.pk)
    rendered = Evidence.objects.get(pk=evidence.pk).display_file.name
    with django_capture_on_commit_callbacks(execute=True):
        evidence_read(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    finding = EvidenceFinding.objects.get(evidence=evidence)
    assert finding.sealed_original and evidence.display_file.name != rendered
    assert masked_number(evidence, boxes)
    assert stored_in(draft.pk) == {evidence.file.name, evidence.display_file.name, finding.sealed_original}


def test_masking_while_the_render_draws_keeps_the_masked_copy(draft, id_card, django_capture_on_commit_callbacks):
    """The reading masks the file after the render read it and before it stored its (unmasked) copy."""
    evidence, boxes = id_card
    draw = evidence_previews.display_copy

    def draw_then_mask(data):
        drawn = draw(data)
        evidence_read(evidence_id=evidence.pk)
        return drawn

    with (
        mock.patch.object(evidence_previews, "display_copy", draw_then_mask),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert evidence_preview_render(evidence_id=evidence.pk).status == "ready"
    evidence.refresh_from_db()
    finding = EvidenceFinding.objects.get(evidence=evidence)
    assert masked_number(evidence, boxes) and len(evidence.perceptual_hash) == 16
    made = AuditEntry.objects.get(action="evidence.display_made", object_id=str(evidence.pk))
    assert made.data["display_kept"] is False
    # the render's unmasked copy and the unmasked file are gone from storage
    assert stored_in(draft.pk) == {evidence.file.name, evidence.display_file.name, finding.sealed_original}


def test_a_render_stored_while_the_reading_ran_is_replaced_by_the_masked_copy(
    draft, id_card, django_capture_on_commit_callbacks
):
    """The render stores its copy after the reading loaded the row and before it masks: the masking re-reads the
    display copy under the row's lock, replaces it and deletes it."""
    evidence, boxes = id_card
    mask = evidence_findings.masked_picture

    def render_then_mask(data, found):
        evidence_preview_render(evidence_id=evidence.pk)
        return mask(data, found)

    with (
        mock.patch.object(evidence_findings, "masked_picture", render_then_mask),
        django_capture_on_commit_callbacks(execute=True),
    ):
        evidence_read(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    finding = EvidenceFinding.objects.get(evidence=evidence)
    assert masked_number(evidence, boxes)
    assert stored_in(draft.pk) == {evidence.file.name, evidence.display_file.name, finding.sealed_original}


def test_a_render_after_the_masking_draws_from_the_masked_file(draft, id_card, django_capture_on_commit_callbacks):
    evidence, boxes = id_card
    with django_capture_on_commit_callbacks(execute=True):
        evidence_read(evidence_id=evidence.pk)
        evidence_preview_render(evidence_id=evidence.pk)
    evidence.refresh_from_db()
    finding = EvidenceFinding.objects.get(evidence=evidence)
    assert finding.sealed_original and masked_number(evidence, boxes)
    assert stored_in(draft.pk) == {evidence.file.name, evidence.display_file.name, finding.sealed_original}


# --- fraud checks -------------------------------------------------------------------------------------------------


def test_a_claim_submitted_while_its_phash_is_pending_is_checked_for_similar_pictures_once_it_lands(
    draft, django_capture_on_commit_callbacks
):
    picture, _boxes = drawn_png([((60, 40), "카카오T 블루 이용 영수증"), ((60, 160), "결제 금액 39,000원")])
    with Image.open(io.BytesIO(picture)) as image:  # the same picture, one pixel apart: another SHA-256
        image.putpixel((1, 1), (0, 0, 0))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    elsewhere = ClaimFactory(status=Claim.Status.SUBMITTED, reference_code="KC-SIM-0001")
    _display, perceptual_hash = evidence_previews.display_copy(buffer.getvalue())
    EvidenceFactory(claim=elsewhere, perceptual_hash=perceptual_hash, sha256="f" * 64)

    evidence = attach(draft, picture)
    Claim.objects.filter(pk=draft.pk).update(status=Claim.Status.SUBMITTED, reference_code="KC-SIM-0002")
    assert claim_fraud_check(claim_id=draft.pk) == 0  # no hash yet: nothing to compare

    with (
        mock.patch.object(claim_fraud_check_task, "apply_async", wraps=claim_fraud_check_task.apply_async) as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        evidence_preview_render(evidence_id=evidence.pk)
    assert queued.call_args.args[0] == (draft.pk,)
    flagged = Flag.objects.filter(code=Flag.Code.SIMILAR_IMAGE, status=Flag.Status.OPEN)
    assert set(flagged.values_list("claim_id", flat=True)) == {draft.pk, elsewhere.pk}


def test_a_draft_is_not_checked_when_its_phash_lands(draft, django_capture_on_commit_callbacks):
    evidence = attach(draft, png_bytes())
    with (
        mock.patch.object(claim_fraud_check_task, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        evidence_preview_render(evidence_id=evidence.pk)
    queued.assert_not_called()


# --- what people see meanwhile ------------------------------------------------------------------------------------


def test_the_claimant_sees_a_preparing_picture_then_its_thumbnail_or_a_failed_state(client, draft):
    evidence = attach(draft, png_bytes(size=(300, 200)))
    page = reverse("claims:wizard_evidence", args=[draft.pk])
    html = client.get(page).content.decode()
    thumbnail = reverse("claims:evidence_thumbnail", args=[draft.pk, evidence.pk])
    assert 'data-testid="evidence-preparing"' in html and "사진을 준비하고 있습니다" in html
    assert thumbnail not in html and 'data-testid="evidence-thumbnail-none"' in html
    assert reverse("claims:evidence_display", args=[draft.pk, evidence.pk]) not in html

    evidence_preview_render(evidence_id=evidence.pk)
    html = client.get(page).content.decode()
    assert thumbnail in html and 'data-testid="evidence-preparing"' not in html

    broken = EvidenceFactory(claim=draft, preview_status=Evidence.PreviewStatus.PENDING)
    evidence_preview_render(evidence_id=broken.pk)
    html = client.get(page).content.decode()
    assert 'data-testid="evidence-display-failed"' in html


def test_staff_see_a_preparing_picture_get_the_upload_only_as_a_download_then_the_copy(client, draft):
    draft.services.set([service_by_slug("kakao-t")])
    evidence = attach(draft, png_bytes(size=(300, 200)))
    broken = EvidenceFactory(claim=draft, preview_status=Evidence.PreviewStatus.PENDING)
    evidence_preview_render(evidence_id=broken.pk)
    Claim.objects.filter(pk=draft.pk).update(status=Claim.Status.SUBMITTED, reference_code="KC-PREP-0001")
    admin_login(client, staff_member(Role.PARALEGAL))
    change = reverse("admin:claims_claim_change", args=[draft.pk])
    url = reverse("admin:claims_claim_evidence", args=[draft.pk, evidence.pk])

    html = client.get(change).content.decode()
    assert 'data-testid="display-pending"' in html and f'src="{url}"' not in html
    assert 'data-testid="display-failed"' in html and "사진을 읽을 수 없어" in html
    response = client.get(url)
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"

    evidence_preview_render(evidence_id=evidence.pk)
    html = client.get(change).content.decode()
    assert f'src="{url}"' in html
    response = client.get(url)
    assert response["Content-Disposition"].startswith("inline;") and response["Content-Type"] == "image/png"


def test_a_picture_whose_copy_was_made_in_its_upload_request_is_left_as_it_was(draft):
    evidence = EvidenceFactory(claim=draft, preview_status=Evidence.PreviewStatus.NONE)
    evidence.display_file.save("display", ContentFile(png_bytes()), save=True)
    assert evidence_preview_render(evidence_id=evidence.pk).status == Evidence.PreviewStatus.NONE
    assert Evidence.objects.get(pk=evidence.pk).display_file.name == evidence.display_file.name
