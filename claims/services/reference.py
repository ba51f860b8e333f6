"""Writes to the reference data's outage windows, and the recompute of the claims a correction affects.

Every change to a window goes through `outage_window_revise` (or `outage_window_create` for a new one): the window
is saved with its revision number counted up, an `OutageWindowRevision` keeps the new values with who, when, why and
from where, and an audit entry is written, all in one transaction. The admin, `manage.py load_reference_data` and
scripts all come here. Estimates made with an older revision stay as they are until a Lawyer recomputes them
(`outage_window_recompute`, in the background with the damage model's recompute jobs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from claims.models import Incident, OutageWindow, OutageWindowRevision, RecomputeJob, Service
from claims.selectors.estimates import damage_model_active
from claims.selectors.reference import window_affected_claims
from claims.services.estimates import MANAGE_PERMISSION, _recompute_enqueue
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError
from core.models import AuditEntry

CHANGE_PERMISSION = "claims.change_outagewindow"
ADD_PERMISSION = "claims.add_outagewindow"
COMMAND_ACTOR = "manage.py load_reference_data"


class OutageWindowError(InvalidInputError):
    """A window change the rules do not allow; the message is for staff."""


def _require(actor: AbstractBaseUser | None, permission: str, message: str) -> None:
    """Staff need the permission; a command or script (no actor) acts for the operator."""
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(message)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _revision_write(
    *,
    window: OutageWindow,
    changed: Mapping[str, tuple[Any, Any]],
    source: str,
    source_detail: str,
    reason: str,
    actor: AbstractBaseUser | None,
    actor_label: str,
    meta: RequestMeta,
) -> OutageWindowRevision:
    revision = OutageWindowRevision(
        window=window,
        number=window.revision,
        changed=sorted(changed),
        source=source,
        source_detail=source_detail,
        reason=reason,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else ""),
        **{name: getattr(window, name) for name in OutageWindowRevision.FIELDS},
    )
    revision.full_clean()
    revision.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.WINDOW_REVISED,
        target=window,
        meta=meta,
        data={
            "incident": window.incident.slug,
            "service": window.service.slug,
            "revision": revision.number,
            "changed": {name: [_json(old), _json(new)] for name, (old, new) in sorted(changed.items())},
            "source": source,
            "source_detail": source_detail,
            "reason": reason,
            "actor_label": revision.actor_label,
        },
    )
    return revision


@transaction.atomic
def outage_window_create(
    *,
    incident: Incident,
    service: Service,
    values: Mapping[str, Any],
    source: str,
    source_detail: str = "",
    reason: str = "",
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    meta: RequestMeta = NO_REQUEST,
) -> OutageWindow:
    """A new window for a service in an incident, with its revision 1."""
    _require(actor, ADD_PERMISSION, _("장애 시간을 추가할 권한이 없습니다."))
    unknown = set(values) - set(OutageWindowRevision.FIELDS)
    if unknown:
        raise ValueError(f"not window fields: {sorted(unknown)}")
    window = OutageWindow(incident=incident, service=service, revision=1, **values)
    window.full_clean()
    window.save()
    changed = {name: (None, getattr(window, name)) for name in OutageWindowRevision.FIELDS}
    _revision_write(
        window=window,
        changed=changed,
        source=source,
        source_detail=source_detail,
        reason=reason,
        actor=actor,
        actor_label=actor_label,
        meta=meta,
    )
    return window


@transaction.atomic
def outage_window_revise(
    *,
    window: OutageWindow,
    changes: Mapping[str, Any],
    reason: str,
    source: str,
    source_detail: str = "",
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    meta: RequestMeta = NO_REQUEST,
) -> OutageWindowRevision | None:
    """Apply `changes` (window field -> new value) as the window's next revision; None when nothing changes.

    A correction made in the admin needs a reason. Estimates already made keep the revision they used until they are
    recomputed (see `outage_window_recompute`)."""
    _require(actor, CHANGE_PERMISSION, _("장애 시간을 고칠 권한이 없습니다."))
    unknown = set(changes) - set(OutageWindowRevision.FIELDS)
    if unknown:
        raise ValueError(f"not window fields: {sorted(unknown)}")
    window = OutageWindow.objects.select_for_update().select_related("incident", "service").get(pk=window.pk)
    changed = {
        name: (getattr(window, name), value) for name, value in changes.items() if getattr(window, name) != value
    }
    if not changed:
        return None
    reason = reason.strip()
    if source == OutageWindowRevision.Source.ADMIN and not reason:
        raise OutageWindowError(_("정정 사유를 적어 주세요."))
    for name, (_old, new) in changed.items():
        setattr(window, name, new)
    window.revision += 1
    window.full_clean()
    window.save(update_fields=[*changed, "revision"])
    return _revision_write(
        window=window,
        changed=changed,
        source=source,
        source_detail=source_detail,
        reason=reason,
        actor=actor,
        actor_label=actor_label,
        meta=meta,
    )


def outage_window_write(
    *,
    incident: Incident,
    service: Service,
    values: Mapping[str, Any],
    source: str,
    source_detail: str = "",
    reason: str = "",
    actor_label: str = "",
) -> bool:
    """Create the window or revise it to `values` (the reference data loader's write); True when something was
    written. An unchanged window gets no revision."""
    window = OutageWindow.objects.filter(incident=incident, service=service).first()
    if window is None:
        outage_window_create(
            incident=incident,
            service=service,
            values=values,
            source=source,
            source_detail=source_detail,
            reason=reason,
            actor_label=actor_label,
        )
        return True
    revision = outage_window_revise(
        window=window,
        changes=values,
        reason=reason,
        source=source,
        source_detail=source_detail,
        actor_label=actor_label,
    )
    return revision is not None


@transaction.atomic
def outage_window_recompute(
    *, window: OutageWindow, actor: AbstractBaseUser, meta: RequestMeta = NO_REQUEST
) -> RecomputeJob:
    """Recompute, in the background and in chunks, every claim whose current estimate used an older revision of the
    window (Lawyers only). Progress is on the returned job; each affected claim is estimated once."""
    if not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(_("재산정을 시작할 권한이 없습니다."))
    window = OutageWindow.objects.select_for_update().select_related("incident", "service").get(pk=window.pk)
    version = damage_model_active(incident_id=window.incident_id)
    if version is None:
        raise OutageWindowError(_("이 사고에는 적용 중인 손해 산정 모델이 없습니다."))
    affected = window_affected_claims(window=window).count()
    if not affected:
        raise OutageWindowError(_("이전 개정으로 산정된 신청이 없습니다."))
    job = RecomputeJob.objects.create(model_version=version, outage_window=window, requested_by=actor)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.RECOMPUTE_REQUESTED,
        target=window,
        meta=meta,
        data={
            "incident": window.incident.slug,
            "service": window.service.slug,
            "revision": window.revision,
            "affected": affected,
            "job": job.pk,
            "model_version": version.version,
        },
    )
    _recompute_enqueue(job)
    return job
