"""The synthetic cohort generator (devtools/generator.py) and `manage.py generate_claims`."""

import datetime as dt
import hashlib
import io
import re
from zoneinfo import ZoneInfo

import imagehash
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image
from pypdf import PdfReader

from accounts.models import ConsentRecord, PowerOfAttorney, User
from accounts.selectors import claimant_readiness
from claims.models import Claim, ClaimEvent, Evidence, Flag, InformationRequest, LossItem
from claims.services.fraud import fraud_sweep
from claims.validators import business_registration_number_is_valid
from devtools import generator
from devtools.generator import GenerationError, claims_generate
from payments.models import PaymentEntry, RetainerOrder

pytestmark = pytest.mark.django_db
KST = ZoneInfo("Asia/Seoul")


def _snapshot() -> list[tuple]:
    """The columns that make the data what it is (not ids or file paths), in claim order."""
    rows = []
    claims = Claim.objects.select_related("claimant", "reviewer").order_by("pk")
    for claim in claims.prefetch_related("services", "loss_items__service", "evidence"):
        user = claim.claimant
        rows.append(
            (
                user.email,
                user.legal_name,
                user.phone,
                user.date_of_birth,
                user.address,
                claim.reference_code,
                claim.status,
                claim.claimant_type,
                claim.business_registration_number,
                claim.submitted_at,
                claim.claimed_total,
                claim.reviewer.email if claim.reviewer else None,
                sorted(service.slug for service in claim.services.all()),
                [
                    (
                        item.service.slug,
                        item.kind,
                        item.monthly_fee,
                        item.comparison_revenue,
                        item.outage_revenue,
                        item.amount,
                        item.affected_hours,
                    )
                    for item in claim.loss_items.all()
                ],
                [(file.tag, file.sha256, file.size, file.perceptual_hash) for file in claim.evidence.all()],
            )
        )
    return rows


def _delete_generated() -> None:
    users = User.objects.filter(pk__in=list(Claim.objects.values_list("claimant_id", flat=True)))
    Claim.objects.all().delete()
    ConsentRecord.objects.filter(user__in=users).delete()
    PowerOfAttorney.objects.filter(user__in=users).delete()
    PaymentEntry.objects.filter(order__claimant__in=users).delete()
    RetainerOrder.objects.filter(claimant__in=users).delete()
    users.delete()


def test_same_seed_gives_the_same_cohort_and_another_seed_a_different_one():
    claims_generate(count=40, seed=7, batch_size=15)
    first = _snapshot()
    _delete_generated()
    claims_generate(count=40, seed=7, batch_size=40)  # the batch size does not change the data
    assert _snapshot() == first
    _delete_generated()
    claims_generate(count=40, seed=8)
    other = _snapshot()
    assert {row[0] for row in other}.isdisjoint(row[0] for row in first)
    assert [row[6] for row in other] != [row[6] for row in first]


def test_cohort_looks_like_the_claimants_of_the_2022_outage():
    report = claims_generate(count=300, seed=11, batch_size=120)
    assert report.claims == Claim.objects.count() == 300
    claims = list(Claim.objects.select_related("claimant").prefetch_related("loss_items", "services"))
    users = [claim.claimant for claim in claims]

    assert all(re.fullmatch(r"010[2-9]\d{7}", user.phone) for user in users)
    assert all(re.fullmatch(r"[^@\s]+@example\.(com|net|org)", user.email) for user in users)
    assert len({user.email for user in users}) == 300
    assert not any(user.has_usable_password() for user in users)
    assert all(re.fullmatch(r"[가-힣]{2,4}", user.legal_name) for user in users)
    assert all(user.postal_code.isdigit() and len(user.postal_code) == 5 for user in users)
    outage_day = dt.date(2022, 10, 15)
    assert all(19 <= (outage_day - user.date_of_birth).days // 365 <= 86 for user in users)

    statuses = {claim.status for claim in claims}
    assert statuses == set(Claim.Status.values)
    submitted = [claim for claim in claims if claim.status != Claim.Status.DRAFT]
    assert all(re.fullmatch(r"KC-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", claim.reference_code) for claim in submitted)
    days = {claim.submitted_at.astimezone(KST).date() for claim in submitted}
    assert min(days) >= dt.date(2022, 10, 19) and max(days) <= dt.date(2022, 11, 7)
    assert all(claim.created_at < claim.submitted_at for claim in submitted)
    assert all(1 <= len(claim.loss_items.all()) <= 4 for claim in submitted)
    assert all(claim.claimed_total == sum(item.claimed_amount for item in claim.loss_items.all()) for claim in claims)
    assert all(claim.reviewer_id for claim in claims if claim.status in ("in_review", "accepted", "rejected"))
    assert all(claim.decided_at for claim in claims if claim.status in ("accepted", "rejected"))
    assert InformationRequest.objects.count() == sum(1 for claim in claims if claim.status == "info_requested")

    individuals = sum(1 for claim in submitted if claim.claimant_type == Claim.ClaimantType.INDIVIDUAL)
    assert 0.8 < individuals / len(submitted) < 0.97
    businesses = [claim for claim in submitted if claim.claimant_type != Claim.ClaimantType.INDIVIDUAL]
    assert all(business_registration_number_is_valid(claim.business_registration_number) for claim in businesses)
    assert all(claim.business_name and claim.business_sector for claim in businesses)
    fees = set(LossItem.objects.filter(kind=LossItem.Kind.SUBSCRIPTION).values_list("monthly_fee", flat=True))
    assert fees <= {39_000, 22_000, 10_900, 7_900, 4_900, 3_900, 2_200} and len(fees) >= 3
    revenue = LossItem.objects.filter(kind=LossItem.Kind.BUSINESS_REVENUE)
    assert revenue.exists()
    assert sum(1 for item in revenue if item.comparison_revenue > item.outage_revenue) >= 0.9 * revenue.count()
    expenses = LossItem.objects.filter(kind=LossItem.Kind.EXPENSE).values_list("amount", flat=True)
    assert expenses and all(5_000 <= amount <= 300_000 for amount in expenses)

    # Everyone who started a claim had accepted the consents and signed the power of attorney, as the site requires.
    assert all(claimant_readiness(user=user).ready for user in users[:25])
    assert ClaimEvent.objects.filter(kind=ClaimEvent.Kind.SUBMITTED).count() == len(submitted)


def test_evidence_rows_describe_real_files_in_storage():
    claims_generate(count=60, seed=12)
    evidence = list(Evidence.objects.all())
    assert evidence
    for row in evidence:
        with default_storage.open(row.file.name, "rb") as handle:
            content = handle.read()
        assert hashlib.sha256(content).hexdigest() == row.sha256
        assert len(content) == row.size
        if row.content_type == "image/png":
            image = Image.open(io.BytesIO(content))
            assert str(imagehash.phash(image)) == row.perceptual_hash
            assert row.display_file.name == row.file.name
        else:
            assert row.content_type == "application/pdf" and not row.perceptual_hash
            assert "SYNTHETIC" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    power = PowerOfAttorney.objects.first()
    with default_storage.open(power.pdf.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == power.pdf_sha256


def test_deliberate_duplicates_are_found_by_the_fraud_checks(monkeypatch):
    for name in ("DUPLICATE_PHONE", "DUPLICATE_EMAIL", "DUPLICATE_BUSINESS_NUMBER", "DUPLICATE_EVIDENCE"):
        monkeypatch.setattr(generator, name, 0.3)
    monkeypatch.setattr(generator, "SIGNUP_BURST", 0.05)
    monkeypatch.setattr(generator, "BUSINESS_SHARE", 0.5)
    claims_generate(count=200, seed=13)
    fraud_sweep(now=dt.datetime(2022, 11, 8, tzinfo=dt.UTC))
    found = set(Flag.objects.values_list("code", flat=True))
    assert {
        Flag.Code.DUPLICATE_PHONE,
        Flag.Code.DUPLICATE_EMAIL,
        Flag.Code.DUPLICATE_BUSINESS_NUMBER,
        Flag.Code.DUPLICATE_EVIDENCE,
        Flag.Code.SIGNUP_BURST,
    } <= found


def test_at_the_real_rates_only_a_few_claims_share_values():
    claims_generate(count=200, seed=14)
    phones = list(User.objects.filter(claims__isnull=False).values_list("phone", flat=True))
    assert len(set(phones)) >= 0.97 * len(phones)
    hashes = list(Evidence.objects.values_list("sha256", flat=True))
    assert len(set(hashes)) >= 0.97 * len(hashes)


def test_a_seed_is_written_once_per_database():
    claims_generate(count=5, seed=15)
    with pytest.raises(GenerationError, match="already generated"):
        claims_generate(count=5, seed=15)


def test_command_writes_the_cohort_when_debug_is_on(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("generate_claims", "--count", "12", "--seed", "16", "--batch-size", "5", stdout=out)
    assert Claim.objects.count() == 12
    assert "12 claims" in out.getvalue()


def test_command_refuses_without_debug_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("generate_claims", "--count", "3")
    call_command("generate_claims", "--count", "3", "--seed", "17", "--allow-without-debug", stdout=io.StringIO())
    assert Claim.objects.count() == 3


def test_command_names_an_unknown_incident(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="no-such-incident"):
        call_command("generate_claims", "--count", "3", "--incident", "no-such-incident")
