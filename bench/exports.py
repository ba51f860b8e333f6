"""Export benchmark: `.venv/bin/python -m bench.exports --count 200000`.

Uses the claims already in the configured database (DATABASE_URL); with fewer than `--count`, it first writes the
missing ones with the synthetic generator (devtools/generator.py) and estimates every claim that has no estimate, as
the site would have. It then exports one cohort holding every claim of the default incident, the way the export
task does (the same builder, the same streaming query), into a temporary file:

- CSV: seconds, set beside the floor, PostgreSQL's `COPY` of a plain table holding the export's columns (built
  once from the export's SELECT; targets: under 8 s per 200,000 rows and at most 2 times the floor), with the
  `COPY (<the same SELECT>)` for information, and the process's peak memory (target < 200 MB);
- XLSX: seconds and peak memory (targets, scaled to 200,000 rows: < 40 s and < 250 MB).

Each export runs in its own child process, so its peak resident memory (VmHWM) is its own; the child's
memory before the export (Django, XlsxWriter and WeasyPrint imported) is reported beside it. `bench.run` calls
`measure()` as its `exports` section.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

from bench.metrics import Metric

BASE_DIR = Path(__file__).resolve().parent.parent
COHORT_NAME = "벤치마크: 기본 사고의 모든 신청"
SEED = 2022
ESTIMATE_CHUNK = 1000
CSV_COPY_RATIO_TARGET = 2.0  # of the COPY of a plain table holding the export's columns (issue 23)
CSV_SECONDS_PER_200K = 8
CSV_MEMORY_TARGET_MB = 200
XLSX_SECONDS_PER_200K = 40
XLSX_MEMORY_TARGET_MB = 250


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM on Linux (`ru_maxrss` would include the parent's peak before
    exec), else `ru_maxrss` (kilobytes on Linux, bytes on macOS)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench_cohort():
    """The cohort of every claim of the default incident (created once, reused)."""
    from claims.selectors import incident_default
    from filing.models import Cohort

    cohort, _created = Cohort.objects.get_or_create(
        name=COHORT_NAME, defaults={"incident": incident_default(), "criteria": {}}
    )
    return cohort


def claims_ensure(count: int) -> None:
    """At least `count` claims, all estimated (the generator writes claims without estimates)."""
    from claims.models import Claim
    from claims.selectors.estimates import ESTIMABLE_STATUSES
    from claims.services.estimates import estimates_refresh

    existing = Claim.objects.count()
    if existing < count:
        from devtools.generator import claims_generate

        print(f"generating {count - existing:,} claims", flush=True)
        claims_generate(
            count=count - existing, seed=SEED, first_number=existing, workers=max(1, (os.cpu_count() or 2) - 1)
        )
    missing = list(
        Claim.objects.filter(status__in=ESTIMABLE_STATUSES, estimates__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if missing:
        print(f"estimating {len(missing):,} claims", flush=True)
    for start in range(0, len(missing), ESTIMATE_CHUNK):
        estimates_refresh(claim_ids=missing[start : start + ESTIMATE_CHUNK])


def sheet_sql(cohort) -> tuple[str, dict]:
    """The export's SELECT (filing/selectors/claim_sheet.py) with the labels in Korean, as the export task has them."""
    from django.utils import translation

    from filing.selectors.claim_sheet import claim_sheet_sql

    with translation.override("ko"):
        return claim_sheet_sql(cohort=cohort)


def copy_reference(cohort) -> tuple[float, int]:
    """Seconds and bytes for PostgreSQL to write the export's SELECT as CSV itself (COPY ... TO STDOUT), with
    JIT off as the export runs it: what the export does, less the header and the CRLF line ends (informative)."""
    from django.db import connection

    sql, params = sheet_sql(cohort)
    size = 0
    with tempfile.TemporaryFile() as out, connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        started = time.perf_counter()
        statement = connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params)
        with cursor.cursor.copy(statement) as copy:
            for block in copy:
                out.write(block)
                size += len(block)
        seconds = time.perf_counter() - started
        cursor.execute("RESET jit")
    return seconds, size


PLAIN_TABLE = "bench_export_plain"


def plain_copy_reference(cohort) -> tuple[float, float, int]:
    """The floor: the export's SELECT written once into a plain table (seconds, informative), then the seconds
    and bytes for PostgreSQL to COPY that table as CSV, so the reference says what writing the rows costs
    without computing them."""
    from django.db import connection

    sql, params = sheet_sql(cohort)
    size = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
        cursor.execute("SET jit = off")
        started = time.perf_counter()
        cursor.execute(f"CREATE UNLOGGED TABLE {PLAIN_TABLE} AS {sql}", params)
        build_seconds = time.perf_counter() - started
        cursor.execute("RESET jit")
        cursor.execute(f"VACUUM ANALYZE {PLAIN_TABLE}")
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY {PLAIN_TABLE} TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    out.write(block)
                    size += len(block)
            seconds = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {PLAIN_TABLE}")
    return seconds, build_seconds, size


def export_child(kind: str, cohort_id: int) -> dict:
    """Run in the child process: build one export of the cohort into a temporary file, as the task does."""
    from filing.models import Cohort, ExportJob
    from filing.services.exports import BUILDERS

    job = ExportJob(kind=kind, cohort=Cohort.objects.get(pk=cohort_id))  # not saved: progress is not recorded
    before = peak_rss_mb()
    rows = 0

    def progress(done: int) -> None:
        nonlocal rows
        rows = done

    with tempfile.TemporaryFile() as out:
        started, cpu_started = time.perf_counter(), time.process_time()
        BUILDERS[kind].build(job, out, progress)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        size = out.tell()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": size,
        "peak_mb": peak_rss_mb(),
        "baseline_mb": before,
        "progress": rows,
    }


def run_child(kind: str, cohort_id: int) -> dict:
    command = [sys.executable, "-m", "bench.exports", "--child", kind, "--cohort", str(cohort_id)]
    result = subprocess.run(command, cwd=BASE_DIR, env=os.environ, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure() -> list[Metric]:
    """The export figures for the claims in the database (see the module docstring)."""
    from filing.models import ExportJob
    from filing.selectors.cohorts import cohort_claims

    cohort = bench_cohort()
    rows = cohort_claims(cohort=cohort).count()
    csv = run_child(ExportJob.Kind.CLAIMS_CSV, cohort.pk)
    plain_seconds, build_seconds, plain_bytes = plain_copy_reference(cohort)
    copy_seconds, copy_bytes = copy_reference(cohort)
    xlsx = run_child(ExportJob.Kind.CLAIMS_XLSX, cohort.pk)
    ratio = csv["seconds"] / plain_seconds
    csv_limit = CSV_SECONDS_PER_200K * max(rows, 1) / 200_000
    xlsx_limit = XLSX_SECONDS_PER_200K * max(rows, 1) / 200_000
    return [
        Metric(
            "export CSV: seconds",
            round(csv["seconds"], 1),
            "s",
            n=rows,
            reference=round(plain_seconds, 2),
            ratio=round(ratio, 2),
            target=f"< {csv_limit:.1f} s and <= {CSV_COPY_RATIO_TARGET:g}x the COPY of a plain table of its columns",
            met=csv["seconds"] < csv_limit and ratio <= CSV_COPY_RATIO_TARGET,
            note=f"{rows / csv['seconds']:,.0f} rows/s, {csv['cpu_seconds']:.1f} s of CPU in Python, "
            f"{csv['bytes'] / 1e6:.0f} MB; COPY of the plain table {plain_seconds:.1f} s ({plain_bytes / 1e6:.0f} MB; "
            f"building it from the SELECT {build_seconds:.1f} s); COPY of the SELECT itself {copy_seconds:.1f} s "
            f"({copy_bytes / 1e6:.0f} MB)",
        ),
        Metric(
            "export CSV: peak memory",
            round(csv["peak_mb"]),
            "MB",
            n=rows,
            target=f"< {CSV_MEMORY_TARGET_MB} MB",
            met=csv["peak_mb"] < CSV_MEMORY_TARGET_MB,
            note=f"{csv['baseline_mb']:.0f} MB before the export (Django and the writers imported)",
        ),
        Metric(
            "export XLSX: seconds",
            round(xlsx["seconds"], 1),
            "s",
            n=rows,
            target=f"< {xlsx_limit:.0f} s ({XLSX_SECONDS_PER_200K} s per 200,000 rows)",
            met=xlsx["seconds"] < xlsx_limit,
            note=f"{rows / xlsx['seconds']:,.0f} rows/s, {xlsx['cpu_seconds']:.1f} s of CPU in Python, "
            f"{xlsx['bytes'] / 1e6:.0f} MB",
        ),
        Metric(
            "export XLSX: peak memory",
            round(xlsx["peak_mb"]),
            "MB",
            n=rows,
            target=f"< {XLSX_MEMORY_TARGET_MB} MB",
            met=xlsx["peak_mb"] < XLSX_MEMORY_TARGET_MB,
            note=f"{xlsx['baseline_mb']:.0f} MB before the export",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export benchmark (CSV and XLSX of a cohort of every claim).")
    parser.add_argument("--count", type=int, default=200_000, help="claims to have in the database first")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cohort", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    if options.child:
        print(json.dumps(export_child(options.child, options.cohort)))
        return 0
    claims_ensure(options.count)
    from bench.run import table

    print(table(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
