"""The cohort claim sheet's rows read a chunk of claims at a time (issue 23): the same rows as the single SELECT
with a subquery per row that it replaced, across chunk boundaries."""

import pytest

from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory, StaffFactory
from claims.models import Claim, Flag
from claims.tests.factories import LossItemFactory, claim_estimated, default_incident, service_by_slug
from filing.models import Cohort
from filing.selectors import cohorts as selectors
from filing.selectors.cohorts import CohortCriteria, cohort_sheet_queryset, cohort_sheet_rows
from filing.services.cohorts import cohort_save

pytestmark = pytest.mark.django_db


def test_chunked_rows_equal_the_single_select(monkeypatch):
    monkeypatch.setattr(selectors, "STREAM_CHUNK_SIZE", 3)  # several chunks and a partial last one
    lawyer = StaffFactory(role=Role.LAWYER)
    claims = []
    for index in range(8):
        claim = claim_estimated(
            status=Claim.Status.ACCEPTED, claimant=ClaimantFactory(legal_name=f"원고{index}"), monthly_fee=39_000
        )
        if index % 2:
            claim.services.add(service_by_slug("melon"))
            LossItemFactory(claim=claim, service=service_by_slug("melon"))
        if index % 3 == 0:
            Flag.objects.create(claim=claim, code=Flag.Code.DUPLICATE_PHONE, severity=Flag.Severity.MEDIUM)
            Flag.objects.create(
                claim=claim, code=Flag.Code.SIGNUP_BURST, severity=Flag.Severity.LOW, status=Flag.Status.REVIEWED
            )
        claims.append(claim)
    cohort = cohort_save(
        cohort=Cohort(name="전체", incident=default_incident()),
        criteria=CohortCriteria(statuses=(Claim.Status.ACCEPTED,)),
        actor=lawyer,
    )
    expected = []
    for row in cohort_sheet_queryset(cohort=cohort):
        row.pop("pk")
        row["number"] = None
        expected.append(row)
    assert list(cohort_sheet_rows(cohort=cohort)) == expected
    assert len(expected) == 8
    assert sum(1 for row in expected if row["open_flags"] == "duplicate_phone") == 3
    assert sum(1 for row in expected if row["service_list"] and "멜론" in row["service_list"]) == 4
