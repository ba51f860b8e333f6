"""Closed claims are anonymised once the retention period has passed; open claims are never touched."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import DeletionRequest, User
from claims.models import Claim, ClaimEvent, InformationRequest
from claims.services.retention import closed_claims_anonymise, closed_claims_due
from claims.tasks.retention import closed_claims_anonymise_task
from claims.tests.factories import ClaimFactory, EvidenceFactory, LossItemFactory, SubmittedClaimFactory

pytestmark = pytest.mark.django_db


def closed_claim(*, status: str, days_ago: int, **kwargs) -> Claim:
    when = timezone.now() - timedelta(days=days_ago)
    field = "decided_at" if status == Claim.Status.REJECTED else "withdrawn_at"
    claim = SubmittedClaimFactory(
        status=status,
        business_registration_number="1234567890",
        business_name="김씨네 분식",
        **{field: when},
        **kwargs,
    )
    LossItemFactory(claim=claim, kind="other", amount=50_000, description="배달 주문을 못 받아 손해를 봤습니다")
    EvidenceFactory(claim=claim)
    ClaimEvent.objects.create(claim=claim, actor=claim.claimant, kind=ClaimEvent.Kind.WITHDRAWN, message="개인 사정")
    return claim


@pytest.fixture(autouse=True)
def retention_days(settings):
    settings.CLOSED_CLAIM_RETENTION_DAYS = 30


@pytest.mark.parametrize("status", [Claim.Status.REJECTED, Claim.Status.WITHDRAWN])
def test_a_closed_claim_past_retention_loses_its_personal_data_and_files(status, django_capture_on_commit_callbacks):
    claim = closed_claim(status=status, days_ago=31)
    evidence = claim.evidence.get()
    InformationRequest.objects.create(
        claim=claim, requested_by=claim.claimant, message="영수증", due_date=timezone.localdate(), answer="여기 있어요"
    )
    stored = evidence.file.name
    assert default_storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        result = closed_claims_anonymise()

    claim.refresh_from_db()
    assert result["claims"] == 1
    assert claim.anonymised_at is not None
    assert claim.business_registration_number == claim.business_name == ""
    assert not claim.evidence.exists()
    assert not default_storage.exists(stored)
    assert claim.loss_items.get().description == ""
    assert claim.loss_items.get().amount == 50_000  # amounts stay for the statistics
    assert claim.information_requests.get().answer == ""
    assert not claim.events.filter(actor=claim.claimant).exclude(message="").exists()
    assert claim.events.filter(kind=ClaimEvent.Kind.UPDATED, data__files_removed=1).exists()


def test_claims_inside_the_retention_period_and_open_claims_are_kept():
    recent = closed_claim(status=Claim.Status.REJECTED, days_ago=29)
    accepted = SubmittedClaimFactory(status=Claim.Status.ACCEPTED, decided_at=timezone.now() - timedelta(days=400))
    draft = ClaimFactory()

    result = closed_claims_anonymise()

    assert result["claims"] == 0
    assert not Claim.objects.filter(pk__in=[recent.pk, accepted.pk, draft.pk], anonymised_at__isnull=False).exists()
    assert recent.evidence.exists()


def test_the_claimant_account_is_anonymised_when_nothing_else_is_open(django_capture_on_commit_callbacks):
    claim = closed_claim(status=Claim.Status.WITHDRAWN, days_ago=40)
    user = claim.claimant

    with django_capture_on_commit_callbacks(execute=True):
        result = closed_claims_anonymise()

    user.refresh_from_db()
    assert result["accounts"] == 1
    assert user.anonymised_at is not None and not user.is_active
    assert user.email.endswith("@deleted.invalid") and user.phone == "" and user.address == ""
    assert DeletionRequest.objects.get(user=user).status == DeletionRequest.Status.CONFIRMED


def test_a_claimant_with_another_open_claim_keeps_the_account():
    claim = closed_claim(status=Claim.Status.REJECTED, days_ago=40)
    other_incident = claim.incident.__class__.objects.create(
        slug="other", name_ko="다른 사고", outage_started=timezone.now(), outage_ended=timezone.now()
    )
    SubmittedClaimFactory(claimant=claim.claimant, incident=other_incident)

    result = closed_claims_anonymise()

    assert result == {"claims": 1, "accounts": 0, "remaining": 0}
    assert User.objects.get(pk=claim.claimant_id).is_active


def test_running_again_changes_nothing():
    closed_claim(status=Claim.Status.REJECTED, days_ago=40)
    closed_claims_anonymise()
    events = ClaimEvent.objects.count()

    assert closed_claims_anonymise() == {"claims": 0, "accounts": 0, "remaining": 0}
    assert ClaimEvent.objects.count() == events


def test_the_task_works_through_every_due_claim_in_batches(monkeypatch):
    monkeypatch.setattr("claims.tasks.retention.BATCH", 2)
    for _ in range(5):
        closed_claim(status=Claim.Status.WITHDRAWN, days_ago=60)

    closed_claims_anonymise_task.delay()

    assert not closed_claims_due().exists()
    assert Claim.objects.filter(anonymised_at__isnull=False).count() == 5
