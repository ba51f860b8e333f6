"""Staff pages at scale: the admin claim list (default, each filter, searches), the dashboard (admin index) and the
intake funnel (timed uncached: its cached copy is dropped before each request),
requested in-process with Django's test client as a Lawyer superuser signed in with two-factor authentication.

Each page is requested REPEAT times (searches with a different claimant or code each time); the figures are the
median and 95th percentile of the server time (the whole request, rendering included) and the number of queries.
Query counts are also taken on a smaller table earlier in the run (`query_counts`), so the run can show whether
they depend on the size of the table.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.metrics import Metric, median, not_measured, percentile

REPEAT = 15
LAWYER_EMAIL = "bench.lawyer@lawfirm.example"


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[random.Random], str]
    before: Callable[[], None] | None = None  # run before each request (outside the timing)


def _sample(rng: random.Random, queryset, field: str) -> str:
    """One value of `field` from a random row (by primary key, so it stays cheap on a large table)."""
    bounds = queryset.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    for _attempt in range(20):
        value = queryset.filter(pk__gte=rng.randint(first, last)).order_by("pk").values_list(field, flat=True).first()
        if value:
            return value
    raise LookupError(f"no {field} found")


def pages() -> list[Page]:
    from accounts.models import User
    from accounts.validators import mobile_phone_format
    from claims.models import Claim
    from filing.selectors.funnel import funnel_cache_forget

    claims = Claim.objects.exclude(status=Claim.Status.DRAFT)
    businesses = claims.exclude(business_registration_number="")
    reviewer = User.objects.filter(email="synthetic.reviewer3@lawfirm.example").values_list("pk", flat=True).first()
    base = "/admin/claims/claim/"

    def phone(rng: random.Random) -> str:
        return base + "?q=" + mobile_phone_format(_sample(rng, User.objects.filter(claims__isnull=False), "phone"))

    def brn(rng: random.Random) -> str:
        number = _sample(rng, businesses, "business_registration_number")
        return f"{base}?q={number[:3]}-{number[3:5]}-{number[5:]}"

    def one_day(rng: random.Random) -> str:
        day = dt.date(2022, 10, 19) + dt.timedelta(days=rng.randrange(19))
        midnight = "+00:00:00%2B09:00"  # KST, as the admin's own date links write it
        return f"{base}?submitted_at__gte={day}{midnight}&submitted_at__lt={day + dt.timedelta(days=1)}{midnight}"

    return [
        Page("admin list: default (submitted claims)", lambda rng: base),
        Page("admin list: status = info requested", lambda rng: base + "?status=info_requested"),
        Page("admin list: claimant type = sole proprietor", lambda rng: base + "?claimant_type__exact=sole_proprietor"),
        Page("admin list: service = Melon", lambda rng: base + "?service=melon"),
        Page("admin list: open flags", lambda rng: base + "?flags=open"),
        Page("admin list: no proof of use", lambda rng: base + "?proof_of_use=no"),
        Page("admin list: revenue evidence", lambda rng: base + "?revenue_evidence=yes"),
        Page("admin list: reviewer = one member of staff", lambda rng: f"{base}?reviewer={reviewer}"),
        Page("admin list: reviewer = unassigned", lambda rng: base + "?reviewer=none"),
        Page("admin list: submitted on one day", one_day),
        Page("admin list: estimate 300,000-500,000", lambda rng: base + "?estimate=2"),
        Page("admin list: search by phone", phone),
        Page("admin list: search by reference code", lambda rng: base + "?q=" + _sample(rng, claims, "reference_code")),
        Page("admin list: search by business number", brn),
        Page("dashboard (admin index)", lambda rng: "/admin/"),
        Page("funnel (uncached)", lambda rng: "/admin/funnel/", before=funnel_cache_forget),
    ]


def _client():
    """A test client signed in as a Lawyer superuser whose session passed the two-factor check."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.roles import Role
    from accounts.services.auth import staff_user_create

    user = User.objects.filter(email=LAWYER_EMAIL).first()
    if user is None:
        user = staff_user_create(email=LAWYER_EMAIL, password=None, role=Role.LAWYER, legal_name="벤치 변호사")
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    device, _created = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _request(client, url: str, before: Callable[[], None] | None = None) -> tuple[float, int, int, int | None]:
    """Server time (ms), queries, status and, for the claim list, how many claims matched."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    changelist = (getattr(response, "context_data", None) or {}).get("cl")
    return elapsed, len(queries), response.status_code, changelist.result_count if changelist else None


def available() -> str | None:
    """Why the staff pages cannot be measured, or None."""
    from django.contrib import admin

    from claims.models import Claim

    if Claim not in admin.site._registry:
        return "the admin claim list is not registered yet"
    return None


def query_counts() -> dict[str, int]:
    """How many queries each page makes once warm (taken on a small table, to compare later). A list that matched
    nothing there is left out: with no rows, the per-row prefetches are not sent at all."""
    client, rng, counts = _client(), random.Random(1), {}
    for page in pages():
        _request(client, page.url(rng), page.before)
        _elapsed, count, _status, matched = _request(client, page.url(rng), page.before)
        if matched != 0:
            counts[page.name] = count
    return counts


def measure(*, claims_in_table: int, small: dict[str, int] | None, small_size: int | None) -> list[Metric]:
    if reason := available():
        return [not_measured("staff pages", reason)]
    client, rng = _client(), random.Random(2022)
    metrics = []
    for page in pages():
        _request(client, page.url(rng), page.before)  # warm the connection and caches, as a page in use would be
        times, counts, statuses = [], [], set()
        for _repeat in range(REPEAT):
            elapsed, count, status, _matched = _request(client, page.url(rng), page.before)
            times.append(elapsed)
            counts.append(count)
            statuses.add(status)
        if statuses != {200}:
            metrics.append(not_measured(page.name, f"the page answered {sorted(statuses)}"))
            continue
        typical, worst = median(times), percentile(times, 0.95)
        metrics.append(
            Metric(
                f"{page.name}: median server time",
                round(typical, 1),
                "ms",
                n=claims_in_table,
                target="< 300 ms",
                met=typical < 300,
            )
        )
        metrics.append(
            Metric(
                f"{page.name}: p95 server time",
                round(worst, 1),
                "ms",
                n=claims_in_table,
                target="< 800 ms",
                met=worst < 800,
            )
        )
        count = round(median(counts))
        before = (small or {}).get(page.name)
        metrics.append(
            Metric(
                f"{page.name}: queries",
                count,
                "queries",
                n=claims_in_table,
                reference=before,
                ratio=round(count / before, 2) if before else None,
                target=f"not more than at {small_size:,} claims" if before is not None else "independent of table size",
                # The list's paginator counts exactly under 10,000 rows and reads the planner's estimate above:
                # one query fewer on a large table, never more.
                met=(count <= before) if before is not None else None,
                note=f"median of {REPEAT}, max {max(counts)}"
                + ("" if before is not None else "; not compared: no smaller table, or no claim matched there"),
            )
        )
    return metrics
