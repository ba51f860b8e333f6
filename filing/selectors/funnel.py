"""The intake funnel for staff (issue 21, item 6): how many people reached each journey step, the conversion from
the step before, where they drop out, the median time from sign-up to ready, and the share of information
requests answered in time; overall, per day and per referral source.

Every figure comes from a trace the steps leave: the eligibility check's rows (claims.EligibilityCheck), the
account (accounts.User, with the referral kept at its first visit), a verified identity check, the consent ledger,
a signed power of attorney, claims and their evidence, settled retainer orders (payments), accepted claims with no
open request ("ready", `claims_ready`) and the members of filed waves. It lives in filing, the top app, because
it reads payments and filing.

The counts are cumulative from "account" on: a person counts at a step when they have its trace and every earlier
step's; a step that does not apply now (identity checks or payments not configured) is shown with its own count
but left out of that chain. The two eligibility steps are counted separately (no account yet): the conversion to
"account" compares counts, not the same people.

Six aggregate queries whatever the size of the tables (the accounts grouped by day, source and which steps each has
reached in one of them), cached for FUNNEL_CACHE_SECONDS per filter (funnel_cached); the unfiltered copy is
refreshed by beat (funnel_refresh).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import ConsentDocument, ConsentRecord, IdentityVerification, PowerOfAttorney, User
from claims.models import Claim, EligibilityCheck, InformationRequest
from config.hashing import sha256_hex
from filing.models import FilingWave, WaveMember
from filing.selectors import readiness
from integrations.identity import identity_backend
from payments.models import RetainerOrder
from payments.selectors import SETTLED, payment_gateway_available

ELIGIBILITY_STARTED = "eligibility_started"
ELIGIBLE = "eligible"
ACCOUNT = "account"
IDENTITY = "identity"
CONSENTS = "consents"
SIGNED = "signed"
SUBMITTED = "submitted"
EVIDENCE_COMPLETE = "evidence_complete"
PAID = "paid"
READY = "ready"
FILED = "filed"
STEPS = (
    ELIGIBILITY_STARTED,
    ELIGIBLE,
    ACCOUNT,
    IDENTITY,
    CONSENTS,
    SIGNED,
    SUBMITTED,
    EVIDENCE_COMPLETE,
    PAID,
    READY,
    FILED,
)
ACCOUNT_STEPS = STEPS[STEPS.index(IDENTITY) :]  # each a boolean per account, after the account itself
CACHE_KEY = "filing:funnel:v1:{filters}:{today}"  # bump the version when Funnel changes
CODES_SHOWN = 20
DAYS_SHOWN = 92


# --- "ready": ONE place -------------------------------------------------------------------------------------------


def claims_ready() -> QuerySet[Claim]:
    """The claims ready to be filed, for the funnel: what a wave would take now (filing/selectors/readiness.py:
    every condition that applies met, or a Lawyer's override in force). `claim_ready_at` says since when a claim
    counts as ready (the median time to ready)."""
    return Claim.objects.filter(readiness.claims_ready_or_overridden())


def claim_ready_at() -> F:
    """When a ready claim became ready, as an expression over Claim (for now: its acceptance)."""
    return F("decided_at")


# --- the other steps' traces: the ids of the accounts that left each ----------------------------------------------


def claims_evidence_complete() -> QuerySet[Claim]:
    """Submitted claims whose evidence is complete, for the funnel: proof of use for every claimed service, by the
    filing-readiness rule (a tagged file for the service, or one the evidence reading found inside its window)."""
    return Claim.objects.filter(submitted_at__isnull=False).exclude(readiness.claims_missing(readiness.PROOF_OF_USE))


def account_step_users() -> dict[str, QuerySet]:
    """For each step after the account: the ids of the accounts that left its trace (one column, no duplicates)."""
    verified = IdentityVerification.objects.filter(
        kind=IdentityVerification.Kind.IDENTITY, status=IdentityVerification.Status.VERIFIED
    )
    signed = PowerOfAttorney.objects.values_list("user_id")
    return {
        # as the journey counts it: a power of attorney signed before identity checks were switched on counts too
        IDENTITY: verified.order_by().values_list("user_id").union(signed.order_by()),
        CONSENTS: ConsentRecord.objects.filter(
            action=ConsentRecord.Action.ACCEPTED, document__kind=ConsentDocument.Kind.PRIVACY_REQUIRED
        ).values_list("user_id"),
        SIGNED: signed,
        SUBMITTED: Claim.objects.filter(submitted_at__isnull=False).values_list("claimant_id"),
        EVIDENCE_COMPLETE: claims_evidence_complete().values_list("claimant_id"),
        PAID: RetainerOrder.objects.filter(status__in=SETTLED).values_list("claimant_id"),
        READY: claims_ready().values_list("claimant_id"),
        FILED: WaveMember.objects.filter(wave__status=FilingWave.Status.FILED).values_list("claim__claimant_id"),
    }


def steps_applying() -> dict[str, bool]:
    """Whether each step is part of the journey as configured now (no queries)."""
    return dict.fromkeys(STEPS, True) | {IDENTITY: identity_backend().available, PAID: payment_gateway_available()}


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5) (works on intervals too)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


# --- filters and results -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelFilter:
    """Sign-ups (and eligibility checks) from `since` to `until` (Seoul dates, both included); `source` one
    utm_source ("" for none), None for all."""

    since: dt.date | None = None
    until: dt.date | None = None
    source: str | None = None

    def cache_part(self) -> str:
        return sha256_hex(f"{self.since}|{self.until}|{'*' if self.source is None else 's:' + self.source}")[:24]


@dataclass(frozen=True)
class Step:
    key: str
    count: int
    applies: bool = True
    conversion: float | None = None  # share of the previous applying step's count (0..1), None for the first
    dropped: int | None = None  # how many of the previous applying step did not reach this one


@dataclass(frozen=True)
class Breakdown:
    """One row of the by-day or by-source table: the counts of every step."""

    key: str
    counts: dict[str, int]

    def count(self, step: str) -> int:
        return self.counts.get(step, 0)


@dataclass(frozen=True)
class CodeRow:
    code: str
    signups: int
    last_day: int  # in the 24 hours before the computation


@dataclass(frozen=True)
class Funnel:
    filters: FunnelFilter
    steps: list[Step]
    by_day: list[Breakdown]
    by_source: list[Breakdown]
    median_to_ready: dt.timedelta | None
    requests_due: int  # information requests answered or past their due date
    requests_in_time: int  # of those, answered on or before the due date
    referral_codes: list[CodeRow]
    sources: list[str]  # every utm_source seen on an account, for the filter
    computed_at: dt.datetime
    applies: dict[str, bool] = field(default_factory=dict)

    @property
    def requests_in_time_share(self) -> float | None:
        return self.requests_in_time / self.requests_due if self.requests_due else None


def _bounds(filters: FunnelFilter) -> tuple[dt.datetime | None, dt.datetime | None]:
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(filters.since, dt.time.min, tzinfo=zone) if filters.since else None
    end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time.min, tzinfo=zone) if filters.until else None
    return start, end


def _window(queryset: QuerySet, path: str, filters: FunnelFilter, source_path: str) -> QuerySet:
    start, end = _bounds(filters)
    if start:
        queryset = queryset.filter(**{f"{path}__gte": start})
    if end:
        queryset = queryset.filter(**{f"{path}__lt": end})
    if filters.source is not None:
        queryset = queryset.filter(**{source_path: filters.source})
    return queryset


def _accounts(filters: FunnelFilter) -> QuerySet[User]:
    return _window(User.objects.filter(is_staff=False), "date_joined", filters, "referral_source")


def chain_counts(combinations: Iterable[tuple[tuple[bool, ...], int]], applies: dict[str, bool]) -> dict[str, int]:
    """From (which ACCOUNT_STEPS an account has, how many accounts) pairs: the accounts reaching each step with every
    earlier applying step (a step that does not apply counts on its own and stays out of the chain)."""
    counts = dict.fromkeys((ACCOUNT, *ACCOUNT_STEPS), 0)
    for reached, number in combinations:
        counts[ACCOUNT] += number
        still = True
        for step, has in zip(ACCOUNT_STEPS, reached, strict=True):
            if not applies[step]:
                counts[step] += number if has else 0
                continue
            still = still and has
            counts[step] += number if still else 0
    return counts


ACCOUNTS_SQL = """
SELECT u.day, u.source, {flags}, COUNT(*)
FROM ({accounts}) AS u (id, day, source)
{joins}
GROUP BY {groups}
"""


def _account_combinations(accounts: QuerySet[User], zone: ZoneInfo) -> list[tuple]:
    """(day, source, which ACCOUNT_STEPS reached..., accounts) rows, in one statement: the accounts LEFT JOINed to the
    distinct ids of the accounts that left each step's trace (each hashed once), rather than one correlated EXISTS
    per account and step (a sub-plan run 200,000 times each)."""
    base = accounts.annotate(day=TruncDate("date_joined", tzinfo=zone)).values_list("pk", "day", "referral_source")
    base_sql, params = base.query.sql_with_params()
    joins = []
    step_users = account_step_users()
    for index, step in enumerate(ACCOUNT_STEPS):
        users = step_users[step]
        if not users.query.combinator:
            users = users.order_by().distinct()
        # Django's own SQL for each queryset, parameters kept apart: nothing typed by a user is interpolated.
        step_sql, step_params = users.query.sql_with_params()
        joins.append(f"LEFT JOIN ({step_sql}) AS s{index} (id) ON s{index}.id = u.id")
        params = (*params, *step_params)
    flags = ", ".join(f"s{index}.id IS NOT NULL" for index in range(len(ACCOUNT_STEPS)))
    groups = ", ".join(str(position) for position in range(1, len(ACCOUNT_STEPS) + 3))
    sql = ACCOUNTS_SQL.format(flags=flags, accounts=base_sql, joins="\n".join(joins), groups=groups)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _chains(accounts: QuerySet[User], zone: ZoneInfo, applies: dict[str, bool]) -> tuple[dict, dict]:
    """The chained counts by day (ISO date) and by source."""
    by_day: dict[str, list] = defaultdict(list)
    by_source: dict[str, list] = defaultdict(list)
    for day, source, *reached, number in _account_combinations(accounts, zone):
        by_day[day.isoformat()].append((tuple(reached), number))
        by_source[source].append((tuple(reached), number))
    return (
        {key: chain_counts(pairs, applies) for key, pairs in by_day.items()},
        {key: chain_counts(pairs, applies) for key, pairs in by_source.items()},
    )


def _eligibility(filters: FunnelFilter, zone: ZoneInfo) -> tuple[dict[str, dict], dict[str, dict]]:
    """Eligibility checks started and eligible, by day and by source (one grouped query)."""
    rows = (
        _window(EligibilityCheck.objects.all(), "started_at", filters, "referral_source")
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .order_by()
        .values_list("day", "referral_source")
        .annotate(started=Count("pk"), eligible=Count("pk", filter=Q(eligible_at__isnull=False)))
    )
    by_day: dict[str, dict] = defaultdict(lambda: dict.fromkeys((ELIGIBILITY_STARTED, ELIGIBLE), 0))
    by_source: dict[str, dict] = defaultdict(lambda: dict.fromkeys((ELIGIBILITY_STARTED, ELIGIBLE), 0))
    for day, source, started, eligible in rows:
        for table, key in ((by_day, day.isoformat()), (by_source, source)):
            table[key][ELIGIBILITY_STARTED] += started
            table[key][ELIGIBLE] += eligible
    return by_day, by_source


def funnel_steps(counts: dict[str, int], applies: dict[str, bool]) -> list[Step]:
    """Steps with conversion and drop-out from the previous applying step."""
    steps, previous = [], None
    for key in STEPS:
        count = counts.get(key, 0)
        if not applies[key]:
            steps.append(Step(key, count, applies=False))
            continue
        if previous is None:
            steps.append(Step(key, count))
        else:
            conversion = count / previous if previous else None
            steps.append(Step(key, count, conversion=conversion, dropped=max(previous - count, 0)))
        previous = count
    return steps


def _merge(*tables: dict[str, dict]) -> dict[str, dict[str, int]]:
    merged: dict[str, dict[str, int]] = defaultdict(dict)
    for table in tables:
        for key, counts in table.items():
            merged[key].update(counts)
    return merged


def funnel(*, filters: FunnelFilter | None = None, now: dt.datetime | None = None) -> Funnel:
    filters = filters or FunnelFilter()
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    applies = steps_applying()
    accounts = _accounts(filters)

    eligibility_by_day, eligibility_by_source = _eligibility(filters, zone)
    accounts_by_day, accounts_by_source = _chains(accounts, zone, applies)
    by_day = _merge(eligibility_by_day, accounts_by_day)
    by_source = _merge(eligibility_by_source, accounts_by_source)
    totals: dict[str, int] = defaultdict(int)
    for counts in by_source.values():
        for step, number in counts.items():
            totals[step] += number

    ready = claims_ready().filter(claimant__in=accounts, decided_at__isnull=False)
    median = ready.aggregate(
        median=Median(claim_ready_at() - F("claimant__date_joined"), output_field=DurationField())
    )["median"]

    requests = InformationRequest.objects.filter(claim__claimant__in=accounts)
    today = timezone.localdate(now)
    answered_day = TruncDate("answered_at", tzinfo=zone)
    request_counts = requests.annotate(answered_day=answered_day).aggregate(
        due=Count("pk", filter=Q(answered_at__isnull=False) | Q(due_date__lt=today)),
        in_time=Count("pk", filter=Q(answered_at__isnull=False, answered_day__lte=F("due_date"))),
    )

    codes = (
        accounts.exclude(referral_code="")
        .order_by()
        .values_list("referral_code")
        .annotate(signups=Count("pk"), last_day=Count("pk", filter=Q(date_joined__gte=now - dt.timedelta(days=1))))
        .order_by("-signups", "referral_code")[:CODES_SHOWN]
    )
    sources = list(
        User.objects.filter(is_staff=False)
        .exclude(referral_source="")
        .order_by("referral_source")
        .values_list("referral_source", flat=True)
        .distinct()
    )

    day_keys = sorted(by_day, reverse=True)[:DAYS_SHOWN]
    return Funnel(
        filters=filters,
        steps=funnel_steps(totals, applies),
        by_day=[Breakdown(day, by_day[day]) for day in day_keys],
        by_source=sorted(
            (Breakdown(source, counts) for source, counts in by_source.items()),
            key=lambda row: (-row.count(ACCOUNT), -row.count(ELIGIBILITY_STARTED), row.key),
        ),
        median_to_ready=median,
        requests_due=request_counts["due"],
        requests_in_time=request_counts["in_time"],
        referral_codes=[CodeRow(code, signups, last_day) for code, signups, last_day in codes],
        sources=sources,
        computed_at=now,
        applies=applies,
    )


def _funnel_without_jit(filters: FunnelFilter | None) -> Funnel:
    """The funnel with PostgreSQL's JIT off (its readiness subqueries compile for longer than they run)."""
    with readiness.jit_off():
        return funnel(filters=filters)


def _cache_key(filters: FunnelFilter) -> str:
    return CACHE_KEY.format(filters=filters.cache_part(), today=timezone.localdate().isoformat())


def funnel_cached(*, filters: FunnelFilter | None = None) -> Funnel:
    """funnel() at most FUNNEL_CACHE_SECONDS old, one copy per filter (numbers and keys only: labels are
    translated when shown)."""
    filters = filters or FunnelFilter()
    return cache.get_or_set(_cache_key(filters), lambda: _funnel_without_jit(filters), settings.FUNNEL_CACHE_SECONDS)


def funnel_refresh() -> None:
    """Compute the unfiltered funnel (what the page opens on) and replace its cached copy: beat runs this every
    FUNNEL_REFRESH_SECONDS (filing.tasks.funnel), so no staff request waits for it (4-5 s at 200,000 claims:
    bench/README.md). A filtered view is still computed on its first request, then cached."""
    filters = FunnelFilter()
    cache.set(_cache_key(filters), _funnel_without_jit(filters), settings.FUNNEL_CACHE_SECONDS)


def funnel_cache_forget(*, filters: FunnelFilter | None = None) -> None:
    """Drop the cached copy for these filters (the benchmark times the page uncached)."""
    cache.delete(_cache_key(filters or FunnelFilter()))
