"""`python -m bench.run` (or `make bench`): the scale benchmarks, each figure beside a reference measured in the
same run, printed as a table and written to bench/results.json. See bench/README.md.

It works in its own PostgreSQL database (BENCH_DATABASE_URL, default kakao_claims_bench; the name must contain
"bench"), which it drops, creates and migrates, then fills with the synthetic cohort (devtools/generator.py), and uses
the Redis database BENCH_REDIS_URL. The site runs with the production settings (bench/settings.py).

    python -m bench.run --count 20000 --only intake,staff
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bench.metrics import Metric, not_measured
from config.crypto import derived_key

BASE_DIR = Path(__file__).resolve().parent.parent
SECTIONS = ("recompute", "staff", "fraud", "exports", "intake", "journey", "messages", "evidence_reading")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kakao_claims_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
GENERATION_TARGET_SECONDS = 300  # 200,000 claims "in a few minutes"
RECOMPUTE_TARGET_SECONDS = 60  # for 200,000 claims, one worker
SMALL_TABLE_SHARE = 10  # query counts are first taken at count / 10 claims
EXPORT_CHECKPOINT_SHARE = 4  # exports are first measured at count / 4 claims (50,000 of 200,000)
MEMORY_GROWTH_LIMIT = 1.1
SITE_TIME_ZONE = ZoneInfo("Asia/Seoul")  # config/settings/base.py TIME_ZONE
BENCH_SECRET = "benchmark-database-only-synthetic-data-not-a-production-secret"  # noqa: S105


def environment(database_url: str, redis_url: str, folder: Path) -> dict[str, str]:
    """What the benchmark's processes run with: production settings, the bench database and Redis. The secrets are
    fixed for the benchmark database (its data is synthetic), so a `--reuse` run can read what the last one wrote."""
    secret = os.environ.get("BENCH_SECRET_KEY", BENCH_SECRET)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secret,
        "FIELD_ENCRYPTION_KEYS": derived_key(secret, "field-encryption"),
        "FIELD_HASH_KEY": derived_key(secret, "field-hash"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PRIVATE_STORAGE_ROOT": str(folder / "private"),
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def database_recreate(database_url: str) -> None:
    import psycopg

    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: the benchmark database's name must contain 'bench'.")
    maintenance = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def git_revision() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=BASE_DIR, capture_output=True, text=True).stdout
    return result.stdout.strip() + ("+uncommitted" if dirty.strip() else "")


def say(text: str) -> None:
    """A progress line stamped in the site's time zone (Django's set-up switches the process's local time to it
    part-way through a run, so the local clock would jump)."""
    print(f"[{dt.datetime.now(SITE_TIME_ZONE):%H:%M:%S}] {text}", flush=True)


# --- sections ---------------------------------------------------------------------------------------------------


def generate(count: int, seed: int, first_number: int) -> float:
    """Write claims first_number .. first_number+count-1 of the seed; returns the seconds it took."""
    from devtools.generator import claims_generate

    report = claims_generate(
        count=count,
        seed=seed,
        first_number=first_number,
        workers=max(1, (os.cpu_count() or 2) - 1),
        progress=lambda r: (
            say(f"  generated {r.claims:,} claims ({r.seconds:.0f} s)") if r.claims % 50_000 == 0 else None
        ),
    )
    return report.seconds


def generation_metric(claims: int, seconds: float) -> Metric:
    rate = claims / seconds
    needed = 200_000 / GENERATION_TARGET_SECONDS
    return Metric(
        "generate_claims: claims written per second",
        round(rate),
        "claims/s",
        n=claims,
        target=f">= {needed:.0f}/s (200,000 in {GENERATION_TARGET_SECONDS // 60} min)",
        met=rate >= needed,
        note=f"{seconds:.0f} s, COPY with evidence files, consents and timelines",
    )


def fraud_sweep() -> Metric:
    """The whole-table duplicate and fraud sweep, so the claim list has flags to filter on (informative)."""
    from claims.services.fraud import fraud_sweep as sweep

    started = time.perf_counter()
    flags = sweep()
    return Metric(
        "fraud sweep over the whole table",
        round(time.perf_counter() - started, 1),
        "s",
        n=flags,
        note="n = flags written",
    )


def _estimable_ids() -> list[int]:
    from claims.models import Claim
    from claims.selectors.estimates import ESTIMABLE_STATUSES

    return list(Claim.objects.filter(status__in=ESTIMABLE_STATUSES).order_by("pk").values_list("pk", flat=True))


def tables_vacuum() -> None:
    """VACUUM ANALYZE the whole database, as autovacuum would have by then in production (the benchmarks' server
    may run without it): fresh statistics, and the visibility map that index-only scans rely on."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def estimate_everything() -> None:
    """Estimate the claims (not measured), as the site would have after each submission."""
    try:
        from bench.recompute import recompute as recompute_all
    except ImportError:
        return
    recompute_all(_estimable_ids())


SOLATIUM_STEP = 10_000  # each benchmark version raises the solatium, so most totals change as in a real revision


def new_model_version():
    """A new active version of the default incident's damage model, as when a lawyer activates a revision: the
    solatium per claimant is raised by 10,000 won, so almost every total changes and every claim is rewritten.
    Written directly: the service would also queue the background job, which the caller runs."""
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from claims.models import DamageModelVersion
    from claims.selectors import incident_default

    incident = incident_default()
    with transaction.atomic():
        versions = DamageModelVersion.objects.select_for_update().filter(incident=incident)
        current = versions.filter(is_active=True).first()
        if current is None:
            return None
        latest = versions.aggregate(latest=Max("version"))["latest"]
        versions.filter(pk=current.pk).update(is_active=False)
        parameters = {**current.parameters}
        parameters["solatium_per_claimant"] += SOLATIUM_STEP
        return DamageModelVersion.objects.create(
            incident=incident,
            version=latest + 1,
            parameters=parameters,
            note="benchmark: recompute every claim",
            is_active=True,
            activated_at=timezone.now(),
        )


def recompute(env: dict[str, str], folder: Path) -> list[Metric]:
    """Recompute every estimable claim after a new model version: first by the chunk code path in this process
    (one process, for reference), then as production does it, the recompute job run by one Celery worker on the
    estimates queue started as docker-compose.yml starts it; against one SQL UPDATE that computes the
    subscription component for the same claims (rolled back)."""
    from django.db import connection

    try:
        from bench.recompute import EstimatesWorker, recompute_job_run
        from bench.recompute import recompute as recompute_all
    except ImportError:
        return [not_measured("recompute", "bench/recompute.py (damages) is not there")]
    new_model_version()
    ids = _estimable_ids()
    started = time.perf_counter()
    written = recompute_all(ids)
    inline_seconds = time.perf_counter() - started
    with EstimatesWorker(env, folder / "estimates-worker.log"):
        job = recompute_job_run(new_model_version())
    seconds = (job.finished_at - job.created_at).total_seconds()
    floor = _subscription_update_seconds(ids)
    rate = len(ids) / seconds
    needed = 200_000 / RECOMPUTE_TARGET_SECONDS
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE claims_claim")
    return [
        Metric(
            "recompute: claims estimated per second, in one process",
            round(len(ids) / inline_seconds),
            "claims/s",
            n=len(ids),
            note=f"{inline_seconds:.1f} s for {len(ids):,} claims, {written:,} estimates written; the chunk code path"
            " called in a loop, for reference",
        ),
        Metric(
            "recompute: claims estimated per second (one worker)",
            round(rate),
            "claims/s",
            n=len(ids),
            target=f">= {needed:.0f}/s (200,000 in {RECOMPUTE_TARGET_SECONDS} s)",
            met=rate >= needed and job.status == job.Status.DONE and job.failures == 0,
            note=f"{seconds:.1f} s for {job.total:,} claims: recompute job {job.status}, {job.failures} failures;"
            " one Celery worker, 2 pool processes (docker-compose.yml)",
        ),
        Metric(
            "recompute: time against one SQL UPDATE of the subscription component",
            round(seconds, 1),
            "s",
            n=len(ids),
            reference=round(floor, 2),
            ratio=round(seconds / floor, 1),
            target="<= 10 x the UPDATE",
            met=seconds / floor <= 10,
        ),
    ]


class _RolledBack(Exception):
    pass


def _subscription_update_seconds(ids: list[int]) -> float:
    """The database's floor: one UPDATE computing each claim's subscription component (2 damaged days at fee/31,
    times the active model's multiplier, rounded to 10 won), timed and rolled back."""
    from django.db import connection, transaction

    from claims.damages import Parameters
    from claims.selectors import incident_default
    from claims.selectors.estimates import damage_model_active

    incident = incident_default()
    multiplier = Parameters.from_dict(damage_model_active(incident_id=incident.pk).parameters).subscription_multiplier
    sql = (
        "UPDATE claims_claim SET estimate_total = (SELECT COALESCE(SUM(ROUND(monthly_fee * 2 * %s / 31.0 / 10) * 10),"
        " 0) FROM claims_lossitem WHERE claims_lossitem.claim_id = claims_claim.id"
        " AND claims_lossitem.kind = 'subscription') WHERE id = ANY(%s)"
    )
    try:
        with transaction.atomic():
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, [float(multiplier), ids])
            seconds = time.perf_counter() - started
            raise _RolledBack
    except _RolledBack:
        return seconds


def exports() -> list[Metric]:
    try:
        from bench import exports as export_bench
    except ImportError:
        return [not_measured("exports (CSV, XLSX)", "exports not built yet (no bench/exports.py)")]
    return export_bench.measure()


def export_growth(early: list[Metric], final: list[Metric]) -> list[Metric]:
    """The exports at the full size, those at the checkpoint (renamed), and whether peak memory grew between them."""
    before = {metric.metric: metric for metric in early if metric.value is not None}
    growth = []
    for metric in final:
        first = before.get(metric.metric)
        if first is None or not metric.metric.endswith("peak memory") or metric.value is None:
            continue
        ratio = metric.value / first.value
        growth.append(
            Metric(
                f"{metric.metric}: growth {first.n:,} -> {metric.n:,} rows",
                metric.value,
                "MB",
                n=metric.n,
                reference=first.value,
                ratio=round(ratio, 2),
                target=f"not growing (<= {MEMORY_GROWTH_LIMIT:g}x)",
                met=ratio <= MEMORY_GROWTH_LIMIT,
            )
        )
    renamed = [
        Metric(**{**metric.as_dict(), "metric": f"{metric.metric} (at {metric.n:,} rows)"})
        for metric in early
        if metric.n
    ]
    return [*renamed, *final, *growth]


# --- output -----------------------------------------------------------------------------------------------------


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(metrics: list[Metric]) -> str:
    headers = ["metric", "value", "unit", "n", "reference", "ratio", "target", "met"]
    rows = [
        [
            m.metric,
            _cell(m.value),
            m.unit,
            _cell(m.n),
            _cell(m.reference),
            _cell(m.ratio),
            m.target,
            _cell(m.met) if m.met is not None else "",
        ]
        for m in metrics
    ]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(headers))]
    lines.append("  ".join("-" * width for width in widths))
    for metric, row in zip(metrics, rows, strict=True):
        lines.append("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)))
        if metric.note.startswith("not measured"):
            lines.append(f"    {metric.note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scale benchmarks (see bench/README.md).")
    parser.add_argument("--count", type=int, default=200_000, help="claims in the table (default 200,000)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--reuse", action="store_true", help="keep the database and cohort of the previous run")
    parser.add_argument("--intake-seconds", type=int, default=60, help="length of each claimant locust run")
    parser.add_argument(
        "--journeys", type=int, default=300, help="complete claimant journeys in the journey section (default 300)"
    )
    parser.add_argument("--journey-users", type=int, default=20, help="concurrent claimants in the journey section")
    parser.add_argument(
        "--journey-rate",
        type=int,
        default=3000,
        help="journeys started an hour in the journey section (default 3,000, the target); 0: as fast as it goes",
    )
    parser.add_argument(
        "--no-sandboxes",
        action="store_true",
        help="journeys without the identity and payment sandboxes (typed signature, no retainer)",
    )
    parser.add_argument("--output", default=str(BASE_DIR / "bench" / "results.json"))
    options = parser.parse_args(argv)
    sections = [part.strip() for part in options.only.split(",") if part.strip()]
    if unknown := set(sections) - set(SECTIONS):
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    folder = BASE_DIR / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    env = environment(database_url, redis_url, folder)
    os.environ.update(env)
    say(f"database {urlparse(database_url).path.lstrip('/')}, Redis {redis_url}, {options.count:,} claims, {sections}")
    if not options.reuse:
        database_recreate(database_url)
    # A reused database gets the migrations it lacks, so it is measured with the revision's indexes.
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True)

    if {"staff", "intake", "journey"} & set(
        sections
    ):  # the production static storage serves hashed names from a manifest
        say("collectstatic")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True
        )

    import django

    django.setup()
    from claims.models import Claim

    metrics: list[Metric] = []
    small_counts, small_size, early_exports = None, None, []
    existing = Claim.objects.count()
    if existing < options.count:
        # Checkpoints on the way up: staff query counts at a tenth of the table, exports at a quarter.
        checkpoints = []
        if existing == 0 and "staff" in sections:
            checkpoints.append((options.count // SMALL_TABLE_SHARE, "staff"))
        if existing == 0 and "exports" in sections:
            checkpoints.append((options.count // EXPORT_CHECKPOINT_SHARE, "exports"))
        seconds = 0.0
        for size, section in sorted(checkpoints):
            done = Claim.objects.count()
            say(f"generating {size - done:,} claims ({section} on {size:,} claims first)")
            seconds += generate(size - done, options.seed, done)
            if section == "staff":
                from bench import staff_pages

                if staff_pages.available() is None:  # the same state as later: flags found, claims estimated
                    small_size = size
                    fraud_sweep()
                    estimate_everything()
                    small_counts = staff_pages.query_counts()
            else:
                estimate_everything()
                early_exports = exports()
        done = Claim.objects.count()
        say(f"generating {options.count - done:,} claims")
        seconds += generate(options.count - done, options.seed, done)
        metrics.append(generation_metric(options.count - existing, seconds))
    total = Claim.objects.count()
    if "staff" in sections:
        say("fraud sweep")
        metrics.append(fraud_sweep())
    if "fraud" in sections:
        from bench import surge

        say("fraud check of one claim")
        metrics += surge.fraud_check_metrics(claims_in_table=total)
    if "recompute" in sections:
        say("recompute")
        metrics += recompute(env, folder)
    if {"staff", "exports"} & set(sections):
        say("vacuum analyze (as autovacuum would have by now)")
        tables_vacuum()
    if "staff" in sections:
        from bench import staff_pages

        say("staff pages")
        metrics += staff_pages.measure(claims_in_table=total, small=small_counts, small_size=small_size)
        from bench import surge

        say("dashboard without its cache")
        metrics.append(surge.dashboard_uncached_metric(claims_in_table=total))
    if "exports" in sections:
        say("exports")
        metrics += export_growth(early_exports, exports())
    if "intake" in sections:
        from bench import intake_load

        say("intake under load (gunicorn + locust)")
        metrics += intake_load.measure(env=env, folder=folder, seconds=options.intake_seconds, claims_in_table=total)

    if "journey" in sections:
        from bench import journey_load

        say(f"{options.journeys} complete journeys (gunicorn -c config/gunicorn.conf.py + the Celery workers + locust)")
        metrics += journey_load.measure(
            env=env, folder=folder, journeys=options.journeys, seconds=max(120, options.journeys * 6),
            users=options.journey_users, sandboxes=not options.no_sandboxes, rate=options.journey_rate,
        )  # fmt: skip

    if "messages" in sections:
        from bench import messages

        say("bulk message queuing")
        metrics += messages.measure(recipients=min(total, 100_000))

    if "evidence_reading" in sections:
        from bench import evidence_reading

        say("evidence reading (OCR of a drawn corpus)")
        metrics += evidence_reading.measure()

    print()
    print(table(metrics))
    result = {
        "git_revision": git_revision(),
        "cores": os.cpu_count(),
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "claims": total,
        "seed": options.seed,
        "sections": sections,
        "results": [metric.as_dict() for metric in metrics],
    }
    Path(options.output).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    missed = [m.metric for m in metrics if m.met is False]
    print(
        f"\n{len(missed)} target(s) missed"
        + (": " + "; ".join(missed) if missed else "")
        + f". Written {options.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
