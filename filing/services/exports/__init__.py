"""Exports of cohorts and filing waves, from request to expiry.

1. A member of staff with `claims.export_personal_data` requests an export (`export_request`): an `ExportJob` row
   and an audit entry are written, and the build task is queued after commit.
2. The task (`export_build`) streams the rows from the database into a temporary file through the writers in
   `filing/exports.py`, recording progress and a heartbeat on the job every EXPORT_PROGRESS_ROWS rows (2,000), then
   stores the file privately with its SHA-256 and size and sets it to expire after EXPORT_TTL_HOURS. Each run of
   the task takes the job with a lease of its own; a worker that dies is replaced by the sweep (see
   claims/services/jobs.py and recovery.py).
3. The file is downloaded through a permission-checked view (`export_download_open`, audited).
4. A periodic task (`exports_expire`) deletes expired files from storage.

Spreadsheets and PDFs are written in Korean (the court's language) whatever the language of the page.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from claims.services.jobs import (
    JobSupersededError,
    heartbeat_cutoff,
    heartbeat_kept,
    job_test_park,
    job_transition_audit,
)
from config.hashing import sha256_file
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError, NotFoundError
from core.models import AuditEntry
from filing.exports import safe_file_name
from filing.models import Cohort, ExportJob, FilingWave
from filing.selectors.cohorts import wave_evidence_count, wave_standing_count
from filing.selectors.selected_parties import selected_party_count, selectors_count
from filing.services.exports.packs import (
    EMBEDDED_IMAGE_TYPES,
    SPOOL_BYTES,
    _evidence_bundle,
    _standing_pack,
    evidence_manifest_header,
    standing_pack_parts,
)
from filing.services.exports.selected import (
    _designation_bundle,
    _selected_parties_xlsx,
    _selectors_annex_xlsx,
    designation_manifest_header,
)
from filing.services.exports.sheets import (
    AMOUNT_COLUMNS,
    CLAIM_SHEET_WIDTHS,
    AmountTotals,
    Progress,
    _amounts_pdf,
    _amounts_xlsx,
    _annex_pdf,
    _annex_xlsx,
    _claims_csv,
    _claims_xlsx,
    _scope_total,
    amount_column_labels,
    claim_sheet_header,
    plaintiff_name,
)

logger = logging.getLogger(__name__)

__all__ = [
    "AMOUNT_COLUMNS",
    "AmountTotals",
    "BUILDERS",
    "Builder",
    "CLAIM_SHEET_WIDTHS",
    "COHORT_KINDS",
    "EMBEDDED_IMAGE_TYPES",
    "ExportError",
    "ExportExpiredError",
    "PERMISSION_EXPORT",
    "Progress",
    "SPOOL_BYTES",
    "WAVE_KINDS",
    "amount_column_labels",
    "claim_sheet_header",
    "designation_manifest_header",
    "evidence_manifest_header",
    "export_build",
    "export_download_open",
    "export_fail",
    "export_file_name",
    "export_kinds_available",
    "export_request",
    "exports_expire",
    "plaintiff_name",
    "standing_pack_parts",
]

PERMISSION_EXPORT = "claims.export_personal_data"
COHORT_KINDS = (ExportJob.Kind.CLAIMS_CSV, ExportJob.Kind.CLAIMS_XLSX)
WAVE_KINDS = tuple(ExportJob.Kind)


class ExportError(InvalidInputError):
    """An export cannot be requested or downloaded; the message is for the member of staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ExportExpiredError(NotFoundError, ExportError):
    """The export's file has expired and been deleted."""


# --- requesting ------------------------------------------------------------------------------------------------


def export_kinds_available(*, cohort: Cohort | None = None, wave: FilingWave | None = None) -> tuple[str, ...]:
    """What can be exported: a cohort's claims as spreadsheets; everything for a frozen or filed wave."""
    if cohort is not None:
        return COHORT_KINDS
    if wave is not None and wave.status != FilingWave.Status.DRAFT:
        return WAVE_KINDS
    return ()


@transaction.atomic
def export_request(
    *,
    kind: str,
    actor: User,
    cohort: Cohort | None = None,
    wave: FilingWave | None = None,
    meta: RequestMeta = NO_REQUEST,
) -> ExportJob:
    """Queue the export of a cohort or a wave (audited). Only staff allowed to export personal data may."""
    if not actor.has_perm(PERMISSION_EXPORT):
        raise PermissionDenied
    if (cohort is None) == (wave is None):
        raise ExportError(_("원고 집단이나 차수 중 하나를 골라 주세요."))
    if kind not in ExportJob.Kind.values:
        raise ExportError(_("알 수 없는 내보내기 종류입니다."))
    if kind not in export_kinds_available(cohort=cohort, wave=wave):
        raise ExportError(
            _(
                "이 내보내기는 원고가 확정된 차수에서만 만들 수 있습니다. "
                "원고 집단에서는 신청 목록(CSV, 엑셀)만 내보낼 수 있습니다."
            )
        )
    job = ExportJob(kind=kind, cohort=cohort, wave=wave, requested_by=actor)
    job.full_clean()
    job.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORTED,
        target=job,
        meta=meta,
        data={"event": "requested", "kind": kind, "cohort": cohort and cohort.pk, "wave": wave and wave.pk},
    )
    from filing.tasks.exports import export_build_task

    export_build_task.delay_on_commit(job.pk)
    return job


# --- building ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Builder:
    build: Callable[[ExportJob, BinaryIO, Progress], None]
    total: Callable[[ExportJob], int]
    extension: str
    label: str


BUILDERS = {
    ExportJob.Kind.CLAIMS_CSV: Builder(_claims_csv, _scope_total, "csv", "신청목록"),
    ExportJob.Kind.CLAIMS_XLSX: Builder(_claims_xlsx, _scope_total, "xlsx", "신청목록"),
    ExportJob.Kind.ANNEX_PDF: Builder(_annex_pdf, _scope_total, "pdf", "원고목록"),
    ExportJob.Kind.ANNEX_XLSX: Builder(_annex_xlsx, _scope_total, "xlsx", "원고목록"),
    ExportJob.Kind.AMOUNTS_PDF: Builder(_amounts_pdf, _scope_total, "pdf", "청구금액내역"),
    ExportJob.Kind.AMOUNTS_XLSX: Builder(_amounts_xlsx, _scope_total, "xlsx", "청구금액내역"),
    ExportJob.Kind.STANDING_PACK: Builder(
        _standing_pack, lambda job: wave_standing_count(wave=job.wave), "zip", "원고적격자료"
    ),
    ExportJob.Kind.EVIDENCE_BUNDLE: Builder(
        _evidence_bundle, lambda job: wave_evidence_count(wave=job.wave), "zip", "증빙묶음"
    ),
    ExportJob.Kind.DESIGNATION_BUNDLE: Builder(
        _designation_bundle, lambda job: selectors_count(wave=job.wave), "zip", "선정서묶음"
    ),
    ExportJob.Kind.SELECTED_PARTIES_XLSX: Builder(
        _selected_parties_xlsx, lambda job: selected_party_count(wave=job.wave), "xlsx", "선정당사자목록"
    ),
    ExportJob.Kind.SELECTORS_ANNEX_XLSX: Builder(
        _selectors_annex_xlsx, lambda job: selectors_count(wave=job.wave), "xlsx", "선정자목록"
    ),
}


def export_file_name(job: ExportJob, builder: Builder) -> str:
    scope = job.wave.name if job.wave_id else job.cohort.name
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    return f"{safe_file_name(scope, max_length=60, fallback='export')}_{builder.label}_{stamp}.{builder.extension}"


def _progress_recorder(job_id: int, lease: uuid.UUID) -> Progress:
    """Records progress and the heartbeat (one single-row UPDATE, committed at once, no lock kept) while this run
    holds the job; a run that lost the job to another (the sweep thought it dead) stops here."""

    def record(done: int) -> None:
        _export_heartbeat(job_id, lease, done=done)
        job_test_park(job="export", job_id=job_id)

    return record


def _export_heartbeat(job_id: int, lease: uuid.UUID, **fields: Any) -> None:
    if not ExportJob.objects.filter(pk=job_id, lease=lease, status=ExportJob.Status.RUNNING).update(
        heartbeat_at=timezone.now(), **fields
    ):
        raise JobSupersededError(job_id)


def _export_claim(*, job_id: int, lease: uuid.UUID) -> ExportJob | None:
    """Take the job for this run (compare-and-set under the row lock): a pending job, or a running one whose lease
    was released (re-queued) or whose heartbeat stopped. None when the job is finished or another run that is alive
    holds it; a message delivered twice, or the dead worker's message redelivered an hour later, does nothing."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
            return None
        if job.lease and job.heartbeat_at and job.heartbeat_at >= heartbeat_cutoff():
            return None
        job = ExportJob.objects.select_related("cohort", "wave__cohort").get(pk=job_id)
        job.status, job.done, job.error = ExportJob.Status.RUNNING, 0, ""
        job.lease, job.heartbeat_at = lease, timezone.now()
        job.total = BUILDERS[job.kind].total(job)
        job.save(update_fields=["status", "done", "total", "error", "lease", "heartbeat_at"])
    return job


def export_build(*, job_id: int) -> ExportJob:
    """Build the job's file (see the module docstring). A job that is finished, or held by another run that is
    alive, is left alone; a job whose worker died is built again from the start (the half-written file was a
    temporary file that died with it). Raises JobSupersededError when this run lost the job to another."""
    lease = uuid.uuid4()
    job = _export_claim(job_id=job_id, lease=lease)
    if job is None:
        return ExportJob.objects.get(pk=job_id)
    builder = BUILDERS[job.kind]
    try:
        with tempfile.TemporaryFile() as out, translation.override(settings.LANGUAGE_CODE):
            builder.build(job, out, _progress_recorder(job.pk, lease))
            # Hashing and storing a large file (to object storage) can outlast the heartbeat timeout.
            with heartbeat_kept(beat=functools.partial(_export_heartbeat, job.pk, lease)):
                job.size, job.sha256 = sha256_file(out)
                job.file_name = export_file_name(job, builder)
                job.file.save(job.file_name, File(out), save=False)
    except JobSupersededError:
        raise
    except Exception:
        # Let a retry of this task take the job at once (it is a new run with a new lease).
        ExportJob.objects.filter(pk=job_id, lease=lease).update(lease=None)
        raise
    job.status, job.done = ExportJob.Status.DONE, job.total
    job.finished_at = timezone.now()
    job.expires_at = job.finished_at + dt.timedelta(hours=settings.EXPORT_TTL_HOURS)
    fields = ["status", "done", "file", "file_name", "size", "sha256", "finished_at", "expires_at"]
    finished = ExportJob.objects.filter(pk=job.pk, lease=lease, status=ExportJob.Status.RUNNING).update(
        lease=None, **{name: getattr(job, name) for name in fields}
    )
    if not finished:
        job.file.delete(save=False)  # another run builds (or built) the job's file
        raise JobSupersededError(job_id)
    return job


@transaction.atomic
def export_fail(*, job_id: int, error: str) -> None:
    """Mark the job failed with a message for staff (never personal data: the error's type and the job id)."""
    job = ExportJob.objects.select_for_update().get(pk=job_id)
    if job.status not in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
        return
    job.status, job.error, job.finished_at, job.lease = ExportJob.Status.FAILED, error, timezone.now(), None
    job.save(update_fields=["status", "error", "finished_at", "lease"])
    job_transition_audit(job=job, event="failed", reason=error).save()


# --- downloading and expiry -------------------------------------------------------------------------------------


def export_download_open(*, job: ExportJob, actor: User, meta: RequestMeta = NO_REQUEST) -> File:
    """The finished file, opened for reading; each download is audited. Refused once the file has expired."""
    if not actor.has_perm(PERMISSION_EXPORT):
        raise PermissionDenied
    if job.status == ExportJob.Status.EXPIRED or (job.expires_at and job.expires_at <= timezone.now()):
        raise ExportExpiredError(_("보관 기간이 지나 파일을 지웠습니다. 다시 내보내기를 요청하세요."))
    if job.status != ExportJob.Status.DONE or not job.file:
        raise ExportError(_("아직 파일이 준비되지 않았습니다."))
    handle = job.file.open("rb")
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORTED,
        target=job,
        meta=meta,
        data={"event": "downloaded", "kind": job.kind, "sha256": job.sha256},
    )
    return handle


def exports_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of finished exports whose time is up; returns how many were deleted."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now).only("pk", "file"):
        if job.file:
            job.file.delete(save=False)
        expired += ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.DONE).update(
            status=ExportJob.Status.EXPIRED, file=""
        )
    if expired:
        logger.info("Deleted %d expired export file(s).", expired)
    return expired
