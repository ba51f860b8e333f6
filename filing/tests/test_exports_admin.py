"""Cohorts, waves and exports in the admin: who may reach the export URLs, and the pages a lawyer works through."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory
from claims.models import Claim
from claims.tests.factories import claim_estimated, default_incident, service_by_slug
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry
from filing.models import Cohort, ExportJob, FilingWave
from filing.selectors.cohorts import CohortCriteria
from filing.services.cohorts import cohort_freeze_wave, cohort_save, filing_wave_create
from filing.services.exports import export_build, export_request
from filing.tests.readiness import claim_ready, overrides_for_every_claim, plaintiff_ready

pytestmark = pytest.mark.django_db

WAVE_DETAILS = {
    "name": "1차 소송",
    "court": "서울중앙지방법원",
    "case_name": "손해배상(기)",
    "defendant": "주식회사 카카오",
}


@pytest.fixture
def lawyer():
    return staff_member(Role.LAWYER)


@pytest.fixture
def lawyer_client(lawyer):
    return admin_login(Client(), lawyer)


def cohort_of_accepted(actor) -> Cohort:
    cohort = Cohort(name="승인된 신청", incident=default_incident())
    return cohort_save(cohort=cohort, criteria=CohortCriteria(statuses=(Claim.Status.ACCEPTED,)), actor=actor)


@pytest.fixture
def wave_and_job(lawyer):
    claim_ready(claimant=plaintiff_ready(legal_name="김철수"))
    cohort = cohort_of_accepted(lawyer)
    wave = cohort_freeze_wave(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
    job = export_build(job_id=export_request(kind=ExportJob.Kind.CLAIMS_CSV, actor=lawyer, wave=wave).pk)
    return cohort, wave, job


def export_urls(cohort: Cohort, wave: FilingWave, job: ExportJob) -> list[tuple[str, str]]:
    return [
        ("post", reverse("admin:filing_cohort_export", args=[cohort.pk])),
        ("post", reverse("admin:filing_filingwave_export", args=[wave.pk])),
        ("get", reverse("admin:filing_exportjob_status", args=[job.pk])),
        ("get", reverse("admin:filing_exportjob_progress", args=[job.pk])),
        ("get", reverse("admin:filing_exportjob_download", args=[job.pk])),
        ("get", reverse("admin:filing_exportjob_change", args=[job.pk])),
    ]


@pytest.mark.parametrize("role", [Role.PARALEGAL, Role.VIEWER])
def test_staff_without_the_export_permission_get_403_on_every_export_url(role, wave_and_job):
    client = admin_login(Client(), staff_member(role))
    for method, url in export_urls(*wave_and_job):
        response = getattr(client, method)(url, {"kind": ExportJob.Kind.CLAIMS_CSV})
        assert response.status_code == 403, url
    assert ExportJob.objects.count() == 1


def test_a_signed_in_claimant_gets_403_on_every_export_url(wave_and_job):
    client = Client()
    client.force_login(ClaimantFactory())
    for method, url in export_urls(*wave_and_job)[:5]:
        response = getattr(client, method)(url, {"kind": ExportJob.Kind.CLAIMS_CSV})
        assert response.status_code == 403, url


def test_anonymous_visitors_are_sent_to_the_staff_login_from_every_export_url(wave_and_job):
    client = Client()
    for method, url in export_urls(*wave_and_job):
        response = getattr(client, method)(url, {"kind": ExportJob.Kind.CLAIMS_CSV})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_staff_signed_in_with_a_password_only_cannot_reach_exports(wave_and_job, lawyer):
    client = Client()
    client.force_login(lawyer)  # no authenticator code yet
    response = client.get(reverse("admin:filing_exportjob_download", args=[wave_and_job[2].pk]))
    assert response.status_code == 302


def test_a_lawyer_downloads_an_export_as_a_private_attachment(lawyer_client, wave_and_job, lawyer):
    job = wave_and_job[2]
    response = lawyer_client.get(reverse("admin:filing_exportjob_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf") and "김철수".encode() in body
    assert AuditEntry.objects.filter(actor=lawyer, action=AuditEntry.Action.EXPORTED, data__event="downloaded").exists()


def test_an_expired_export_is_refused_with_410(lawyer_client, wave_and_job):
    job = wave_and_job[2]
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = lawyer_client.get(reverse("admin:filing_exportjob_download", args=[job.pk]))
    assert response.status_code == 410
    assert "보관 기간이 지나 파일을 지웠습니다" in response.content.decode()


def test_requesting_an_export_builds_it_and_shows_its_progress_page(
    lawyer_client, wave_and_job, django_capture_on_commit_callbacks
):
    _cohort, wave, _job = wave_and_job
    with django_capture_on_commit_callbacks(execute=True):
        response = lawyer_client.post(
            reverse("admin:filing_filingwave_export", args=[wave.pk]), {"kind": ExportJob.Kind.ANNEX_PDF}
        )
    job = ExportJob.objects.get(kind=ExportJob.Kind.ANNEX_PDF)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:filing_exportjob_status", args=[job.pk])

    page = lawyer_client.get(response["Location"])
    content = page.content.decode()
    assert page.status_code == 200
    assert reverse("admin:filing_exportjob_download", args=[job.pk]) in content
    assert "js/export-progress.js" not in content  # finished: nothing left to poll

    progress = lawyer_client.get(reverse("admin:filing_exportjob_progress", args=[job.pk])).json()
    assert progress["status"] == "done" and progress["percent"] == 100 and progress["finished"] is True
    assert progress["download_url"] == reverse("admin:filing_exportjob_download", args=[job.pk])


def test_a_running_export_page_polls_with_the_script_and_refreshes_without_it(lawyer_client, wave_and_job, lawyer):
    wave = wave_and_job[1]
    job = ExportJob.objects.create(kind=ExportJob.Kind.EVIDENCE_BUNDLE, wave=wave, requested_by=lawyer)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, done=5, total=20)
    content = lawyer_client.get(reverse("admin:filing_exportjob_status", args=[job.pk])).content.decode()
    assert "js/export-progress.js" in content
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in content
    assert 'value="25"' in content
    progress = lawyer_client.get(reverse("admin:filing_exportjob_progress", args=[job.pk])).json()
    assert (progress["done"], progress["total"], progress["percent"], progress["finished"]) == (5, 20, 25, False)
    assert progress["download_url"] == ""


def test_court_documents_cannot_be_requested_for_a_cohort(lawyer_client, wave_and_job):
    cohort = wave_and_job[0]
    response = lawyer_client.post(
        reverse("admin:filing_cohort_export", args=[cohort.pk]), {"kind": ExportJob.Kind.ANNEX_PDF}, follow=True
    )
    assert "원고가 확정된 차수에서만" in response.content.decode()
    assert not ExportJob.objects.filter(kind=ExportJob.Kind.ANNEX_PDF).exists()


def test_a_lawyer_saves_a_cohort_sees_its_preview_and_freezes_it_into_a_wave(lawyer_client):
    taxi = claim_ready(claimant=plaintiff_ready(legal_name="김철수"))
    claim_estimated(status=Claim.Status.REJECTED)
    response = lawyer_client.post(
        reverse("admin:filing_cohort_add"),
        {
            "name": "택시 승인",
            "incident": default_incident().pk,
            "services": [service_by_slug("kakao-t").slug],
            "statuses": [Claim.Status.ACCEPTED],
            "estimate_min": "1000",
            "proof_of_use": "yes",
            "_continue": "1",
        },
    )
    cohort = Cohort.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert cohort.criteria == {
        "services": ["kakao-t"],
        "statuses": ["accepted"],
        "estimate_min": 1000,
        "proof_of_use": True,
    }
    page = lawyer_client.get(reverse("admin:filing_cohort_change", args=[cohort.pk])).content.decode()
    assert 'data-testid="cohort-count">1건' in page
    assert f"{taxi.estimate_total:,}원" in page
    assert reverse("admin:filing_cohort_freeze", args=[cohort.pk]) in page

    freeze = reverse("admin:filing_cohort_freeze", args=[cohort.pk])
    assert lawyer_client.get(freeze).status_code == 200
    response = lawyer_client.post(
        freeze,
        {"name": "1차 소송", "court": "서울중앙지방법원", "case_name": "손해배상(기)", "defendant": "주식회사 카카오"},
    )
    wave = FilingWave.objects.get()
    assert response["Location"] == reverse("admin:filing_filingwave_change", args=[wave.pk])
    page = lawyer_client.get(response["Location"]).content.decode()
    assert "김철수" in page and taxi.reference_code in page
    assert 'data-testid="export-annex_pdf"' in page


def test_an_invalid_cohort_keeps_what_was_entered(lawyer_client):
    response = lawyer_client.post(
        reverse("admin:filing_cohort_add"),
        {"name": "범위 오류", "incident": default_incident().pk, "estimate_min": "5000", "estimate_max": "100"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "최대 산정액은 최소 산정액보다 크거나 같아야 합니다" in content
    assert 'value="범위 오류"' in content and 'value="5000"' in content


def test_a_refused_freeze_shows_why_and_keeps_the_wave_details(lawyer_client, lawyer):
    claim_estimated(status=Claim.Status.REJECTED)
    cohort = cohort_save(
        cohort=Cohort(name="전체", incident=default_incident()), criteria=CohortCriteria(), actor=lawyer
    )
    response = lawyer_client.post(
        reverse("admin:filing_cohort_freeze", args=[cohort.pk]),
        {**WAVE_DETAILS, "court": "서울남부지방법원"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "소 제기 준비가 끝난 신청이 없습니다" in content  # the rejected claim is left out: nobody to freeze
    assert 'value="서울남부지방법원"' in content
    assert not FilingWave.objects.exists()


def test_a_withdrawal_after_the_freeze_is_marked_on_the_wave_page(lawyer_client, wave_and_job):
    wave = wave_and_job[1]
    Claim.objects.update(status=Claim.Status.WITHDRAWN, withdrawn_at=timezone.now())
    content = lawyer_client.get(reverse("admin:filing_filingwave_change", args=[wave.pk])).content.decode()
    assert "김철수" in content
    assert 'class="cohort-withdrawn"' in content
    assert 'data-testid="wave-withdrawn">1명' in content


def test_a_draft_wave_is_frozen_from_its_page_and_then_marked_filed(lawyer_client, lawyer):
    claim_ready()
    draft = filing_wave_create(cohort=cohort_of_accepted(lawyer), name="2차", court="서울중앙지방법원", actor=lawyer)
    page = lawyer_client.get(reverse("admin:filing_filingwave_change", args=[draft.pk])).content.decode()
    assert reverse("admin:filing_filingwave_freeze", args=[draft.pk]) in page
    assert 'data-testid="export-' not in page  # nothing to export before the freeze

    lawyer_client.post(reverse("admin:filing_filingwave_freeze", args=[draft.pk]))
    draft.refresh_from_db()
    assert (draft.status, draft.member_count) == (FilingWave.Status.FROZEN, 1)

    response = lawyer_client.post(
        reverse("admin:filing_filingwave_filed", args=[draft.pk]),
        {"case_number": "2024가합123456", "filed_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.case_number) == (FilingWave.Status.FILED, "2024가합123456")


def test_wave_pages_cost_a_fixed_number_of_queries(lawyer_client, lawyer, django_assert_max_num_queries):
    for _ in range(30):
        claim_estimated(status=Claim.Status.ACCEPTED, proof_of_use=False)
    overrides_for_every_claim(lawyer)
    wave = cohort_freeze_wave(cohort=cohort_of_accepted(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    with django_assert_max_num_queries(25):
        assert lawyer_client.get(reverse("admin:filing_filingwave_change", args=[wave.pk])).status_code == 200
    with django_assert_max_num_queries(25):
        assert lawyer_client.get(reverse("admin:filing_cohort_change", args=[wave.cohort_id])).status_code == 200
    with django_assert_max_num_queries(20):
        assert lawyer_client.get(reverse("admin:filing_exportjob_changelist")).status_code == 200
