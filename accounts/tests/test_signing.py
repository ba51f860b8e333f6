"""Signing the power of attorney: the signature checks, the PDF (rendered by a task after the signature is saved)
and its certificate, download and verification."""

import hashlib
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfReader

from accounts.models import ConsentRecord, PowerOfAttorney
from accounts.services.consents import ConsentError, consent_accept
from accounts.services.signing import (
    SignatureError,
    power_of_attorney_sign,
    signature_png_from_data_url,
)
from accounts.tests.factories import (
    ClaimantFactory,
    UserFactory,
    consent_documents_published,
    identity_verified,
    signature_data_url,
)
from claims.tests.staff import admin_login
from core.audit import RequestMeta
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

META = RequestMeta(ip="203.0.113.77", user_agent="Mozilla/5.0 (Linux; Android 14; SM-S918N) Chrome/120 Mobile")


@pytest.fixture
def documents():
    return consent_documents_published()


@pytest.fixture
def claimant(documents):
    """A claimant who accepted the required privacy consent and verified their identity: the next step is the power
    of attorney."""
    claimant = ClaimantFactory(legal_name="김민수")
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    return identity_verified(claimant)


@pytest.fixture
def signed(claimant, documents, django_capture_on_commit_callbacks) -> PowerOfAttorney:
    """Signed, and its PDF rendered by the task queued on commit (inline: CELERY_TASK_ALWAYS_EAGER)."""
    with django_capture_on_commit_callbacks(execute=True):
        power_of_attorney = power_of_attorney_sign(
            user=claimant, document=documents["power_of_attorney"], meta=META, typed_name="김 민수"
        )
    power_of_attorney.refresh_from_db()
    return power_of_attorney


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _stored_pdf(power_of_attorney: PowerOfAttorney) -> bytes:
    with power_of_attorney.pdf.open("rb") as pdf:
        return pdf.read()


def _staff_with_personal_data_permission(*, permission: bool = True):
    """Signed in to the admin with their authenticator code: staff reach nothing with a password alone."""
    staff = UserFactory(is_staff=True)
    if permission:
        staff.user_permissions.add(
            Permission.objects.get(codename="view_personal_data", content_type__app_label="claims")
        )
    TOTPDevice.objects.create(user=staff, name="test", confirmed=True)
    return staff


# The signature ----------------------------------------------------------------------------------------------


def test_a_drawn_signature_is_decoded_and_re_encoded_as_a_clean_png():
    png = signature_png_from_data_url(signature_data_url())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("data_url", "message"),
    [
        (signature_data_url(ink=False), "비어 있거나"),
        (signature_data_url(size=(120, 40)), "크기"),
        (signature_data_url(size=(4000, 400)), "크기"),
        (signature_data_url(image_format="JPEG"), "읽을 수 없습니다"),
        ("data:image/png;base64,not-base64!!", "읽을 수 없습니다"),
        ("data:image/svg+xml;base64,PHN2Zz4=", "읽을 수 없습니다"),
        ("data:image/png;base64," + "A" * 800_000, "너무 큽니다"),
    ],
)
def test_blank_tiny_huge_or_non_png_signatures_are_refused(data_url, message):
    with pytest.raises(SignatureError, match=message):
        signature_png_from_data_url(data_url)


# Signing ----------------------------------------------------------------------------------------------------


def test_typing_the_legal_name_signs_and_records_the_signed_content_hash_in_the_ledger(signed, claimant, documents):
    pdf = _stored_pdf(signed)
    assert pdf.startswith(b"%PDF-")
    assert signed.signature_method == PowerOfAttorney.SignatureMethod.TYPED
    assert signed.typed_name == "김민수"
    assert signed.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert (signed.ip, signed.user_agent) == (META.ip, META.user_agent)
    assert signed.authentication["email"] == claimant.email
    assert signed.signer_snapshot["name"] == "김민수"
    record = ConsentRecord.objects.get(user=claimant, document=documents["power_of_attorney"])
    assert record.action == ConsentRecord.Action.ACCEPTED
    # The ledger row is written with the signature, before the PDF exists: it holds the hash of what was signed,
    # which the PDF's audit certificate prints and the rendering's audit entry ties to the PDF's hash.
    assert record.signed_content_sha256 == signed.content_sha256
    assert record.signed_document_sha256 == ""
    assert record.text_sha256 == documents["power_of_attorney"].text_sha256


def test_the_pdf_holds_the_korean_text_the_signature_and_the_audit_certificate(signed, documents):
    text = _pdf_text(_stored_pdf(signed))
    compact = re.sub(r"\s+", "", text)
    assert "김민수" in text
    assert "카카오 서비스 장애 손해배상 청구 공동소송" in text
    assert "복대리인의 선임" in text
    assert "감사 증명서" in text
    assert signed.document_number in text
    assert META.ip in text
    assert signed.content_sha256 in compact
    assert documents["power_of_attorney"].text_sha256 in compact
    assert "(KST)" in text


def test_the_pdf_names_the_firm_from_its_profile_on_the_letterhead_and_the_certificate(
    claimant, documents, django_capture_on_commit_callbacks
):
    from core.services import firm_profile_update

    ADDRESS = "서울특별시 서초구 서초대로 123"
    with django_capture_on_commit_callbacks(execute=True):
        firm_profile_update(actor=None, values={"name": "법무법인 한빛", "address": ADDRESS, "phone": "02-555-0123"})
    with django_capture_on_commit_callbacks(execute=True):
        signed = power_of_attorney_sign(
            user=claimant, document=documents["power_of_attorney"], meta=META, typed_name="김민수"
        )
    signed.refresh_from_db()
    text = _pdf_text(_stored_pdf(signed))
    assert text.count("법무법인 한빛") >= 2  # the letterhead and the certificate's 수임인 row
    assert ADDRESS in text and "02-555-0123" in text


def test_the_content_hash_covers_the_filled_in_text_and_the_signature(signed, documents):
    from accounts.services.consents import consent_text_fill

    text = consent_text_fill(document=documents["power_of_attorney"], values=signed.signer_snapshot)
    assert "{{" not in text and "김민수" in text
    expected = hashlib.sha256(text.encode("utf-8") + "김민수".encode()).hexdigest()
    assert signed.content_sha256 == expected


def test_a_typed_name_that_is_not_the_legal_name_is_refused_and_nothing_is_stored(claimant, documents):
    with pytest.raises(SignatureError, match="실명"):
        power_of_attorney_sign(user=claimant, document=documents["power_of_attorney"], meta=META, typed_name="김민준")
    assert not PowerOfAttorney.objects.exists()
    assert not ConsentRecord.objects.filter(document=documents["power_of_attorney"]).exists()


def test_signing_twice_or_before_the_privacy_consent_is_refused(signed, documents):
    with pytest.raises(ConsentError, match="이미"):
        power_of_attorney_sign(
            user=signed.user, document=documents["power_of_attorney"], meta=META, typed_name="김민수"
        )
    newcomer = ClaimantFactory()
    with pytest.raises(ConsentError, match="개인정보 동의"):
        power_of_attorney_sign(
            user=newcomer, document=documents["power_of_attorney"], meta=META, typed_name=newcomer.legal_name
        )


def test_drawing_on_the_page_signs_with_the_image_embedded_in_the_pdf(
    client, claimant, documents, django_capture_on_commit_callbacks
):
    client.force_login(claimant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:power_of_attorney_sign"),
            {"method": "drawn", "signature": signature_data_url(), "confirm": "on", "next": "/claims/new/"},
            REMOTE_ADDR="198.51.100.8",
            HTTP_USER_AGENT="Mozilla/5.0 TestPhone",
        )
    assert response.status_code == 302
    assert response["Location"] == "/claims/new/"  # straight on to the page the guard was asked for
    signed = PowerOfAttorney.objects.get(user=claimant)
    assert signed.signature_method == PowerOfAttorney.SignatureMethod.DRAWN
    assert (signed.ip, signed.user_agent) == ("198.51.100.8", "Mozilla/5.0 TestPhone")
    with signed.signature_image.open("rb") as image:
        png = image.read()
    assert png.startswith(b"\x89PNG")
    reader = PdfReader(io.BytesIO(_stored_pdf(signed)))
    embedded = {hashlib.sha256(image.data).hexdigest() for page in reader.pages for image in page.images}
    assert len(embedded) == 1  # the signature, and nothing else
    done = client.get(reverse("accounts:power_of_attorney_sign"))
    assert reverse("accounts:power_of_attorney_download", args=[signed.pk]) in done.content.decode()


def test_a_failed_submission_keeps_the_drawing_and_explains_what_is_missing(client, claimant):
    client.force_login(claimant)
    drawing = signature_data_url()
    response = client.post(reverse("accounts:power_of_attorney_sign"), {"method": "drawn", "signature": drawing})
    html = response.content.decode()
    assert response.status_code == 200
    assert "내용을 확인했다는 칸에 표시해 주세요" in html
    assert drawing in html
    response = client.post(reverse("accounts:power_of_attorney_sign"), {"method": "drawn", "confirm": "on"})
    assert "서명 칸에 서명을 그려 주세요" in response.content.decode()
    assert not PowerOfAttorney.objects.exists()


def test_the_sign_page_sends_a_claimant_without_the_privacy_consent_back_to_the_consents(client, documents):
    newcomer = ClaimantFactory()
    client.force_login(newcomer)
    response = client.get(reverse("accounts:power_of_attorney_sign") + "?next=/claims/new/")
    assert response["Location"] == reverse("accounts:consents") + "?next=%2Fclaims%2Fnew%2F"


# Download ---------------------------------------------------------------------------------------------------


def test_the_signer_downloads_their_pdf_as_an_attachment(client, signed):
    client.force_login(signed.user)
    response = client.get(reverse("accounts:power_of_attorney_download", args=[signed.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == _stored_pdf(signed)


def test_another_claimant_gets_404_and_staff_need_the_personal_data_permission(client, signed):
    url = reverse("accounts:power_of_attorney_download", args=[signed.pk])
    client.force_login(ClaimantFactory())
    assert client.get(url).status_code == 404
    admin_login(client, _staff_with_personal_data_permission(permission=False))
    assert client.get(url).status_code == 404
    staff = _staff_with_personal_data_permission()
    admin_login(client, staff)
    assert client.get(url).status_code == 200


def test_staff_opening_a_signed_pdf_is_audited_but_the_signer_is_not(client, signed):
    url = reverse("accounts:power_of_attorney_download", args=[signed.pk])
    client.force_login(signed.user)
    client.get(url)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.VIEWED_EVIDENCE).exists()
    staff = _staff_with_personal_data_permission()
    admin_login(client, staff)
    client.get(url)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIEWED_EVIDENCE)
    assert entry.actor == staff and entry.action == AuditEntry.Action.VIEWED_EVIDENCE
    assert entry.object_type == "accounts.powerofattorney" and entry.object_id == str(signed.pk)
    assert entry.data["pdf_sha256"] == signed.pdf_sha256


# Verification -----------------------------------------------------------------------------------------------


def _verify(client, data: bytes, **extra):
    upload = SimpleUploadedFile("poa.pdf", data, content_type="application/pdf")
    return client.post(reverse("accounts:power_of_attorney_verify"), {"document": upload}, **extra)


def test_the_stored_pdf_matches_and_an_anonymous_visitor_sees_only_the_masked_name(client, signed):
    response = _verify(client, _stored_pdf(signed))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="verify-match"' in html
    assert signed.document_number in html
    assert "김*수" in html and "김민수" not in html
    assert signed.user.email not in html


def test_a_pdf_with_one_changed_byte_does_not_match(client, signed):
    tampered = bytearray(_stored_pdf(signed))
    tampered[len(tampered) // 2] ^= 0x01
    html = _verify(client, bytes(tampered)).content.decode()
    assert 'data-testid="verify-no-match"' in html
    assert 'data-testid="verify-match"' not in html


def test_staff_with_the_personal_data_permission_see_the_full_details(client, signed):
    admin_login(client, _staff_with_personal_data_permission())
    html = _verify(client, _stored_pdf(signed)).content.decode()
    assert "김민수" in html and signed.user.email in html and META.ip in html


def test_a_file_that_is_not_a_pdf_gets_a_clear_error(client):
    html = _verify(client, b"hello, not a pdf").content.decode()
    assert "PDF 파일이 아닙니다" in html


def test_anonymous_verification_is_rate_limited_per_ip(client, signed):
    pdf = _stored_pdf(signed)
    for _ in range(20):
        assert _verify(client, pdf, REMOTE_ADDR="192.0.2.200").status_code == 200
    limited = _verify(client, pdf, REMOTE_ADDR="192.0.2.200")
    assert limited.status_code == 429
    assert "너무 많습니다" in limited.content.decode()
    assert _verify(client, pdf, REMOTE_ADDR="192.0.2.201").status_code == 200


# The PDF, rendered in the background ------------------------------------------------------------------------


def _sign_typed(claimant, documents) -> PowerOfAttorney:
    """Signed by typing the name, its task not run (no commit in these tests): the PDF not rendered yet."""
    document = documents["power_of_attorney"]
    return power_of_attorney_sign(user=claimant, document=document, meta=META, typed_name="김민수")


def _refuse_to_render(**kwargs):
    raise AssertionError("the signed PDF was rendered in the request")


def test_the_signing_request_saves_the_signature_and_queues_the_pdf_without_rendering_it(
    client, claimant, documents, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """With a broker and no worker (tasks not eager), the request only saves the signature and publishes the task."""
    from accounts import tasks
    from config.celery import app

    monkeypatch.setattr("accounts.services.signing.signed_document_pdf", _refuse_to_render)
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    published = []
    monkeypatch.setattr(
        tasks.power_of_attorney_pdf_render_task, "apply_async", lambda args, kwargs, **options: published.append(args)
    )
    client.force_login(claimant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:power_of_attorney_sign"),
            {"method": "typed", "typed_name": "김민수", "confirm": "on", "next": "/claims/new/"},
        )
    assert response.status_code == 302 and response["Location"] == "/claims/new/"  # on to the next step as before
    signed = PowerOfAttorney.objects.get(user=claimant)
    assert (signed.pdf.name, signed.pdf_sha256) == ("", "")
    assert signed.content_sha256 and signed.signature_method == PowerOfAttorney.SignatureMethod.TYPED
    assert published == [(signed.pk,)]
    assert tasks.power_of_attorney_pdf_render_task.queue_name == "documents"
    assert ConsentRecord.objects.get(user=claimant, document=documents["power_of_attorney"]).signed_content_sha256 == (
        signed.content_sha256
    )


def test_the_render_task_stores_the_pdf_once_and_audits_it(claimant, documents):
    from accounts.tasks import power_of_attorney_pdf_render_task

    power = _sign_typed(claimant, documents)
    assert power_of_attorney_pdf_render_task(power.pk) is True
    power.refresh_from_db()
    pdf = _stored_pdf(power)
    assert power.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert power.content_sha256 in re.sub(r"\s+", "", _pdf_text(pdf))  # the certificate prints the ledger's hash
    entry = AuditEntry.objects.get(data__event="signed_pdf_rendered")
    assert (entry.object_type, entry.object_id, entry.actor) == ("accounts.powerofattorney", str(power.pk), None)
    assert entry.data == {
        "event": "signed_pdf_rendered",
        "document_number": power.document_number,
        "content_sha256": power.content_sha256,
        "pdf_sha256": power.pdf_sha256,
    }

    assert power_of_attorney_pdf_render_task(power.pk) is False  # redelivered (acks late): nothing done twice
    again = PowerOfAttorney.objects.get(pk=power.pk)
    assert (again.pdf.name, again.pdf_sha256) == (power.pdf.name, power.pdf_sha256)
    assert AuditEntry.objects.filter(data__event="signed_pdf_rendered").count() == 1


def test_the_render_refuses_a_text_that_is_not_what_was_signed(claimant, documents):
    from accounts.services.signing import SignedDocumentPdfError
    from accounts.tasks import power_of_attorney_pdf_render_task

    power = _sign_typed(claimant, documents)
    PowerOfAttorney.objects.filter(pk=power.pk).update(signer_snapshot={**power.signer_snapshot, "name": "김민준"})
    with pytest.raises(SignedDocumentPdfError):
        power_of_attorney_pdf_render_task(power.pk)
    power.refresh_from_db()
    assert (power.pdf.name, power.pdf_sha256) == ("", "")
    assert not AuditEntry.objects.filter(data__event="signed_pdf_rendered").exists()


def test_while_the_pdf_is_made_the_pages_say_so_and_the_download_waits_then_offers_it(client, claimant, documents):
    from accounts.tasks import power_of_attorney_pdf_render_task

    power = _sign_typed(claimant, documents)
    client.force_login(claimant)
    url = reverse("accounts:power_of_attorney_download", args=[power.pk])
    for page in ("accounts:consents", "accounts:power_of_attorney_sign"):
        html = client.get(reverse(page)).content.decode()
        assert "서명한 위임장 PDF를 만들고 있습니다" in html and 'data-testid="poa-download-pending"' in html
        assert f'href="{url}"' in html

    waiting = client.get(url)
    html = waiting.content.decode()
    assert waiting.status_code == 200 and waiting["Content-Type"].startswith("text/html")
    assert "서명한 위임장 PDF를 만들고 있습니다" in html
    assert f'<meta http-equiv="refresh" content="2;url={url}?waited=1">' in html  # no script: the CSP allows none
    assert "<script>" not in html

    power_of_attorney_pdf_render_task(power.pk)
    ready = client.get(f"{url}?waited=1").content.decode()
    assert 'data-testid="signed-pdf-ready"' in ready and f'href="{url}"' in ready and "http-equiv" not in ready
    download = client.get(url)
    assert download["Content-Type"] == "application/pdf"
    assert 'data-testid="poa-download"' in client.get(reverse("accounts:consents")).content.decode()


def test_staff_see_in_the_admin_that_the_pdf_is_being_made(client, claimant, documents):
    power = _sign_typed(claimant, documents)
    staff = _staff_with_personal_data_permission()
    staff.user_permissions.add(Permission.objects.get(codename="view_powerofattorney"))
    admin_login(client, staff)
    page = client.get(reverse("admin:accounts_powerofattorney_change", args=[power.pk])).content.decode()
    assert "서명한 위임장 PDF를 만들고 있습니다" in page


def test_the_sweep_queues_again_a_pdf_whose_task_was_lost(claimant, documents):
    import datetime as dt

    from django.utils import timezone

    from accounts.tasks import power_of_attorney_pdfs_sweep_task

    power = _sign_typed(claimant, documents)  # its task never ran (no commit here): as if the message was lost
    assert power_of_attorney_pdfs_sweep_task() == 0  # just signed: its task may still be on its way
    PowerOfAttorney.objects.filter(pk=power.pk).update(signed_at=timezone.now() - dt.timedelta(minutes=6))
    assert power_of_attorney_pdfs_sweep_task() == 1  # queued again (inline here)
    power.refresh_from_db()
    assert power.pdf_sha256 == hashlib.sha256(_stored_pdf(power)).hexdigest()
    assert power_of_attorney_pdfs_sweep_task() == 0
    assert power_of_attorney_pdfs_sweep_task.queue_name == "documents"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_the_pdf_after_the_signature_is_committed(celery_worker, wait_until):
    documents = consent_documents_published()
    claimant = ClaimantFactory(legal_name="김민수")
    consent_accept(user=claimant, document=documents["privacy_required"], meta=META)
    identity_verified(claimant)
    power = _sign_typed(claimant, documents)
    assert power.pdf_sha256 == ""  # committed without the PDF; the worker renders it

    rendered = wait_until(lambda: PowerOfAttorney.objects.exclude(pdf_sha256="").filter(pk=power.pk).first())
    assert hashlib.sha256(_stored_pdf(rendered)).hexdigest() == rendered.pdf_sha256
    assert AuditEntry.objects.filter(data__event="signed_pdf_rendered", object_id=str(power.pk)).count() == 1
