"""The claimant's side of a claim: eligibility, the wizard's steps, submission, withdrawal and re-joining, and
answers to the information requests staff send. Every change writes its ClaimEvent in the same transaction."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.journey import journey_filing_problems
from accounts.models import User
from accounts.referrals import Referral
from accounts.selectors import ClaimantReadiness, claimant_readiness
from claims.closing import claim_closed_announce, claim_is_filed
from claims.models import (
    Claim,
    ClaimEvent,
    EligibilityCheck,
    Incident,
    InformationRequest,
    LossItem,
    Service,
    new_reference_code,
)
from claims.tasks.estimates import estimate_claim_task
from claims.tasks.fraud import claim_fraud_check_task
from claims.tasks.notifications import claim_status_email_task, information_answered_staff_email_task
from claims.validators import business_registration_number_is_valid
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError
from core.models import AuditEntry

WIZARD_STEPS = ("eligibility", "claimant", "losses", "evidence", "review")
# The claimant may change a claim while it is a draft, and add to it while staff wait for more information.
EDITABLE_STATUSES = frozenset({Claim.Status.DRAFT, Claim.Status.INFO_REQUESTED})
# After submitting, the claimant may still add files and notes (staff see them as new) until the claim is withdrawn,
# rejected or filed with the court.
ADDABLE_STATUSES = frozenset(
    {Claim.Status.SUBMITTED, Claim.Status.IN_REVIEW, Claim.Status.INFO_REQUESTED, Claim.Status.ACCEPTED}
)
NOTE_MAX = 2000
BUSINESS_TYPES = frozenset({Claim.ClaimantType.SOLE_PROPRIETOR, Claim.ClaimantType.COMPANY})
REFERENCE_CODE_ATTEMPTS = 5


class ClaimError(InvalidInputError):
    """A rule of the claim process refused the change; the message is for the claimant."""

    def __init__(self, message: str, *, claim: Claim | None = None) -> None:
        super().__init__(message)
        self.claim = claim


def eligibility_problems(*, incident: Incident, was_using: bool) -> list[str]:
    """Why this person cannot join, in words they can understand; empty when they can."""
    problems = []
    if not incident.accepting_claims:
        problems.append(_("이 사고에 대한 참여 신청은 현재 받고 있지 않습니다."))
    if not was_using:
        problems.append(
            _(
                "장애 시간 동안 서비스를 이용하고 있지 않았다면 장애로 인한 손해를 주장하기 어렵습니다. "
                "법원은 장애 당시 실제로 이용했다는 증거가 없는 청구를 받아들이지 않았습니다."
            )
        )
    return problems


def eligibility_check_record(
    *, check_id: int | None, incident: Incident, eligible: bool, referral: Referral
) -> EligibilityCheck:
    """The funnel's first two steps (no personal data): the visitor's first answer creates the row, later answers
    from the same session update it; once told they can join, it stays eligible."""
    check = EligibilityCheck.objects.filter(pk=check_id).first() if check_id else None
    if check is None:
        check = EligibilityCheck(referral_source=referral.source, referral_code=referral.code)
    check.incident = incident
    if eligible and check.eligible_at is None:
        check.eligible_at = timezone.now()
    check.save()
    return check


def _check_services(incident: Incident, services: Sequence[Service]) -> None:
    if not services:
        raise ClaimError(_("피해를 입은 서비스를 하나 이상 골라 주세요."))
    known = set(incident.outage_windows.values_list("service_id", flat=True))
    if any(service.pk not in known for service in services):
        raise ClaimError(_("이 사고의 장애 서비스 목록에 없는 서비스가 있습니다."))


def _event(claim: Claim, actor: User | None, kind: str, meta: RequestMeta, *, message: str = "", **data) -> ClaimEvent:
    return ClaimEvent.objects.create(claim=claim, actor=actor, kind=kind, message=message, data=data, ip=meta.ip)


def _advance(claim: Claim, step: str) -> None:
    """Remember the furthest step reached, so the claimant resumes there from any device."""
    if WIZARD_STEPS.index(step) > WIZARD_STEPS.index(claim.wizard_step):
        claim.wizard_step = step


def _lock_for_edit(claim: Claim, actor: User) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim.pk, claimant=actor)
    if claim.status not in EDITABLE_STATUSES:
        raise ClaimError(_("제출한 신청은 고칠 수 없습니다. 바꿀 내용이 있으면 담당자에게 알려 주세요."), claim=claim)
    return claim


def _changed(claim: Claim, actor: User, meta: RequestMeta, *, step: str, fields: Iterable[str], **data) -> None:
    """Save a claimant's change with its audit row; after submission it also asks for a new estimate. The claim
    is locked (`_lock_for_edit`), so its version is counted up here rather than read back."""
    claim.version += 1
    claim.save(update_fields=[*fields, "version", "updated_at"])
    _event(claim, actor, ClaimEvent.Kind.UPDATED, meta, step=step, **data)
    if claim.status != Claim.Status.DRAFT:
        estimate_claim_task.delay_on_commit(claim.pk)


def claim_additions_problem(*, claim: Claim) -> str | None:
    """Why the claimant cannot add files or notes to this submitted claim now; None when they can."""
    if claim.status not in ADDABLE_STATUSES:
        return _("이 신청에는 더 이상 자료를 추가할 수 없습니다(철회·반려된 신청). 필요하면 담당자에게 문의해 주세요.")
    if claim_is_filed(claim=claim):
        return _("이미 법원에 소를 제기한 신청입니다. 추가할 자료가 있으면 담당자에게 문의해 주세요.")
    return None


def claim_additions_allowed(*, claim: Claim) -> bool:
    return claim_additions_problem(claim=claim) is None


def claim_addition_audit(*, claim: Claim, actor: User, event: ClaimEvent, meta: RequestMeta) -> None:
    """What the claimant added after submission, in the staff audit log beside its timeline entry."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CLAIMANT_ADDED,
        target=claim,
        meta=meta,
        claim=claim,
        data={"event": event.pk, "kind": event.kind, **{k: v for k, v in event.data.items() if k != "pdf_findings"}},
    )


@transaction.atomic
def claim_note_add(*, claim: Claim, actor: User, text: str, meta: RequestMeta = NO_REQUEST) -> ClaimEvent:
    """A note from the claimant to staff on a submitted claim: on the timeline (new to staff until a reviewer
    marks it seen) and in the audit log."""
    claim = Claim.objects.select_for_update().get(pk=claim.pk, claimant=actor)
    text = text.strip()
    if not text:
        raise ClaimError(_("담당자에게 전할 내용을 적어 주세요."), claim=claim)
    if len(text) > NOTE_MAX:
        raise ClaimError(_("메모는 %(count)d자까지 적을 수 있습니다.") % {"count": NOTE_MAX}, claim=claim)
    if claim.status == Claim.Status.DRAFT:
        raise ClaimError(_("작성 중인 신청은 내용을 고친 뒤 제출해 주세요."), claim=claim)
    if problem := claim_additions_problem(claim=claim):
        raise ClaimError(problem, claim=claim)
    event = _event(claim, actor, ClaimEvent.Kind.NOTE_ADDED, meta, message=text, after_submission=True)
    claim_addition_audit(claim=claim, actor=actor, event=event, meta=meta)
    return event


@transaction.atomic
def claim_start(
    *, claimant: User, incident: Incident, services: Sequence[Service], was_using: bool, meta: RequestMeta = NO_REQUEST
) -> Claim:
    """Open a draft claim with the eligibility answers. One active claim per claimant and incident."""
    problems = eligibility_problems(incident=incident, was_using=was_using)
    if problems:
        raise ClaimError(" ".join(problems))
    _check_services(incident, services)
    existing = Claim.objects.filter(claimant=claimant, incident=incident).exclude(status=Claim.Status.WITHDRAWN).first()
    if existing:
        raise ClaimError(_("이 사고에 대해 이미 작성 중이거나 제출한 신청이 있습니다."), claim=existing)
    claim = Claim(claimant=claimant, incident=incident, was_using_during_outage=was_using, wizard_step="claimant")
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:  # a second tab started the same claim a moment ago
        raise ClaimError(_("이 사고에 대해 이미 작성 중이거나 제출한 신청이 있습니다.")) from None
    claim.services.set(services)
    _event(claim, claimant, ClaimEvent.Kind.CREATED, meta, services=[s.slug for s in services])
    return claim


@transaction.atomic
def claim_eligibility_update(
    *, claim: Claim, actor: User, services: Sequence[Service], was_using: bool, meta: RequestMeta = NO_REQUEST
) -> Claim:
    claim = _lock_for_edit(claim, actor)
    problems = eligibility_problems(incident=claim.incident, was_using=was_using)
    if problems and claim.status == Claim.Status.DRAFT:
        raise ClaimError(" ".join(problems))
    _check_services(claim.incident, services)
    dropped = LossItem.objects.filter(claim=claim).exclude(service__in=services)
    if dropped.exists():
        raise ClaimError(
            _("손해 항목이 있는 서비스는 뺄 수 없습니다. 먼저 3단계에서 그 서비스의 손해 항목을 지워 주세요.")
        )
    claim.was_using_during_outage = was_using
    claim.services.set(services)
    _advance(claim, "claimant")
    fields = ["was_using_during_outage", "wizard_step"]
    _changed(claim, actor, meta, step="eligibility", fields=fields, services=[s.slug for s in services])
    return claim


@transaction.atomic
def claim_claimant_update(
    *,
    claim: Claim,
    actor: User,
    claimant_type: str,
    business_registration_number: str = "",
    business_name: str = "",
    business_sector: str = "",
    meta: RequestMeta = NO_REQUEST,
) -> Claim:
    claim = _lock_for_edit(claim, actor)
    is_business = claimant_type in BUSINESS_TYPES
    if is_business and not (business_registration_number and business_name and business_sector):
        raise ClaimError(_("사업자는 사업자등록번호, 상호, 업종을 모두 적어 주세요."))
    if is_business and not business_registration_number_is_valid(business_registration_number):
        raise ClaimError(_("사업자등록번호가 올바르지 않습니다. 사업자등록증에 적힌 번호를 다시 확인해 주세요."))
    claim.claimant_type = claimant_type
    claim.business_registration_number = business_registration_number if is_business else ""
    claim.business_name = business_name if is_business else ""
    claim.business_sector = business_sector if is_business else ""
    _advance(claim, "losses")
    claim.full_clean(exclude=["claimant", "incident", "version"])
    _changed(
        claim,
        actor,
        meta,
        step="claimant",
        fields=["claimant_type", "business_registration_number", "business_name", "business_sector", "wizard_step"],
    )
    return claim


# The figures each kind of loss item asks for.
LOSS_FIGURES = ("monthly_fee", "comparison_revenue", "outage_revenue", "amount")
LOSS_KIND_FIGURES = {
    LossItem.Kind.SUBSCRIPTION: ("monthly_fee",),
    LossItem.Kind.BUSINESS_REVENUE: ("comparison_revenue", "outage_revenue"),
    LossItem.Kind.EXPENSE: ("amount",),
    LossItem.Kind.OTHER: ("amount",),
}


@dataclass(frozen=True)
class LossItemData:
    """One loss item as the claimant entered it; `pk` is set when it changes an existing item."""

    kind: str
    description: str
    monthly_fee: int = 0
    comparison_revenue: int = 0
    outage_revenue: int = 0
    amount: int = 0
    affected_hours: Decimal | None = None
    pk: int | None = None

    def figures(self) -> dict[str, int]:
        """The figures of the item's own kind; the others are zero."""
        kept = LOSS_KIND_FIGURES[self.kind]
        return {name: getattr(self, name) if name in kept else 0 for name in LOSS_FIGURES}


def _claimed_total(claim: Claim) -> int:
    return sum(item.claimed_amount for item in LossItem.objects.filter(claim=claim))


@transaction.atomic
def claim_loss_items_save(
    *,
    claim: Claim,
    actor: User,
    service: Service,
    items: Sequence[LossItemData],
    delete_ids: Sequence[int] = (),
    meta: RequestMeta = NO_REQUEST,
) -> Claim:
    """Add, change and remove the loss items of one affected service in one go."""
    claim = _lock_for_edit(claim, actor)
    if not claim.services.filter(pk=service.pk).exists():
        raise ClaimError(_("1단계에서 고른 서비스에만 손해 항목을 적을 수 있습니다."))
    existing = {item.pk: item for item in LossItem.objects.filter(claim=claim, service=service)}
    if any(pk not in existing for pk in delete_ids) or any(d.pk and d.pk not in existing for d in items):
        raise ClaimError(_("다른 화면에서 이미 바뀐 항목이 있습니다. 화면을 새로 고친 뒤 다시 해 주세요."))
    if delete_ids and claim.status != Claim.Status.DRAFT:
        raise ClaimError(_("제출한 뒤에는 손해 항목을 지울 수 없습니다. 담당자에게 알려 주세요."))
    LossItem.objects.filter(pk__in=delete_ids).delete()
    for data in items:
        item = existing[data.pk] if data.pk else LossItem(claim=claim, service=service)
        item.kind, item.description, item.affected_hours = data.kind, data.description, data.affected_hours
        for name, value in data.figures().items():
            setattr(item, name, value)
        item.full_clean(exclude=["claim", "service"])
        item.save()
    claim.claimed_total = _claimed_total(claim)
    _changed(
        claim,
        actor,
        meta,
        step="losses",
        fields=["claimed_total"],
        service=service.slug,
        saved=len(items),
        deleted=len(delete_ids),
    )
    return claim


@transaction.atomic
def claim_compensation_update(
    *, claim: Claim, actor: User, already_compensated: int, meta: RequestMeta = NO_REQUEST
) -> Claim:
    """What the claimant already received from the operator's own programme (deducted from the estimate)."""
    claim = _lock_for_edit(claim, actor)
    claim.already_compensated = already_compensated
    _advance(claim, "evidence")
    _changed(claim, actor, meta, step="losses", fields=["already_compensated", "wizard_step"])
    return claim


@transaction.atomic
def claim_wizard_step_reached(*, claim: Claim, actor: User, step: str) -> Claim:
    """Move the resume point forward when the claimant moves on without changing anything (evidence step)."""
    claim = _lock_for_edit(claim, actor)
    before = claim.wizard_step
    _advance(claim, step)
    if claim.wizard_step != before:
        claim.save(update_fields=["wizard_step", "updated_at"])
    return claim


def _assign_reference_code(claim: Claim) -> None:
    for _attempt in range(REFERENCE_CODE_ATTEMPTS):
        claim.reference_code = new_reference_code()
        try:
            with transaction.atomic():
                claim.save(update_fields=["reference_code"])
            return
        except IntegrityError:  # a code already taken: 31^8 codes make this rare
            continue
    raise ClaimError(_("접수번호를 만들지 못했습니다. 잠시 후 다시 제출해 주세요."))


@transaction.atomic
def claim_submit(*, claim: Claim, actor: User, meta: RequestMeta = NO_REQUEST) -> Claim:
    """Submit a draft: reference code, timeline entry, confirmation email and estimate, once.

    Submitting a claim that is already submitted changes nothing and returns it, so a double click or a
    repeated POST shows the same confirmation.
    """
    claim = Claim.objects.select_for_update(of=("self",)).select_related("incident").get(pk=claim.pk, claimant=actor)
    claim.claimant = actor
    if claim.status != Claim.Status.DRAFT:
        if claim.status == Claim.Status.WITHDRAWN:
            raise ClaimError(_("철회한 신청은 제출할 수 없습니다. 다시 참여하려면 재참여를 눌러 주세요."), claim=claim)
        return claim
    if not claim.incident.accepting_claims:
        raise ClaimError(_("이 사고에 대한 참여 신청은 마감되었습니다."), claim=claim)
    problems = claim_blocking_problems(claim=claim)
    if problems:
        raise ClaimError(" ".join(problems), claim=claim)
    if not claim.reference_code:
        _assign_reference_code(claim)
    claim.status, claim.submitted_at, claim.wizard_step = Claim.Status.SUBMITTED, timezone.now(), "review"
    claim.claimed_total = _claimed_total(claim)
    claim.save(update_fields=["status", "submitted_at", "wizard_step", "claimed_total", "updated_at"])
    event = _event(claim, actor, ClaimEvent.Kind.SUBMITTED, meta, reference_code=claim.reference_code)
    claim_status_email_task.delay_on_commit(claim.pk, event.pk)
    estimate_claim_task.delay_on_commit(claim.pk)
    claim_fraud_check_task.delay_on_commit(claim.pk)
    return claim


def claim_blocking_problems(*, claim: Claim, readiness: ClaimantReadiness | None = None) -> list[str]:
    """What must be fixed before the claim can be submitted (missing evidence only warns: see the selector).
    The claimant's consents are read from the database unless the caller has just read them (`readiness`, for
    showing the review page; submitting always reads them)."""
    readiness = readiness or claimant_readiness(user=claim.claimant)
    problems = journey_filing_problems(readiness=readiness)
    if not claim.was_using_during_outage or not claim.services.exists():
        problems.append(_("1단계(참여 자격)를 마쳐 주세요."))
    if not claim.claimant_type:
        problems.append(_("2단계(신청인 정보)를 마쳐 주세요."))
    return problems


@transaction.atomic
def claim_withdraw(*, claim: Claim, actor: User, reason: str = "", meta: RequestMeta = NO_REQUEST) -> Claim:
    """The claimant leaves the suit. The claim and its files stay on record, marked withdrawn."""
    claim = Claim.objects.select_for_update().get(pk=claim.pk, claimant=actor)
    if claim.status == Claim.Status.WITHDRAWN:
        return claim
    previous = claim.status
    claim.status, claim.withdrawn_at = Claim.Status.WITHDRAWN, timezone.now()
    claim.save(update_fields=["status", "withdrawn_at", "updated_at"])
    event = _event(claim, actor, ClaimEvent.Kind.WITHDRAWN, meta, message=reason, previous_status=previous)
    claim_status_email_task.delay_on_commit(claim.pk, event.pk)
    claim_closed_announce(claim=claim)
    return claim


@transaction.atomic
def claim_rejoin(*, claim: Claim, actor: User, meta: RequestMeta = NO_REQUEST) -> Claim:
    """Reopen a withdrawn claim as a draft to check and submit again, while the incident accepts claims."""
    claim = Claim.objects.select_for_update(of=("self",)).select_related("incident").get(pk=claim.pk, claimant=actor)
    if claim.status != Claim.Status.WITHDRAWN:
        return claim
    if not claim.incident.accepting_claims:
        raise ClaimError(_("이 사고에 대한 참여 신청이 마감되어 다시 참여할 수 없습니다."), claim=claim)
    if claim.anonymised_at:
        raise ClaimError(
            _("보관 기간이 지나 이 신청의 개인정보는 이미 삭제되었습니다. 새로 신청해 주세요."), claim=claim
        )
    claim.status, claim.withdrawn_at, claim.wizard_step = Claim.Status.DRAFT, None, "review"
    try:
        with transaction.atomic():
            claim.save(update_fields=["status", "withdrawn_at", "wizard_step", "updated_at"])
    except IntegrityError:  # the database allows one active claim per claimant and incident
        raise ClaimError(
            _("이 사고에 대해 이미 다른 신청이 진행 중입니다. 그 신청을 이용해 주세요."), claim=claim
        ) from None
    event = _event(claim, actor, ClaimEvent.Kind.REJOINED, meta)
    claim_status_email_task.delay_on_commit(claim.pk, event.pk)
    return claim


@transaction.atomic
def information_request_answer(
    *, information_request: InformationRequest, actor: User, answer: str, meta: RequestMeta = NO_REQUEST
) -> InformationRequest:
    """The claimant answers what staff asked for; the files were attached to the request as they were uploaded."""
    request = InformationRequest.objects.select_for_update().select_related("claim").get(pk=information_request.pk)
    claim = Claim.objects.select_for_update().get(pk=request.claim_id, claimant=actor)
    if request.answered_at:
        raise ClaimError(_("이미 답변한 요청입니다."), claim=claim)
    if claim.status != Claim.Status.INFO_REQUESTED:
        raise ClaimError(_("지금은 이 요청에 답변할 수 없습니다."), claim=claim)
    files = request.evidence.count()
    if not answer.strip() and not files:
        raise ClaimError(_("답변 내용을 적거나 파일을 하나 이상 올려 주세요."), claim=claim)
    request.answer, request.answered_at = answer.strip(), timezone.now()
    request.save(update_fields=["answer", "answered_at"])
    if not claim.information_requests.filter(answered_at__isnull=True).exists():
        claim.status = Claim.Status.IN_REVIEW
        claim.save(update_fields=["status", "updated_at"])
    event = _event(claim, actor, ClaimEvent.Kind.INFO_PROVIDED, meta, information_request=request.pk, files=files)
    claim_status_email_task.delay_on_commit(claim.pk, event.pk)
    information_answered_staff_email_task.delay_on_commit(claim.pk, request.pk)
    estimate_claim_task.delay_on_commit(claim.pk)
    return request
