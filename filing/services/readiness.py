"""A Lawyer's override of filing readiness for one claim (docs/filing.md, "Readiness"): granted with a reason, revoked
when no longer wanted, both audited on the claim. A wave frozen while an override is in force takes the claim although
a condition is unmet (filing/selectors/readiness.py)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from claims.models import Claim
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError
from core.models import AuditEntry
from filing.models import ReadinessOverride

PERMISSION_GRANT = "filing.add_readinessoverride"
PERMISSION_REVOKE = "filing.change_readinessoverride"


class ReadinessError(InvalidInputError):
    """The override was refused; the message is for the member of staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


@transaction.atomic
def readiness_override_grant(
    *, claim: Claim, reason: str, actor: User, meta: RequestMeta = NO_REQUEST
) -> ReadinessOverride:
    """Let one claim join a wave although it is not ready. Lawyers only, with a reason; one in force per claim."""
    if not actor.has_perm(PERMISSION_GRANT):
        raise ReadinessError(_("소 제기 준비 예외는 변호사만 정할 수 있습니다."))
    reason = reason.strip()
    if not reason:
        raise ReadinessError(_("예외로 두는 사유를 적어 주세요."))
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if ReadinessOverride.objects.filter(claim=claim, revoked_at__isnull=True).exists():
        raise ReadinessError(_("이 신청에는 이미 예외가 있습니다."))
    override = ReadinessOverride(claim=claim, reason=reason, created_by=actor)
    override.full_clean()
    try:
        with transaction.atomic():
            override.save()
    except IntegrityError as error:  # another Lawyer granted one at the same moment
        raise ReadinessError(_("이 신청에는 이미 예외가 있습니다.")) from error
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=override,
        claim=claim,
        meta=meta,
        data={"readiness_override": "granted", "reason": reason},
    )
    return override


@transaction.atomic
def readiness_override_revoke(
    *, override: ReadinessOverride, actor: User, reason: str = "", meta: RequestMeta = NO_REQUEST
) -> ReadinessOverride:
    """End an override; the claim must be ready again to join a later wave (a frozen wave keeps its plaintiffs)."""
    if not actor.has_perm(PERMISSION_REVOKE):
        raise ReadinessError(_("소 제기 준비 예외는 변호사만 취소할 수 있습니다."))
    override = ReadinessOverride.objects.select_for_update().get(pk=override.pk)
    if override.revoked_at is not None:
        raise ReadinessError(_("이미 취소된 예외입니다."))
    override.revoked_at, override.revoked_by, override.revoke_reason = timezone.now(), actor, reason.strip()
    override.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=override,
        claim=override.claim,
        meta=meta,
        data={"readiness_override": "revoked", "reason": override.revoke_reason},
    )
    return override
