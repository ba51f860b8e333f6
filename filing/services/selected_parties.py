"""Selected parties (선정당사자, Civil Procedure Act art. 53) of a frozen wave, and each plaintiff's 선정서.

1. A Lawyer picks one or more of the wave's plaintiffs as its selected parties (`selected_parties_pick`, audited).
2. Every other plaintiff (and the selected parties themselves: each plaintiff designates) is asked by a message to
   sign a 선정서 naming them (`designation_requests_queue`, in chunks, once per plaintiff).
3. The plaintiff signs it in the portal through the power of attorney's signing path
   (`accounts.services.signing.document_sign`: certified 간편인증 where an identity backend is configured, drawn or
   typed where the firm allows it); the signature evidence is kept and audited, and a worker renders the signed PDF
   and keeps it privately (`designation_pdf_render`, queue `documents`).

Only the selected parties are then parties to the suit, which cuts the service-fee deposit
(filing/services/court_costs.py).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import IdentityVerification, User
from accounts.services.consents import ConsentError, consent_placeholder_values
from accounts.services.identity import identity_verification_refresh
from accounts.services.signing import (
    SignaturePurpose,
    SignedDocumentText,
    certified_signature_audit_data,
    certified_signature_start,
    document_sign,
    handwritten_signature_allowed,
    signature_name_check,
    signed_document_pdf_render,
)
from claims.models import Claim
from claims.portal_notices import PortalNotice
from config.hashing import sha256_hex
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.links import absolute_url
from core.models import AuditEntry
from filing.models import Designation, DesignationRequest, FilingWave, SelectedParty, WaveMember
from filing.selectors.selected_parties import designation_requests_open
from filing.services.cohorts import PERMISSION_WAVE
from filing.services.notifications import wave_members_reachable
from notifications.messages import case_message_queue
from notifications.models import MessageTemplate

DESIGNATION_REQUEST_CHUNK = 1000
DESIGNATION_TEXT_TEMPLATE = "filing/designation_text.txt"
DESIGNATION_TEXT_VERSION = "1"
# The title the claimant sees in their app when asked to sign (the 선정서 is a Korean document).
CERTIFIED_DESIGNATION_TITLE = "선정서 전자서명"


class SelectedPartyError(ConsentError):
    """Selected parties cannot be picked or a 선정서 cannot be signed; the message says why. A ConsentError (an
    InvalidInputError), so the identity pages show it like a power of attorney's signing refusal."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


# --- picking the selected parties -------------------------------------------------------------------------------


@transaction.atomic
def selected_parties_pick(
    *, wave: FilingWave, numbers: list[int], actor: User, meta: RequestMeta = NO_REQUEST
) -> list[SelectedParty]:
    """Make the wave's plaintiffs numbered `numbers` its selected parties, replacing an earlier choice while no
    plaintiff has signed a 선정서 yet (the signed ones name the parties chosen then). Lawyers only; audited."""
    if not actor.has_perm(PERMISSION_WAVE):
        raise PermissionDenied
    wave = FilingWave.objects.select_for_update().get(pk=wave.pk)
    if wave.status != FilingWave.Status.FROZEN:
        raise SelectedPartyError(_("원고가 확정되고 아직 소를 제기하지 않은 차수에서만 선정당사자를 정할 수 있습니다."))
    numbers = sorted(set(numbers))
    if not numbers:
        raise SelectedPartyError(_("선정당사자로 정할 원고를 한 명 이상 골라 주세요."))
    members = list(
        WaveMember.objects.filter(wave=wave, number__in=numbers)
        .exclude(claim__status=Claim.Status.WITHDRAWN)
        .order_by("number")
    )
    if len(members) != len(numbers):
        missing = sorted(set(numbers) - {member.number for member in members})
        raise SelectedPartyError(
            _("이 차수에 없거나 철회한 원고 번호입니다: %(numbers)s")
            % {"numbers": ", ".join(str(number) for number in missing)}
        )
    if Designation.objects.filter(request__wave=wave).exists():
        raise SelectedPartyError(_("이미 선정서에 서명한 원고가 있어 선정당사자를 바꿀 수 없습니다."))
    before = list(wave.selected_parties.order_by("member__number").values_list("member__number", flat=True))
    wave.selected_parties.all().delete()
    chosen = SelectedParty.objects.bulk_create(
        SelectedParty(wave=wave, member=member, chosen_by=actor) for member in members
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=wave,
        meta=meta,
        data={"event": "selected_parties_picked", "numbers": numbers, "before": before},
    )
    return chosen


# --- asking the plaintiffs to sign ------------------------------------------------------------------------------


@transaction.atomic
def designation_requests_start(*, wave: FilingWave, actor: User, meta: RequestMeta = NO_REQUEST) -> None:
    """Ask every plaintiff of the wave to sign the 선정서 (messages queued in chunks by a task). Lawyers only;
    audited. Asking again reaches only plaintiffs not asked yet."""
    if not actor.has_perm(PERMISSION_WAVE):
        raise PermissionDenied
    if wave.status != FilingWave.Status.FROZEN:
        raise SelectedPartyError(_("원고가 확정되고 아직 소를 제기하지 않은 차수에서만 선정서를 요청할 수 있습니다."))
    if not wave.selected_parties.exists():
        raise SelectedPartyError(_("먼저 선정당사자를 정해 주세요."))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TRANSITION,
        target=wave,
        meta=meta,
        data={"event": "designations_requested"},
    )
    from filing.tasks.selected_parties import designation_requests_queue_task

    designation_requests_queue_task.delay_on_commit(wave.pk)


def designation_requests_queue(*, wave_id: int, after_number: int = 0) -> int | None:
    """Write the 선정서 request and queue its message for the next DESIGNATION_REQUEST_CHUNK plaintiffs numbered above
    `after_number` (withdrawn claims and closed accounts skipped), once each ("designation:<wave>:<claim>"); returns
    the last number handled, or None when no plaintiff was left."""
    wave = FilingWave.objects.get(pk=wave_id)
    members, last = wave_members_reachable(wave=wave, after_number=after_number, chunk=DESIGNATION_REQUEST_CHUNK)
    for member in members:
        claim = member.claim
        with transaction.atomic():
            request, _created = DesignationRequest.objects.get_or_create(
                member=member, defaults={"wave": wave, "user": claim.claimant}
            )
            case_message_queue(
                kind=MessageTemplate.Kind.DESIGNATION_REQUESTED,
                user=claim.claimant,
                variables={
                    "wave": wave.name,
                    "url": absolute_url(reverse("filing:designation_sign", args=[request.pk])),
                },
                idempotency_key=f"designation:{wave.pk}:{claim.pk}",
            )
    return last


# --- the 선정서 and its signing ----------------------------------------------------------------------------------


def designation_document(*, request: DesignationRequest, numbers: list[int], signer: dict) -> SignedDocumentText:
    """The 선정서 the plaintiff signs: the court and case, the selected parties (the wave members `numbers`) by
    number, name and address, and the plaintiff's own details (`signer`: consent_placeholder_values)."""
    wave = request.wave
    parties = list(
        wave.selected_parties.filter(member__number__in=numbers).select_related("member").order_by("member__number")
    )
    with translation.override("ko"):
        text = render_to_string(
            DESIGNATION_TEXT_TEMPLATE,
            {"wave": wave, "parties": [party.member for party in parties], "member": request.member, "signer": signer},
        ).strip()
    return SignedDocumentText(
        title="선정서",
        version=DESIGNATION_TEXT_VERSION,
        published_at=max((party.chosen_at for party in parties), default=None),
        text_sha256=sha256_hex(text),
        text=text,
        signer_label="선정자",
        file_prefix="designation",
    )


def _selected_numbers(wave: FilingWave) -> list[int]:
    return list(wave.selected_parties.order_by("member__number").values_list("member__number", flat=True))


def designation_document_to_sign(*, request: DesignationRequest, user: User) -> SignedDocumentText:
    """The 선정서 as the plaintiff would sign it now: the wave's selected parties and the user's current details."""
    return designation_document(
        request=request, numbers=_selected_numbers(request.wave), signer=consent_placeholder_values(user=user)
    )


def _check_can_sign(*, request: DesignationRequest, user: User, certified: bool) -> None:
    if request.user_id != user.pk:
        raise PermissionDenied
    if Designation.objects.filter(request=request).exists():
        raise SelectedPartyError(_("이미 이 선정서에 서명하셨습니다."))
    wave = request.wave
    if wave.status != FilingWave.Status.FROZEN or not wave.selected_parties.exists():
        raise SelectedPartyError(_("이 선정서는 지금 서명할 수 없습니다."))
    if request.member.claim.status == Claim.Status.WITHDRAWN:
        raise SelectedPartyError(_("참여를 철회한 신청이라 선정서에 서명할 수 없습니다."))
    if not certified and not handwritten_signature_allowed():
        raise SelectedPartyError(_("이 사무실은 인증서 전자서명으로만 선정서를 받습니다."))


@transaction.atomic
def designation_sign(
    *,
    request: DesignationRequest,
    user: User,
    meta: RequestMeta,
    signature_png: bytes | None = None,
    typed_name: str = "",
    certified: IdentityVerification | None = None,
) -> Designation:
    """Sign the 선정서 (the power of attorney's signing: accounts.services.signing.document_sign); audited."""
    request = DesignationRequest.objects.select_for_update().select_related("wave", "member__claim").get(pk=request.pk)
    _check_can_sign(request=request, user=user, certified=certified is not None)
    signature_name_check(user=user, typed_name=typed_name, signature_png=signature_png, certified=certified is not None)
    numbers, signer = _selected_numbers(request.wave), consent_placeholder_values(user=user)
    designation = document_sign(
        record=Designation(request=request, user=user, selected_numbers=numbers),
        user=user,
        document=designation_document(request=request, numbers=numbers, signer=signer),
        signer_snapshot=signer,
        meta=meta,
        signature_png=signature_png,
        certified=certified,
    )
    if request.pending_signature_id:
        request.pending_signature = None
        request.save(update_fields=["pending_signature"])
    data = {
        "event": "designation_signed",
        "wave": request.wave_id,
        "number": request.member.number,
        "selected_numbers": numbers,
        "method": designation.signature_method,
        "content_sha256": designation.content_sha256,
    }
    if certified is not None:
        data["certified"] = certified_signature_audit_data(record=designation, certified=certified)
    audit_record(
        actor=user,
        action=AuditEntry.Action.IDENTITY_CHECKED if certified else AuditEntry.Action.EDITED,
        target=designation,
        meta=meta,
        claim=request.member.claim,
        data=data,
    )
    from filing.tasks.selected_parties import designation_pdf_render_task

    designation_pdf_render_task.delay_on_commit(designation.pk)
    return designation


@transaction.atomic
def designation_pdf_render(*, designation_id: int) -> bool:
    """Render a signed 선정서's PDF once (accounts.services.signing.signed_document_pdf_render), from the parties and
    the signer's details recorded at signing; False when it was already rendered."""
    designation = (
        Designation.objects.select_for_update(of=("self",))
        .select_related("request__wave", "request__member__claim", "user", "certified_signature")
        .get(pk=designation_id)
    )
    document = designation_document(
        request=designation.request, numbers=designation.selected_numbers, signer=designation.signer_snapshot
    )
    return signed_document_pdf_render(record=designation, document=document, claim=designation.request.member.claim)


@transaction.atomic
def designation_certified_start(*, request: DesignationRequest, user: User, meta: RequestMeta) -> IdentityVerification:
    """Ask the plaintiff to sign the 선정서's SHA-256 with their certificate (the app they verified their identity
    with); the request is kept on the 선정서 request until it is answered."""
    request = DesignationRequest.objects.select_for_update().select_related("wave", "member__claim").get(pk=request.pk)
    _check_can_sign(request=request, user=user, certified=True)
    document = designation_document_to_sign(request=request, user=user)
    verification = certified_signature_start(
        user=user, document_title=CERTIFIED_DESIGNATION_TITLE, document_sha256=document.text_sha256, meta=meta
    )
    request.pending_signature = verification
    request.save(update_fields=["pending_signature"])
    return verification


def designation_certified_complete(*, verification: IdentityVerification, meta: RequestMeta) -> None:
    """Ask the provider about a pending 선정서 signature; once verified, sign the 선정서 with it (once)."""
    verification = identity_verification_refresh(verification=verification, meta=meta)
    if verification.status != IdentityVerification.Status.VERIFIED:
        return
    if Designation.objects.filter(certified_signature=verification).exists():
        return
    request = DesignationRequest.objects.filter(pending_signature=verification).first()
    if request is None:
        raise ConsentError(_("이 전자서명은 사용할 수 없습니다. 다시 서명해 주세요."))
    designation_sign(request=request, user=verification.user, meta=meta, certified=verification)


def _pending(verification: IdentityVerification) -> bool:
    return (
        DesignationRequest.objects.filter(pending_signature=verification).exists()
        or Designation.objects.filter(certified_signature=verification).exists()
    )


def _finished_url(verification: IdentityVerification) -> str:
    request = DesignationRequest.objects.filter(pending_signature=verification).first()
    if request is None:
        designation = Designation.objects.filter(certified_signature=verification).first()
        request = designation.request if designation else None
    return reverse("filing:designation_sign", args=[request.pk]) if request else reverse("claims:index")


def designation_signature_purpose() -> SignaturePurpose:
    """The 선정서 as a certified-signature purpose of the identity pages (registered in FilingConfig.ready())."""
    return SignaturePurpose(
        key="designation",
        title="선정서",
        pending=_pending,
        complete=designation_certified_complete,
        used=lambda verification: Designation.objects.filter(certified_signature=verification).exists(),
        finished_url=_finished_url,
    )


def designation_portal_notices(*, user: User) -> list[PortalNotice]:
    """ "Sign the 선정서" on the claimant's portal, one per open request."""
    return [
        PortalNotice(
            text=_("%(wave)s 소송의 선정당사자를 정했습니다. 선정서에 서명해 주세요.") % {"wave": request.wave.name},
            url=reverse("filing:designation_sign", args=[request.pk]),
            action=_("선정서 서명하기"),
            key="designation",
        )
        for request in designation_requests_open(user=user)
    ]
