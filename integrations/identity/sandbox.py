"""The sandbox identity backend: the providers' asynchronous flow run for real on this site
(docs/providers/identity.md).

A request is a SandboxIdentityRequest row. The person "answers on their phone" on the sandbox page
/sandbox/identity/<receipt id>/ (integrations/identity/views.py), which approves or refuses it; a request nobody
answers expires after IDENTITY_REQUEST_EXPIRES_SECONDS. Every state change locks the row (select_for_update), so an
answer, a poll and a verification racing each other see one order, and a receipt verifies once only.

What it makes up is marked: the CI is `SANDBOX-` and a keyed digest of name, birth date and phone (the same person
gets the same CI, as with the real providers), the signature value is `SANDBOX-` and a keyed digest of the receipt,
the document's hash and the CI, and every result has `sandbox=True`. Production refuses this backend (core/checks.py).
"""

import base64
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from core.phones import phone_number_normalised
from integrations.identity import (
    CertifiedSignature,
    IdentityBackend,
    IdentityReceipt,
    IdentityReceiptError,
    IdentityState,
    VerifiedIdentity,
    document_checked,
    subject_checked,
)
from integrations.identity.models import SandboxIdentityRequest

SANDBOX_MARK = "SANDBOX-"
CI_SALT = "integrations.identity.sandbox.ci"
SIGNATURE_SALT = "integrations.identity.sandbox.signature"


def sandbox_ci(*, name: str, birth_date: date, phone: str) -> str:
    """The sandbox's stand-in for a CI (연계정보): marked, and the same for the same name, birth date and phone."""
    digest = salted_hmac(CI_SALT, f"{name}\n{birth_date.isoformat()}\n{phone}", algorithm="sha512").digest()
    return SANDBOX_MARK + base64.b64encode(digest).decode()


def sandbox_signature_value(*, receipt_id: str, document_sha256: str, ci: str) -> str:
    digest = salted_hmac(SIGNATURE_SALT, f"{receipt_id}\n{document_sha256}\n{ci}", algorithm="sha256").digest()
    return SANDBOX_MARK + base64.b64encode(digest).decode()


def sandbox_request_state(request: SandboxIdentityRequest) -> str:
    """The request's state now: a pending request past its expiry is expired, whether or not that is saved yet."""
    if request.state == IdentityState.PENDING and request.expires_at <= timezone.now():
        return IdentityState.EXPIRED
    return request.state


def _request_locked(receipt_id: str, kind: str | None = None) -> SandboxIdentityRequest:
    """The request under a row lock (inside the caller's transaction), its expiry written if it is due."""
    found = SandboxIdentityRequest.objects.select_for_update().filter(receipt_id=receipt_id)
    if kind is not None:
        found = found.filter(kind=kind)
    request = found.first()
    if request is None:
        raise IdentityReceiptError(_("인증 요청을 찾을 수 없습니다."), code="unknown_receipt")
    state = sandbox_request_state(request)
    if state != request.state:
        request.state = state
        request.save(update_fields=["state"])
    return request


def _request_approved_for_verify(*, receipt_id: str, kind: str, name: str, phone: str) -> SandboxIdentityRequest:
    request = _request_locked(receipt_id, kind)
    if request.verified_at is not None:
        raise IdentityReceiptError(_("이미 확인을 마친 인증 요청입니다."), code="receipt_used")
    if (name or "").strip() != request.name or phone_number_normalised(phone) != request.phone:
        raise IdentityReceiptError(_("인증 요청의 이름이나 휴대전화 번호가 다릅니다."), code="subject_mismatch")
    if request.state != IdentityState.APPROVED:
        raise IdentityReceiptError(
            _("승인되지 않은 인증 요청입니다."), code="not_approved", extra={"state": request.state}
        )
    request.verified_at = timezone.now()
    request.save(update_fields=["verified_at"])
    return request


class SandboxIdentityBackend(IdentityBackend):
    provider = "sandbox"
    sandbox = True

    def _request_create(self, *, kind: str, method: str, name: str, birth_date: date, phone: str, **document):
        name, phone = subject_checked(method=method, name=name, phone=phone)
        request = SandboxIdentityRequest(
            kind=kind,
            method=method,
            name=name,
            birth_date=birth_date,
            phone=phone,
            expires_at=timezone.now() + timedelta(seconds=settings.IDENTITY_REQUEST_EXPIRES_SECONDS),
            **document,
        )
        request.full_clean()
        request.save()
        return IdentityReceipt(receipt_id=request.receipt_id, method=method, expires_at=request.expires_at)

    def identity_request(self, *, method, name, birth_date, phone):
        return self._request_create(
            kind=SandboxIdentityRequest.Kind.IDENTITY, method=method, name=name, birth_date=birth_date, phone=phone
        )

    @transaction.atomic
    def identity_status(self, receipt_id):
        return _request_locked(receipt_id, SandboxIdentityRequest.Kind.IDENTITY).state

    @transaction.atomic
    def identity_verify(self, receipt_id, *, name, phone):
        request = _request_approved_for_verify(
            receipt_id=receipt_id, kind=SandboxIdentityRequest.Kind.IDENTITY, name=name, phone=phone
        )
        return VerifiedIdentity(
            method=request.method,
            receipt_id=request.receipt_id,
            name=request.name,
            birth_date=request.birth_date,
            phone=request.phone,
            ci=sandbox_ci(name=request.name, birth_date=request.birth_date, phone=request.phone),
            verified_at=request.verified_at,
            sandbox=True,
        )

    def signature_request(self, *, method, name, birth_date, phone, document_title, document_sha256):
        document_title, document_sha256 = document_checked(
            document_title=document_title, document_sha256=document_sha256
        )
        return self._request_create(
            kind=SandboxIdentityRequest.Kind.SIGNATURE,
            method=method,
            name=name,
            birth_date=birth_date,
            phone=phone,
            document_title=document_title,
            document_sha256=document_sha256,
        )

    @transaction.atomic
    def signature_status(self, receipt_id):
        return _request_locked(receipt_id, SandboxIdentityRequest.Kind.SIGNATURE).state

    @transaction.atomic
    def signature_verify(self, receipt_id, *, name, phone):
        request = _request_approved_for_verify(
            receipt_id=receipt_id, kind=SandboxIdentityRequest.Kind.SIGNATURE, name=name, phone=phone
        )
        ci = sandbox_ci(name=request.name, birth_date=request.birth_date, phone=request.phone)
        return CertifiedSignature(
            method=request.method,
            receipt_id=request.receipt_id,
            signature_value=sandbox_signature_value(
                receipt_id=request.receipt_id, document_sha256=request.document_sha256, ci=ci
            ),
            signer_ci=ci,
            signed_at=request.decided_at,
            sandbox=True,
        )


# The phone's side: what the sandbox page shows and does.


def sandbox_requests_waiting() -> QuerySet[SandboxIdentityRequest]:
    """Requests still waiting for an answer, newest first (the sandbox's list of "phones")."""
    return SandboxIdentityRequest.objects.filter(state=IdentityState.PENDING, expires_at__gt=timezone.now()).only(
        "receipt_id", "kind", "method", "phone", "document_title", "expires_at", "created_at", "state"
    )


def sandbox_request_for_phone(receipt_id: str) -> SandboxIdentityRequest | None:
    return SandboxIdentityRequest.objects.filter(receipt_id=receipt_id).first()


@transaction.atomic
def sandbox_request_answer(*, receipt_id: str, approve: bool) -> SandboxIdentityRequest:
    """The person approves or refuses the request on their phone: once, and only before it expires."""
    request = _request_locked(receipt_id)
    if request.state == IdentityState.EXPIRED:
        raise IdentityReceiptError(_("만료된 인증 요청입니다. 사이트에서 다시 요청해 주세요."), code="expired")
    if request.state != IdentityState.PENDING:
        raise IdentityReceiptError(_("이미 응답한 인증 요청입니다."), code="decided")
    request.state = IdentityState.APPROVED if approve else IdentityState.REFUSED
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "decided_at"])
    return request
