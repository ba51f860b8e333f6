"""Intake under load: gunicorn with the production settings on a loopback port, driven by locust from a second
process (bench/locustfile.py), against the framework's ceiling on the same server.

Four locust runs of 50 users each, all to 127.0.0.1 only, bounded in time:
1. capacity: claimants filing claims with no pause between pages (requests per second the site sustains);
2. ceiling: the same number of users asking for a view that does no I/O (bench/urls.py), same gunicorn;
3. signed-in ceiling: the same view asked for by logged-in claimants, so the middleware reads the session and the
   user on every request, as it must for every claimant page (for information: the floor of any such page);
4. paced: claimants pausing 1-3 s between pages, as people on phones do: the latency they see at 50 users.
The figures are (1) / (2) as a ratio, (3) / (2) beside it, and the latency percentiles and error count of (4) (and
of (1), for information). Each claimant logs in through the real login form with a prepared account; every run
has accounts of its own (a claimant who already filed would be sent to their claim instead of a new one).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.metrics import Metric
from bench.processes import process_stop

BASE_DIR = Path(__file__).resolve().parent.parent
USERS = 50
ACCOUNTS = 4000
# The accounts each run may use (see BENCH_ACCOUNT_RANGE in bench/locustfile.py): the capacity run files about 400
# claims a minute on this machine; a claimant pausing 1-3 s between pages files one a minute.
CAPACITY_ACCOUNTS = "0:3000"
SIGNED_IN_ACCOUNTS = "3000:3100"
PACED_ACCOUNTS = "3100:4000"
LOAD_PASSWORD = "bench-load-claimant-2022!"  # noqa: S105 - synthetic accounts in the benchmark database only
GUNICORN_WORKERS = 2 * (os.cpu_count() or 1) + 1  # as config/gunicorn.conf.py (Dockerfile, docker-compose.yml)
# Users start over 10 s (each logging in: an Argon2 check) and the statistics start once all are running, so the
# figures are the steady state, in which a claimant logs in once per claim, not a burst of 50 logins in a second.
SPAWN_RATE = 5


@dataclass
class LocustResult:
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_accounts(*, count: int, folder: Path) -> Path:
    """Claimants ready to file (see claimants_generate), sharing one password hashed once; their emails in a file."""
    from django.contrib.auth.hashers import make_password

    from devtools.generator import claimants_generate

    seed = 900_000 + int(time.time()) % 100_000  # a new seed each run: accounts are used up by filing
    emails = claimants_generate(count=count, seed=seed, password_hash=make_password(LOAD_PASSWORD))
    path = folder / "load-accounts.json"
    path.write_text(json.dumps(emails), encoding="utf-8")
    return path


class Gunicorn:
    """The site under production settings (bench.settings), stopped on exit."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = _free_port()
        self.env = env
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        command = [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--access-logfile",
            "-",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited during start-up: see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s: see {self.log}")

    def __exit__(self, *exc) -> None:
        process_stop(self.process, timeout=30)


def run_locust(
    *,
    host: str,
    user_class: str,
    seconds: int,
    think: str,
    accounts: Path,
    account_range: str,
    env: dict[str, str],
    prefix: Path,
) -> LocustResult:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BASE_DIR / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(USERS),
        "--spawn-rate",
        str(SPAWN_RATE),
        "--reset-stats",
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        user_class,
    ]
    locust_env = {
        **env,
        "BENCH_ACCOUNTS": str(accounts),
        "BENCH_ACCOUNT_RANGE": account_range,
        "BENCH_PASSWORD": LOAD_PASSWORD,
        "BENCH_THINK": think,
    }
    subprocess.run(command, cwd=BASE_DIR, env=locust_env, check=False, capture_output=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        aggregated = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return LocustResult(
        requests=int(aggregated["Request Count"]),
        failures=int(aggregated["Failure Count"]),
        rps=float(aggregated["Requests/s"]),
        p50=float(aggregated["50%"]),
        p95=float(aggregated["95%"]),
        p99=float(aggregated["99%"]),
    )


def _rate_against_ceiling(name: str, run: LocustResult, ceiling: LocustResult, **fields) -> Metric:
    """A run's requests per second beside the no-I/O view's, with their ratio."""
    ratio = run.rps / ceiling.rps if ceiling.rps else None
    return Metric(
        name,
        round(run.rps, 1),
        "req/s",
        n=run.requests,
        reference=round(ceiling.rps, 1),
        ratio=round(ratio, 3) if ratio else None,
        **fields,
    )


def measure(*, env: dict[str, str], folder: Path, seconds: int, claims_in_table: int) -> list[Metric]:
    """Prepare accounts, start gunicorn, run the four locust runs and return their figures (static files must
    have been collected)."""
    accounts = prepare_accounts(count=ACCOUNTS, folder=folder)
    # Production runs behind one proxy that reports the client in X-Forwarded-For: each simulated claimant has
    # its own address, so the per-address login limit applies per claimant as it would in production.
    server_env = {**env, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_TRUSTED_PROXY_COUNT": "1"}
    ceiling_seconds = max(15, seconds // 2)
    plan = {  # run: locust user class, seconds, pause between pages, accounts it may use
        "capacity": ("ClaimantUser", seconds, "0", CAPACITY_ACCOUNTS),
        "ceiling": ("TrivialUser", ceiling_seconds, "0", "0:0"),  # nobody logs in
        "signed-in": ("SignedInTrivialUser", ceiling_seconds, "0", SIGNED_IN_ACCOUNTS),
        "paced": ("ClaimantUser", seconds, "1,3", PACED_ACCOUNTS),
    }
    with Gunicorn(server_env, folder) as server:
        results = [
            run_locust(
                host=server.url,
                user_class=user_class,
                seconds=length,
                think=think,
                accounts=accounts,
                account_range=account_range,
                env=env,
                prefix=folder / name,
            )
            for name, (user_class, length, think, account_range) in plan.items()
        ]
    capacity, ceiling, signed_in, paced = results
    failures, requests = sum(run.failures for run in results), sum(run.requests for run in results)
    note = f"{USERS} users, gunicorn {GUNICORN_WORKERS} sync workers, locust on the same 2 cores"
    # Informative since issue 23 retired its target (0.5 x the no-I/O view) for the journey section's.
    throughput = _rate_against_ceiling(
        "intake: requests/s, claimants filing without pauses",
        capacity,
        ceiling,
        note=f"{note}; reference: no-I/O view; {claims_in_table:,} claims in the table; informative (the 0.5 x "
        "target was retired by issue 23 for the journey section's)",
    )
    return [
        throughput,
        _rate_against_ceiling(
            "intake: requests/s, signed-in claimants asking for the no-I/O view",
            signed_in,
            ceiling,
            note="for information: reading the session and the user, which every claimant page does, before any "
            "view work; reference: the same view signed out",
        ),
        *(
            Metric(f"intake: {name} latency without pauses", value, "ms", n=capacity.requests, note="closed loop")
            for name, value in (("p50", capacity.p50), ("p95", capacity.p95), ("p99", capacity.p99))
        ),
        Metric("intake: p50 latency, 1-3 s between pages", paced.p50, "ms", n=paced.requests),
        Metric(
            "intake: p95 latency, 1-3 s between pages",
            paced.p95,
            "ms",
            n=paced.requests,
            target="< 300 ms at 50 users",
            met=paced.p95 < 300,
        ),
        Metric("intake: p99 latency, 1-3 s between pages", paced.p99, "ms", n=paced.requests),
        Metric(
            "intake: errors (all runs)",
            failures,
            "requests",
            n=requests,
            target="0",
            met=failures == 0,
            note=f"failed requests are listed in {folder}/*_failures.csv",
        ),
    ]


def main() -> None:
    """`python -m bench.intake_load` is run through bench.run (which prepares the database and environment)."""
    os.execvp(sys.executable, [sys.executable, "-m", "bench.run", "--only", "intake", *sys.argv[1:]])  # noqa: S606


if __name__ == "__main__":
    main()
