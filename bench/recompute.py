"""Recompute benchmark: `.venv/bin/python -m bench.recompute --count 200000`.

Creates N synthetic submitted claims (with loss items and evidence, by bulk_create) in the configured database,
recomputes all of them through `estimates_refresh` in chunks of CHUNK_SIZE ids (the code path of a recompute chunk
task, inline in one process: one worker), and prints claims per second and the ratio to one SQL UPDATE that
computes only the subscription component. Everything runs in one transaction that is rolled back at the end, so
the database is left as it was.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import django

from bench.processes import process_stop

if TYPE_CHECKING:
    from claims.models import DamageModelVersion, RecomputeJob

REFERENCE_PREFIX = "BN-"  # never a real reference code (those start with KC-)
BASE_DIR = Path(__file__).resolve().parent.parent
# The `estimates` service of docker-compose.yml: one worker on the estimates queue with two pool processes.
WORKER_COMMAND = ["-A", "config", "worker", "-n", "estimates-bench@%h", "-Q", "estimates", "--concurrency=2"]
WORKER_START_SECONDS = 60
JOB_TIMEOUT_SECONDS = 30 * 60


class _RollBack(Exception):
    """Raised to undo everything the benchmark wrote."""


@dataclass
class Synthetic:
    claim_ids: list[int]
    loss_items: int
    evidence: int


def synthetic_claims(count: int, *, seed: int) -> Synthetic:
    """`count` submitted claims of the default incident: mostly paid Kakao T plans, some business losses and
    extra expenses, about half with proof of use."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from claims.models import Claim, Evidence, LossItem, Service
    from claims.selectors import incident_default

    rng = random.Random(seed)
    incident = incident_default()
    services = {service.slug: service.pk for service in Service.objects.filter(slug__in=["kakao-t", "talk-channel"])}
    now = timezone.now()
    run = f"{rng.randrange(16**4):04X}"
    users = User.objects.bulk_create(
        [User(email=f"bench-{run}-{i}@bench.invalid", password=UNUSABLE_PASSWORD_PREFIX) for i in range(count)],
        batch_size=5000,
    )
    claims = Claim.objects.bulk_create(
        [
            Claim(
                claimant_id=user.pk,
                incident_id=incident.pk,
                status=Claim.Status.SUBMITTED,
                reference_code=f"{REFERENCE_PREFIX}{run}-{i:07d}",
                claimant_type=Claim.ClaimantType.INDIVIDUAL,
                submitted_at=now,
                already_compensated=rng.choice([0, 0, 0, 5_000]),
            )
            for i, user in enumerate(users)
        ],
        batch_size=5000,
    )
    items = []
    for claim in claims:
        items.append(
            LossItem(
                claim_id=claim.pk,
                service_id=services["kakao-t"],
                kind=LossItem.Kind.SUBSCRIPTION,
                monthly_fee=rng.choice([39_000, 22_000, 11_000]),
            )
        )
        if rng.random() < 0.3:
            items.append(
                LossItem(
                    claim_id=claim.pk,
                    service_id=services["talk-channel"],
                    kind=LossItem.Kind.BUSINESS_REVENUE,
                    comparison_revenue=rng.randrange(100_000, 3_000_000, 1000),
                    outage_revenue=rng.randrange(0, 100_000, 1000),
                )
            )
        if rng.random() < 0.2:
            items.append(
                LossItem(
                    claim_id=claim.pk,
                    service_id=services["kakao-t"],
                    kind=LossItem.Kind.EXPENSE,
                    amount=rng.randrange(5_000, 80_000, 100),
                )
            )
    items = LossItem.objects.bulk_create(items, batch_size=5000)
    owners = {claim.pk: user.pk for claim, user in zip(claims, users, strict=True)}
    evidence = [
        _evidence(claim.pk, owners[claim.pk], Evidence.Tag.PROOF_OF_USE, now) for claim in claims if rng.random() < 0.5
    ]
    evidence += [
        _evidence(item.claim_id, owners[item.claim_id], Evidence.Tag.RECEIPT, now, loss_item_id=item.pk)
        for item in items
        if item.kind == LossItem.Kind.EXPENSE and rng.random() < 0.5
    ]
    Evidence.objects.bulk_create(evidence, batch_size=5000)
    if connection.vendor == "postgresql":  # fresh statistics, as autovacuum would have them in production
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE claims_claim, claims_lossitem, claims_evidence, claims_estimate")
    return Synthetic([claim.pk for claim in claims], len(items), len(evidence))


def _evidence(claim_id: int, user_id: int, tag: str, now, loss_item_id: int | None = None):
    from claims.models import Evidence

    return Evidence(
        claim_id=claim_id,
        loss_item_id=loss_item_id,
        tag=tag,
        file=f"bench/{claim_id}.png",
        original_name="bench.png",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
        uploaded_by_id=user_id,
        uploaded_at=now,
    )


def recompute(claim_ids: list[int]) -> int:
    """The recompute chunk code path over every id, CHUNK_SIZE at a time; returns how many were written."""
    from claims.selectors.estimates import CHUNK_SIZE
    from claims.services.estimates import estimates_refresh

    written = 0
    for start in range(0, len(claim_ids), CHUNK_SIZE):
        written += len(estimates_refresh(claim_ids=claim_ids[start : start + CHUNK_SIZE]).written)
    return written


class EstimatesWorker:
    """A real Celery worker on the estimates queue, started as docker-compose.yml starts it and stopped on exit.
    Anything left on its queues by earlier runs (the intake benchmark queues an estimate per submitted claim) is
    purged first, so the worker does only the job it is given."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> EstimatesWorker:
        from config.celery import app

        app.control.purge()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("celery")), *WORKER_COMMAND],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + WORKER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited during start-up: see {self.log}")
            if app.control.ping(destination=[f"estimates-bench@{os.uname().nodename}"], timeout=1):
                return self
        raise RuntimeError(f"the Celery worker did not answer within {WORKER_START_SECONDS} s: see {self.log}")

    def __exit__(self, *exc) -> None:
        process_stop(self.process, timeout=60)


def recompute_job_run(version: DamageModelVersion) -> RecomputeJob:
    """What activating `version` starts (a recompute job, planned into chunk tasks), run by whatever worker is
    listening; returns the job once it has finished. Its own timestamps (created, finished) time it."""
    from django.db import transaction

    from claims.models import RecomputeJob
    from claims.tasks.estimates import recompute_job_plan_task

    with transaction.atomic():
        job = RecomputeJob.objects.create(model_version=version)
        recompute_job_plan_task.delay_on_commit(job.pk)
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (RecomputeJob.Status.DONE, RecomputeJob.Status.FAILED):
            return job
        time.sleep(0.2)
    raise RuntimeError(f"recompute job {job.pk} did not finish within {JOB_TIMEOUT_SECONDS} s")


def subscription_update(claim_ids: list[int]) -> int:
    """One SQL UPDATE setting each claim's total to its subscription component alone (the Kakao T window: 2
    damaged days in a 31-day month, with the active model's multiplier), rounded half-up to 10 won."""
    from django.db import connection

    from claims.damages import Parameters
    from claims.models import Claim
    from claims.selectors import incident_default
    from claims.selectors.estimates import damage_model_active

    incident = incident_default()
    multiplier = Parameters.from_dict(damage_model_active(incident_id=incident.pk).parameters).subscription_multiplier
    claims, items = Claim._meta.db_table, "claims_lossitem"
    sql = (
        f"UPDATE {claims} SET estimate_total = ("  # noqa: S608 - table names from the models, values bound
        f" SELECT COALESCE(SUM(ROUND(monthly_fee * 2 * %s / 31.0 / 10) * 10), 0) FROM {items}"
        f" WHERE {items}.claim_id = {claims}.id AND {items}.kind = 'subscription')"
        f" WHERE id BETWEEN %s AND %s AND reference_code LIKE %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [float(multiplier), min(claim_ids), max(claim_ids), f"{REFERENCE_PREFIX}%"])
        return cursor.rowcount


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="synthetic claims to create (default 10,000)")
    parser.add_argument("--seed", type=int, default=2022)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from django.db import connection, transaction

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    try:
        with transaction.atomic():
            started = time.perf_counter()
            data = synthetic_claims(options.count, seed=options.seed)
            created = time.perf_counter()
            print(
                f"created {len(data.claim_ids):,} claims, {data.loss_items:,} loss items, {data.evidence:,} evidence"
                f" rows in {created - started:.1f} s"
            )
            written = recompute(data.claim_ids)
            recomputed = time.perf_counter()
            seconds = recomputed - created
            print(
                f"recompute (estimates_refresh in chunks, one process): {written:,} estimates in {seconds:.1f} s"
                f" = {len(data.claim_ids) / seconds:,.0f} claims/s"
            )
            updated = subscription_update(data.claim_ids)
            sql_seconds = time.perf_counter() - recomputed
            print(f"one SQL UPDATE (subscription component only): {updated:,} claims in {sql_seconds:.2f} s")
            print(f"ratio recompute / SQL UPDATE: {seconds / sql_seconds:.1f}x")
            raise _RollBack
    except _RollBack:
        print("rolled back: the database is as it was")


if __name__ == "__main__":
    main()
