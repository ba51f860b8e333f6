"""Exports of cohorts and filing waves: the files, their safety, their expiry and their cost in queries."""

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import ConsentDocument
from accounts.roles import Role
from accounts.services.consents import consent_accept
from accounts.services.signing import power_of_attorney_sign
from accounts.tasks import power_of_attorney_pdf_render_task
from accounts.tests.factories import ClaimantFactory, StaffFactory, consent_documents_published, identity_verified
from claims.models import Claim, Evidence
from claims.tests.factories import (
    EvidenceFactory,
    claim_estimated,
    claimant_ready,
    default_incident,
    pdf_bytes,
    png_bytes,
)
from config.celery import app as celery_app
from core.audit import RequestMeta
from core.models import AuditEntry
from filing import exports as writers
from filing.exports import Sheet, safe_file_name, spreadsheet_safe, xlsx_write
from filing.models import Cohort, ExportJob, FilingWave
from filing.selectors.cohorts import CohortCriteria
from filing.services import exports as export_services
from filing.services.cohorts import cohort_freeze_wave as freeze
from filing.services.cohorts import cohort_save, filing_wave_create
from filing.services.exports import (
    ExportError,
    ExportExpiredError,
    claim_sheet_header,
    export_build,
    export_download_open,
    export_request,
)
from filing.services.exports import sheets as export_sheets
from filing.tasks.exports import export_build_task, export_expire_task
from filing.tests.readiness import overrides_for_every_claim

pytestmark = pytest.mark.django_db

NAMES = ["김철수", "박영희", "이민준"]
AMOUNT = re.compile(r"금 ([\d,]+)원")


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


def accepted_claim(name: str, **kwargs) -> Claim:
    return claim_estimated(status=Claim.Status.ACCEPTED, claimant=ClaimantFactory(legal_name=name), **kwargs)


def cohort_freeze_wave(**kwargs) -> FilingWave:
    """Freeze with every claim let through by a readiness override: these tests are about what a frozen wave's
    exports hold, not about who may join it (test_readiness.py)."""
    overrides_for_every_claim(kwargs["actor"])
    return freeze(**kwargs)


def cohort_of_all(actor) -> Cohort:
    cohort = Cohort(name="승인된 신청", incident=default_incident())
    return cohort_save(cohort=cohort, criteria=CohortCriteria(statuses=(Claim.Status.ACCEPTED,)), actor=actor)


def frozen_wave(actor, names=NAMES, name="1차 소송") -> FilingWave:
    for index, claimant_name in enumerate(names):
        accepted_claim(claimant_name, monthly_fee=39_000 if index % 2 == 0 else 22_000)
    return cohort_freeze_wave(cohort=cohort_of_all(actor), name=name, court="서울중앙지방법원", actor=actor)


def exported(actor, kind: str, **scope) -> bytes:
    """Request an export, build it as the task would, and return the file's bytes."""
    job = export_request(kind=kind, actor=actor, **scope)
    job = export_build(job_id=job.pk)
    assert job.status == ExportJob.Status.DONE, job.error
    with job.file.open("rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == job.sha256
    assert len(data) == job.size
    return data


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def withdraw(claim: Claim) -> None:
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.WITHDRAWN, withdrawn_at=timezone.now())


# --- the claim sheet (CSV and XLSX) -------------------------------------------------------------------------------


def test_claim_sheet_csv_has_a_bom_the_documented_columns_and_one_row_per_plaintiff(lawyer):
    wave = frozen_wave(lawyer)
    rows = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, wave=wave))
    header = claim_sheet_header()
    assert rows[0] == header
    assert len(header) == 33
    by_column = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [row["원고 번호"] for row in by_column] == ["1", "2", "3"]
    assert [row["성명"] for row in by_column] == NAMES
    first = wave.members.get(number=1)
    assert by_column[0]["산정액 합계"] == str(first.amount_claimed)
    assert by_column[0]["신청액: 유료 서비스 이용료"] == "39000"
    assert by_column[0]["휴대전화"].startswith("010-")
    assert by_column[0]["상태"] == "승인"
    assert by_column[0]["피해 서비스"] == "카카오T (택시·대리 등)"
    assert {row["증명 수준"] for row in by_column} == {"이메일만"}  # typed signatures, no identity check


@pytest.mark.parametrize("kind", [ExportJob.Kind.CLAIMS_CSV, ExportJob.Kind.CLAIMS_XLSX])
def test_on_another_database_the_claim_sheet_is_built_row_by_row_with_the_same_content(lawyer, monkeypatch, kind):
    """The SQLite of `make run` has no COPY nor jsonb: the export job takes the row builder there."""
    wave = frozen_wave(lawyer)
    in_sql = exported(lawyer, kind, wave=wave)
    monkeypatch.setattr(export_sheets, "claim_sheet_in_sql", lambda: False)
    with CaptureQueriesContext(connection) as queries:
        row_by_row = exported(lawyer, kind, wave=wave)
    assert not any("COPY" in query["sql"] for query in queries.captured_queries)
    if kind == ExportJob.Kind.CLAIMS_CSV:
        assert row_by_row == in_sql
    else:
        sheets = [load_workbook(io.BytesIO(data)).active for data in (in_sql, row_by_row)]
        assert [[cell.value for cell in row] for row in sheets[0].iter_rows()] == [
            [cell.value for cell in row] for row in sheets[1].iter_rows()
        ]


def test_the_claim_sheet_shows_each_plaintiffs_proof_level_marked_sandbox(lawyer):
    wave = frozen_wave(lawyer)
    first = wave.members.get(number=1).claim.claimant
    identity_verified(first)
    second = wave.members.get(number=2).claim.claimant
    second.phone_verified_at = timezone.now()
    second.save(update_fields=["phone_verified_at"])
    rows = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, wave=wave))
    levels = [dict(zip(rows[0], row, strict=True))["증명 수준"] for row in rows[1:]]
    assert levels == ["본인인증 (SANDBOX)", "휴대전화 인증", "이메일만"]


def test_a_cohort_exports_its_live_claims_without_plaintiff_numbers(lawyer):
    accepted_claim("김철수")
    cohort = cohort_of_all(lawyer)
    rows = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, cohort=cohort))
    assert [row[:3] for row in rows[1:]] == [["", Claim.objects.get().reference_code, "김철수"]]


def test_formula_in_a_name_is_exported_inert_in_csv_and_xlsx(lawyer):
    formula = '=HYPERLINK("http://x","y")'
    claim = accepted_claim(formula)
    Claim.objects.filter(pk=claim.pk).update(business_name="+82 상호", claimant_type=Claim.ClaimantType.COMPANY)
    wave = cohort_freeze_wave(cohort=cohort_of_all(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)

    rows = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, wave=wave))
    assert rows[1][2] == "'" + formula
    assert rows[1][3] == "'+82 상호"

    workbook = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.CLAIMS_XLSX, wave=wave)))
    cell = workbook.active.cell(row=2, column=3)
    assert cell.value == "'" + formula
    assert cell.data_type != "f"
    numbers = workbook.active.cell(row=2, column=24)
    assert isinstance(numbers.value, int)  # amounts stay numbers

    annex = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_XLSX, wave=wave))).active
    name_cell = next(row[1] for row in annex.iter_rows() if row[0].value == 1)
    assert name_cell.value.startswith("'+82 상호 (대표자 =HYPERLINK")
    assert name_cell.data_type != "f"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_trigger_is_neutralised(prefix):
    assert spreadsheet_safe(prefix + "1+1") == "'" + prefix + "1+1"
    assert spreadsheet_safe("김철수") == "김철수"
    assert spreadsheet_safe(-5000) == -5000


# --- the annex and the claim amount sheet ---------------------------------------------------------------------


def test_annex_pdf_text_has_the_names_and_amounts_and_the_total_is_the_sum_of_the_rows(lawyer):
    wave = frozen_wave(lawyer)
    text = pdf_text(exported(lawyer, ExportJob.Kind.ANNEX_PDF, wave=wave))

    for name in NAMES:
        assert name in text
    assert "서울중앙지방법원" in text and "- 1 -" in text
    amounts = [int(amount.replace(",", "")) for amount in AMOUNT.findall(text)]
    *rows, subtotal, total = amounts  # the plaintiffs here are all of one claim tier: its subtotal, then the total
    assert rows == list(wave.members.order_by("number").values_list("amount_claimed", flat=True))
    assert total == subtotal == sum(rows) == wave.claimed_total
    assert f"1. {NAMES[0]}" in text.replace("\n", " ")


def test_a_long_annex_is_rendered_in_parts_with_page_numbers_continuing(lawyer, monkeypatch):
    original = writers.pdf_table_write
    monkeypatch.setattr(
        export_sheets, "pdf_table_write", lambda out, **kwargs: original(out, **{**kwargs, "rows_per_part": 1})
    )
    wave = frozen_wave(lawyer)
    reader = PdfReader(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_PDF, wave=wave)))
    assert len(reader.pages) == 3
    assert [f"- {number} -" in page.extract_text() for number, page in enumerate(reader.pages, start=1)] == [True] * 3
    assert "원 고" in reader.pages[0].extract_text() and "합계" in reader.pages[2].extract_text()


def test_a_frozen_waves_annex_is_unchanged_after_a_member_claim_is_edited(lawyer):
    wave = frozen_wave(lawyer)
    before = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_XLSX, wave=wave))).active
    before_rows = [[cell.value for cell in row] for row in before.iter_rows()]

    claim = wave.members.get(number=2).claim
    claim.claimant.legal_name = "바뀐이름"
    claim.claimant.address = "제주특별자치도 제주시 어딘가 9"
    claim.claimant.save()
    Claim.objects.filter(pk=claim.pk).update(estimate_total=1, claimed_total=1)

    after = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_XLSX, wave=wave))).active
    assert [[cell.value for cell in row] for row in after.iter_rows()] == before_rows
    text = pdf_text(exported(lawyer, ExportJob.Kind.ANNEX_PDF, wave=wave))
    assert NAMES[1] in text and "바뀐이름" not in text


def test_numbering_is_stable_when_the_wave_is_exported_again(lawyer):
    wave = frozen_wave(lawyer)
    first = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, wave=wave))
    accepted_claim("나중에")  # a new claim matching the cohort does not join a frozen wave
    second = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, wave=wave))
    assert [row[:3] for row in first] == [row[:3] for row in second]


def test_a_withdrawal_after_the_freeze_is_shown_in_every_list_not_dropped(lawyer):
    wave = frozen_wave(lawyer)
    withdrawn = wave.members.get(number=2)
    withdraw(withdrawn.claim)

    rows = csv_rows(exported(lawyer, ExportJob.Kind.CLAIMS_CSV, wave=wave))
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]
    assert [row[-1] for row in rows[1:]] == ["", "철회", ""]
    assert rows[2][-5] == "참여 철회"

    text = pdf_text(exported(lawyer, ExportJob.Kind.ANNEX_PDF, wave=wave))
    assert NAMES[1] in text and "확정 후 철회" in text
    remaining = wave.claimed_total - withdrawn.amount_claimed
    assert f"금 {remaining:,}원" in text

    annex = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.ANNEX_XLSX, wave=wave))).active
    values = [[cell.value for cell in row] for row in annex.iter_rows()]
    assert [row[4] for row in values if row[0] == 2] == ["확정 후 철회"]
    assert ["철회 제외", "2명", None, remaining, None, None] in values
    assert [row[5] for row in values if isinstance(row[0], int)] == ["이메일만"] * 3  # the proof level column


def test_claim_amount_sheet_columns_add_up_to_each_amount_and_to_the_totals(lawyer):
    wave = frozen_wave(lawyer)
    sheet = load_workbook(io.BytesIO(exported(lawyer, ExportJob.Kind.AMOUNTS_XLSX, wave=wave))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    rows = [row for row in values if isinstance(row[0], int)]
    assert [row[0] for row in rows] == [1, 2, 3]
    for row in rows:
        assert sum(row[2:8]) == row[8]
    total = next(row for row in values if row[0] == "합계")
    assert total[2:9] == [sum(row[index] for row in rows) for index in range(2, 9)]
    assert total[8] == wave.claimed_total

    text = pdf_text(exported(lawyer, ExportJob.Kind.AMOUNTS_PDF, wave=wave))
    assert "청구금액" in text and f"금 {wave.claimed_total:,}원" in text


# --- standing packs and evidence bundles ------------------------------------------------------------------------


def signed_claimant(name: str):
    """A claimant who accepted the consents and signed the power of attorney for real (PDF with certificate)."""
    documents = consent_documents_published()
    claimant = ClaimantFactory(legal_name=name)
    meta = RequestMeta(ip="203.0.113.7", user_agent="test")
    consent_accept(user=claimant, document=documents[ConsentDocument.Kind.PRIVACY_REQUIRED], meta=meta)
    identity_verified(claimant)
    power = power_of_attorney_sign(
        user=claimant, document=documents[ConsentDocument.Kind.POWER_OF_ATTORNEY], meta=meta, typed_name=name
    )
    power_of_attorney_pdf_render_task(power.pk)  # what the `documents` worker does after commit
    return claimant


def test_standing_pack_has_a_pdf_per_plaintiff_with_the_signed_power_of_attorney_and_proof_of_use(lawyer):
    claimant = signed_claimant("김철수")
    claim = claim_estimated(status=Claim.Status.ACCEPTED, claimant=claimant)
    document = pdf_bytes()
    EvidenceFactory(
        claim=claim,
        file=ContentFile(document, name="use.pdf"),
        content_type="application/pdf",
        original_name="이용내역.pdf",
        size=len(document),
        sha256=hashlib.sha256(document).hexdigest(),
    )
    gone = accepted_claim("박영희")
    wave = cohort_freeze_wave(cohort=cohort_of_all(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    withdraw(gone)

    archive = zipfile.ZipFile(io.BytesIO(exported(lawyer, ExportJob.Kind.STANDING_PACK, wave=wave)))
    assert sorted(archive.namelist()) == ["0001_김철수.pdf", "SHA256SUMS", "index.csv", "index.pdf"]
    for line in archive.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest

    index = archive.read("index.csv").decode("utf-8-sig").splitlines()
    assert index[0].split(",")[4] == "증명 수준" and index[1].split(",")[4] == "본인인증 (SANDBOX)"
    pack = PdfReader(io.BytesIO(archive.read("0001_김철수.pdf")))
    text = "\n".join(page.extract_text() for page in pack.pages)
    power = claimant.powers_of_attorney.get()
    assert "김철수" in text and claim.reference_code in text
    assert power.document_number in text and "감사 증명서" in text  # the stored PDF's certificate page follows
    assert "서명 당시 기록과 일치합니다" in text
    assert text.count("203.0.113.7") >= 3  # the signature and both consent ledger entries
    with power.pdf.open("rb") as signed:
        poa_pages = len(PdfReader(io.BytesIO(signed.read())).pages)
    rendered = len(pack.pages) - poa_pages - 1  # the evidence PDF has one page
    assert rendered >= 2
    image_pages = [page for page in pack.pages[:rendered] if page.images]
    assert image_pages, "the proof-of-use picture is embedded"
    index = pdf_text(archive.read("index.pdf"))
    assert "김철수" in index and "박영희" not in index


def test_a_power_of_attorney_pdf_that_cannot_be_read_is_reported_not_appended(lawyer):
    claim_estimated(status=Claim.Status.ACCEPTED, claimant=claimant_ready(legal_name="최지우"))
    wave = cohort_freeze_wave(cohort=cohort_of_all(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    archive = zipfile.ZipFile(io.BytesIO(exported(lawyer, ExportJob.Kind.STANDING_PACK, wave=wave)))
    text = pdf_text(archive.read("0001_최지우.pdf"))
    assert "PDF를 읽을 수 없어 첨부하지 못했습니다" in text


def test_evidence_bundle_manifest_hashes_match_the_files_and_the_manifest_checksum_matches(lawyer):
    wave = frozen_wave(lawyer)
    first = wave.members.get(number=1).claim
    picture = png_bytes(color=(10, 20, 30))
    EvidenceFactory(
        claim=first,
        tag=Evidence.Tag.RECEIPT,
        file=ContentFile(picture, name="r.png"),
        original_name='../../영수증 "1월"?.png',
        size=len(picture),
        sha256=hashlib.sha256(picture).hexdigest(),
    )
    withdraw(wave.members.get(number=3).claim)

    archive = zipfile.ZipFile(io.BytesIO(exported(lawyer, ExportJob.Kind.EVIDENCE_BUNDLE, wave=wave)))
    manifest = archive.read("manifest.csv")
    digest, name = archive.read("manifest.csv.sha256").decode("ascii").split()
    assert name == "manifest.csv" and hashlib.sha256(manifest).hexdigest() == digest

    rows = csv_rows(manifest)
    header, entries = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert header[:2] == ["원고 번호", "접수번호"]
    assert len(entries) == 3  # plaintiffs 1 (two files) and 2; plaintiff 3 withdrew
    for entry in entries:
        data = archive.read(entry["ZIP 안 경로"])
        assert hashlib.sha256(data).hexdigest() == entry["SHA-256"]
        assert len(data) == int(entry["크기 (바이트)"])
        assert entry["비고"] == ""
    paths = [entry["ZIP 안 경로"] for entry in entries]
    assert paths[0].startswith(f"0001_{NAMES[0]}/proof_of_use_01_증빙") and paths[0].endswith(".png")
    assert paths[1] == f"0001_{NAMES[0]}/receipt_02_영수증_1월_.png"
    assert paths[2].startswith(f"0002_{NAMES[1]}/proof_of_use_01_")
    assert [entry["접수번호"] for entry in entries[:2]] == [first.reference_code] * 2
    assert not any(name.startswith("0003") for name in archive.namelist())


def test_a_file_missing_from_storage_is_noted_in_the_manifest(lawyer):
    wave = frozen_wave(lawyer, names=["김철수"])
    evidence = Evidence.objects.get()
    default_storage.delete(evidence.file.name)
    archive = zipfile.ZipFile(io.BytesIO(exported(lawyer, ExportJob.Kind.EVIDENCE_BUNDLE, wave=wave)))
    rows = csv_rows(archive.read("manifest.csv"))
    assert rows[1][5:8] == ["", "", ""]
    assert rows[1][-1] == "저장소에 파일이 없습니다"


# --- cost -------------------------------------------------------------------------------------------------------


def test_exports_run_a_fixed_number_of_queries_whatever_the_number_of_claims(lawyer):
    small = frozen_wave(lawyer, names=NAMES, name="작은 차수")
    large = frozen_wave(lawyer, names=[f"원고{index}" for index in range(30)], name="큰 차수")
    assert (small.member_count, large.member_count) == (3, 30)
    small_cohort = cohort_of_all(lawyer)

    def queries(kind: str, **scope) -> int:
        job = export_request(kind=kind, actor=lawyer, **scope)
        with CaptureQueriesContext(connection) as captured:
            export_build(job_id=job.pk)
        return len(captured)

    for kind in ExportJob.Kind.values:
        assert queries(kind, wave=large) == queries(kind, wave=small), kind
    # The job's bookkeeping, the sheet's three statements (test_claim_sheet.py) and one progress mark after the COPY.
    assert queries(ExportJob.Kind.CLAIMS_CSV, cohort=small_cohort) <= 7 + 3 + 1


# --- requests, downloads and expiry -------------------------------------------------------------------------------


def test_requesting_an_export_is_audited_and_builds_it_after_commit(lawyer, django_capture_on_commit_callbacks):
    wave = frozen_wave(lawyer, names=["김철수"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = export_request(kind=ExportJob.Kind.ANNEX_PDF, actor=lawyer, wave=wave)
        assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.PENDING
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert job.expires_at == job.finished_at + dt.timedelta(hours=24)
    assert job.file_name.endswith("_원고목록_" + timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M") + ".pdf")
    requested = AuditEntry.objects.get(action=AuditEntry.Action.EXPORTED, object_id=str(job.pk))
    assert requested.actor == lawyer
    assert requested.data == {"event": "requested", "kind": "annex_pdf", "cohort": None, "wave": wave.pk}

    export_download_open(job=job, actor=lawyer).close()
    downloaded = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORTED).first()
    assert downloaded.data["event"] == "downloaded" and downloaded.data["sha256"] == job.sha256


def test_staff_without_the_export_permission_can_neither_request_nor_download(lawyer):
    wave = frozen_wave(lawyer, names=["김철수"])
    job = export_build(job_id=export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, wave=wave).pk)
    for role in (Role.PARALEGAL, Role.VIEWER):
        staff = StaffFactory(role=role)
        with pytest.raises(PermissionDenied):
            export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=staff, wave=wave)
        with pytest.raises(PermissionDenied):
            export_download_open(job=job, actor=staff)


def test_court_documents_need_a_frozen_wave(lawyer):
    accepted_claim("김철수")
    cohort = cohort_of_all(lawyer)
    with pytest.raises(ExportError, match="원고가 확정된 차수에서만"):
        export_request(kind=ExportJob.Kind.ANNEX_PDF, actor=lawyer, cohort=cohort)
    with pytest.raises(ExportError, match="알 수 없는"):
        export_request(kind="bogus", actor=lawyer, cohort=cohort)
    draft = filing_wave_create(cohort=cohort, name="준비 중", court="서울중앙지방법원", actor=lawyer)
    with pytest.raises(ExportError, match="원고가 확정된 차수에서만"):
        export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, wave=draft)


def test_an_expired_export_is_deleted_from_storage_by_the_expiry_task(lawyer, settings):
    settings.EXPORT_TTL_HOURS = 2
    wave = frozen_wave(lawyer, names=["김철수"])
    old = export_build(job_id=export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, wave=wave).pk)
    fresh = export_build(job_id=export_request(kind=ExportJob.Kind.CLAIMS_XLSX, actor=lawyer, wave=wave).pk)
    assert fresh.expires_at - fresh.finished_at == dt.timedelta(hours=2)
    stored = old.file.name
    assert default_storage.exists(stored)
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert export_expire_task() == 1

    assert not default_storage.exists(stored)
    old.refresh_from_db()
    assert (old.status, old.file.name) == (ExportJob.Status.EXPIRED, "")
    assert default_storage.exists(fresh.file.name)
    with pytest.raises(ExportExpiredError):
        export_download_open(job=old, actor=lawyer)


def test_the_export_tasks_answer_to_their_names_from_claims_on_the_exports_queue(settings):
    """Messages queued before the move to filing, the beat schedule and retries name the tasks by these names."""
    for task, name in (
        (export_build_task, "claims.tasks.exports.export_build_task"),
        (export_expire_task, "claims.tasks.exports.export_expire_task"),
    ):
        assert task.name == name
        assert celery_app.tasks[name].run.__module__ == "filing.tasks.exports"
        assert celery_app.amqp.router.route({}, name)["queue"].name == "exports"
    assert settings.CELERY_BEAT_SCHEDULE["claims-export-expire"]["task"] == export_expire_task.name


def test_the_download_is_refused_once_past_expiry_even_before_the_task_runs(lawyer):
    wave = frozen_wave(lawyer, names=["김철수"])
    job = export_build(job_id=export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, wave=wave).pk)
    job.expires_at = timezone.now() - dt.timedelta(minutes=1)
    with pytest.raises(ExportExpiredError):
        export_download_open(job=job, actor=lawyer)


def test_a_failing_build_marks_the_job_failed_and_a_finished_job_is_not_built_twice(lawyer, monkeypatch):
    wave = frozen_wave(lawyer, names=["김철수"])
    done = export_build(job_id=export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, wave=wave).pk)
    assert export_build(job_id=done.pk).file.name == done.file.name

    def broken(job, out, progress):
        raise RuntimeError("disk full")

    builders = dict(export_services.BUILDERS)
    builders[ExportJob.Kind.ANNEX_PDF] = export_services.Builder(broken, lambda job: 1, "pdf", "x")
    monkeypatch.setattr(export_services, "BUILDERS", builders)
    job = export_request(kind=ExportJob.Kind.ANNEX_PDF, actor=lawyer, wave=wave)
    assert export_build_task.apply(args=[job.pk]).get() == "failed"
    job.refresh_from_db()
    assert (job.status, job.error, job.file.name) == (ExportJob.Status.FAILED, "RuntimeError", "")


# --- writers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("영수증.png", "영수증.png"),
        ("../../etc/passwd", "etc_passwd"),
        ('a:b*c?"d"<e>|f.pdf', "a_b_c_d_e_f.pdf"),
        ("   ", "file"),
        ("가" * 100 + ".jpeg", "가" * 75 + ".jpeg"),
        ("한\x00글\n파일.png", "한_글_파일.png"),
    ],
)
def test_safe_file_names(name, safe):
    assert safe_file_name(name) == safe


def test_xlsx_drops_characters_excel_cannot_hold():
    out = io.BytesIO()
    xlsx_write(out, [Sheet("s", ["a"], [["김\x01철수"]])])
    assert load_workbook(io.BytesIO(out.getvalue())).active.cell(row=2, column=1).value == "김철수"


def test_xlsx_keeps_types_formats_and_the_frozen_header():
    submitted = dt.datetime(2022, 10, 15, 15, 30, 5)
    sheet = Sheet(
        "s",
        ["번호", "성명", "청구금액", "접수"],
        [[1, "김철수", 1_234_000, submitted], [2, "http://example.com", None, None]],
        preamble=[["원고 목록"]],
        footer=lambda: [["합계", "2명", 1_234_000, ""]],
        money_columns=frozenset({2}),
    )
    out = io.BytesIO()
    assert xlsx_write(out, [sheet]) == 2

    worksheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert worksheet.freeze_panes == "A3"
    assert [cell.value for cell in worksheet[2]] == ["번호", "성명", "청구금액", "접수"]
    assert worksheet["A2"].font.bold
    assert (worksheet["C3"].value, worksheet["C3"].number_format) == (1_234_000, "#,##0")
    assert worksheet["D3"].value == submitted
    assert worksheet["B4"].value == "http://example.com" and worksheet["B4"].hyperlink is None
    assert worksheet["C4"].value is None
    total = worksheet["C5"]
    assert (total.value, total.number_format, total.font.bold) == (1_234_000, "#,##0", True)
