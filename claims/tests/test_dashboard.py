"""The dashboard on the admin index: correct aggregates, a fixed number of queries, SVG charts without scripts,
and no personal data, so Viewers may use it."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory
from claims.admin.dashboard import bar_chart, column_chart
from claims.models import Claim, LossItem
from claims.selectors.dashboard import Row, dashboard_summary
from claims.tests.factories import ClaimFactory, LossItemFactory, SubmittedClaimFactory, service_by_slug
from claims.tests.staff import admin_login, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_dashboard():
    """The admin index shows a copy of the summary kept for a minute: start each test without one."""
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
    assert dashboard_queries() == few <= 6


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


def test_the_index_shows_a_summary_at_most_a_minute_old_with_the_time_it_was_computed(client):
    seed()
    admin_login(client, staff_member(Role.VIEWER))
    computed = timezone.localtime()

    def dashboard() -> str:
        html = client.get(reverse("admin:index")).content.decode()
        return html[html.index('data-testid="dashboard"') :]

    assert "제출된 신청 1건" in dashboard()
    assert f"{computed:%H:%M} 기준 집계" in dashboard()
    seed()
    with CaptureQueriesContext(connection) as queries:
        assert "제출된 신청 1건" in dashboard()  # the copy, not the tables
    assert not any("claims_claim" in query["sql"] for query in queries.captured_queries)
    cache.clear()  # what a minute does
    assert "제출된 신청 2건" in dashboard()


def test_staff_without_the_dashboard_permission_do_not_get_it(client):
    admin_login(client, staff_member(Role.PARALEGAL))
    html = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="dashboard"' not in html
