"""Issue 23's figures that need no server: the fraud check of one claim and the dashboard computed without its
cache, each timed beside a reference from the same run (`bench.run` sections `fraud` and `staff`)."""

from __future__ import annotations

import random
import time

from bench.metrics import Metric, median, percentile

FRAUD_CHECK_TARGET_MS = 20
FRAUD_CHECKS = 60
DASHBOARD_TARGET_MS = 300
DASHBOARD_RUNS = 7


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def fraud_check_metrics(*, claims_in_table: int, seed: int = 23) -> list[Metric]:
    """`claim_fraud_check` (what the task queued on every submission runs) of FRAUD_CHECKS checked claims drawn
    at random, after one warm-up, beside a primary-key lookup of each claim in the same loop (the database's
    floor for reading one claim), on tables vacuumed and analysed first."""
    from django.db import connection

    from claims.models import Claim
    from claims.services.fraud import CHECKED_STATUSES, claim_fraud_check

    # As autovacuum keeps them (this benchmark's server runs without it): fresh statistics, and the visibility map
    # that lets the check read the picture candidates from the band indexes alone (index-only scans).
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE claims_claim, claims_evidence, claims_flag, accounts_user, accounts_identityverification"
        )
    ids = list(Claim.objects.filter(status__in=CHECKED_STATUSES).order_by().values_list("pk", flat=True))
    if not ids:
        return []
    sample = random.Random(seed).sample(ids, min(FRAUD_CHECKS, len(ids)))
    claim_fraud_check(claim_id=sample[0])
    checks, lookups, flags = [], [], 0
    for claim_id in sample:
        lookups.append(_timed(lambda claim_id=claim_id: Claim.objects.filter(pk=claim_id).values_list("pk").get()))
        started = time.perf_counter()
        flags += claim_fraud_check(claim_id=claim_id)
        checks.append((time.perf_counter() - started) * 1000)
    floor = median(lookups)
    return [
        Metric(
            "fraud check of one claim: median",
            round(median(checks), 1),
            "ms",
            n=claims_in_table,
            reference=round(floor, 2),
            ratio=round(median(checks) / floor, 1),
            target=f"< {FRAUD_CHECK_TARGET_MS} ms",
            met=median(checks) < FRAUD_CHECK_TARGET_MS,
            note=f"{len(sample)} random checked claims (claim_fraud_check, flags written: {flags}); reference: a"
            " primary-key lookup of the same claim",
        ),
        Metric(
            "fraud check of one claim: p95",
            round(percentile(checks, 0.95), 1),
            "ms",
            n=claims_in_table,
            reference=round(percentile(lookups, 0.95), 2),
            note="informative",
        ),
    ]


def dashboard_uncached_metric(*, claims_in_table: int) -> Metric:
    """`dashboard_summary()` without the cache (what beat's refresh computes every minute, and a view only when
    there is no cached copy), median of DASHBOARD_RUNS after a warm-up, beside `SELECT count(*)` of the claims (one
    pass over the table), on tables vacuumed and analysed first."""
    from django.db import connection

    from claims.selectors.dashboard import dashboard_summary

    def count_all() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM claims_claim")
            cursor.fetchone()

    # As autovacuum keeps them: fresh statistics, and the visibility map that lets the dashboard read its covering
    # indexes alone (index-only scans).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE claims_claim, claims_claim_services, claims_lossitem")
    dashboard_summary()
    count_all()
    runs, counts = [], []
    for _run in range(DASHBOARD_RUNS):
        counts.append(_timed(count_all))
        runs.append(_timed(dashboard_summary))
    value, floor = median(runs), median(counts)
    return Metric(
        "dashboard computed without its cache: median",
        round(value, 1),
        "ms",
        n=claims_in_table,
        reference=round(floor, 1),
        ratio=round(value / floor, 1),
        target=f"< {DASHBOARD_TARGET_MS} ms",
        met=value < DASHBOARD_TARGET_MS,
        note=f"dashboard_summary(), {DASHBOARD_RUNS} runs after a warm-up, p95 {percentile(runs, 0.95):.0f} ms;"
        " reference: counting every claim (one pass over the table)",
    )
