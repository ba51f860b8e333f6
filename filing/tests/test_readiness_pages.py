"""Filing readiness on the pages: the staff's checklist on the claim review page, the claim list's filter, the
claimant's "아직 필요한 것", the override in the admin and the freeze pages' list of who is left out and why."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from claims.models import Claim, InformationRequest
from claims.tests.factories import claim_estimated, default_incident
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry
from filing.models import Cohort, FilingWave, ReadinessOverride
from filing.selectors.cohorts import CohortCriteria, wave_candidates
from filing.selectors.readiness import wave_readiness
from filing.services.cohorts import cohort_save, filing_wave_create
from filing.services.readiness import readiness_override_grant
from filing.tests.readiness import claim_ready, plaintiff_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def lawyer():
    return staff_member(Role.LAWYER)


@pytest.fixture
def lawyer_client(lawyer):
    return admin_login(Client(), lawyer)


def all_claims_cohort(actor) -> Cohort:
    cohort = Cohort(name="전체", incident=default_incident())
    return cohort_save(cohort=cohort, criteria=CohortCriteria(), actor=actor)


def test_the_review_page_shows_the_checklist_and_offers_the_override(lawyer_client):
    claim = claim_ready(proof_of_use=False)
    page = lawyer_client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert 'data-testid="claim-readiness"' in page
    assert 'data-testid="readiness-proof_of_use" data-met="no"' in page
    assert 'data-testid="readiness-power_of_attorney" data-met="yes"' in page
    assert "이용 증빙이 없는 서비스: 카카오T" in page
    assert f"{reverse('admin:filing_readinessoverride_add')}?claim={claim.pk}" in page


def test_a_paralegal_sees_the_checklist_but_no_override(client):
    claim = claim_ready(proof_of_use=False)
    paralegal = admin_login(client, staff_member(Role.PARALEGAL))
    assert paralegal
    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert 'data-testid="readiness-proof_of_use" data-met="no"' in page
    assert 'data-testid="readiness-override-add"' not in page


def test_the_claim_list_filters_ready_not_ready_and_missing_one_condition(lawyer_client):
    ready = claim_ready()
    no_proof = claim_ready(proof_of_use=False)
    url = reverse("admin:claims_claim_changelist")

    def listed(value: str) -> set[str]:
        page = lawyer_client.get(url, {"filing_ready": value}).content.decode()
        return {code for code in (ready.reference_code, no_proof.reference_code) if code in page}

    assert listed("yes") == {ready.reference_code}
    assert listed("no") == {no_proof.reference_code}
    assert listed("missing_proof_of_use") == {no_proof.reference_code}
    assert listed("missing_power_of_attorney") == set()
    assert "소 제기 준비" in lawyer_client.get(url).content.decode()


def test_the_claimant_reads_what_is_still_missing_in_plain_words(client):
    claim = claim_ready(status=Claim.Status.IN_REVIEW, proof_of_use=False)
    client.force_login(claim.claimant)
    page = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert "아직 필요한 것" in page
    assert "장애 시간에 서비스를 쓰고 있었다는 화면(캡처)을 서비스마다 올려 주세요." in page
    assert "변호사가 신청을 검토하고 있습니다" in page
    assert "플래그" not in page and "증명 수준" not in page  # staff words stay on the staff side


def test_a_ready_claimant_is_told_nothing_is_missing(client):
    claim = claim_ready()
    client.force_login(claim.claimant)
    page = client.get(reverse("claims:detail", args=[claim.pk])).content.decode()
    assert 'data-testid="readiness-done"' in page


def test_a_lawyer_overrides_from_the_admin_with_a_reason(lawyer_client, lawyer):
    claim = claim_ready(proof_of_use=False)
    add = reverse("admin:filing_readinessoverride_add")
    response = lawyer_client.post(add, {"claim": claim.pk, "reason": ""})
    assert response.status_code == 200 and not ReadinessOverride.objects.exists()
    response = lawyer_client.post(add, {"claim": claim.pk, "reason": "원본 영수증을 우편으로 받음"})
    assert response.status_code == 302
    override = ReadinessOverride.objects.get()
    assert (override.created_by, override.reason) == (lawyer, "원본 영수증을 우편으로 받음")
    assert AuditEntry.objects.filter(claim_id=claim.pk, data__readiness_override="granted").exists()
    response = lawyer_client.post(add, {"claim": claim.pk, "reason": "또"})
    assert "이미 예외가 있습니다" in response.content.decode()

    response = lawyer_client.post(
        reverse("admin:filing_readinessoverride_changelist"),
        {"action": "revoke_selected", "_selected_action": [override.pk]},
    )
    assert response.status_code == 302
    override.refresh_from_db()
    assert override.revoked_by == lawyer
    assert AuditEntry.objects.filter(claim_id=claim.pk, data__readiness_override="revoked").exists()


@pytest.mark.parametrize("role", [Role.PARALEGAL, Role.VIEWER])
def test_other_staff_cannot_override_in_the_admin(client, role):
    claim = claim_ready(proof_of_use=False)
    admin_login(client, staff_member(role))
    response = client.post(reverse("admin:filing_readinessoverride_add"), {"claim": claim.pk, "reason": "사유"})
    assert response.status_code == 403
    assert not ReadinessOverride.objects.exists()


def test_the_freeze_page_shows_who_is_left_out_and_why_and_warns_before_freezing(lawyer_client, lawyer):
    claim_ready()
    no_proof = claim_ready(proof_of_use=False)
    in_review = claim_ready(status=Claim.Status.IN_REVIEW)
    zero = claim_ready()
    Claim.objects.filter(pk=zero.pk).update(estimate_total=0)
    asked = claim_ready()
    InformationRequest.objects.create(
        claim=asked, requested_by=lawyer, message="캡처", due_date=timezone.localdate() + dt.timedelta(days=3)
    )
    overridden = claim_ready(proof_of_use=False)
    readiness_override_grant(claim=overridden, reason="우편 접수", actor=lawyer)
    wave = filing_wave_create(cohort=all_claims_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)

    page = lawyer_client.get(reverse("admin:filing_filingwave_freeze", args=[wave.pk])).content.decode()
    assert 'data-testid="wave-readiness"' in page
    assert f'data-testid="blocked-{no_proof.reference_code}"' in page
    assert f'data-testid="blocked-{in_review.reference_code}"' in page
    assert f'data-testid="blocked-{asked.reference_code}"' in page
    assert f'data-testid="blocked-{overridden.reference_code}"' not in page
    assert "이용 증빙이 없는 서비스: 카카오T" in page and "변호사가 아직 승인하지 않았습니다" in page
    assert "청구금액이 0원인 원고 1명" in page
    assert "이용 증빙이 없는 원고 1명이 (예외로) 들어갑니다" in page
    readiness = wave_readiness(candidates=wave_candidates(cohort=wave.cohort))
    assert (readiness.candidates, readiness.taken, readiness.overridden, readiness.left_out) == (6, 3, 1, 3)

    lawyer_client.post(reverse("admin:filing_filingwave_freeze", args=[wave.pk]))
    wave.refresh_from_db()
    assert wave.status == FilingWave.Status.FROZEN
    assert set(wave.members.values_list("claim_id", flat=True)) == {
        Claim.objects.exclude(pk__in=[no_proof.pk, in_review.pk, asked.pk, overridden.pk, zero.pk]).get().pk,
        zero.pk,
        overridden.pk,
    }
    cohort_page = reverse("admin:filing_cohort_freeze", args=[wave.cohort_id])
    assert 'data-testid="wave-readiness"' in lawyer_client.get(cohort_page).content.decode()


@pytest.mark.parametrize("size", [3, 12])
def test_the_freeze_page_costs_the_same_queries_whatever_the_number_of_claims(
    lawyer_client, lawyer, size, django_assert_max_num_queries
):
    claimant = plaintiff_ready()
    claim_ready(claimant=claimant)
    for _ in range(size):
        claim_estimated(status=Claim.Status.ACCEPTED, proof_of_use=False)
    wave = filing_wave_create(cohort=all_claims_cohort(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    with django_assert_max_num_queries(22):
        page = lawyer_client.get(reverse("admin:filing_filingwave_freeze", args=[wave.pk])).content.decode()
    assert page.count('data-testid="blocked-') == size


@pytest.mark.parametrize("size", [2, 10])
def test_wave_readiness_is_a_fixed_number_of_queries_whatever_the_number_of_claims(
    lawyer, size, django_assert_num_queries
):
    for _ in range(size):
        claim_estimated(status=Claim.Status.ACCEPTED, proof_of_use=False)
    cohort = all_claims_cohort(lawyer)
    # the savepoint, JIT off, the fee terms, the counts, the first claims left out, the release
    with django_assert_num_queries(6):
        readiness = wave_readiness(candidates=wave_candidates(cohort=cohort))
        assert len(readiness.blocked) == size
