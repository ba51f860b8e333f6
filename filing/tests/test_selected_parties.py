"""Selected parties (선정당사자) of a wave and the 선정서: who may pick them and when (audited), the messages asking the
plaintiffs to sign, signing through the power of attorney's path (typed, drawn, certified in the sandbox), the
portal's request, the court-cost sheet counting the picked parties, and the exports of the route."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import IdentityVerification
from accounts.roles import Role
from accounts.services.data_rights import deletion_request_confirm, deletion_request_create, user_data_export
from accounts.services.signing import SignatureError, certified_signature_used
from accounts.tests.factories import StaffFactory, identity_verified
from claims.models import Claim
from claims.tests.staff import admin_login
from core.audit import RequestMeta
from core.models import AuditEntry
from filing.models import Designation, DesignationRequest, ExportJob, FilingWave
from filing.services.court_costs import wave_court_cost_totals
from filing.services.exports import export_build, export_request
from filing.services.selected_parties import (
    SelectedPartyError,
    designation_certified_complete,
    designation_certified_start,
    designation_requests_queue,
    designation_requests_start,
    designation_sign,
    selected_parties_pick,
)
from filing.tasks.selected_parties import designation_pdf_render_task
from filing.tests.readiness import claim_ready, plaintiff_ready
from filing.tests.test_exports import cohort_of_all, exported
from integrations.identity.sandbox import sandbox_request_answer
from notifications.models import Notification

pytestmark = pytest.mark.django_db

META = RequestMeta(ip="203.0.113.41", user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile")
NAMES = ["김철수", "박영희", "이민준"]


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


@pytest.fixture
def wave(lawyer) -> FilingWave:
    for name in NAMES:
        claim_ready(claimant=plaintiff_ready(legal_name=name))
    from filing.services.cohorts import cohort_freeze_wave

    return cohort_freeze_wave(cohort=cohort_of_all(lawyer), name="1차 소송", court="서울중앙지방법원", actor=lawyer)


def asked(wave: FilingWave, lawyer, django_capture_on_commit_callbacks) -> None:
    selected_parties_pick(wave=wave, numbers=[1], actor=lawyer, meta=META)
    with django_capture_on_commit_callbacks(execute=True):
        designation_requests_start(wave=wave, actor=lawyer, meta=META)


def request_of(wave: FilingWave, number: int) -> DesignationRequest:
    return DesignationRequest.objects.select_related("user").get(wave=wave, member__number=number)


def signed_typed(wave: FilingWave, number: int, *, rendered: bool = True) -> Designation:
    """Signed with the typed name; its PDF rendered by its task (what the `documents` worker does after commit)."""
    request = request_of(wave, number)
    designation = designation_sign(request=request, user=request.user, meta=META, typed_name=request.user.legal_name)
    if rendered:
        designation_pdf_render_task(designation.pk)
        designation.refresh_from_db()
    return designation


# --- picking ------------------------------------------------------------------------------------------------------


def test_a_lawyer_picks_the_selected_parties_and_the_choice_is_audited(wave, lawyer):
    chosen = selected_parties_pick(wave=wave, numbers=[3, 1], actor=lawyer, meta=META)
    assert [party.member.number for party in chosen] == [1, 3]
    selected_parties_pick(wave=wave, numbers=[2], actor=lawyer, meta=META)  # changed before anyone signed
    assert list(wave.selected_parties.values_list("member__number", flat=True)) == [2]
    entries = AuditEntry.objects.filter(data__event="selected_parties_picked").order_by("at")
    assert [(entry.data["numbers"], entry.data["before"]) for entry in entries] == [([1, 3], []), ([2], [1, 3])]
    assert entries[0].actor == lawyer and entries[0].ip == META.ip


def test_staff_without_the_wave_permission_cannot_pick(wave):
    with pytest.raises(PermissionDenied):
        selected_parties_pick(wave=wave, numbers=[1], actor=StaffFactory(role=Role.PARALEGAL), meta=META)


def test_unknown_or_withdrawn_plaintiffs_and_unfrozen_waves_are_refused(wave, lawyer):
    Claim.objects.filter(pk=wave.members.get(number=2).claim_id).update(status=Claim.Status.WITHDRAWN)
    with pytest.raises(SelectedPartyError, match="2, 9"):
        selected_parties_pick(wave=wave, numbers=[1, 2, 9], actor=lawyer, meta=META)
    with pytest.raises(SelectedPartyError, match="한 명 이상"):
        selected_parties_pick(wave=wave, numbers=[], actor=lawyer, meta=META)
    FilingWave.objects.filter(pk=wave.pk).update(status=FilingWave.Status.FILED)
    with pytest.raises(SelectedPartyError, match="아직 소를 제기하지 않은"):
        selected_parties_pick(wave=wave, numbers=[1], actor=lawyer, meta=META)
    assert not wave.selected_parties.exists()


def test_the_choice_cannot_change_once_a_plaintiff_signed(wave, lawyer, django_capture_on_commit_callbacks):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    signed_typed(wave, 2)
    with pytest.raises(SelectedPartyError, match="이미 선정서에 서명한"):
        selected_parties_pick(wave=wave, numbers=[1, 3], actor=lawyer, meta=META)


def test_the_court_cost_sheet_counts_the_picked_selected_parties(wave, lawyer):
    assert wave_court_cost_totals(wave=wave).selected_parties.plaintiff_parties == 1  # none picked: the fewest
    selected_parties_pick(wave=wave, numbers=[1, 3], actor=lawyer, meta=META)
    sheet = wave_court_cost_totals(wave=wave)
    assert sheet.selected_parties.plaintiff_parties == 2 and sheet.joinder.plaintiff_parties == 3
    assert wave_court_cost_totals(wave=wave, selected_parties=1).selected_parties.plaintiff_parties == 1


# --- asking -------------------------------------------------------------------------------------------------------


def test_every_plaintiff_is_asked_once_by_a_message_and_sees_the_request_in_the_portal(
    wave, lawyer, client, django_capture_on_commit_callbacks, mailoutbox
):
    with pytest.raises(SelectedPartyError, match="먼저 선정당사자"):
        designation_requests_start(wave=wave, actor=lawyer, meta=META)
    Claim.objects.filter(pk=wave.members.get(number=3).claim_id).update(status=Claim.Status.WITHDRAWN)
    asked(wave, lawyer, django_capture_on_commit_callbacks)

    assert DesignationRequest.objects.filter(wave=wave).count() == 2  # the withdrawn plaintiff is not asked
    keys = set(
        Notification.objects.filter(idempotency_key__startswith="designation:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(keys) == 2
    assert designation_requests_queue(wave_id=wave.pk) == 3  # asked again: nothing new
    assert Notification.objects.filter(idempotency_key__startswith="designation:").count() == 2
    request = request_of(wave, 2)
    email = next(message for message in mailoutbox if message.to == [request.user.email])
    assert reverse("filing:designation_sign", args=[request.pk]) in email.body
    assert AuditEntry.objects.filter(data__event="designations_requested", actor=lawyer).exists()

    client.force_login(request.user)
    portal = client.get(reverse("claims:index")).content.decode()
    assert 'data-testid="portal-notice-designation"' in portal
    assert reverse("filing:designation_sign", args=[request.pk]) in portal


# --- signing ------------------------------------------------------------------------------------------------------


def test_a_typed_signature_keeps_the_pdf_privately_with_its_evidence_and_is_audited(
    wave, lawyer, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    designation = signed_typed(wave, 2)

    with designation.pdf.open("rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == designation.pdf_sha256
    assert designation.pdf.name.startswith(f"designations/{designation.user_id}/")
    assert designation.ip == META.ip and designation.user_agent == META.user_agent
    assert designation.signature_method == "typed" and designation.selected_numbers == [1]
    text = "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())
    assert "선정서" in text and "김철수(원고번호1)" in text and "민사소송법제53조" in text
    assert designation.document_number in text and "선정자서명" in text
    entry = AuditEntry.objects.get(data__event="designation_signed")
    assert entry.actor == designation.user and entry.claim_id == designation.request.member.claim_id
    assert entry.data["content_sha256"] == designation.content_sha256
    rendered = AuditEntry.objects.get(data__event="signed_pdf_rendered", object_type="filing.designation")
    assert rendered.claim_id == designation.request.member.claim_id
    assert rendered.data == {
        "event": "signed_pdf_rendered",
        "document_number": designation.document_number,
        "content_sha256": designation.content_sha256,
        "pdf_sha256": designation.pdf_sha256,
    }


def test_signing_queues_the_pdf_which_the_task_renders_once(wave, lawyer, django_capture_on_commit_callbacks):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as callbacks:
        designation = signed_typed(wave, 2, rendered=False)
    assert (designation.pdf_sha256, designation.pdf.name) == ("", "")
    assert len(callbacks) == 1  # the render task, published on commit
    assert designation_pdf_render_task(designation.pk) is True
    assert designation_pdf_render_task(designation.pk) is False  # redelivered: nothing done twice
    assert AuditEntry.objects.filter(data__event="signed_pdf_rendered").count() == 1


def test_the_bundle_notes_a_designation_whose_pdf_is_not_rendered_yet(wave, lawyer, django_capture_on_commit_callbacks):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    signed_typed(wave, 1)
    pending = signed_typed(wave, 3, rendered=False)
    archive = zipfile.ZipFile(io.BytesIO(exported(lawyer, ExportJob.Kind.DESIGNATION_BUNDLE, wave=wave)))
    header, *rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    row = next(row for row in rows if row[header.index("문서 번호")] == pending.document_number)
    assert row[header.index("비고")] == "서명한 선정서 PDF를 만들고 있습니다"
    assert row[header.index("ZIP 안 경로")] == ""


def test_signing_twice_someone_elses_or_with_a_wrong_name_is_refused(wave, lawyer, django_capture_on_commit_callbacks):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    request = request_of(wave, 2)
    with pytest.raises(SignatureError):
        designation_sign(request=request, user=request.user, meta=META, typed_name="다른 이름")
    with pytest.raises(PermissionDenied):
        designation_sign(request=request, user=request_of(wave, 3).user, meta=META, typed_name="박영희")
    signed_typed(wave, 2)
    with pytest.raises(SelectedPartyError, match="이미"):
        signed_typed(wave, 2)
    assert Designation.objects.count() == 1


def test_a_certified_signature_in_the_sandbox_signs_the_designation_once(
    wave, lawyer, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    request = request_of(wave, 2)
    user = identity_verified(request.user)
    verification = designation_certified_start(request=request, user=user, meta=META)
    assert verification.kind == IdentityVerification.Kind.SIGNATURE
    designation_certified_complete(verification=verification, meta=META)  # not approved yet: nothing signed
    assert not Designation.objects.exists()

    sandbox_request_answer(receipt_id=verification.receipt_id, approve=True)
    designation_certified_complete(verification=verification, meta=META)
    designation_certified_complete(verification=verification, meta=META)  # asked again: still one

    designation = Designation.objects.get()
    assert designation.signature_method == "certified" and designation.certified_signature == verification
    assert AuditEntry.objects.get(data__event="designation_signed").data["certified"]["receipt_id"] == (
        verification.receipt_id
    )
    assert certified_signature_used(certified=verification)  # it cannot sign another document (a POA either)


def test_the_identity_wait_page_returns_to_the_designation_once_signed(
    wave, lawyer, client, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    request = request_of(wave, 2)
    user = identity_verified(request.user)
    client.force_login(user)
    response = client.post(reverse("filing:designation_sign", args=[request.pk]), {"certified": "1"})
    verification = IdentityVerification.objects.get(user=user, kind=IdentityVerification.Kind.SIGNATURE)
    assert response["Location"] == reverse("accounts:identity_wait", args=[verification.pk])
    sandbox_request_answer(receipt_id=verification.receipt_id, approve=True)
    with django_capture_on_commit_callbacks() as render:  # the PDF's task, run below
        response = client.post(reverse("accounts:identity_wait", args=[verification.pk]))
    assert response["Location"] == reverse("filing:designation_sign", args=[request.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="designation-certified"' in page
    assert 'data-testid="designation-download-pending"' in page and "서명한 선정서 PDF를 만들고 있습니다" in page
    waiting = client.get(reverse("filing:designation_download", args=[request.pk])).content.decode()
    assert "서명한 선정서 PDF를 만들고 있습니다" in waiting and 'http-equiv="refresh"' in waiting
    for callback in render:
        callback()
    download = client.get(reverse("filing:designation_download", args=[request.pk]))
    assert download["Content-Type"] == "application/pdf"


# --- exports ------------------------------------------------------------------------------------------------------


def test_the_designation_bundle_has_each_signed_pdf_and_a_manifest_of_the_evidence(
    wave, lawyer, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    signed = [signed_typed(wave, 1), signed_typed(wave, 3)]
    archive = zipfile.ZipFile(io.BytesIO(exported(lawyer, ExportJob.Kind.DESIGNATION_BUNDLE, wave=wave)))
    manifest_bytes = archive.read("manifest.csv")
    assert archive.read("manifest.csv.sha256").decode().split()[0] == hashlib.sha256(manifest_bytes).hexdigest()
    header, *rows = list(csv.reader(io.StringIO(manifest_bytes.decode("utf-8-sig"))))
    assert [row[0] for row in rows] == ["1", "3"]
    for row, designation in zip(rows, signed, strict=True):
        pdf = archive.read(row[header.index("ZIP 안 경로")])
        assert hashlib.sha256(pdf).hexdigest() == designation.pdf_sha256 == row[header.index("PDF SHA-256 (이 파일)")]
        assert row[header.index("IP")] == META.ip and row[header.index("문서 번호")] == designation.document_number
        assert row[header.index("선정당사자 원고 번호")] == "1" and row[header.index("비고")] == ""


def test_the_selected_parties_list_and_the_selectors_annex_with_amounts(
    wave, lawyer, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    signed_typed(wave, 1)
    signed_typed(wave, 2)
    members = {member.number: member for member in wave.members.all()}

    parties = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.SELECTED_PARTIES_XLSX, wave=wave))).active
    values = [[cell.value for cell in row] for row in parties.iter_rows()]
    assert [1, 1, "김철수", members[1].address, members[1].amount_claimed] in values

    annex = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.SELECTORS_ANNEX_XLSX, wave=wave))).active
    values = [[cell.value for cell in row] for row in annex.iter_rows()]
    numbers = [row[0] for row in values if isinstance(row[0], int)]
    assert numbers == [1, 2]  # 3 has not signed: not a 선정자
    assert next(row for row in values if row[0] == 1)[5] == "선정당사자"
    total = next(row for row in values if row[0] == "합계")
    assert total[1] == "2명" and total[3] == members[1].amount_claimed + members[2].amount_claimed


# --- the wave page ------------------------------------------------------------------------------------------------


def test_the_wave_page_picks_the_parties_asks_for_signatures_and_shows_the_counts(
    wave, client, django_capture_on_commit_callbacks
):
    lawyer = StaffFactory(role=Role.LAWYER, totp=True)
    admin_login(client, lawyer)
    url = reverse("admin:filing_filingwave_selected_parties", args=[wave.pk])
    client.post(url, {"numbers": "1, 3"})
    assert list(wave.selected_parties.values_list("member__number", flat=True)) == [1, 3]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"request_designations": "1"})
    assert DesignationRequest.objects.filter(wave=wave).count() == 3
    page = client.get(reverse("admin:filing_filingwave_change", args=[wave.pk])).content.decode()
    assert 'data-testid="selected-parties-list"' in page and "선정서 요청 3명 · 서명 0명" in page
    assert 'name="selected_parties"' in page  # the court-cost sheet's input, counting the 2 picked by default

    paralegal = StaffFactory(role=Role.PARALEGAL, totp=True)
    admin_login(client, paralegal)
    assert client.post(url, {"numbers": "2"}).status_code == 403


# --- the person's data --------------------------------------------------------------------------------------------


def test_the_signed_designation_is_in_the_data_download_and_kept_without_details_on_deletion(
    wave, lawyer, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)
    designation = signed_typed(wave, 2)
    user = designation.user
    out = io.BytesIO()
    user_data_export(user=user, out=out)
    archive = zipfile.ZipFile(out)
    row = json.loads(archive.read("data.json"))["designations"][0]
    assert row["pdf_sha256"] == designation.pdf_sha256 and row["wave"] == "1차 소송"
    assert hashlib.sha256(archive.read(row["pdf_in_zip"])).hexdigest() == designation.pdf_sha256

    deletion_request_confirm(deletion_request=deletion_request_create(user=user), actor=None)
    designation.refresh_from_db()
    assert designation.pdf_sha256 == row["pdf_sha256"]  # the signed document stays
    assert "박영희" not in json.dumps(designation.signer_snapshot, ensure_ascii=False)
    assert designation.typed_name == "(삭제됨)"


def test_the_route_exports_run_a_fixed_number_of_queries_whatever_the_number_of_designations(
    wave, lawyer, django_capture_on_commit_callbacks
):
    asked(wave, lawyer, django_capture_on_commit_callbacks)

    def queries(kind: str) -> int:
        job = export_request(kind=kind, actor=lawyer, wave=wave)
        with CaptureQueriesContext(connection) as captured:
            export_build(job_id=job.pk)
        return len(captured)

    kinds = (
        ExportJob.Kind.DESIGNATION_BUNDLE,
        ExportJob.Kind.SELECTED_PARTIES_XLSX,
        ExportJob.Kind.SELECTORS_ANNEX_XLSX,
    )
    signed_typed(wave, 1)
    one = [queries(kind) for kind in kinds]
    signed_typed(wave, 2)
    signed_typed(wave, 3)
    assert [queries(kind) for kind in kinds] == one
