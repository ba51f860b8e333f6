"""Aggregates for the staff dashboard: counts and totals only, never personal data, in a fixed number of aggregate
queries whatever the size of the table. They read the whole table, so no staff request computes them: beat refreshes
a cached copy every minute (dashboard_summary_refresh, claims.tasks.dashboard) and the admin index shows that copy
(dashboard_summary_cached)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, LossItem, Service
from claims.selectors.estimates import ESTIMABLE_STATUSES
from claims.templatetags.money import format_won

DAYS_SHOWN = 30
CACHE_KEY = "claims:dashboard:v2:{language}"  # bump the version when DashboardSummary changes
COPY_LIFETIME_REFRESHES = 5  # a cached copy lives this many refresh periods (DASHBOARD_REFRESH_SECONDS)
# Submitted and not withdrawn: the claims the suit is made of.
COUNTED_STATUSES = ESTIMABLE_STATUSES
# Estimate ranges [low, high) in won, shared by the dashboard histogram and the claim list's filter.
ESTIMATE_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 100_000),
    (100_000, 300_000),
    (300_000, 500_000),
    (500_000, 1_000_000),
    (1_000_000, 5_000_000),
    (5_000_000, None),
)


def estimate_bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(low)s 이상") % {"low": format_won(low)}
    if low == 0:
        return _("%(high)s 미만") % {"high": format_won(high)}
    return f"{low:,}~{format_won(high)}"


def estimate_bucket_filter(low: int, high: int | None, *, prefix: str = "") -> Q:
    condition = Q(**{f"{prefix}estimate_total__gte": low})
    if high is not None:
        condition &= Q(**{f"{prefix}estimate_total__lt": high})
    return condition


@dataclass(frozen=True)
class Row:
    """One labelled figure of a chart: a count and, where it applies, won totals."""

    label: str
    count: int
    claimed: int | None = None
    estimated: int | None = None
    key: str = ""


@dataclass(frozen=True)
class DashboardSummary:
    by_status: list[Row]
    per_day: list[Row]
    per_service: list[Row]
    per_claimant_type: list[Row]
    estimate_histogram: list[Row]
    not_estimated: int
    counted: int
    first_day: dt.date
    last_day: dt.date
    computed_at: dt.datetime


@contextmanager
def _index_reads_priced_as_cached() -> Iterator[None]:
    """The statements inside (in a transaction of their own) planned with random_page_cost 1.1, the usual value when
    the data is in memory or on SSD, instead of PostgreSQL's default 4 (for spinning disks): the planner then reads
    the narrow covering indexes (claim_dashboard_totals, loss_item_service_claimed) alone rather than scanning the
    wide tables (the loss items in 1.5-2 times less time at 200,000 claims)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL random_page_cost = 1.1")
        yield


def _per_day(first_day: dt.date, last_day: dt.date) -> list[Row]:
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
    counts = dict(
        Claim.objects.filter(submitted_at__gte=start)
        .annotate(day=TruncDate("submitted_at", tzinfo=zone))
        .order_by()
        .values_list("day")
        .annotate(n=Count("*"))  # not COUNT(id): the submitted_at index alone answers it (index-only scan)
    )
    days = [first_day + dt.timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    return [Row(day.strftime("%m-%d"), counts.get(day, 0), key=day.isoformat()) for day in days]


def _per_service() -> list[Row]:
    """Claims naming each service, with the amounts claimed in their loss items for that service. Both are
    grouped by service id over narrow rows (the claim-service pairs, the loss items), leaving out the claims that
    are not counted (drafts and withdrawn claims, a tenth of the table, read from claim_dashboard_totals) rather
    than joining every counted claim; the few services are named afterwards."""
    other_statuses = [status for status in Claim.Status.values if status not in COUNTED_STATUSES]
    not_counted = Claim.objects.filter(status__in=other_statuses).order_by().values("pk")
    counts = dict(
        Claim.services.through.objects.exclude(claim_id__in=not_counted)
        .order_by()
        .values_list("service_id")
        .annotate(n=Count("*"))  # one row per claim and service: no DISTINCT (which sorted every pair)
    )
    claimed = dict(
        LossItem.objects.exclude(claim_id__in=not_counted)
        .order_by()
        .values_list("service_id")
        .annotate(total=Sum("claimed_amount_stored"))
    )
    rows = [
        Row(service.name, counts[service.pk], claimed.get(service.pk, 0), key=service.slug)
        for service in Service.objects.all()  # reference data: a few dozen rows
        if counts.get(service.pk)
    ]
    return sorted(rows, key=lambda row: (-row.count, row.label))


@dataclass(frozen=True)
class _ClaimTotals:
    by_status: list[Row]
    per_claimant_type: list[Row]
    estimate_histogram: list[Row]
    not_estimated: int


def _claim_totals() -> _ClaimTotals:
    """Statuses, claimant types and the estimate histogram from one pass over the claims (grouped by status and
    claimant type, the buckets counted conditionally), instead of three scans of the table."""
    buckets = {
        f"bucket_{index}": Count("pk", filter=estimate_bucket_filter(low, high))
        for index, (low, high) in enumerate(ESTIMATE_BUCKETS)
    }
    groups = list(
        Claim.objects.order_by()
        .values("status", "claimant_type")
        .annotate(
            n=Count("*"),
            claimed=Sum("claimed_total"),
            estimated=Sum("estimate_total"),
            not_estimated=Count("pk", filter=Q(estimate_total__isnull=True)),
            **buckets,
        )
    )
    statuses: dict[str, int] = defaultdict(int)
    types: dict[str, list[int]] = {}
    histogram = [0] * len(ESTIMATE_BUCKETS)
    not_estimated = 0
    for group in groups:
        statuses[group["status"]] += group["n"]
        if group["status"] not in COUNTED_STATUSES:
            continue
        totals = types.setdefault(group["claimant_type"], [0, 0, 0])
        totals[0] += group["n"]
        totals[1] += group["claimed"] or 0
        totals[2] += group["estimated"] or 0
        for index in range(len(ESTIMATE_BUCKETS)):
            histogram[index] += group[f"bucket_{index}"]
        not_estimated += group["not_estimated"]
    return _ClaimTotals(
        by_status=[Row(label, statuses.get(value, 0), key=value) for value, label in Claim.Status.choices],
        per_claimant_type=[
            Row(label, *types[value], key=value) for value, label in Claim.ClaimantType.choices if value in types
        ],
        estimate_histogram=[
            Row(estimate_bucket_label(low, high), histogram[index], key=str(index))
            for index, (low, high) in enumerate(ESTIMATE_BUCKETS)
        ],
        not_estimated=not_estimated,
    )


def dashboard_summary(*, today: dt.date | None = None) -> DashboardSummary:
    last_day = today or timezone.localdate()
    first_day = last_day - dt.timedelta(days=DAYS_SHOWN - 1)
    with _index_reads_priced_as_cached():
        totals = _claim_totals()
        per_day = _per_day(first_day, last_day)
        per_service = _per_service()
    return DashboardSummary(
        by_status=totals.by_status,
        per_day=per_day,
        per_service=per_service,
        per_claimant_type=totals.per_claimant_type,
        estimate_histogram=totals.estimate_histogram,
        not_estimated=totals.not_estimated,
        counted=sum(row.count for row in totals.by_status if row.key in COUNTED_STATUSES),
        first_day=first_day,
        last_day=last_day,
        computed_at=timezone.now(),
    )


def _cache_key(language: str) -> str:
    return CACHE_KEY.format(language=language)


def _cache_seconds() -> int:
    return settings.DASHBOARD_REFRESH_SECONDS * COPY_LIFETIME_REFRESHES


def dashboard_summary_refresh() -> None:
    """Replace the cached copies (one per language: the labels are translated) with a new summary. Run by beat every
    DASHBOARD_REFRESH_SECONDS (claims.tasks.dashboard), so the copies never lapse while beat and a worker run."""
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            cache.set(_cache_key(language), dashboard_summary(), _cache_seconds())


def dashboard_summary_cached() -> DashboardSummary:
    """The copy the periodic refresh keeps, at most a refresh old; computed here only when there is none (beat or
    the workers stopped for longer than the copy lives)."""
    key = _cache_key(translation.get_language())
    summary = cache.get(key)
    if summary is None:
        summary = dashboard_summary()
        cache.set(key, summary, _cache_seconds())
    return summary
