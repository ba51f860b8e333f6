"""Reading each evidence file after its upload (claims/services/evidence_findings.py): a pending finding written
with the upload and the reading queued on commit to its own queue; OCR for pictures, the text of PDFs, the EXIF
time of photos; proof of use inside the claimed service's outage window and the amount against the loss item,
each with its reason; audited; failures marked, a time-out retried."""

import hashlib
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import weasyprint
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from claims.models import EvidenceFinding, Flag
from claims.services.evidence_findings import evidence_read, evidence_read_timed_out, photo_taken_at
from claims.tasks.evidence_reading import evidence_read_task
from claims.tests.factories import EvidenceFactory, LossItemFactory, png_bytes, service_by_slug
from claims.tests.staff import admin_login, staff_member
from core.exceptions import ProviderError
from core.models import AuditEntry
from devtools.drawing import drawn_png

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")

CHAT_INSIDE_KAKAO_T = [
    ((260, 40), "2022년 10월 15일 토요일"),
    ((60, 160), "카카오 T 택시 호출이 안 돼요"),
    ((60, 260), "오후 3:42"),
]
RECEIPT = [((60, 40), "카카오T 블루 이용 영수증"), ((60, 160), "2022.10.15 16:10"), ((60, 280), "결제 금액 39,000원")]


def upload(client, claim, content: bytes, name: str, **extra):
    data = {"tag": "proof_of_use", "file": SimpleUploadedFile(name, content), **extra}
    return client.post(reverse("claims:evidence_upload", args=[claim.pk]), data, HTTP_X_REQUESTED_WITH="XMLHttpRequest")


def evidence_with(content: bytes, *, content_type="image/png", **kwargs):
    evidence = EvidenceFactory(file=ContentFile(content, name="evidence"), content_type=content_type, **kwargs)
    EvidenceFinding.objects.create(evidence=evidence)
    return evidence


def test_an_upload_writes_a_pending_finding_and_reads_the_file_only_after_commit(
    client, draft, django_capture_on_commit_callbacks
):
    picture, _boxes = drawn_png(CHAT_INSIDE_KAKAO_T)
    with mock.patch.object(evidence_read_task, "apply_async") as queued:
        with django_capture_on_commit_callbacks() as callbacks:
            assert upload(client, draft, picture, "chat.png").status_code == 201
        finding = EvidenceFinding.objects.get()
        assert finding.status == EvidenceFinding.Status.PENDING
        queued.assert_not_called()
        for callback in callbacks:
            callback()
    queued.assert_called_once()
    assert queued.call_args.args[0] == (finding.evidence_id,)
    assert evidence_read_task.queue_name == "evidence_reading"
    assert (evidence_read_task.soft_time_limit, evidence_read_task.time_limit) == (150, 180)


def test_a_chat_screenshot_inside_the_claimed_services_window_is_proof_of_use_with_its_boxes(
    client, draft, django_capture_on_commit_callbacks
):
    picture, boxes = drawn_png(CHAT_INSIDE_KAKAO_T)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(client, draft, picture, "chat.png").status_code == 201
    finding = EvidenceFinding.objects.get()
    assert (finding.status, finding.source, finding.proof_of_use) == ("done", "ocr", "yes")
    assert finding.moment == datetime(2022, 10, 15, 15, 42, tzinfo=SEOUL)
    # The words as Tesseract gave them (it splits "2022년" into "2022" "년"), joined by spaces.
    assert [part["text"].replace(" ", "") for part in finding.proof_reason] == ["2022년10월15일", "오후3:42"]
    time_line = boxes[2]
    for left, top, width, height in finding.proof_reason[1]["boxes"]:
        assert time_line[0] - 8 <= left and left + width <= time_line[2] + 8
        assert time_line[1] - 8 <= top and top + height <= time_line[3] + 8
    assert (finding.image_width, finding.image_height) == (900, 520)
    assert finding.services == ["kakao-t"]
    assert finding.amount_match == "no_loss_item"
    entry = AuditEntry.objects.get(action="evidence.read")
    assert entry.claim_id == draft.pk
    assert entry.data["proof_of_use"] == "yes"
    assert entry.data["moment"] == "2022-10-15T15:42:00+09:00"


def test_a_screenshot_from_the_day_before_is_not_proof_of_use():
    evidence = evidence_with(drawn_png([((60, 60), "2022.10.14 오후 3:42"), ((60, 160), "카카오톡")])[0])
    evidence.claim.services.set([service_by_slug("kakaotalk")])
    finding = evidence_read(evidence_id=evidence.pk)
    assert finding.proof_of_use == "no"
    assert [part["text"].replace(" ", "") for part in finding.proof_reason] == ["2022.10.14", "오후3:42"]


def test_the_window_is_the_loss_items_service(db):
    # 10-17 09:00 is after Kakao T's restoration (10-16 14:00) but inside Daum Mail's outage (to 10-20 23:00).
    picture, _boxes = drawn_png([((60, 60), "2022-10-17 09:00")])
    for slug, verdict in (("kakao-t", "no"), ("daum-mail", "yes")):
        item = LossItemFactory(service=service_by_slug(slug))
        evidence = evidence_with(picture, claim=item.claim, loss_item=item)
        assert evidence_read(evidence_id=evidence.pk).proof_of_use == verdict


@pytest.mark.parametrize(("monthly_fee", "match"), [(39_000, "equal"), (22_000, "different")])
def test_a_receipts_amount_is_compared_with_its_loss_item(monthly_fee, match):
    item = LossItemFactory(monthly_fee=monthly_fee)
    evidence = evidence_with(drawn_png(RECEIPT)[0], claim=item.claim, loss_item=item)
    finding = evidence_read(evidence_id=evidence.pk)
    assert finding.amount_match == match
    assert [amount["won"] for amount in finding.amounts] == [39000]
    assert finding.amounts[0]["text"].replace(" ", "") == "39,000원"
    assert finding.amounts[0]["boxes"]
    assert finding.proof_of_use == "yes"


def test_a_pdf_is_read_from_its_text():
    html = "<html lang='ko'><body><h1>카카오 T 결제 내역</h1><p>2022-10-15 16:10 결제 금액 39,000원</p></body></html>"
    item = LossItemFactory()
    evidence = evidence_with(
        weasyprint.HTML(string=html).write_pdf(), content_type="application/pdf", claim=item.claim, loss_item=item
    )
    finding = evidence_read(evidence_id=evidence.pk)
    assert (finding.source, finding.proof_of_use, finding.amount_match) == ("pdf_text", "yes", "equal")
    assert finding.proof_reason == [{"text": "2022-10-15", "boxes": []}, {"text": "16:10", "boxes": []}]
    assert finding.engine == ""


def jpeg_taken_at(taken: str, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    exif_ifd = {0x9003: taken}
    if offset:
        exif_ifd[0x9011] = offset
    exif[0x8769] = exif_ifd
    return png_bytes(size=(120, 90), exif=exif)


def test_a_photos_exif_time_is_read_in_korean_time_unless_it_names_its_offset():
    assert photo_taken_at(jpeg_taken_at("2022:10:15 18:05:00")) == datetime(2022, 10, 15, 18, 5, tzinfo=SEOUL)
    assert photo_taken_at(jpeg_taken_at("2022:10:15 09:05:00", "+00:00")) == datetime(2022, 10, 15, 18, 5, tzinfo=SEOUL)
    assert photo_taken_at(png_bytes()) is None
    assert photo_taken_at(b"not a picture") is None


def test_a_photo_without_text_taken_inside_the_window_is_proof_of_use():
    evidence = evidence_with(jpeg_taken_at("2022:10:15 18:05:00"), content_type="image/jpeg")
    evidence.claim.services.set([service_by_slug("kakao-t")])
    finding = evidence_read(evidence_id=evidence.pk)
    assert (finding.proof_of_use, finding.taken_at) == ("yes", datetime(2022, 10, 15, 18, 5, tzinfo=SEOUL))


def test_resident_numbers_are_kept_as_boxes_never_as_digits():
    picture, _boxes = drawn_png([((60, 60), "주민등록번호 900101-1234567")], size=(1000, 200))
    evidence = evidence_with(picture)
    finding = evidence_read(evidence_id=evidence.pk)
    assert len(finding.resident_number_boxes) == 1
    assert finding.resident_number_boxes[0]
    stored = str(EvidenceFinding.objects.filter(pk=finding.pk).values().get())
    assert "1234567" not in stored
    assert AuditEntry.objects.get(action="evidence.read").data["resident_numbers"] == 1


def test_reading_twice_leaves_the_first_finding():
    evidence = evidence_with(drawn_png(CHAT_INSIDE_KAKAO_T)[0])
    first = evidence_read(evidence_id=evidence.pk)
    with mock.patch("claims.services.evidence_findings.ocr_backend") as backend:
        again = evidence_read(evidence_id=evidence.pk)
    backend.assert_not_called()
    assert (again.pk, again.read_at) == (first.pk, first.read_at)
    assert AuditEntry.objects.filter(action="evidence.read").count() == 1


def test_an_unreadable_or_missing_file_is_marked_failed_and_audited():
    evidence = evidence_with(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    finding = evidence_read(evidence_id=evidence.pk)
    assert (finding.status, finding.failure) == ("failed", "unreadable")
    assert AuditEntry.objects.get(action="evidence.read_failed").data == {"failure": "unreadable"}
    evidence = evidence_with(png_bytes())
    evidence.file.delete(save=False)
    assert evidence_read(evidence_id=evidence.pk).failure == "missing"


def test_an_engine_time_out_is_retried_then_given_up():
    evidence = evidence_with(png_bytes())
    time_out = ProviderError("time-out", retryable=True, code="ocr_timeout")
    with mock.patch("claims.services.evidence_findings.ocr_backend") as backend:
        backend.return_value.image_read.side_effect = time_out
        for _attempt in range(2):
            with pytest.raises(ProviderError):
                evidence_read(evidence_id=evidence.pk)
        finding = evidence_read(evidence_id=evidence.pk)
    assert (finding.status, finding.failure, finding.attempts) == ("failed", "engine", 3)


def test_a_reading_past_its_time_limit_is_marked_failed():
    evidence = evidence_with(png_bytes())
    assert evidence_read_timed_out(evidence_id=evidence.pk).failure == "timeout"
    assert AuditEntry.objects.get(action="evidence.read_failed").data == {"failure": "timeout"}


# --- the claimant's feedback under each file ---------------------------------------------------------------------


def test_the_claimant_sees_the_moment_read_right_after_the_upload(client, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(client, draft, drawn_png(CHAT_INSIDE_KAKAO_T)[0], "chat.png").status_code == 201
    page = client.get(reverse("claims:wizard_evidence", args=[draft.pk])).content.decode()
    assert "이 캡처에서 2022-10-15 15:42가 확인됩니다" in page
    assert "js/evidence-finding.js" in page


def test_a_file_still_being_read_is_polled_until_its_feedback_is_ready(
    client, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, draft, drawn_png(CHAT_INSIDE_KAKAO_T)[0], "chat.png")
    finding_url = reverse("claims:evidence_finding", args=[draft.pk, response.json()["id"]])
    assert f'data-finding-url="{finding_url}"' in response.json()["html"]
    assert "파일을 읽고 있습니다" in response.json()["html"]
    assert client.get(finding_url).json()["pending"] is True
    for callback in callbacks:
        callback()  # the preview and the reading, as a worker would run them
    body = client.get(finding_url).json()
    assert body["pending"] is False
    assert "이 캡처에서 2022-10-15 15:42가 확인됩니다" in body["html"]
    assert "data-finding-url" not in body["html"]


def test_a_screen_without_a_date_asks_for_one(client, draft, django_capture_on_commit_callbacks):
    picture, _boxes = drawn_png([((60, 60), "카카오톡 연결이 원활하지 않습니다"), ((60, 160), "오후 3:42")])
    with django_capture_on_commit_callbacks(execute=True):
        evidence_id = upload(client, draft, picture, "error.png").json()["id"]
    body = client.get(reverse("claims:evidence_finding", args=[draft.pk, evidence_id])).json()
    assert "날짜를 찾지 못했습니다: 날짜가 보이는 화면을 올려 주세요" in body["html"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("claims:evidence_finding", args=[draft.pk, evidence_id])).json()
    assert "No date found: please upload a screen that shows the date" in body["html"]


def test_a_moment_outside_the_window_says_so_in_both_languages(client, draft, django_capture_on_commit_callbacks):
    picture, _boxes = drawn_png([((60, 60), "2022-10-14 15:42")])
    with django_capture_on_commit_callbacks(execute=True):
        evidence_id = upload(client, draft, picture, "old.png").json()["id"]
    url = reverse("claims:evidence_finding", args=[draft.pk, evidence_id])
    assert "이 캡처에서 2022-10-14 15:42가 확인됩니다. 장애 시간 밖의 시각입니다" in client.get(url).json()["html"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(url).json()["html"]
    assert "This capture shows 2022-10-14 15:42. That is outside the outage" in html


def test_only_the_owner_polls_a_files_feedback(client, draft, django_capture_on_commit_callbacks):
    other = EvidenceFactory()
    EvidenceFinding.objects.create(evidence=other)
    assert client.get(reverse("claims:evidence_finding", args=[other.claim_id, other.pk])).status_code == 404
    assert client.get(reverse("claims:evidence_finding", args=[draft.pk, other.pk])).status_code == 404


# --- resident registration numbers ------------------------------------------------------------------------------

ID_CARD = [((60, 60), "주민등록증"), ((60, 160), "홍길동"), ((60, 260), "주민등록번호 900101-1234567")]


def dark_share(picture: Image.Image, box) -> float:
    """The share of nearly black pixels in box (left, top, right, bottom)."""
    pixels = list(picture.convert("L").crop(box).get_flattened_data())
    return sum(1 for value in pixels if value < 40) / len(pixels)


def test_a_resident_number_is_blacked_out_for_staff_and_the_original_kept_sealed_for_the_claimant(
    client, draft, django_capture_on_commit_callbacks
):
    picture, boxes = drawn_png(ID_CARD, size=(1000, 360))
    with django_capture_on_commit_callbacks(execute=True):
        evidence_id = upload(client, draft, picture, "신분증.png").json()["id"]
    finding = EvidenceFinding.objects.select_related("evidence").get(evidence_id=evidence_id)
    evidence = finding.evidence
    assert len(finding.resident_number_boxes) == 1 and finding.sealed_original

    # The copies staff see: the last seven digits under a black box, the birth date still readable.
    number_line = boxes[2]
    for name in (evidence.file.name, evidence.display_file.name):
        with Image.open(default_storage.open(name)) as masked:
            right_part = (number_line[2] - 150, number_line[1] + 4, number_line[2] - 5, number_line[3] - 4)
            assert dark_share(masked, right_part) > 0.95
            assert dark_share(masked, (number_line[0], number_line[1], number_line[0] + 150, number_line[3])) < 0.5

    # The original, sealed: not readable in storage, and only the claimant's own download opens it.
    sealed = default_storage.open(finding.sealed_original).read()
    assert not sealed.startswith(b"\x89PNG") and picture not in sealed
    response = client.get(reverse("claims:evidence_download", args=[draft.pk, evidence_id]))
    assert (
        hashlib.sha256(b"".join(response.streaming_content)).hexdigest()
        == evidence.sha256
        == hashlib.sha256(picture).hexdigest()
    )

    masking = AuditEntry.objects.get(action="evidence.resident_numbers_masked")
    assert masking.claim_id == draft.pk and masking.data["resident_numbers"] == 1
    assert "1234567" not in str(list(AuditEntry.objects.values_list("data", flat=True)))


def test_staff_download_only_the_masked_copy(client, draft, django_capture_on_commit_callbacks):
    picture, _boxes = drawn_png(ID_CARD, size=(1000, 360))
    with django_capture_on_commit_callbacks(execute=True):
        evidence_id = upload(client, draft, picture, "신분증.png").json()["id"]
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    TOTPDevice.objects.create(user=staff, name="test", confirmed=True)
    admin_login(client, staff)
    response = client.get(reverse("claims:staff_evidence_download", args=[evidence_id]))
    evidence = EvidenceFinding.objects.select_related("evidence").get(evidence_id=evidence_id).evidence
    assert b"".join(response.streaming_content) == default_storage.open(evidence.file.name).read() != picture


def test_removing_a_masked_file_removes_its_sealed_original(client, draft, django_capture_on_commit_callbacks):
    picture, _boxes = drawn_png(ID_CARD, size=(1000, 360))
    with django_capture_on_commit_callbacks(execute=True):
        evidence_id = upload(client, draft, picture, "신분증.png").json()["id"]
    sealed = EvidenceFinding.objects.get(evidence_id=evidence_id).sealed_original
    assert default_storage.exists(sealed)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("claims:evidence_remove", args=[draft.pk, evidence_id]))
    assert not default_storage.exists(sealed)


# --- staff review: findings beside the preview, mismatches as flags ----------------------------------------------


def test_mismatches_become_review_flags_and_a_matching_reading_clears_them():
    item = LossItemFactory(monthly_fee=22_000, service=service_by_slug("kakaotalk"))
    evidence = evidence_with(
        drawn_png([((60, 60), "2022.10.14 오후 3:42"), ((60, 160), "결제 금액 39,000원")])[0],
        claim=item.claim,
        loss_item=item,
    )
    evidence_read(evidence_id=evidence.pk)
    flags = {flag.code: flag for flag in Flag.objects.filter(claim=item.claim)}
    assert set(flags) == {Flag.Code.EVIDENCE_OUTSIDE_WINDOW, Flag.Code.EVIDENCE_AMOUNT_MISMATCH}
    assert flags[Flag.Code.EVIDENCE_AMOUNT_MISMATCH].details == {
        "evidence": evidence.pk,
        "file": evidence.original_name,
        "amounts": [39000],
        "expected": 22000,
    }
    assert flags[Flag.Code.EVIDENCE_OUTSIDE_WINDOW].fingerprint == f"evidence:{evidence.pk}"

    # The same file read again after the loss item was corrected: the amount flag is cleared, not deleted.
    item.monthly_fee = 39_000
    item.save()
    EvidenceFinding.objects.filter(evidence=evidence).update(status=EvidenceFinding.Status.PENDING, attempts=0)
    evidence_read(evidence_id=evidence.pk)
    statuses = dict(Flag.objects.filter(claim=item.claim).values_list("code", "status"))
    assert statuses == {"evidence_outside_window": "open", "evidence_amount_mismatch": "cleared"}


def test_the_review_page_shows_each_finding_with_its_boxes_drawn_over_the_picture(client):
    item = LossItemFactory(monthly_fee=39_000)
    picture, _boxes = drawn_png(RECEIPT)
    evidence = evidence_with(picture, claim=item.claim, loss_item=item)
    evidence.display_file.save("display", ContentFile(picture), save=True)
    evidence_read(evidence_id=evidence.pk)
    finding = EvidenceFinding.objects.get(evidence=evidence)
    admin_login(client, staff_member(Role.PARALEGAL))

    page = client.get(reverse("admin:claims_claim_change", args=[item.claim_id])).content.decode()

    block = page[page.index(f'data-testid="evidence-finding-{evidence.pk}"') :]
    assert "장애 시간 안의 시각이 보임 · 2022-10-15 16:10" in block
    assert "손해 항목 금액과 같음" in block
    svg = page[page.index('data-testid="finding-boxes"') :]
    svg = svg[: svg.index("</svg>")]
    assert 'viewBox="0 0 900 520"' in svg
    moment_boxes = [box for part in finding.proof_reason for box in part["boxes"]]
    amount_boxes = [box for amount in finding.amounts for box in amount["boxes"]]
    assert moment_boxes and amount_boxes
    for kind, boxes in (("moment", moment_boxes), ("amount", amount_boxes)):
        for left, top, width, height in boxes:
            assert (
                f'class="review-evidence__box review-evidence__box--{kind}" x="{left}" y="{top}" '
                f'width="{width}" height="{height}"'
            ) in svg


def test_the_review_page_reads_every_finding_in_one_query(client, django_assert_max_num_queries):
    item = LossItemFactory()
    for _index in range(5):
        evidence_with(png_bytes(), claim=item.claim, loss_item=item)
    admin_login(client, staff_member(Role.PARALEGAL))
    url = reverse("admin:claims_claim_change", args=[item.claim_id])
    client.get(url)
    with django_assert_max_num_queries(60) as captured:
        client.get(url)
    # Joined to the evidence rows, never fetched file by file.
    assert not [query for query in captured.captured_queries if 'FROM "claims_evidencefinding"' in query["sql"]]
