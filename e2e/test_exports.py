"""A lawyer in a real browser builds a cohort, freezes it into a filing wave, and exports the plaintiff list annex
and the evidence bundle; the files are built by a real Celery worker while the page shows the progress, then
downloaded."""

import csv
import hashlib
import io
import re
import zipfile

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.roles import Role
from claims.models import Claim
from claims.tests.factories import claim_estimated, default_incident
from claims.tests.staff import staff_member
from e2e.test_staff_review import sign_in_to_admin
from filing.models import FilingWave
from filing.tests.readiness import claim_ready, plaintiff_ready

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

NAMES = ["김철수", "박영희", "이민준"]


def csp_problems(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def export_and_download(page, kind: str) -> tuple[str, bytes]:
    """Start an export from the wave page, watch its progress page until the file is ready, download it."""
    page.get_by_test_id(f"export-{kind}").click()
    expect(page).to_have_url(re.compile(r"/admin/filing/exportjob/\d+/status/$"))
    expect(page.get_by_test_id("export-download")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("export-status")).to_have_text("완료")
    with page.expect_download() as info:
        page.get_by_test_id("export-download").click()
    with open(info.value.path(), "rb") as downloaded:
        return info.value.suggested_filename, downloaded.read()


def test_lawyer_builds_a_cohort_freezes_a_wave_and_downloads_the_annex_and_evidence(desktop_page, celery_worker):
    for name in NAMES:
        claim_ready(claimant=plaintiff_ready(legal_name=name))  # ready for filing: a freeze takes them
    claim_estimated(status=Claim.Status.IN_REVIEW)  # not in the cohort: only accepted claims
    lawyer = staff_member(Role.LAWYER)
    page = desktop_page
    problems = csp_problems(page)
    sign_in_to_admin(page, lawyer)

    page.goto(page.live_server_url + "/admin/filing/cohort/add/")
    page.get_by_label("이름").fill("승인된 택시 신청")
    page.get_by_label("사고").select_option(str(default_incident().pk))
    page.locator("#id_statuses").get_by_label("승인").check()
    page.get_by_label("장애 당시 이용 증빙").select_option("yes")
    page.locator("input[name=_continue]").click()

    expect(page.get_by_test_id("cohort-count")).to_have_text("3건")
    page.get_by_test_id("cohort-freeze-link").click()
    page.get_by_label("차수 이름").fill("1차 소송")
    expect(page.get_by_label("법원")).to_have_value("서울중앙지방법원")
    page.get_by_test_id("freeze-submit").click()

    expect(page.get_by_test_id("wave-member-count")).to_have_text("3명")
    members = page.get_by_test_id("wave-members")
    for name in NAMES:
        expect(members).to_contain_text(name)
    wave = FilingWave.objects.get()
    assert wave.status == FilingWave.Status.FROZEN

    file_name, annex = export_and_download(page, "annex_pdf")
    assert file_name.endswith(".pdf") and "원고목록" in file_name
    text = "\n".join(pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(annex)).pages)
    for name in NAMES:
        assert name in text
    assert f"금 {wave.claimed_total:,}원" in text

    page.goto(page.live_server_url + f"/admin/filing/filingwave/{wave.pk}/change/")
    file_name, bundle = export_and_download(page, "evidence_bundle")
    assert file_name.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(bundle))
    manifest = archive.read("manifest.csv")
    assert archive.read("manifest.csv.sha256").decode().split()[0] == hashlib.sha256(manifest).hexdigest()
    rows = list(csv.DictReader(io.StringIO(manifest.decode("utf-8-sig"))))
    assert [row["원고 번호"] for row in rows] == ["1", "2", "3"]
    for row in rows:
        assert hashlib.sha256(archive.read(row["ZIP 안 경로"])).hexdigest() == row["SHA-256"]
    assert problems == []
