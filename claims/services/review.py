"""Staff review of submitted claims: explicit transitions with permission checks, assignment, staff corrections
and flag decisions.

    submitted -> in_review -> info_requested -> (the claimant answers: intake) -> in_review -> accepted / rejected

Every change locks the claim, compares the version the member of staff was looking at with the stored one (so
two people acting on one claim never overwrite each other silently), writes the timeline event and the audit
entry in the same transaction, bumps the version and emails the claimant after commit.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from claims.closing import claim_closed_announce
from claims.models import Claim, ClaimEvent, Flag, InformationRequest, RejectionReason
from claims.selectors.evidence_findings import claims_evidence_confirmed
from claims.selectors.intake import ADDITION_KINDS
from claims.services.intake import ClaimError
from claims.tasks.estimates import estimate_claim_task
from claims.tasks.fraud import claim_fraud_check_task
from claims.tasks.notifications import claim_status_email_task
from core.audit import NO_REQUEST, RequestMeta, audit_entry, audit_record
from core.exceptions import ConflictError
from core.models import AuditEntry

PERMISSION_REVIEW = "claims.review_claim"
PERMISSION_DECIDE = "claims.decide_claim"

# Claims staff are still working on; decided, withdrawn and draft claims are out of the review queue.
REVIEWABLE_STATUSES = frozenset({Claim.Status.SUBMITTED, Claim.Status.IN_REVIEW, Claim.Status.INFO_REQUESTED})
INFORMATION_DUE_MIN_DAYS = 3
INFORMATION_DUE_MAX_DAYS = 60
# What staff may correct on a submitted claim (after a call with the claimant); the rest is the claimant's.
STAFF_EDITABLE_FIELDS = (
    "claimant_type",
    "business_registration_number",
    "business_name",
    "business_sector",
    "already_compensated",
    "was_using_during_outage",
    "estimate_visible_to_claimant",
)
# Changes to these fields can change the estimate or the duplicate checks.
ESTIMATE_INPUT_FIELDS = frozenset({"claimant_type", "already_compensated", "was_using_during_outage"})
FRAUD_INPUT_FIELDS = frozenset({"business_registration_number"})


class ReviewError(ClaimError):
    """A review rule refused the change; the message is for the member of staff."""


class ClaimConflictError(ConflictError, ReviewError):
    """Someone changed the claim after this member of staff loaded it."""


def conflict_message() -> str:
    return _(
        "다른 직원이 먼저 이 신청을 변경했습니다. 아무것도 바뀌지 않았습니다. "
        "화면을 새로 고쳐 바뀐 내용을 확인한 뒤 다시 처리해 주세요."
    )


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise
    sources: frozenset[str]
    target: str
    permission: str
    event_kind: str


TRANSITIONS = {
    transition.name: transition
    for transition in (
        Transition(
            "start_review",
            gettext_lazy("검토 시작"),
            frozenset({Claim.Status.SUBMITTED}),
            Claim.Status.IN_REVIEW,
            PERMISSION_REVIEW,
            ClaimEvent.Kind.REVIEW_STARTED,
        ),
        Transition(
            "request_information",
            gettext_lazy("추가 자료 요청"),
            frozenset({Claim.Status.SUBMITTED, Claim.Status.IN_REVIEW}),
            Claim.Status.INFO_REQUESTED,
            PERMISSION_REVIEW,
            ClaimEvent.Kind.INFO_REQUESTED,
        ),
        Transition(
            "accept",
            gettext_lazy("승인"),
            frozenset({Claim.Status.SUBMITTED, Claim.Status.IN_REVIEW}),
            Claim.Status.ACCEPTED,
            PERMISSION_DECIDE,
            ClaimEvent.Kind.ACCEPTED,
        ),
        Transition(
            "reject",
            gettext_lazy("반려"),
            frozenset({Claim.Status.SUBMITTED, Claim.Status.IN_REVIEW, Claim.Status.INFO_REQUESTED}),
            Claim.Status.REJECTED,
            PERMISSION_DECIDE,
            ClaimEvent.Kind.REJECTED,
        ),
    )
}


def claim_transitions_available(*, claim: Claim, user: User) -> list[Transition]:
    """The transitions this user may apply to the claim in its current status (the buttons to show)."""
    return [t for t in TRANSITIONS.values() if claim.status in t.sources and user.has_perm(t.permission)]


def _require_permission(actor: User, permission: str) -> None:
    if not actor.has_perm(permission):
        if permission == PERMISSION_DECIDE:
            raise ReviewError(_("신청을 승인하거나 반려할 권한이 없습니다. 변호사에게 요청해 주세요."))
        raise ReviewError(_("신청을 검토할 권한이 없습니다."))


def _lock(claim: Claim, expected_version: int | None) -> Claim:
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ClaimConflictError(conflict_message(), claim=locked)
    return locked


def _lock_for_transition(claim: Claim, actor: User, transition: Transition, expected_version: int) -> Claim:
    _require_permission(actor, transition.permission)
    claim = _lock(claim, expected_version)
    if claim.status not in transition.sources:
        raise ReviewError(
            _("이 신청은 '%(status)s' 상태여서 '%(action)s' 처리를 할 수 없습니다.")
            % {"status": claim.get_status_display(), "action": transition.label},
            claim=claim,
        )
    return claim


def _save_with_new_version(claim: Claim, fields: Iterable[str]) -> None:
    claim.version = F("version") + 1
    claim.save(update_fields=[*fields, "version", "updated_at"])
    claim.refresh_from_db(fields=["version"])


def _apply(
    claim: Claim,
    actor: User,
    transition: Transition,
    meta: RequestMeta,
    *,
    fields: Iterable[str] = (),
    message: str = "",
    **data,
) -> ClaimEvent:
    """Move the locked claim to the transition's status with its event, audit entry and email."""
    previous = claim.status
    claim.status = transition.target
    _save_with_new_version(claim, ["status", *fields])
    event = ClaimEvent.objects.create(
        claim=claim,
        actor=actor,
        kind=transition.event_kind,
        message=message,
        data={"previous_status": previous, **data},
        ip=meta.ip,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TRANSITION,
        target=claim,
        meta=meta,
        data={"transition": transition.name, "from": previous, "to": claim.status, **data},
    )
    claim_status_email_task.delay_on_commit(claim.pk, event.pk)
    return event


def _take_if_unassigned(claim: Claim, actor: User) -> list[str]:
    if claim.reviewer_id is None:
        claim.reviewer = actor
        return ["reviewer"]
    return []


@transaction.atomic
def claim_start_review(*, claim: Claim, actor: User, expected_version: int, meta: RequestMeta = NO_REQUEST) -> Claim:
    """Take a submitted claim into review; the member of staff becomes its reviewer if it has none."""
    transition = TRANSITIONS["start_review"]
    claim = _lock_for_transition(claim, actor, transition, expected_version)
    _apply(claim, actor, transition, meta, fields=_take_if_unassigned(claim, actor))
    return claim


def _information_items_clean(items: Iterable[str]) -> list[str]:
    cleaned, seen = [], set()
    for item in items:
        text = " ".join(str(item).split())
        if text and text not in seen:
            cleaned.append(text[:200])
            seen.add(text)
    return cleaned


@transaction.atomic
def claim_request_information(
    *,
    claim: Claim,
    actor: User,
    expected_version: int,
    message: str,
    items: Iterable[str],
    due_date: dt.date,
    meta: RequestMeta = NO_REQUEST,
) -> InformationRequest:
    """Ask the claimant for more: a message, the items wanted and a due date. The claimant is emailed; their
    answer (intake's `information_request_answer`) puts the claim back in review."""
    transition = TRANSITIONS["request_information"]
    claim = _lock_for_transition(claim, actor, transition, expected_version)
    message, items = message.strip(), _information_items_clean(items)
    if not message:
        raise ReviewError(_("신청인에게 보낼 요청 내용을 적어 주세요."), claim=claim)
    if not items:
        raise ReviewError(_("요청할 자료를 하나 이상 골라 주세요."), claim=claim)
    today = timezone.localdate()
    earliest = today + dt.timedelta(days=INFORMATION_DUE_MIN_DAYS)
    latest = today + dt.timedelta(days=INFORMATION_DUE_MAX_DAYS)
    if not earliest <= due_date <= latest:
        raise ReviewError(
            _("기한은 %(earliest)s부터 %(latest)s 사이의 날짜로 정해 주세요.")
            % {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
            claim=claim,
        )
    request = InformationRequest(claim=claim, requested_by=actor, message=message, items=items, due_date=due_date)
    request.full_clean()
    request.save()
    _apply(
        claim,
        actor,
        transition,
        meta,
        fields=_take_if_unassigned(claim, actor),
        message=message,
        information_request=request.pk,
        items=items,
        due_date=due_date.isoformat(),
    )
    return request


@transaction.atomic
def claim_accept(
    *, claim: Claim, actor: User, expected_version: int, note: str = "", meta: RequestMeta = NO_REQUEST
) -> Claim:
    """A lawyer accepts the claim into the suit. Refused while a duplicate or fraud flag is still open."""
    transition = TRANSITIONS["accept"]
    claim = _lock_for_transition(claim, actor, transition, expected_version)
    open_flags = claim.flags.filter(status=Flag.Status.OPEN).count()
    if open_flags:
        raise ReviewError(
            _("확인하지 않은 의심 플래그가 %(count)d건 있습니다. 플래그를 검토한 뒤 승인해 주세요.")
            % {"count": open_flags},
            claim=claim,
        )
    claim.decided_at = timezone.now()
    _apply(claim, actor, transition, meta, fields=["decided_at"], message=note.strip())
    return claim


@transaction.atomic
def claim_reject(
    *,
    claim: Claim,
    actor: User,
    expected_version: int,
    reason: RejectionReason,
    note: str = "",
    meta: RequestMeta = NO_REQUEST,
) -> Claim:
    """A lawyer rejects the claim with a reason from the list and, where the reason needs one, an explanation.
    The claimant's email shows the reason and the explanation."""
    transition = TRANSITIONS["reject"]
    claim = _lock_for_transition(claim, actor, transition, expected_version)
    note = note.strip()
    if not reason.is_active:
        raise ReviewError(_("더 이상 쓰지 않는 반려 사유입니다. 목록에서 다시 골라 주세요."), claim=claim)
    if reason.requires_note and not note:
        raise ReviewError(_("이 반려 사유에는 신청인에게 보낼 설명을 적어야 합니다."), claim=claim)
    claim.decided_at = timezone.now()
    message = f"{reason.label_ko}\n{note}" if note else reason.label_ko
    _apply(claim, actor, transition, meta, fields=["decided_at"], message=message, reason=reason.code)
    claim_closed_announce(claim=claim)
    return claim


def _check_reviewer(reviewer: User | None) -> None:
    if reviewer is not None and not (reviewer.is_active and reviewer.is_staff and reviewer.has_perm(PERMISSION_REVIEW)):
        raise ReviewError(_("검토 권한이 있는 직원에게만 맡길 수 있습니다."))


def _assignment_records(claim: Claim, actor: User, reviewer: User | None, previous_id: int | None, meta: RequestMeta):
    data = {"reviewer": reviewer.pk if reviewer else None, "previous_reviewer": previous_id}
    event = ClaimEvent(
        claim=claim,
        actor=actor,
        kind=ClaimEvent.Kind.ASSIGNED,
        message=str(reviewer) if reviewer else _("담당자 없음"),
        data=data,
        ip=meta.ip,
    )
    return event, audit_entry(actor=actor, action=AuditEntry.Action.ASSIGNED, target=claim, meta=meta, data=data)


@transaction.atomic
def claim_assign(
    *,
    claim: Claim,
    actor: User,
    reviewer: User | None,
    expected_version: int,
    meta: RequestMeta = NO_REQUEST,
) -> Claim:
    """Give the claim to a reviewer (or to nobody)."""
    _require_permission(actor, PERMISSION_REVIEW)
    _check_reviewer(reviewer)
    claim = _lock(claim, expected_version)
    if claim.status not in REVIEWABLE_STATUSES:
        raise ReviewError(
            _("'%(status)s' 상태의 신청은 담당자를 바꿀 수 없습니다.") % {"status": claim.get_status_display()},
            claim=claim,
        )
    previous_id = claim.reviewer_id
    claim.reviewer = reviewer
    _save_with_new_version(claim, ["reviewer"])
    event, entry = _assignment_records(claim, actor, reviewer, previous_id, meta)
    event.save()
    entry.save()
    return claim


@dataclass
class BulkResult:
    """What a bulk action did: the claims changed and, for each reason, the claims it skipped."""

    done: list[Claim] = field(default_factory=list)
    skipped: dict[str, list[Claim]] = field(default_factory=dict)

    def skip(self, reason: str, claim: Claim) -> None:
        self.skipped.setdefault(reason, []).append(claim)


SKIPPED_STATUS = "status"
SKIPPED_FLAGS = "flags"
SKIPPED_NOT_CONFIRMED = "not_confirmed"
SKIPPED_CHANGED = "changed"


def _lock_many(claim_ids: Iterable[int]) -> list[Claim]:
    return list(Claim.objects.select_for_update().filter(pk__in=list(claim_ids)).order_by("pk"))


@transaction.atomic
def claims_assign(
    *, claim_ids: Iterable[int], actor: User, reviewer: User | None, meta: RequestMeta = NO_REQUEST
) -> BulkResult:
    """Give many claims to one reviewer at once; claims no longer under review are skipped."""
    _require_permission(actor, PERMISSION_REVIEW)
    _check_reviewer(reviewer)
    result = BulkResult()
    for claim in _lock_many(claim_ids):
        if claim.status in REVIEWABLE_STATUSES:
            result.done.append(claim)
        else:
            result.skip(SKIPPED_STATUS, claim)
    previous = {claim.pk: claim.reviewer_id for claim in result.done}
    Claim.objects.filter(pk__in=previous).update(reviewer=reviewer, version=F("version") + 1, updated_at=timezone.now())
    records = [_assignment_records(claim, actor, reviewer, previous[claim.pk], meta) for claim in result.done]
    ClaimEvent.objects.bulk_create(event for event, _entry in records)
    AuditEntry.objects.bulk_create(entry for _event, entry in records)
    return result


@transaction.atomic
def claims_accept(*, claim_ids: Iterable[int], actor: User, meta: RequestMeta = NO_REQUEST) -> BulkResult:
    """Accept many claims at once. Claims with an open flag, or not in a status that can be accepted, are
    skipped and reported; the rest are accepted exactly as one by one."""
    transition = TRANSITIONS["accept"]
    _require_permission(actor, transition.permission)
    claims = _lock_many(claim_ids)
    flagged = set(
        Flag.objects.filter(claim__in=claims, status=Flag.Status.OPEN).values_list("claim_id", flat=True).distinct()
    )
    result = BulkResult()
    for claim in claims:
        if claim.status not in transition.sources:
            result.skip(SKIPPED_STATUS, claim)
        elif claim.pk in flagged:
            result.skip(SKIPPED_FLAGS, claim)
        else:
            result.done.append(claim)
    now = timezone.now()
    Claim.objects.filter(pk__in=[claim.pk for claim in result.done]).update(
        status=transition.target, decided_at=now, version=F("version") + 1, updated_at=now
    )
    events = ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            actor=actor,
            kind=transition.event_kind,
            data={"previous_status": claim.status, "bulk": True},
            ip=meta.ip,
        )
        for claim in result.done
    )
    AuditEntry.objects.bulk_create(
        audit_entry(
            actor=actor,
            action=AuditEntry.Action.TRANSITION,
            target=claim,
            meta=meta,
            data={"transition": transition.name, "from": claim.status, "to": transition.target, "bulk": True},
        )
        for claim in result.done
    )
    for event in events:
        claim_status_email_task.delay_on_commit(event.claim_id, event.pk)
    return result


@transaction.atomic
def claim_staff_update(
    *,
    claim: Claim,
    actor: User,
    expected_version: int,
    changes: Mapping[str, object],
    meta: RequestMeta = NO_REQUEST,
) -> Claim:
    """Correct what the claimant entered (after talking to them). Only STAFF_EDITABLE_FIELDS; the values
    themselves stay out of the timeline and the audit log, which name the fields changed."""
    _require_permission(actor, PERMISSION_REVIEW)
    unknown = set(changes) - set(STAFF_EDITABLE_FIELDS)
    if unknown:
        raise ReviewError(_("직원이 고칠 수 없는 항목입니다: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    claim = _lock(claim, expected_version)
    if claim.status == Claim.Status.DRAFT:
        raise ReviewError(_("작성 중인 신청은 신청인만 고칠 수 있습니다."), claim=claim)
    changed = sorted(name for name, value in changes.items() if getattr(claim, name) != value)
    if not changed:
        return claim
    for name in changed:
        setattr(claim, name, changes[name])
    claim.full_clean(exclude=["claimant", "incident", "version", "reviewer"])
    _save_with_new_version(claim, changed)
    ClaimEvent.objects.create(
        claim=claim, actor=actor, kind=ClaimEvent.Kind.UPDATED, data={"fields": changed, "by_staff": True}, ip=meta.ip
    )
    audit_record(actor=actor, action=AuditEntry.Action.EDITED, target=claim, meta=meta, data={"fields": changed})
    if ESTIMATE_INPUT_FIELDS.intersection(changed):
        estimate_claim_task.delay_on_commit(claim.pk)
    if FRAUD_INPUT_FIELDS.intersection(changed):
        claim_fraud_check_task.delay_on_commit(claim.pk)
    return claim


@transaction.atomic
def flag_mark_reviewed(*, claim: Claim, flag: Flag, actor: User, note: str, meta: RequestMeta = NO_REQUEST) -> Flag:
    """Record a member of staff's decision on one of the claim's flags, with a note saying why."""
    _require_permission(actor, PERMISSION_REVIEW)
    note = note.strip()
    if not note:
        raise ReviewError(_("검토 결과를 메모로 남겨 주세요 (예: 가족이 같은 번호를 씀, 통화로 확인함)."))
    flag = Flag.objects.select_for_update().get(pk=flag.pk, claim_id=claim.pk)
    if flag.status == Flag.Status.REVIEWED:
        raise ReviewError(_("이미 다른 직원이 검토한 플래그입니다."), claim=claim)
    flag.status, flag.reviewed_by, flag.reviewed_at, flag.note = Flag.Status.REVIEWED, actor, timezone.now(), note
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at", "note"])
    data = {"flag": flag.pk, "code": flag.code}
    ClaimEvent.objects.create(
        claim=claim, actor=actor, kind=ClaimEvent.Kind.FLAG_REVIEWED, message=note, data=data, ip=meta.ip
    )
    audit_record(actor=actor, action=AuditEntry.Action.FLAG_REVIEWED, target=flag, claim=claim, meta=meta, data=data)
    return flag


@transaction.atomic
def claims_accept_evidence_confirmed(
    *, claim_versions: Mapping[int, int], actor: User, meta: RequestMeta = NO_REQUEST
) -> BulkResult:
    """Accept the claims a lawyer saw listed as confirmed by their evidence (claims.selectors.evidence_findings.
    claims_evidence_confirmed), each at the version shown: each is accepted by `claim_accept` (permission, version,
    open flags, audit, email) under its lock. A claim changed since the list was shown, or no longer confirmed, is
    skipped and reported."""
    _require_permission(actor, TRANSITIONS["accept"].permission)
    claims = _lock_many(claim_versions)
    confirmed = set(
        Claim.objects.filter(pk__in=[claim.pk for claim in claims])
        .filter(claims_evidence_confirmed())
        .values_list("pk", flat=True)
    )
    result = BulkResult()
    for claim in claims:
        if claim.version != claim_versions[claim.pk]:
            result.skip(SKIPPED_CHANGED, claim)
        elif claim.pk not in confirmed:
            result.skip(SKIPPED_NOT_CONFIRMED, claim)
        else:
            result.done.append(
                claim_accept(claim=claim, actor=actor, expected_version=claim_versions[claim.pk], meta=meta)
            )
    return result


@transaction.atomic
def claim_additions_mark_seen(
    *,
    claim: Claim,
    actor: User,
    seen_through: int,
    expected_version: int | None = None,
    meta: RequestMeta = NO_REQUEST,
) -> Claim:
    """A reviewer has read what the claimant added after submitting, up to the timeline entry `seen_through` (the
    newest one on the page they read): those stop showing as new; anything added since stays new. Marking seen
    changes no content of the claim, so it does not count the claim's version up (`expected_version` unused)."""
    _require_permission(actor, PERMISSION_REVIEW)
    claim = _lock(claim, None)
    newest = (
        claim.events.filter(kind__in=ADDITION_KINDS, data__after_submission=True, pk__lte=seen_through)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if newest is None or newest <= claim.additions_seen_through:
        return claim
    previous = claim.additions_seen_through
    claim.additions_seen_through = newest
    claim.save(update_fields=["additions_seen_through", "updated_at"])
    ClaimEvent.objects.create(
        claim=claim, actor=actor, kind=ClaimEvent.Kind.ADDITIONS_SEEN, ip=meta.ip, data={"seen_through": newest}
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.ADDITIONS_SEEN,
        target=claim,
        meta=meta,
        claim=claim,
        data={"seen_through": {"old": previous, "new": newest}},
    )
    return claim
