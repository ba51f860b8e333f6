"""The claimant's identity check (간편인증) and the provider side of a certified signature (docs/identity.md).

Both run the provider's asynchronous flow through the identity seam (integrations.identity): `*_start` sends the
request and records it (IdentityVerification, PENDING); `identity_verification_refresh` asks the provider where
the request stands and, once it is approved on the phone, verifies the result exactly once and records it. A
receipt id is unique in the table, so a receipt the provider returns twice, or one verified before, is refused.
Every change writes an audit entry in the same transaction. The CI (연계정보) is stored encrypted with its keyed
digest beside it; nothing here returns, logs or audits the CI itself.
"""

import datetime as dt
import unicodedata

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.exceptions import AccountError
from accounts.models import IdentityVerification, User
from accounts.selectors import claimant_readiness_forget
from core.audit import RequestMeta, audit_record
from core.models import AuditEntry
from core.phones import phone_number_normalised
from integrations.identity import (
    CertifiedSignature,
    IdentityReceipt,
    IdentityReceiptError,
    IdentityState,
    VerifiedIdentity,
    identity_backend,
)

# The provider's answer on the phone, as the verification's status.
STATUS_OF_STATE = {
    IdentityState.REFUSED: IdentityVerification.Status.REFUSED,
    IdentityState.EXPIRED: IdentityVerification.Status.EXPIRED,
}


class IdentityError(AccountError):
    """The identity check cannot go on as asked; the message says what to do."""


def name_key(name: str) -> str:
    """A name compared the way people write it: NFC, without spaces, case-folded."""
    return "".join(unicodedata.normalize("NFC", name or "").split()).casefold()


def identity_profile_mismatch(*, user: User, name: str, birth_date: dt.date | None, phone: str) -> list[str]:
    """The profile fields ("legal_name", "date_of_birth", "phone") that differ from a verified identity. A value the
    provider did not return ("" or None) is not a difference."""
    mismatch = []
    if name and name_key(name) != name_key(user.legal_name):
        mismatch.append("legal_name")
    if birth_date and birth_date != user.date_of_birth:
        mismatch.append("date_of_birth")
    if phone and phone_number_normalised(phone) != (user.phone or ""):
        mismatch.append("phone")
    return mismatch


def _audit(verification: IdentityVerification, *, actor: User | None, meta: RequestMeta, event: str) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.IDENTITY_CHECKED,
        target=verification,
        meta=meta,
        data={
            "event": event,
            "kind": verification.kind,
            "provider": verification.provider,
            "method": verification.method,
            "receipt_id": verification.receipt_id,
            "status": verification.status,
            "sandbox": verification.sandbox,
            "profile_mismatch": verification.profile_mismatch,
            "failure": verification.failure,
        },
    )


@transaction.atomic
def identity_verification_record(
    *,
    user: User,
    kind: str,
    provider: str,
    sandbox: bool,
    receipt: IdentityReceipt,
    name: str,
    birth_date: dt.date,
    phone: str,
    meta: RequestMeta,
    document_sha256: str = "",
) -> IdentityVerification:
    """Record a request the provider accepted. A receipt id already on record is a reused receipt: refused."""
    if IdentityVerification.objects.filter(receipt_id=receipt.receipt_id).exists():
        raise IdentityError(_("이미 사용된 인증 요청입니다. 처음부터 다시 요청해 주세요."), code="receipt_reused")
    verification = IdentityVerification(
        user=user,
        kind=kind,
        provider=provider,
        method=receipt.method,
        receipt_id=receipt.receipt_id,
        requested_name=name.strip(),
        requested_birth_date=birth_date,
        requested_phone=phone_number_normalised(phone),
        document_sha256=document_sha256,
        expires_at=receipt.expires_at,
        sandbox=sandbox,
    )
    verification.full_clean()
    try:
        with transaction.atomic():
            verification.save()
    except IntegrityError as error:  # the same receipt recorded by a request racing this one
        raise IdentityError(
            _("이미 사용된 인증 요청입니다. 처음부터 다시 요청해 주세요."), code="receipt_reused"
        ) from error
    _audit(verification, actor=user, meta=meta, event="requested")
    return verification


def identity_check_start(
    *, user: User, method: str, name: str, birth_date: dt.date, phone: str, meta: RequestMeta
) -> IdentityVerification:
    """Ask the provider to have the person approve an identity check in `method`'s app. A provider that times out
    or is down raises ProviderError (nothing is recorded; the person tries again later); details the provider
    cannot take raise IdentitySubjectError."""
    backend = identity_backend()
    receipt = backend.identity_request(method=method, name=name, birth_date=birth_date, phone=phone)
    return identity_verification_record(
        user=user,
        kind=IdentityVerification.Kind.IDENTITY,
        provider=backend.provider,
        sandbox=backend.sandbox,
        receipt=receipt,
        name=name,
        birth_date=birth_date,
        phone=phone,
        meta=meta,
    )


def _verified_identity_save(verification: IdentityVerification, result: VerifiedIdentity) -> None:
    verification.status = IdentityVerification.Status.VERIFIED
    verification.verified_name = result.name
    verification.verified_birth_date = result.birth_date
    verification.verified_phone = phone_number_normalised(result.phone) if result.phone else ""
    verification.ci = result.ci
    verification.verified_at = result.verified_at
    verification.sandbox = verification.sandbox or result.sandbox
    verification.profile_mismatch = identity_profile_mismatch(
        user=verification.user, name=result.name, birth_date=result.birth_date, phone=result.phone
    )


def _certified_signature_save(verification: IdentityVerification, result: CertifiedSignature) -> None:
    verification.status = IdentityVerification.Status.VERIFIED
    verification.signature_value = result.signature_value
    verification.ci = result.signer_ci
    verification.verified_at = result.signed_at
    verification.sandbox = verification.sandbox or result.sandbox


@transaction.atomic
def identity_verification_refresh(*, verification: IdentityVerification, meta: RequestMeta) -> IdentityVerification:
    """Ask the provider where a pending request stands and record the answer: approved (verified once, now),
    refused, expired, or a receipt the provider will not verify (used before, not matching). A request already
    answered is returned as it is. ProviderError (time-out, provider down) leaves the request pending: the next
    refresh asks again."""
    verification = IdentityVerification.objects.select_for_update().select_related("user").get(pk=verification.pk)
    if verification.status != IdentityVerification.Status.PENDING:
        return verification
    backend = identity_backend()
    signature = verification.kind == IdentityVerification.Kind.SIGNATURE
    subject = {"name": verification.requested_name, "phone": verification.requested_phone}
    try:
        state = (backend.signature_status if signature else backend.identity_status)(verification.receipt_id)
        if state == IdentityState.PENDING:
            return verification
        if state in STATUS_OF_STATE:
            verification.status = STATUS_OF_STATE[state]
        elif signature:
            _certified_signature_save(verification, backend.signature_verify(verification.receipt_id, **subject))
        else:
            _verified_identity_save(verification, backend.identity_verify(verification.receipt_id, **subject))
    except IdentityReceiptError as error:
        verification.status, verification.failure = IdentityVerification.Status.FAILED, str(error.message)[:200]
    verification.full_clean()
    verification.save()
    if (
        verification.kind == IdentityVerification.Kind.IDENTITY
        and verification.status == IdentityVerification.Status.VERIFIED
    ):
        claimant_readiness_forget(user_id=verification.user_id)
    _audit(verification, actor=verification.user, meta=meta, event=verification.status)
    return verification
