"""The court-cost sheet: the rules against worked examples, then a wave's sheet through the command, the admin
page and the firm's CSV."""

import csv
import dataclasses
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from accounts.roles import Role
from claims.models import Claim
from claims.tests.factories import default_incident
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.cohorts import CohortCriteria
from filing.selectors.court_costs import WavePlaintiff
from filing.services.cohorts import cohort_freeze_wave, cohort_save, filing_wave_create
from filing.services.court_costs import (
    CourtCostError,
    Track,
    case_track,
    court_cost_sheet,
    service_fee_unit,
    service_rounds,
    shares_proportional,
    stamp_duty_electronic,
    stamp_duty_paper,
    wave_court_cost_sheet,
    wave_court_cost_totals,
)
from filing.tests.readiness import claim_ready, plaintiff_ready

FILED_ON = dt.date(2025, 3, 1)


# --- the rules --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_value", "paper", "electronic"),
    [
        (9_999_999, 49_900, 44_900),  # 49,999.995 / 44,999.9955
        (10_000_000, 50_000, 45_000),  # 45,000 + 5,000
        (99_999_999, 454_900, 409_400),  # 449,999.9955 + 5,000 / 409,499.99595
        (100_000_000, 455_000, 409_500),  # 400,000 + 55,000
        (999_999_999, 4_054_900, 3_649_400),  # 3,999,999.996 + 55,000 / 3,649,499.9964
        (1_000_000_000, 4_055_000, 3_649_500),  # 3,500,000 + 555,000
    ],
)
def test_stamp_duty_at_each_bracket_boundary(claim_value, paper, electronic):
    assert stamp_duty_paper(claim_value) == paper
    assert stamp_duty_electronic(claim_value) == electronic


@pytest.mark.parametrize(
    ("claim_value", "paper", "electronic"),
    [
        (0, 1_000, 1_000),
        (100_000, 1_000, 1_000),  # 500 / 450: the minimum
        (199_999, 1_000, 1_000),  # 999.995: the minimum
        (222_222, 1_100, 1_000),  # 1,111.11 dropped to 1,100 / 999.999: the minimum
        (250_000, 1_200, 1_100),  # 1,250 / 1,125: under 100 won dropped
    ],
)
def test_the_1000_won_minimum_and_dropping_amounts_under_100_won(claim_value, paper, electronic):
    assert stamp_duty_paper(claim_value) == paper
    assert stamp_duty_electronic(claim_value) == electronic


def test_electronic_filing_takes_nine_tenths_of_the_amount_before_rounding():
    # 259,800 x 50/10,000 = 1,299 -> paper 1,200; 9/10 of 1,299 = 1,169.1 -> 1,100 (9/10 of 1,200 would give 1,000)
    assert stamp_duty_paper(259_800) == 1_200
    assert stamp_duty_electronic(259_800) == 1_100


@pytest.mark.parametrize(
    ("claim_value", "track", "rounds"),
    [
        (30_000_000, Track.SMALL_CLAIMS, 10),
        (30_000_001, Track.SINGLE_JUDGE, 15),
        (500_000_000, Track.SINGLE_JUDGE, 15),
        (500_000_001, Track.PANEL, 15),
    ],
)
def test_small_claims_take_10_rounds_and_other_first_instance_cases_15(claim_value, track, rounds):
    assert case_track(claim_value) == track
    assert service_rounds(claim_value) == rounds


@override_settings(COURT_SERVICE_FEE_UNITS=[(dt.date(2023, 1, 1), 5_200), (dt.date(2026, 7, 1), 5_500)])
def test_the_service_fee_unit_in_force_on_the_filing_date_is_used():
    assert service_fee_unit(dt.date(2026, 6, 30)) == 5_200
    assert service_fee_unit(dt.date(2026, 7, 1)) == 5_500
    with pytest.raises(CourtCostError):
        service_fee_unit(dt.date(2022, 12, 31))


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (1_000, [1, 2, 7], [100, 200, 700]),
        (101, [3, 3], [51, 50]),
        (10, [0, 0], [5, 5]),
        (7, [5, 0, 2], [5, 0, 2]),
    ],
)
def test_shares_are_proportional_and_sum_to_the_total(total, weights, shares):
    assert shares_proportional(total, weights) == shares
    assert sum(shares) == total


def plaintiffs(*amounts: int) -> list[WavePlaintiff]:
    return [WavePlaintiff(number, f"원고{number}", amount) for number, amount in enumerate(amounts, start=1)]


def test_joinder_and_selected_parties_side_by_side():
    sheet = court_cost_sheet(
        plaintiffs=plaintiffs(20_000_000, 20_000_000, 20_000_000, 20_000_000, 20_000_000),
        defendants=1,
        selected_parties=1,
        filed_on=FILED_ON,
    )
    assert (sheet.claim_value, sheet.track) == (100_000_000, Track.SINGLE_JUDGE)
    # joinder: (5 plaintiffs + 1 defendant) x 5,200 x 15; selected parties: (1 + 1) x 5,200 x 15
    assert (sheet.joinder.parties, sheet.joinder.service_deposit) == (6, 468_000)
    assert (sheet.selected_parties.parties, sheet.selected_parties.service_deposit) == (2, 156_000)
    for route in (sheet.joinder, sheet.selected_parties):
        assert (route.stamp_duty_paper, route.stamp_duty_electronic) == (455_000, 409_500)
    assert (sheet.joinder.total_paper, sheet.joinder.total_electronic) == (923_000, 877_500)
    assert (sheet.selected_parties.total_paper, sheet.selected_parties.total_electronic) == (611_000, 565_500)
    assert [share.joinder_paper for share in sheet.shares] == [184_600] * 5
    assert [share.selected_electronic for share in sheet.shares] == [113_100] * 5


def test_two_defendants_and_more_selected_parties_raise_the_deposit():
    sheet = court_cost_sheet(
        plaintiffs=plaintiffs(40_000_000, 40_000_000, 40_000_000), defendants=2, selected_parties=2, filed_on=FILED_ON
    )
    assert sheet.joinder.service_deposit == (3 + 2) * 5_200 * 15
    assert sheet.selected_parties.service_deposit == (2 + 2) * 5_200 * 15


def test_each_plaintiffs_share_follows_the_amount_and_the_shares_sum_to_each_total():
    sheet = court_cost_sheet(
        plaintiffs=plaintiffs(1_000_001, 2_345_678, 7), defendants=1, selected_parties=1, filed_on=FILED_ON
    )
    for route, paper, electronic in (
        (sheet.joinder, "joinder_paper", "joinder_electronic"),
        (sheet.selected_parties, "selected_paper", "selected_electronic"),
    ):
        assert sum(getattr(share, paper) for share in sheet.shares) == route.total_paper
        assert sum(getattr(share, electronic) for share in sheet.shares) == route.total_electronic
    first, second, third = sheet.shares
    assert second.joinder_paper > first.joinder_paper > third.joinder_paper


@pytest.mark.parametrize("selected_parties", [0, 4])
def test_selected_parties_must_be_between_one_and_the_number_of_plaintiffs(selected_parties):
    with pytest.raises(CourtCostError):
        court_cost_sheet(
            plaintiffs=plaintiffs(1, 2, 3), defendants=1, selected_parties=selected_parties, filed_on=FILED_ON
        )


# --- a wave's sheet ---------------------------------------------------------------------------------------------

AMOUNTS = (10_000_000, 12_000_000, 8_000_000)  # 소가 30,000,000: small claims, 10 rounds


@pytest.fixture
def lawyer():
    return staff_member(Role.LAWYER)


def accepted_claims(count: int) -> list[Claim]:
    return [claim_ready(claimant=plaintiff_ready(legal_name=f"원고{index}")) for index in range(count)]


def cohort_of_accepted(actor) -> Cohort:
    cohort = Cohort(name="승인된 신청", incident=default_incident())
    return cohort_save(cohort=cohort, criteria=CohortCriteria(statuses=(Claim.Status.ACCEPTED,)), actor=actor)


@pytest.fixture
def frozen_wave(lawyer) -> FilingWave:
    accepted_claims(3)
    wave = cohort_freeze_wave(cohort=cohort_of_accepted(lawyer), name="1차", court="서울중앙지방법원", actor=lawyer)
    for number, amount in enumerate(AMOUNTS, start=1):
        WaveMember.objects.filter(wave=wave, number=number).update(amount_claimed=amount)
    return wave


@pytest.mark.django_db
def test_a_frozen_waves_sheet_uses_its_members_amounts(frozen_wave):
    sheet = wave_court_cost_sheet(wave=frozen_wave, filed_on=FILED_ON)
    assert (sheet.claim_value, sheet.track) == (30_000_000, Track.SMALL_CLAIMS)
    assert (sheet.joinder.stamp_duty_paper, sheet.joinder.stamp_duty_electronic) == (140_000, 126_000)
    assert sheet.joinder.service_deposit == 4 * 5_200 * 10
    assert sheet.selected_parties.service_deposit == 2 * 5_200 * 10
    assert [share.amount_claimed for share in sheet.shares] == list(AMOUNTS)
    assert wave_court_cost_totals(wave=frozen_wave, filed_on=FILED_ON) == dataclasses.replace(sheet, shares=())


@pytest.mark.django_db
def test_a_draft_waves_sheet_uses_the_claims_a_freeze_would_take(lawyer):
    claims = accepted_claims(2)
    claim_ready(proof_of_use=False)  # not ready: a freeze now would leave it out
    for claim, amount in zip(claims, (40_000_000, 60_000_000), strict=True):
        Claim.objects.filter(pk=claim.pk).update(estimate_total=amount)
    wave = filing_wave_create(
        cohort=cohort_of_accepted(lawyer), name="2차", court="서울중앙지방법원", defendant_count=2, actor=lawyer
    )
    sheet = wave_court_cost_sheet(wave=wave, filed_on=FILED_ON)
    assert sheet.claim_value == 100_000_000
    assert sheet.joinder.service_deposit == (2 + 2) * 5_200 * 15
    assert [share.amount_claimed for share in sheet.shares] == [40_000_000, 60_000_000]
    assert wave_court_cost_totals(wave=wave, filed_on=FILED_ON) == dataclasses.replace(sheet, shares=())


@pytest.mark.django_db
def test_the_command_prints_the_sheet_as_json(frozen_wave):
    out = io.StringIO()
    call_command(
        "court_costs", "--wave", frozen_wave.pk, "--selected-parties", "2", "--filed-on", "2025-03-01", stdout=out
    )
    sheet = json.loads(out.getvalue())
    assert sheet["wave"] == frozen_wave.pk
    assert sheet["claim_value"] == 30_000_000
    assert sheet["track"] == "small_claims"
    assert sheet["joinder"]["service_deposit"] == 208_000
    assert sheet["selected_parties"]["parties"] == 3
    assert sheet["selected_parties"]["service_deposit"] == 156_000
    assert sum(share["selected_paper"] for share in sheet["shares"]) == sheet["selected_parties"]["total_paper"]


@pytest.mark.django_db
def test_the_wave_page_shows_both_routes(lawyer, frozen_wave):
    client = admin_login(Client(), lawyer)
    url = reverse("admin:filing_filingwave_change", args=[frozen_wave.pk])
    response = client.get(url, {"selected_parties": 2, "filed_on": "2025-03-01"})
    assert response.status_code == 200
    sheet = response.context["court_costs"]
    assert sheet.selected_parties.plaintiff_parties == 2
    page = response.content.decode()
    assert 'data-testid="court-costs-routes"' in page
    assert "334,000" in page  # joinder, electronic: 126,000 + 208,000
    assert "282,000" in page  # 2 selected parties, electronic: 126,000 + 3 x 5,200 x 10
    assert reverse("admin:filing_filingwave_court_costs_csv", args=[frozen_wave.pk]) in page


@pytest.mark.django_db
def test_the_wave_page_explains_an_impossible_number_of_selected_parties(lawyer, frozen_wave):
    client = admin_login(Client(), lawyer)
    response = client.get(reverse("admin:filing_filingwave_change", args=[frozen_wave.pk]), {"selected_parties": 9})
    assert response.status_code == 200
    assert response.context["court_costs"] is None
    assert response.context["court_costs_error"]


@pytest.mark.django_db
def test_the_csv_export_is_audited(lawyer, frozen_wave):
    client = admin_login(Client(), lawyer)
    url = reverse("admin:filing_filingwave_court_costs_csv", args=[frozen_wave.pk])
    response = client.get(url, {"selected_parties": 1, "filed_on": "2025-03-01"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert len(rows) == 1 + 2 + 3  # header, two routes, three plaintiffs
    joinder, selected = rows[1], rows[2]
    assert joinder[3:10] == ["30000000", "4", "208000", "140000", "126000", "348000", "334000"]
    assert selected[4:8] == ["2", "104000", "140000", "126000"]
    assert selected[10:] == ["244000", "230000"]
    assert sum(int(row[8]) for row in rows[3:]) == 348_000
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORTED, object_id=str(frozen_wave.pk))
    assert entry.actor == lawyer
    assert entry.data["event"] == "court_costs_csv"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PARALEGAL, Role.VIEWER])
def test_staff_without_the_export_permission_cannot_download_the_csv(role, frozen_wave):
    client = admin_login(Client(), staff_member(role))
    response = client.get(reverse("admin:filing_filingwave_court_costs_csv", args=[frozen_wave.pk]))
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORTED).exists()


@pytest.mark.django_db
def test_a_lawyer_sets_the_number_of_defendants_on_the_wave_page(lawyer, frozen_wave):
    client = admin_login(Client(), lawyer)
    url = reverse("admin:filing_filingwave_change", args=[frozen_wave.pk])
    details = {"name": frozen_wave.name, "court": frozen_wave.court, "case_name": frozen_wave.case_name}
    response = client.post(url, {**details, "defendant": "주식회사 카카오, 에스케이 주식회사", "defendant_count": 2})
    assert response.status_code == 302
    frozen_wave.refresh_from_db()
    assert frozen_wave.defendant_count == 2
    assert wave_court_cost_totals(wave=frozen_wave, filed_on=FILED_ON).joinder.parties == 3 + 2
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EDITED, object_id=str(frozen_wave.pk)).latest("pk")
    assert entry.data["changes"]["defendant_count"] == [1, 2]
