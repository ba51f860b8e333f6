"""The dashboard on the admin index: correct aggregates, a fixed number of queries, SVG charts without scripts,
and no personal data, so Viewers may use it."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory
from claims.admin.dashboard import bar_chart, column_chart
from claims.models import Claim, LossItem, Service
from claims.selectors.dashboard import (
    COUNTED_STATUSES,
    DAYS_SHOWN,
    ESTIMATE_BUCKETS,
    Row,
    dashboard_summary,
    dashboard_summary_cached,
    estimate_bucket_filter,
)
from claims.tasks.dashboard import dashboard_summary_refresh_task
from claims.tests.factories import ClaimFactory, LossItemFactory, SubmittedClaimFactory, service_by_slug
from claims.tests.staff import admin_login, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_dashboard():
    """The admin index shows a cached copy of the summary: start each test without one."""
    cache.clear()


def seed(days_ago: int = 0, **kwargs) -> Claim:
    return SubmittedClaimFactory(submitted_at=timezone.now() - dt.timedelta(days=days_ago), **kwargs)


def test_the_summary_counts_statuses_days_services_types_and_estimate_ranges():
    today = timezone.localdate()
    first = seed(estimate_total=50_000)
    first.services.set([service_by_slug("kakao-t")])
    LossItemFactory(claim=first, monthly_fee=39_000)
    business = seed(days_ago=2, claimant_type=Claim.ClaimantType.SOLE_PROPRIETOR, estimate_total=2_000_000)
    business.services.set([service_by_slug("kakao-t"), service_by_slug("melon")])
    LossItemFactory(
        claim=business,
        service=service_by_slug("kakao-t"),
        kind=LossItem.Kind.BUSINESS_REVENUE,
        monthly_fee=0,
        comparison_revenue=900_000,
        outage_revenue=100_000,
    )
    seed(days_ago=40, status=Claim.Status.ACCEPTED)
    seed(status=Claim.Status.WITHDRAWN)
    ClaimFactory()

    summary = dashboard_summary(today=today)
    by_status = {row.key: row.count for row in summary.by_status}
    assert by_status == {
        "draft": 1,
        "submitted": 2,
        "in_review": 0,
        "info_requested": 0,
        "accepted": 1,
        "rejected": 0,
        "withdrawn": 1,
    }
    assert summary.counted == 3
    assert len(summary.per_day) == 30 and summary.per_day[-1].key == today.isoformat()
    per_day = {row.key: row.count for row in summary.per_day}
    assert per_day[today.isoformat()] == 2  # the withdrawn claim was submitted today as well
    assert per_day[(today - dt.timedelta(days=2)).isoformat()] == 1
    assert sum(per_day.values()) == 3
    services = {row.key: (row.count, row.claimed) for row in summary.per_service}
    assert services["kakao-t"] == (2, 39_000 + 800_000)
    assert services["melon"] == (1, 0)
    types = {row.key: (row.count, row.estimated) for row in summary.per_claimant_type}
    assert types == {"individual": (2, 50_000), "sole_proprietor": (1, 2_000_000)}
    histogram = [row.count for row in summary.estimate_histogram]
    assert histogram == [1, 0, 0, 0, 1, 0]
    assert summary.not_estimated == 1


def dashboard_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        dashboard_summary()
    return len(queries)


def test_the_summary_runs_a_fixed_small_number_of_queries():
    seed()
    few = dashboard_queries()
    for days in range(25):
        claim = seed(days_ago=days, estimate_total=days * 100_000)
        claim.services.set([service_by_slug("melon")])
        LossItemFactory(claim=claim, service=service_by_slug("melon"))
    # 5 aggregate queries (claims, days, claim-service pairs, loss items, the services' names), and in a test the
    # savepoint, SET LOCAL random_page_cost and the savepoint's release around them
    assert dashboard_queries() == few == 8


def test_charts_scale_to_the_largest_value():
    chart = column_chart([Row("a", 0), Row("b", 5), Row("c", 10)])
    heights = [shape.height for shape in chart["shapes"]]
    assert heights == [0, 80, 160]
    assert all(shape.y + shape.height == chart["axis_y"] for shape in chart["shapes"])
    bars = bar_chart([Row("a", 3), Row("b", 6)])
    assert bars["shapes"][1].width == 2 * bars["shapes"][0].width
    assert bar_chart([])["shapes"] == []
    assert column_chart([Row("a", 0)])["shapes"][0].height == 0


def test_a_viewer_sees_the_dashboard_as_svg_with_no_scripts_and_no_personal_data(client):
    claim = seed(claimant=ClaimantFactory(legal_name="홍길동", phone="01023456789"))
    claim.services.set([service_by_slug("kakao-t")])
    admin_login(client, staff_member(Role.VIEWER))
    html = client.get(reverse("admin:index")).content.decode()
    dashboard = html[html.index('data-testid="dashboard"') :]
    dashboard = dashboard[: dashboard.index("</section>")]
    assert dashboard.count("<svg") == 5
    assert "<script" not in dashboard and "style=" not in dashboard
    assert not re.search(r"\son\w+=", dashboard)  # no inline event handlers
    for personal in ("홍길동", "01023456789", claim.claimant.email, claim.reference_code):
        assert personal not in html


def test_the_index_shows_the_copy_beat_refreshes_with_the_time_it_was_computed(client):
    seed()
    dashboard_summary_refresh_task.apply()
    computed = timezone.localtime(dashboard_summary_cached().computed_at)
    admin_login(client, staff_member(Role.VIEWER))

    def dashboard() -> str:
        html = client.get(reverse("admin:index")).content.decode()
        return html[html.index('data-testid="dashboard"') :]

    assert "제출된 신청 1건" in dashboard()
    assert f"{computed:%H:%M} 기준 집계" in dashboard()
    seed()
    with CaptureQueriesContext(connection) as queries:
        assert "제출된 신청 1건" in dashboard()  # the copy, not the tables
    assert not any("claims_claim" in query["sql"] for query in queries.captured_queries)
    dashboard_summary_refresh_task.apply()  # what beat does every minute
    assert "제출된 신청 2건" in dashboard()


def test_the_refresh_keeps_a_copy_for_every_language():
    seed()
    dashboard_summary_refresh_task.apply()
    for language, _name in settings.LANGUAGES:
        with translation.override(language), CaptureQueriesContext(connection) as queries:
            assert dashboard_summary_cached().counted == 1
        assert not queries.captured_queries


def test_without_a_copy_the_page_computes_one_and_keeps_it(client):
    """Beat or the workers stopped for longer than a copy lives: the first view computes the summary."""
    seed()
    admin_login(client, staff_member(Role.VIEWER))
    assert "제출된 신청 1건" in client.get(reverse("admin:index")).content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert dashboard_summary_cached().counted == 1
    assert not queries.captured_queries


def test_beat_refreshes_the_copy_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["claims-dashboard-refresh"]
    assert entry["task"] == dashboard_summary_refresh_task.name
    assert entry["schedule"] == settings.DASHBOARD_REFRESH_SECONDS == 60


def test_staff_without_the_dashboard_permission_do_not_get_it(client):
    admin_login(client, staff_member(Role.PARALEGAL))
    html = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="dashboard"' not in html


def varied_claims(today: dt.date) -> None:
    """Claims in every status and claimant type, naming several services (or none), with loss items of every kind
    (some for a service the claim does not name), estimated or not, submitted inside the 30 days shown and before."""
    services = [service_by_slug(slug) for slug in ("kakao-t", "melon", "kakaotalk", "kakao-map")]
    kinds = LossItem.Kind.values
    types = Claim.ClaimantType.values
    estimates = [None, 0, 99_999, 100_000, 450_000, 999_999, 1_000_000, 4_999_999, 5_000_000, 12_000_000]
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=timezone.get_current_timezone())
    for number, status in enumerate(Claim.Status.values * 3):
        claim_type = types[number % len(types)]
        if status == Claim.Status.DRAFT:
            claim = ClaimFactory(claimant_type=claim_type, claimed_total=number * 1_000)
        else:
            claim = SubmittedClaimFactory(
                status=status,
                claimant_type=claim_type,
                submitted_at=noon - dt.timedelta(days=number * 3, hours=number),  # the last ones are older
                claimed_total=number * 10_000,
                estimate_total=estimates[number % len(estimates)],
            )
        claim.services.set(services[: number % (len(services) + 1)])
        for index in range(number % 4):
            LossItemFactory(
                claim=claim,
                service=services[(number + index) % len(services)],
                kind=kinds[(number + index) % len(kinds)],
                monthly_fee=1_000 * number,
                comparison_revenue=50_000 * (index + 1),
                outage_revenue=30_000 * (number % 3),  # above the comparison revenue now and then: no negative loss
                amount=700 * number + index,
            )


def summary_computed_plainly(today: dt.date) -> dict:
    """The dashboard's figures by the most direct ORM queries and Python: one query per figure, amounts summed
    from LossItem.claimed_amount."""
    counted = Claim.objects.filter(status__in=COUNTED_STATUSES)
    first_day = today - dt.timedelta(days=DAYS_SHOWN - 1)
    days = [timezone.localtime(claim.submitted_at).date() for claim in Claim.objects.exclude(submitted_at=None)]
    services = []
    for service in Service.objects.all():
        claims = counted.filter(services=service)
        if claims.exists():
            items = LossItem.objects.filter(claim__in=counted, service=service)
            services.append((service.slug, claims.count(), sum(item.claimed_amount for item in items), service.name))
    return {
        "by_status": [(status, Claim.objects.filter(status=status).count()) for status in Claim.Status.values],
        "per_day": [
            ((first_day + dt.timedelta(days=n)).isoformat(), days.count(first_day + dt.timedelta(days=n)))
            for n in range(DAYS_SHOWN)
        ],
        "per_service": [row[:3] for row in sorted(services, key=lambda row: (-row[1], row[3]))],
        "per_claimant_type": [
            (
                claim_type,
                counted.filter(claimant_type=claim_type).count(),
                sum(counted.filter(claimant_type=claim_type).values_list("claimed_total", flat=True)),
                sum(filter(None, counted.filter(claimant_type=claim_type).values_list("estimate_total", flat=True))),
            )
            for claim_type in Claim.ClaimantType.values
            if counted.filter(claimant_type=claim_type).exists()
        ],
        "estimate_histogram": [
            (str(index), counted.filter(estimate_bucket_filter(low, high)).count())
            for index, (low, high) in enumerate(ESTIMATE_BUCKETS)
        ],
        "not_estimated": counted.filter(estimate_total=None).count(),
        "counted": counted.count(),
    }


def test_the_stored_claimed_amount_is_the_one_the_model_computes():
    """LossItem.claimed_amount_stored (PostgreSQL's generated column, summed by the dashboard) and the
    LossItem.claimed_amount property agree for every kind, a revenue above its comparison included."""
    claim = seed()
    for kind in LossItem.Kind.values:
        for outage_revenue in (100_000, 900_000):
            LossItemFactory(
                claim=claim,
                kind=kind,
                monthly_fee=39_000,
                comparison_revenue=500_000,
                outage_revenue=outage_revenue,
                amount=12_345,
            )
    items = list(LossItem.objects.filter(claim=claim))
    assert len(items) == 8
    assert [item.claimed_amount_stored for item in items] == [item.claimed_amount for item in items]
    assert {item.claimed_amount for item in items} == {39_000, 400_000, 0, 12_345}


def test_the_summary_equals_a_plain_computation_on_varied_claims():
    today = timezone.localdate()
    varied_claims(today)
    summary = dashboard_summary(today=today)
    assert {
        "by_status": [(row.key, row.count) for row in summary.by_status],
        "per_day": [(row.key, row.count) for row in summary.per_day],
        "per_service": [(row.key, row.count, row.claimed) for row in summary.per_service],
        "per_claimant_type": [(row.key, row.count, row.claimed, row.estimated) for row in summary.per_claimant_type],
        "estimate_histogram": [(row.key, row.count) for row in summary.estimate_histogram],
        "not_estimated": summary.not_estimated,
        "counted": summary.counted,
    } == summary_computed_plainly(today)
