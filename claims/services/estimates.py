"""Damage estimates: computing and storing them, damage-model versions and their activation, recompute jobs
in chunks, the sweep that catches anything missed, and the cohort-outlier flag.

Every stored estimate records its model version, the calculator input it used (JSON) with that input's SHA-256,
and when it was computed, so any figure can be explained and reproduced (`estimate_reproduce`). Writing is done a
batch at a time (`estimates_refresh`): the single-claim task, the recompute chunks, the sweep and the benchmark
all go through it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.damages import ClaimInput, ParameterError, Parameters, estimate
from claims.models import (
    Claim,
    ClaimEvent,
    DamageModelVersion,
    Estimate,
    Incident,
    OutageWindow,
    RecomputeChunk,
    RecomputeJob,
)
from claims.selectors.estimates import (
    CHUNK_SIZE,
    FLAG_COHORT_OUTLIER,
    PREVIEW_CACHE_SECONDS,
    ClaimSnapshot,
    CurrentEstimate,
    DamageModelPreview,
    claim_ids_in_batches,
    claim_snapshots,
    claims_estimable,
    claims_needing_estimate,
    damage_model_is_editable,
    damage_model_preview_cache_key,
    damage_models_active,
    inputs_digest,
    window_revisions_used,
)
from claims.selectors.reference import window_affected_claims
from claims.services.jobs import job_test_park
from core.exceptions import InvalidInputError

logger = logging.getLogger(__name__)

MANAGE_PERMISSION = "claims.manage_damage_model"
COHORT_PERCENTILE = 99
ERROR_LINES_KEPT = 50


class DamageModelError(InvalidInputError):
    """A damage-model change that the rules do not allow; the message is for staff."""


def _require_manager(actor: AbstractBaseUser) -> None:
    if not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(_("손해 산정 모델을 작성하거나 적용할 권한이 없습니다."))


# --- computing and storing estimates ---------------------------------------------------------------------------


@dataclass
class RefreshOutcome:
    """What one batch did: claims whose estimate was written, checked unchanged, or could not be estimated."""

    written: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    skipped: int = 0

    @property
    def processed(self) -> int:
        return len(self.written) + len(self.unchanged)

    def failure_lines(self, codes: Mapping[int, str]) -> list[str]:
        return [f"{codes.get(pk) or f'#{pk}'}: {error}" for pk, error in self.failed.items()]


def _merge_flags(estimate_flags: Sequence[str], previous: Sequence[str]) -> list[str]:
    """The calculator's flags, keeping the cohort flag that only the cohort pass sets or clears."""
    flags = set(estimate_flags)
    if FLAG_COHORT_OUTLIER in previous:
        flags.add(FLAG_COHORT_OUTLIER)
    return sorted(flags)


@dataclass
class _RefreshWrites:
    """The rows one batch writes at its end: estimates replaced and inserted, claims updated or only checked, and
    timeline entries."""

    replaced: list[int] = field(default_factory=list)
    estimates: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    checked: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


@transaction.atomic
def estimates_refresh(*, claim_ids: Sequence[int]) -> RefreshOutcome:
    """Estimate the given claims with their incident's active model, writing only what changed.

    Claims that are not estimable (drafts, withdrawn) or whose incident has no active model are skipped. The
    claim rows are locked for the transaction. A claim whose current estimate was made by the active model from
    the same input (same SHA-256) is left alone; otherwise a new current estimate replaces the old one, the claim's
    `estimate_total` and `estimate_flags` follow it, and a timeline entry is written when the total or the model
    version changed. A claim the calculator refuses (for example a loss item for a service with no outage window)
    keeps its previous estimate and records the error in `estimate_error`.
    """
    checked_at = timezone.now()
    outcome = RefreshOutcome()
    snapshots = claim_snapshots(claim_ids=claim_ids, lock=True)
    outcome.skipped = len(set(claim_ids)) - len(snapshots)
    versions = damage_models_active(incident_ids={snapshot.incident_id for snapshot in snapshots})
    parameters = {incident_id: Parameters.from_dict(v.parameters) for incident_id, v in versions.items()}
    writes = _RefreshWrites()
    for snapshot in snapshots:
        version = versions.get(snapshot.incident_id)
        if version is None:
            outcome.skipped += 1
            continue
        _claim_refresh(
            snapshot=snapshot,
            version=version,
            parameters=parameters[snapshot.incident_id],
            outcome=outcome,
            writes=writes,
        )
    _refresh_writes_apply(writes=writes, unchanged=outcome.unchanged, checked_at=checked_at)
    if outcome.failed:
        logger.warning("Could not estimate %d claim(s): ids %s", len(outcome.failed), sorted(outcome.failed))
    return outcome


def _claim_refresh(
    *,
    snapshot: ClaimSnapshot,
    version: DamageModelVersion,
    parameters: Parameters,
    outcome: RefreshOutcome,
    writes: _RefreshWrites,
) -> None:
    """One claim of the batch: left alone if its current estimate still holds, else estimated anew (or its error
    recorded), with the rows to write added to `writes`."""
    inputs, digest = inputs_digest(snapshot.input)
    window_revisions = window_revisions_used(snapshot.input)
    current = snapshot.current
    # The windows' revisions are compared too: a correction of only how an end is known or its confidence
    # changes no input, but the estimate's explanation and its record of the revisions used must follow.
    if (
        current
        and current.model_version_id == version.pk
        and current.inputs_sha256 == digest
        and current.window_revisions == window_revisions
    ):
        outcome.unchanged.append(snapshot.pk)
        return
    try:
        result = estimate(snapshot.input, parameters)
    except ValueError as exc:
        outcome.failed[snapshot.pk] = str(exc)
        writes.claims.append(_claim_row(snapshot.pk, snapshot.estimate_total, snapshot.estimate_flags, str(exc)))
        return
    outcome.written.append(snapshot.pk)
    if current:
        writes.replaced.append(current.pk)
    writes.estimates.append(
        {
            "claim_id": snapshot.pk,
            "model_version_id": version.pk,
            "total": result.total,
            "breakdown": result.to_dict(),
            "inputs": inputs,
            "inputs_sha256": digest,
            "flags": list(result.flags),
            "window_revisions": window_revisions,
        }
    )
    flags = _merge_flags(result.flags, snapshot.estimate_flags)
    if (result.total, flags, "") == (snapshot.estimate_total, snapshot.estimate_flags, snapshot.estimate_error):
        writes.checked.append(snapshot.pk)  # same figures on the claim: only the check time changes
    else:
        writes.claims.append(_claim_row(snapshot.pk, result.total, flags, ""))
    if current is None or current.total != result.total or current.model_version_id != version.pk:
        writes.events.append(
            _estimated_event(claim_id=snapshot.pk, version=version, total=result.total, current=current)
        )


def _estimated_event(
    *, claim_id: int, version: DamageModelVersion, total: int, current: CurrentEstimate | None
) -> dict[str, Any]:
    """The timeline entry for a claim whose total or model version changed."""
    message = _("산정액 %(total)s원 (손해 산정 모델 버전 %(version)s)")
    return {
        "claim_id": claim_id,
        "message": message % {"total": f"{total:,}", "version": version.version},
        "data": {
            "total": total,
            "model_version": version.version,
            "previous_total": current.total if current else None,
        },
    }


def _refresh_writes_apply(*, writes: _RefreshWrites, unchanged: list[int], checked_at: dt.datetime) -> None:
    """Write a batch's rows: retire replaced estimates, insert the new ones, update the claims, add the entries."""
    if writes.replaced:
        Estimate.objects.filter(pk__any_of=writes.replaced).update(is_current=False)
    _estimates_insert(writes.estimates, computed_at=checked_at)
    _claims_estimate_update(writes.claims, checked_at=checked_at)
    # Claims whose figures stay as they are get only their check time, a cheap in-place (HOT) update in PostgreSQL
    # since no indexed column changes.
    checked = [*writes.checked, *unchanged]
    if checked:
        Claim.objects.filter(pk__any_of=checked).update(estimated_at=checked_at, estimate_error="")
    _estimated_events_insert(writes.events, created_at=checked_at)


# A recompute writes a thousand estimates, claims and timeline entries per batch. On PostgreSQL the estimates go in
# by COPY (each JSON value is parsed once, straight into its column), and the claim updates and timeline entries are
# one statement each reading their rows from a single JSON document (jsonb_to_recordset); both many times faster
# than bulk_create/bulk_update, whose CASE expressions and per-value adaptation dominate at this size. Other
# databases (SQLite for trying the site) use the ORM. Both write the same rows (tested).


def json_text(value: Any) -> str:
    """JSON for PostgreSQL to parse, by orjson (ten times faster than the standard library here; UTF-8, compact)."""
    return orjson.dumps(value).decode()


def _fast_writes(fast: bool | None) -> bool:
    return connection.vendor == "postgresql" if fast is None else fast


def _claim_row(pk: int, total: int | None, flags: list[str], error: str) -> dict[str, Any]:
    return {"id": pk, "total": total, "flags": flags, "error": error}


ESTIMATE_COLUMNS = (
    "claim_id",
    "model_version_id",
    "total",
    "breakdown",
    "inputs",
    "inputs_sha256",
    "flags",
    "window_revisions",
)


def _estimates_insert(rows: list[dict[str, Any]], *, computed_at, fast: bool | None = None) -> None:
    """Insert current estimates (rows of claim_id, model_version_id, total, breakdown, inputs, inputs_sha256,
    flags, window_revisions)."""
    if not rows:
        return
    if not _fast_writes(fast):
        Estimate.objects.bulk_create(Estimate(**row, computed_at=computed_at, is_current=True) for row in rows)
        return
    columns = [*ESTIMATE_COLUMNS, "computed_at", "is_current"]
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {Estimate._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                (
                    row["claim_id"],
                    row["model_version_id"],
                    row["total"],
                    json_text(row["breakdown"]),
                    json_text(row["inputs"]),
                    row["inputs_sha256"],
                    json_text(row["flags"]),
                    json_text(row.get("window_revisions", {})),
                    computed_at,
                    True,
                )
            )


def _estimated_events_insert(rows: list[dict[str, Any]], *, created_at, fast: bool | None = None) -> None:
    """Timeline entries "estimated", written by the system (no actor), from rows of claim_id, message, data."""
    if not rows:
        return
    if not _fast_writes(fast):
        ClaimEvent.objects.bulk_create(
            ClaimEvent(**row, kind=ClaimEvent.Kind.ESTIMATED, actor=None, created_at=created_at) for row in rows
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ClaimEvent._meta.db_table} (claim_id, kind, message, data, created_at)"  # noqa: S608
            " SELECT claim_id, %s, message, data, %s"
            " FROM jsonb_to_recordset(%s::jsonb) AS new (claim_id bigint, message text, data jsonb)",
            [ClaimEvent.Kind.ESTIMATED.value, created_at, json_text(rows)],
        )


def _claims_estimate_update(rows: list[dict[str, Any]], *, checked_at, fast: bool | None = None) -> None:
    """Set each claim's estimate_total, estimate_flags and estimate_error (rows of id, total, flags, error)."""
    if not rows:
        return
    if not _fast_writes(fast):
        claims = [
            Claim(
                pk=r["id"],
                estimate_total=r["total"],
                estimate_flags=r["flags"],
                estimate_error=r["error"],
                estimated_at=checked_at,
            )
            for r in rows
        ]
        Claim.objects.bulk_update(claims, ["estimate_total", "estimate_flags", "estimated_at", "estimate_error"])
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Claim._meta.db_table} AS claim SET estimate_total = new.total, estimate_flags = new.flags,"  # noqa: S608
            " estimate_error = new.error, estimated_at = %s"
            " FROM jsonb_to_recordset(%s::jsonb) AS new (id bigint, total bigint, flags jsonb, error text)"
            " WHERE claim.id = new.id",
            [checked_at, json_text(rows)],
        )


def estimate_claim(*, claim_id: int) -> RefreshOutcome:
    """Estimate one claim now (see estimates_refresh); a no-op when nothing changed."""
    return estimates_refresh(claim_ids=[claim_id])


def estimate_reproduce(*, estimate_row: Estimate) -> int:
    """Recompute a stored estimate from its recorded input and model version; returns the total."""
    claim_input = ClaimInput.from_dict(estimate_row.inputs)
    if inputs_digest(claim_input)[1] != estimate_row.inputs_sha256:
        raise ValueError(f"estimate {estimate_row.pk}: the stored input does not match its SHA-256")
    return estimate(claim_input, Parameters.from_dict(estimate_row.model_version.parameters)).total


# --- the cohort-outlier flag ------------------------------------------------------------------------------------


def cohort_threshold(totals: Sequence[int], *, percentile: int = COHORT_PERCENTILE) -> int | None:
    """Nearest-rank percentile of the totals: with fewer than 100 claims the 99th percentile is the largest total,
    so nobody is above it."""
    if not totals:
        return None
    ordered = sorted(totals)
    rank = math.ceil(percentile / 100 * len(ordered))
    return ordered[rank - 1]


def cohort_outliers_flag(*, incident_id: int) -> int:
    """Set the cohort-outlier flag on the incident's estimated claims above the cohort's 99th percentile of
    estimate totals, and clear it elsewhere. Returns how many claims changed. The amount is never touched."""
    rows = claims_estimable(incident_id=incident_id).filter(estimate_total__isnull=False)
    threshold = cohort_threshold(list(rows.values_list("estimate_total", flat=True)))
    if threshold is None:
        return 0
    candidates = [
        pk
        for pk, total, flags in rows.values_list("pk", "estimate_total", "estimate_flags").iterator(chunk_size=5000)
        if (total > threshold) != (FLAG_COHORT_OUTLIER in (flags or []))
    ]
    changed = 0
    for start in range(0, len(candidates), CHUNK_SIZE):
        with transaction.atomic():
            locked = rows.filter(pk__in=candidates[start : start + CHUNK_SIZE]).select_for_update()
            updates = []
            for pk, total, flags in locked.values_list("pk", "estimate_total", "estimate_flags"):
                others = [flag for flag in flags or [] if flag != FLAG_COHORT_OUTLIER]
                wanted = sorted([*others, FLAG_COHORT_OUTLIER]) if total > threshold else others
                if wanted != (flags or []):
                    updates.append(Claim(pk=pk, estimate_flags=wanted))
            Claim.objects.bulk_update(updates, ["estimate_flags"])
            changed += len(updates)
    return changed


# --- the sweep ---------------------------------------------------------------------------------------------------


@dataclass
class SweepOutcome:
    stale: int = 0
    written: int = 0
    failed: int = 0
    flagged: int = 0


def estimate_sweep(*, chunk_size: int = CHUNK_SIZE) -> SweepOutcome:
    """Estimate every claim whose estimate is missing or stale (see claims_needing_estimate), a batch at a time,
    then refresh the cohort-outlier flags. Safe to run at any time: batches are idempotent."""
    outcome = SweepOutcome()
    for ids in claim_ids_in_batches(claims_needing_estimate(), size=chunk_size):
        refreshed = estimates_refresh(claim_ids=ids)
        outcome.stale += len(ids)
        outcome.written += len(refreshed.written)
        outcome.failed += len(refreshed.failed)
    for incident_id in DamageModelVersion.objects.filter(is_active=True).values_list("incident_id", flat=True):
        outcome.flagged += cohort_outliers_flag(incident_id=incident_id)
    return outcome


# --- damage-model versions ----------------------------------------------------------------------------------------


def _parameters_checked(parameters: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return Parameters.from_dict(parameters).to_dict()
    except ParameterError as exc:
        raise DamageModelError(_("매개변수가 올바르지 않습니다: %(detail)s") % {"detail": exc}) from exc


@transaction.atomic
def damage_model_draft_create(
    *, incident: Incident, parameters: Mapping[str, Any], note: str, actor: AbstractBaseUser
) -> DamageModelVersion:
    """A new draft version for the incident, numbered after its latest version."""
    _require_manager(actor)
    checked = _parameters_checked(parameters)
    Incident.objects.select_for_update().filter(pk=incident.pk).get()
    latest = DamageModelVersion.objects.filter(incident=incident).aggregate(latest=Max("version"))["latest"] or 0
    version = DamageModelVersion(incident=incident, version=latest + 1, parameters=checked, note=note, author=actor)
    version.full_clean()
    version.save()
    return version


def damage_model_copy(*, source: DamageModelVersion, actor: AbstractBaseUser) -> DamageModelVersion:
    """'New version from this one': a draft with the source's parameters."""
    return damage_model_draft_create(
        incident=source.incident,
        parameters=source.parameters,
        note=_("버전 %(version)s에서 복사") % {"version": source.version},
        actor=actor,
    )


@transaction.atomic
def damage_model_draft_update(
    *, version: DamageModelVersion, parameters: Mapping[str, Any], note: str, actor: AbstractBaseUser
) -> DamageModelVersion:
    _require_manager(actor)
    version = DamageModelVersion.objects.select_for_update().get(pk=version.pk)
    if not damage_model_is_editable(version):
        raise DamageModelError(_("적용된 적이 있는 버전은 수정할 수 없습니다. 이 버전에서 새 버전을 만드세요."))
    version.parameters, version.note = _parameters_checked(parameters), note
    version.full_clean()
    version.save(update_fields=["parameters", "note"])
    return version


@transaction.atomic
def damage_model_activate(*, version: DamageModelVersion, actor: AbstractBaseUser) -> RecomputeJob:
    """Make `version` its incident's only active model and recompute every estimable claim in the background."""
    _require_manager(actor)
    versions = DamageModelVersion.objects.select_for_update().filter(incident_id=version.incident_id)
    version = versions.get(pk=version.pk)
    if version.is_active:
        raise DamageModelError(_("이미 적용 중인 버전입니다."))
    _parameters_checked(version.parameters)
    versions.filter(is_active=True).update(is_active=False)
    version.is_active, version.activated_at = True, timezone.now()
    version.save(update_fields=["is_active", "activated_at"])
    job = RecomputeJob.objects.create(model_version=version, requested_by=actor)
    _recompute_enqueue(job)
    return job


@transaction.atomic
def recompute_job_retry(*, job: RecomputeJob, actor: AbstractBaseUser) -> RecomputeJob:
    """Run the recompute for the job's version again, as a new job (for a window correction, again only the claims
    still estimated with an older revision of the window). Claims already estimated by that version from their
    current input are checked and left alone, so only what was missed is written."""
    _require_manager(actor)
    version = DamageModelVersion.objects.select_for_update().get(pk=job.model_version_id)
    if not version.is_active:
        raise DamageModelError(_("더 이상 적용 중이 아닌 버전의 재산정은 다시 실행할 수 없습니다."))
    retry = RecomputeJob.objects.create(
        model_version=version, requested_by=actor, outage_window_id=job.outage_window_id
    )
    _recompute_enqueue(retry)
    return retry


def damage_model_preview_request(*, version: DamageModelVersion, refresh: bool = False) -> DamageModelPreview | None:
    """The version's preview from the cache, or None while a task computes it (started here, once at a time).
    With `refresh`, the cached preview is dropped and computed again."""
    from claims.tasks.estimates import damage_model_preview_task

    key = damage_model_preview_cache_key(version=version)
    if refresh:
        cache.delete(key)
    preview = cache.get(key)
    if preview is None and cache.add(f"{key}:running", "1", timeout=PREVIEW_CACHE_SECONDS):
        damage_model_preview_task.delay(version.pk)
        preview = cache.get(key)  # already there when tasks run inline
    return preview


def _recompute_enqueue(job: RecomputeJob) -> None:
    from claims.tasks.estimates import recompute_job_plan_task

    recompute_job_plan_task.delay_on_commit(job.pk)


# --- recompute jobs in chunks ---------------------------------------------------------------------------------------


def recompute_job_planning_started(*, job_id: int) -> None:
    """A pending job's planning begins: its heartbeat says so, in a statement of its own (the planning transaction
    dies with a killed worker), so the sweep can tell a job whose planner died from one still waiting in the queue."""
    RecomputeJob.objects.filter(pk=job_id, status=RecomputeJob.Status.PENDING).update(heartbeat_at=timezone.now())


@transaction.atomic
def recompute_job_plan(*, job_id: int, chunk_size: int | None = None) -> list[int]:
    """Split the job's claims into chunks of `chunk_size` ids (default RECOMPUTE_CHUNK_SIZE, 1,000); returns the
    chunks still to run.

    Planning twice (a redelivered message) plans nothing new and returns the unfinished chunks.
    """
    job = RecomputeJob.objects.select_for_update(of=("self",)).select_related("model_version").get(pk=job_id)
    if job.status in (RecomputeJob.Status.DONE, RecomputeJob.Status.FAILED):
        return []
    if job.status == RecomputeJob.Status.PENDING:
        chunks, total = [], 0
        claims = _recompute_job_claims(job)
        for index, ids in enumerate(claim_ids_in_batches(claims, size=chunk_size or settings.RECOMPUTE_CHUNK_SIZE)):
            chunks.append(
                RecomputeChunk(job=job, index=index, first_claim_id=ids[0], last_claim_id=ids[-1], size=len(ids))
            )
            total += len(ids)
        RecomputeChunk.objects.bulk_create(chunks)
        job.total, job.status, job.heartbeat_at = total, RecomputeJob.Status.RUNNING, timezone.now()
        job.save(update_fields=["total", "status", "heartbeat_at"])
        if not chunks:
            _recompute_job_finish(job)
            return []
    return list(job.chunks.filter(status=RecomputeChunk.Status.PENDING).values_list("pk", flat=True))


def _recompute_job_claims(job: RecomputeJob):
    """The claims a job recomputes: every estimable claim of the version's incident, or for a window correction only
    those whose current estimate used an older revision of the window (so each is written once)."""
    if job.outage_window_id:
        window = OutageWindow.objects.select_related("service").get(pk=job.outage_window_id)
        return window_affected_claims(window=window)
    return claims_estimable(incident_id=job.model_version.incident_id)


def recompute_chunk_run(*, chunk_id: int) -> RecomputeChunk:
    """Recompute one chunk's claims and record its progress in the same transaction, so a chunk that is run again
    (a redelivered or re-queued message) does nothing. Finishes the job after its last chunk.

    The chunk's row lock is its lease: it is held until the chunk commits and released by PostgreSQL the moment a
    killed worker's connection closes. A second run of a chunk that another worker is still working on (the sweep
    thought that worker dead) skips it instead of waiting or running it twice. The job's heartbeat is set before
    the chunk starts, in a statement of its own, and with the progress when it commits.
    """
    RecomputeJob.objects.filter(chunks__pk=chunk_id, status=RecomputeJob.Status.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    with transaction.atomic():
        chunk = (
            RecomputeChunk.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("job__model_version")
            .filter(pk=chunk_id)
            .first()
        )
        if chunk is None:  # another worker holds it
            return RecomputeChunk.objects.get(pk=chunk_id)
        job = chunk.job
        if chunk.status != RecomputeChunk.Status.PENDING or job.status != RecomputeJob.Status.RUNNING:
            return chunk
        claims = _recompute_job_claims(job).filter(pk__range=(chunk.first_claim_id, chunk.last_claim_id))
        ids = list(claims.values_list("pk", flat=True))
        outcome = estimates_refresh(claim_ids=ids)
        if job.outage_window_id:  # claims brought to the window's revision since planning (e.g. by the claimant)
            outcome.skipped += max(0, chunk.size - len(ids))
        codes = dict(Claim.objects.filter(pk__in=outcome.failed).values_list("pk", "reference_code"))
        if (
            getattr(settings, "JOB_TEST_PARK_AFTER_FIRST_CHUNK", "")
            and job.chunks.filter(status=RecomputeChunk.Status.DONE).exists()
        ):
            job_test_park(job="recompute", job_id=job.pk)  # the first chunk is committed, this one is not
        chunk.status = RecomputeChunk.Status.DONE
        chunk.written, chunk.unchanged = len(outcome.written), len(outcome.unchanged)
        chunk.failures = len(outcome.failed)
        chunk.error = "\n".join(outcome.failure_lines(codes))
        chunk.finished_at = timezone.now()
        chunk.save()
        # Claims added to the range after planning count too; the bar is capped at the total in the admin. Progress
        # clears the re-queue count: only re-queues in a row without progress make the job fail.
        RecomputeJob.objects.filter(pk=job.pk).update(
            done=F("done") + outcome.processed + outcome.skipped,
            failures=F("failures") + chunk.failures,
            heartbeat_at=timezone.now(),
            requeues=0,
        )
    _recompute_job_finish_if_complete(job.pk)
    return chunk


def recompute_chunk_fail(*, chunk_id: int, error: str) -> None:
    """Record a chunk that could not run (its transaction was rolled back: none of its claims were written)."""
    with transaction.atomic():
        chunk = RecomputeChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.status != RecomputeChunk.Status.PENDING:
            return
        chunk.status, chunk.error, chunk.finished_at = RecomputeChunk.Status.FAILED, error, timezone.now()
        chunk.failures = chunk.size
        chunk.save(update_fields=["status", "error", "finished_at", "failures"])
        RecomputeJob.objects.filter(pk=chunk.job_id).update(failures=F("failures") + chunk.size)
    _recompute_job_finish_if_complete(chunk.job_id)


def recompute_job_unfinished(*, job: RecomputeJob) -> list[int]:
    """The ids of a running job's chunks still to run, for the sweep that queues them again (the caller holds the
    job's row lock). A job with none left is finished here: its worker died between its last chunk and the end."""
    chunk_ids = list(job.chunks.filter(status=RecomputeChunk.Status.PENDING).values_list("pk", flat=True))
    if not chunk_ids:
        _recompute_job_finish(job)
    return chunk_ids


@transaction.atomic
def _recompute_job_finish_if_complete(job_id: int) -> None:
    job = RecomputeJob.objects.select_for_update().get(pk=job_id)
    if job.status != RecomputeJob.Status.RUNNING or job.chunks.filter(status=RecomputeChunk.Status.PENDING).exists():
        return
    _recompute_job_finish(job)


def _recompute_job_finish(job: RecomputeJob) -> None:
    from claims.tasks.estimates import cohort_outliers_flag_task

    failed_chunks = job.chunks.filter(status=RecomputeChunk.Status.FAILED).exists()
    errors = [
        line for text in job.chunks.exclude(error="").values_list("error", flat=True) for line in text.split("\n")
    ]
    job.status = RecomputeJob.Status.FAILED if failed_chunks else RecomputeJob.Status.DONE
    job.error = "\n".join(errors[:ERROR_LINES_KEPT])
    if len(errors) > ERROR_LINES_KEPT:
        job.error += "\n" + _("외 %(count)s건") % {"count": len(errors) - ERROR_LINES_KEPT}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    cohort_outliers_flag_task.delay_on_commit(job.model_version.incident_id)
