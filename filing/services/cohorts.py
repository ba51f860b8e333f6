"""Cohorts and filing waves: saving a cohort's criteria, preparing a wave, freezing its plaintiffs and marking it
filed.

Freezing copies what the annex shows (name, address, claimant type, business number, the estimate total as the
amount claimed, the per-kind and per-rule amounts, the model version) into `WaveMember` rows numbered 1..N by
submission time then claim id, with one INSERT ... SELECT, so 50,000 plaintiffs freeze in one statement. Later
changes to the claims never touch those rows. A claim is a plaintiff of at most one wave: claims already in a wave
are left out of the next one, and freezes of one incident's waves run one at a time (the incident row is locked).
"""

import datetime as dt
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from claims.models import Incident
from claims.selectors.review import claims_overdue
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError
from core.models import AuditEntry
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.cohorts import (
    FILABLE_STATUSES,
    CohortCriteria,
    wave_candidates,
    wave_member_snapshot,
    wave_takes,
)
from filing.selectors.readiness import Rule, jit_off, readiness_rules

PERMISSION_COHORT = "filing.change_cohort"
PERMISSION_WAVE = "filing.change_filingwave"
DEFAULT_CASE_NAME = "손해배상(기)"
DEFAULT_DEFENDANT = "주식회사 카카오"

# WaveMember column <- the snapshot query's column (filing.selectors.cohorts.wave_member_snapshot).
SNAPSHOT_COLUMNS = {
    "claim_id": "src.s_claim",
    "name": "src.s_name",
    "postal_code": "src.s_postal_code",
    "address": "src.s_address",
    "claimant_type": "src.s_claimant_type",
    "business_name": "src.s_business_name",
    "business_number": "src.s_business_number",
    "amount_claimed": "src.s_amount",
    "claimed_by_kind": "COALESCE(src.s_claimed, '{}')",
    "estimated_by_rule": "COALESCE(src.s_estimated, '{}')",
    "model_version": "src.s_model_version",
}


class CohortError(InvalidInputError):
    """A cohort or wave rule refused the change; the message is for the member of staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def _require(actor: User, permission: str) -> None:
    if not actor.has_perm(permission):
        raise CohortError(_("이 작업을 할 권한이 없습니다."))


@transaction.atomic
def cohort_save(*, cohort: Cohort, criteria: CohortCriteria, actor: User, meta: RequestMeta = NO_REQUEST) -> Cohort:
    """Create or update a cohort with its criteria; audited with the criteria saved."""
    _require(actor, PERMISSION_COHORT if cohort.pk else "filing.add_cohort")
    created = cohort.pk is None
    cohort.criteria = criteria.to_dict()
    if created:
        cohort.created_by = actor
    cohort.full_clean()
    cohort.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=cohort,
        meta=meta,
        data={"created": created, "criteria": cohort.criteria},
    )
    return cohort


@transaction.atomic
def filing_wave_create(
    *,
    cohort: Cohort,
    name: str,
    court: str,
    actor: User,
    case_name: str = DEFAULT_CASE_NAME,
    defendant: str = DEFAULT_DEFENDANT,
    defendant_count: int = 1,
    meta: RequestMeta = NO_REQUEST,
) -> FilingWave:
    """A wave being prepared: named, with its court and its number of defendants, not yet frozen."""
    _require(actor, "filing.add_filingwave")
    wave = FilingWave(
        cohort=cohort,
        name=name.strip(),
        court=court.strip(),
        case_name=case_name,
        defendant=defendant,
        defendant_count=defendant_count,
        created_by=actor,
    )
    wave.full_clean()
    wave.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=wave,
        meta=meta,
        data={"created": True, "cohort": cohort.pk},
    )
    return wave


WAVE_DETAIL_FIELDS = ("name", "court", "case_name", "defendant", "defendant_count")


@transaction.atomic
def filing_wave_update(
    *, wave: FilingWave, changes: Sequence[str], actor: User, meta: RequestMeta = NO_REQUEST
) -> FilingWave:
    """Save the changed details of a wave (`wave` holds the new values): its name, court, case name, defendant and
    number of defendants may change until the wave is filed; its plaintiffs never change once frozen."""
    _require(actor, PERMISSION_WAVE)
    stored = FilingWave.objects.select_for_update().get(pk=wave.pk)
    if stored.status == FilingWave.Status.FILED:
        raise CohortError(_("소 제기를 마친 차수는 바꿀 수 없습니다."))
    fields = [name for name in WAVE_DETAIL_FIELDS if name in changes]
    if not fields:
        return stored
    before = {name: getattr(stored, name) for name in fields}
    for name in fields:
        setattr(stored, name, getattr(wave, name))
    stored.full_clean()
    stored.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=stored,
        meta=meta,
        data={"changes": {name: [before[name], getattr(stored, name)] for name in fields}},
    )
    return stored


def _freeze_problems(cohort: Cohort, rules: Sequence[Rule]) -> list[str]:
    """Why a wave frozen now cannot take the claims it would take (the ready ones and the overridden ones); empty
    when it can. Claims that are not ready are left out, not refused (filing/selectors/readiness.py)."""
    counts = wave_takes(cohort=cohort, rules=rules).aggregate(
        count=Count("pk"),
        not_filable=Count("pk", filter=~Q(status__in=FILABLE_STATUSES)),
        unestimated=Count("pk", filter=Q(estimate_total__isnull=True)),
        overdue=Count("pk", filter=claims_overdue()),
    )
    problems = []
    if not counts["count"]:
        if wave_candidates(cohort=cohort).exists():
            problems.append(
                _(
                    "조건에 맞는 신청 중 소 제기 준비가 끝난 신청이 없습니다. "
                    "확정 화면에서 누가 무엇 때문에 빠지는지 확인하세요."
                )
            )
        else:
            problems.append(_("조건에 맞는 신청 중 아직 다른 차수에 들어가지 않은 신청이 없습니다."))
    if counts["not_filable"]:
        problems.append(
            _(
                "작성 중이거나 반려·철회된 신청 %(count)d건은 원고가 될 수 없습니다. "
                "상태 조건에서 접수됨·검토 중·추가 자료 요청·승인만 고르세요."
            )
            % {"count": counts["not_filable"]}
        )
    if counts["unestimated"]:
        problems.append(
            _("아직 산정되지 않은 신청 %(count)d건이 있습니다. 산정이 끝난 뒤 확정하거나 산정액 조건을 넣으세요.")
            % {"count": counts["unestimated"]}
        )
    if counts["overdue"]:
        problems.append(
            _(
                "추가 자료 제출 기한이 지난 신청 %(count)d건이 있습니다. "
                "자료를 받거나 요청을 정리한 뒤 확정해 주세요(신청 목록의 '추가 자료 기한' 필터)."
            )
            % {"count": counts["overdue"]}
        )
    return problems


def _insert_members(wave: FilingWave, rules: Sequence[Rule]) -> None:
    """One INSERT ... SELECT: the claims the wave takes, numbered 1..N by submission time, then claim id."""
    source, params = wave_member_snapshot(cohort=wave.cohort, rules=rules).query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in ["wave_id", "number", *SNAPSHOT_COLUMNS])
    values = ", ".join(SNAPSHOT_COLUMNS.values())
    statement = (
        f"INSERT INTO {quote(WaveMember._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model, values bound)
        f"SELECT %s, ROW_NUMBER() OVER (ORDER BY src.s_submitted_at, src.s_claim), {values} FROM ({source}) src"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [wave.pk, *params])


@transaction.atomic
def filing_wave_freeze(*, wave: FilingWave, actor: User, meta: RequestMeta = NO_REQUEST) -> FilingWave:
    """Fix the wave's plaintiffs and their amounts now: the cohort's claims not yet in a wave that are ready for
    filing or overridden by a Lawyer (the others are left out). Refused when the wave is not being prepared, when
    there is nobody to add, or when an overridden claim cannot be a plaintiff (draft, rejected, withdrawn, no
    estimate, overdue)."""
    _require(actor, PERMISSION_WAVE)
    incident_id = FilingWave.objects.filter(pk=wave.pk).values_list("cohort__incident_id", flat=True).get()
    list(Incident.objects.select_for_update().filter(pk=incident_id))  # one freeze at a time per incident
    wave = FilingWave.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=wave.pk)
    if wave.status != FilingWave.Status.DRAFT:
        raise CohortError(_("이미 원고가 확정된 차수입니다."))
    rules = readiness_rules()
    with jit_off():  # the readiness filter over the whole cohort runs faster uncompiled
        problems = _freeze_problems(wave.cohort, rules)
        if problems:
            raise CohortError(" ".join(problems))
        _insert_members(wave, rules)
    totals = WaveMember.objects.filter(wave=wave).aggregate(count=Count("pk"), total=Coalesce(Sum("amount_claimed"), 0))
    wave.status = FilingWave.Status.FROZEN
    wave.frozen_at = timezone.now()
    wave.frozen_by = actor
    wave.member_count = totals["count"]
    wave.claimed_total = totals["total"]
    wave.save(update_fields=["status", "frozen_at", "frozen_by", "member_count", "claimed_total"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TRANSITION,
        target=wave,
        meta=meta,
        data={"status": wave.status, "members": wave.member_count, "claimed_total": wave.claimed_total},
    )
    return wave


@transaction.atomic
def cohort_freeze_wave(
    *,
    cohort: Cohort,
    name: str,
    court: str,
    actor: User,
    case_name: str = DEFAULT_CASE_NAME,
    defendant: str = DEFAULT_DEFENDANT,
    meta: RequestMeta = NO_REQUEST,
) -> FilingWave:
    """Create a wave from the cohort and freeze it at once (nothing is kept if the freeze is refused)."""
    wave = filing_wave_create(
        cohort=cohort, name=name, court=court, actor=actor, case_name=case_name, defendant=defendant, meta=meta
    )
    return filing_wave_freeze(wave=wave, actor=actor, meta=meta)


@transaction.atomic
def filing_wave_mark_filed(
    *, wave: FilingWave, case_number: str, filed_on: dt.date, actor: User, meta: RequestMeta = NO_REQUEST
) -> FilingWave:
    """Record that the wave's complaint was filed, with the case number the court gave it; its plaintiffs are told
    (filing/services/notifications.py)."""
    _require(actor, PERMISSION_WAVE)
    wave = FilingWave.objects.select_for_update().get(pk=wave.pk)
    if wave.status != FilingWave.Status.FROZEN:
        raise CohortError(_("원고가 확정된 차수만 소 제기 완료로 표시할 수 있습니다."))
    if filed_on > timezone.localdate():
        raise CohortError(_("소 제기일은 오늘이나 그 이전이어야 합니다."))
    wave.status = FilingWave.Status.FILED
    wave.case_number = case_number.strip()
    wave.filed_on = filed_on
    wave.full_clean()
    wave.save(update_fields=["status", "case_number", "filed_on"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TRANSITION,
        target=wave,
        meta=meta,
        data={"status": wave.status, "case_number": wave.case_number, "filed_on": filed_on.isoformat()},
    )
    from filing.tasks.notifications import filing_wave_filed_notify_task

    filing_wave_filed_notify_task.delay_on_commit(wave.pk)
    return wave
