"""The claim sheet written by PostgreSQL (filing/selectors/claim_sheet.py) holds exactly what the row-by-row
builder it replaced writes (kept for other databases: filing/selectors/claim_sheet_portable.py), byte for byte in
CSV and cell for cell in XLSX, on claims that differ in every way the sheet shows; and the export costs
the same few queries."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.roles import Role
from accounts.tests.factories import (
    ClaimantFactory,
    StaffFactory,
    identity_verified,
    power_of_attorney_certified_signed,
)
from claims.models import Claim, Flag, LossItem
from claims.selectors.estimates import FLAG_NO_PROOF_OF_USE
from claims.services.estimates import estimates_refresh
from claims.tests.factories import (
    LossItemFactory,
    SubmittedClaimFactory,
    claim_estimated,
    claimant_ready,
    default_incident,
    service_by_slug,
)
from filing.exports import _xlsx_value, csv_write
from filing.models import Cohort
from filing.selectors.claim_sheet import claim_sheet_csv_copy, claim_sheet_rows
from filing.selectors.claim_sheet_portable import claim_sheet_cells, cohort_sheet_rows, wave_sheet_rows
from filing.selectors.cohorts import CohortCriteria
from filing.services.cohorts import cohort_freeze_wave, cohort_save
from filing.services.exports import claim_sheet_header
from filing.tests.readiness import overrides_for_every_claim

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x","y")', "+82 상호", "-1", "@SUM(A1)", "\t탭", '따옴표 " 와, 쉼표', "줄\n바꿈"]


@pytest.fixture
def lawyer():
    return StaffFactory(role=Role.LAWYER)


def varied_claims() -> list[Claim]:
    """Every status and claimant type, several services and loss kinds, estimates present and absent, each proof
    level (sandbox included), open and cleared flags, Korean text with commas, quotes, line breaks and formulas."""
    services = [service_by_slug(slug) for slug in ("kakao-t", "kakaotalk", "melon")]
    claims = []
    for index, status in enumerate(Claim.Status.values):
        name = HOSTILE[index % len(HOSTILE)]
        claimant = claimant_ready(
            legal_name=f"{name}{index}" if index % 2 else name,
            address=HOSTILE[(index + 1) % len(HOSTILE)],
            address_detail="" if index % 3 else '101동 "가" 호',
            phone="01012345678" if index % 2 else "0212345678",
        )
        if status == Claim.Status.DRAFT:
            claim = Claim.objects.create(claimant=claimant, incident=default_incident(), claimant_type="individual")
        else:
            claim = SubmittedClaimFactory(
                claimant=claimant,
                status=status,
                claimant_type=Claim.ClaimantType.values[index % 3],
                business_name=HOSTILE[(index + 2) % len(HOSTILE)] if index % 3 else "",
                business_registration_number=("1234567890", "12345", "")[index % 3],
                decided_at=timezone.now() + dt.timedelta(microseconds=999_999) if index % 2 else None,
                withdrawn_at=timezone.now() if status == Claim.Status.WITHDRAWN else None,
                estimate_flags=[FLAG_NO_PROOF_OF_USE, "unknown_flag"] if index % 2 else [],
            )
        claim.services.add(*services[: index % 4])
        for kind in LossItem.Kind.values[: index % 5]:
            LossItemFactory(
                claim=claim, kind=kind, monthly_fee=11_000 + index, comparison_revenue=500, outage_revenue=900 * index,
                amount=7_000 * index,
            )  # fmt: skip
        claims.append(claim)
    estimated = claim_estimated(claimant=claimant_ready(legal_name="추정 있음"), status=Claim.Status.ACCEPTED)
    claims.append(estimated)
    Flag.objects.create(claim=estimated, code=Flag.Code.DUPLICATE_PHONE, severity=2)
    Flag.objects.create(claim=estimated, code=Flag.Code.AMOUNT_OUTLIER, severity=1)
    Flag.objects.create(claim=estimated, code=Flag.Code.SIGNUP_BURST, severity=1, status=Flag.Status.CLEARED)
    certified = claim_estimated(claimant=power_of_attorney_certified_signed(ClaimantFactory()), status="in_review")
    identity = claim_estimated(claimant=identity_verified(claimant_ready()), status=Claim.Status.SUBMITTED)
    phone = claimant_ready(legal_name="휴대전화 인증")
    phone.phone_verified_at = timezone.now()
    phone.save(update_fields=["phone_verified_at"])
    claims += [certified, identity, claim_estimated(claimant=phone, status=Claim.Status.ACCEPTED)]
    return claims


def old_csv(rows, *, wave: bool) -> bytes:
    out = io.BytesIO()
    csv_write(out, claim_sheet_header(), claim_sheet_cells(rows, wave=wave))
    return out.getvalue()


def new_csv(**scope) -> bytes:
    out = io.BytesIO()
    csv_write(out, claim_sheet_header(), [])
    claim_sheet_csv_copy(out=out, **scope)
    return out.getvalue()


def as_xlsx_cells(row) -> list:
    return [None if value == "" else _xlsx_value(value) for value in row]


def test_the_cohort_sheet_is_what_the_row_by_row_builder_wrote(lawyer):
    varied_claims()
    everything = Cohort(name="전부", incident=default_incident())
    cohort = cohort_save(cohort=everything, criteria=CohortCriteria(), actor=lawyer)

    with translation.override("ko"):
        old = old_csv(cohort_sheet_rows(cohort=cohort), wave=False)
        assert new_csv(cohort=cohort) == old
        old_cells = [as_xlsx_cells(row) for row in claim_sheet_cells(cohort_sheet_rows(cohort=cohort), wave=False)]
        assert [as_xlsx_cells(row) for row in claim_sheet_rows(cohort=cohort)] == old_cells
    assert old.count(b"\r\n") > len(Claim.Status.values)


def test_the_wave_sheet_is_what_the_row_by_row_builder_wrote(lawyer):
    estimates_refresh(claim_ids=[claim.pk for claim in varied_claims()])  # a wave's plaintiffs are estimated
    filable = CohortCriteria(statuses=("submitted", "in_review", "info_requested", "accepted"))
    cohort = cohort_save(cohort=Cohort(name="소송", incident=default_incident()), criteria=filable, actor=lawyer)
    overrides_for_every_claim(lawyer)
    wave = cohort_freeze_wave(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
    assert wave.member_count > len(Claim.Status.values)
    withdrawn = wave.members.order_by("number").first().claim
    Claim.objects.filter(pk=withdrawn.pk).update(status=Claim.Status.WITHDRAWN, withdrawn_at=timezone.now())

    with translation.override("ko"):
        old = old_csv(wave_sheet_rows(wave=wave), wave=True)
        assert new_csv(wave=wave) == old
        old_cells = [as_xlsx_cells(row) for row in claim_sheet_cells(wave_sheet_rows(wave=wave), wave=True)]
        assert [as_xlsx_cells(row) for row in claim_sheet_rows(wave=wave)] == old_cells
    assert "철회".encode() in old


def test_the_sheet_costs_three_statements_whatever_the_number_of_claims(lawyer):
    """JIT off, the one SELECT (COPY for the CSV), JIT back on: no statement per claim or per chunk of claims."""
    everything = Cohort(name="전부", incident=default_incident())
    cohort = cohort_save(cohort=everything, criteria=CohortCriteria(), actor=lawyer)

    def statements() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as csv, translation.override("ko"):
            claim_sheet_csv_copy(out=io.BytesIO(), cohort=cohort)
        with CaptureQueriesContext(connection) as xlsx, translation.override("ko"):
            rows = list(claim_sheet_rows(cohort=cohort))
        return len(csv), len(xlsx), len(rows)

    claim_estimated(claimant=claimant_ready())
    assert statements() == (3, 3, 1)
    for _index in range(4):
        claim_estimated(claimant=claimant_ready())
    assert statements() == (3, 3, 5)
