"""Consent documents and the consent ledger: publishing versions, accepting and withdrawing.

A published version never changes: its `text_sha256` is the SHA-256 of the exact body (UTF-8), and every ledger
row copies that hash, so what a claimant agreed to can be proven from the ledger alone.
"""

import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ConsentDocument, ConsentRecord, PowerOfAttorney, User
from accounts.selectors import consent_accepted_document_ids, consent_documents_current
from config.hashing import sha256_hex
from core.audit import USER_AGENT_MAX, RequestMeta
from core.exceptions import InvalidInputError
from core.selectors import firm_profile

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
CONSENT_PLACEHOLDERS = (
    "name",
    "date_of_birth",
    "address",
    "phone",
    "email",
    "date",
    # the firm, from its profile (core.FirmProfile): a new version can name the firm without retyping it
    "firm_name",
    "firm_address",
    "firm_phone",
    "firm_email",
    "privacy_officer",
)
REQUIRED_KIND_FLAGS = {
    ConsentDocument.Kind.PRIVACY_REQUIRED: True,
    ConsentDocument.Kind.PRIVACY_OPTIONAL: False,
    ConsentDocument.Kind.POWER_OF_ATTORNEY: True,
}


class ConsentError(InvalidInputError):
    """A consent action that the rules do not allow; the message is shown to the user."""


def consent_placeholder_values(*, user: User) -> dict[str, str]:
    """What each `{{ placeholder }}` in a consent text stands for, for this claimant (dates in KST), and the
    firm's details from its profile."""
    firm = firm_profile()
    officer = " ".join(part for part in (firm.privacy_officer_name, firm.privacy_officer_contact) if part)
    address = " ".join(part for part in (user.address, user.address_detail) if part)
    if user.postal_code:
        address = f"({user.postal_code}) {address}"
    return {
        "name": user.legal_name,
        "date_of_birth": user.date_of_birth.strftime("%Y. %m. %d.") if user.date_of_birth else "",
        "address": address,
        "phone": user.phone,
        "email": user.email,
        "date": timezone.localdate().strftime("%Y. %m. %d."),
        "firm_name": firm.display_name,
        "firm_address": firm.address,
        "firm_phone": firm.phone,
        "firm_email": firm.email,
        "privacy_officer": officer,
    }


def consent_text_fill(*, document: ConsentDocument, values: dict[str, str]) -> str:
    """The document's body with every placeholder replaced (values from `consent_placeholder_values`)."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), document.body)


@transaction.atomic
def consent_document_publish(*, document: ConsentDocument) -> ConsentDocument:
    """Freeze a draft: from now on it is shown to claimants and never edited."""
    document = ConsentDocument.objects.select_for_update().get(pk=document.pk)
    if document.published_at is not None:
        raise ConsentError(_("이미 게시된 버전입니다. 고치려면 새 버전을 만드세요."))
    unknown = sorted(set(PLACEHOLDER.findall(document.body)) - set(CONSENT_PLACEHOLDERS))
    if unknown:
        raise ConsentError(
            _("알 수 없는 자리표시자가 있습니다: %(names)s. 쓸 수 있는 것: %(allowed)s")
            % {"names": ", ".join(unknown), "allowed": ", ".join(CONSENT_PLACEHOLDERS)}
        )
    if document.is_required != REQUIRED_KIND_FLAGS[document.kind]:
        raise ConsentError(_("이 종류의 동의서는 필수 여부를 바꿀 수 없습니다."))
    newest = ConsentDocument.objects.filter(kind=document.kind, published_at__isnull=False).aggregate(
        version=Max("version")
    )["version"]
    if newest is not None and document.version <= newest:
        raise ConsentError(
            _("버전 %(version)s 이상이 이미 게시되었습니다. 최신 버전을 복사해 새 버전을 만드세요.")
            % {"version": newest}
        )
    document.published_at = timezone.now()
    document.text_sha256 = sha256_hex(document.body)
    document.full_clean()
    document.save(update_fields=["published_at", "text_sha256"])
    return document


@transaction.atomic
def consent_document_new_version(*, kind: str) -> ConsentDocument:
    """A new draft of this kind, copied from its newest version, numbered one above every existing version."""
    versions = ConsentDocument.objects.select_for_update().filter(kind=kind).order_by("-version")
    latest = versions.first()
    if latest is None:
        raise ConsentError(_("복사할 이전 버전이 없습니다."))
    if versions.filter(published_at__isnull=True).exists():
        raise ConsentError(_("이미 작성 중인 초안이 있습니다. 그 초안을 고치거나 게시하세요."))
    draft = ConsentDocument(
        kind=latest.kind,
        version=latest.version + 1,
        title=latest.title,
        body=latest.body,
        is_required=latest.is_required,
    )
    draft.full_clean()
    draft.save()
    return draft


def _current_document(document: ConsentDocument) -> None:
    current_ids = {doc.pk for doc in consent_documents_current()}
    if document.pk not in current_ids:
        raise ConsentError(_("이 동의서는 최신 버전이 아닙니다. 페이지를 새로 고쳐 최신 내용을 확인해 주세요."))


def _record(
    *,
    user: User,
    document: ConsentDocument,
    action: str,
    meta: RequestMeta,
    signed_content_sha256: str = "",
    signed_document_sha256: str = "",
) -> ConsentRecord:
    record = ConsentRecord(
        user=user,
        document=document,
        action=action,
        text_sha256=document.text_sha256,
        signed_content_sha256=signed_content_sha256,
        signed_document_sha256=signed_document_sha256,
        at=timezone.now(),
        ip=meta.ip,
        user_agent=meta.user_agent[:USER_AGENT_MAX],
    )
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def consent_accept(
    *, user: User, document: ConsentDocument, meta: RequestMeta, signed_content_sha256: str = ""
) -> ConsentRecord:
    """Record that the user accepted the current version of a document.

    The power of attorney is accepted only by signing it (`power_of_attorney_sign`, which passes the hash of what
    was signed: the filled-in text and the signature, `PowerOfAttorney.content_sha256`; its PDF is rendered later).
    """
    User.objects.select_for_update().get(pk=user.pk)  # one consent change per user at a time
    _current_document(document)
    if document.kind == ConsentDocument.Kind.POWER_OF_ATTORNEY and not signed_content_sha256:
        raise ConsentError(_("소송위임장은 서명으로만 동의할 수 있습니다."))
    if document.pk in consent_accepted_document_ids(user=user):
        raise ConsentError(_("이미 동의한 문서입니다."))
    return _record(
        user=user,
        document=document,
        action=ConsentRecord.Action.ACCEPTED,
        meta=meta,
        signed_content_sha256=signed_content_sha256,
    )


@transaction.atomic
def consents_accept(*, user: User, documents: Iterable[ConsentDocument], meta: RequestMeta) -> list[ConsentRecord]:
    """Accept several documents at once (the consents page): all of them or none."""
    return [consent_accept(user=user, document=document, meta=meta) for document in documents]


def _withdraw_kind(*, user: User, kind: str, meta: RequestMeta) -> list[ConsentRecord]:
    """Withdraw every accepted version of one kind; for the power of attorney, revoke the signed documents too."""
    accepted = ConsentDocument.objects.filter(pk__in=consent_accepted_document_ids(user=user), kind=kind)
    signed = PowerOfAttorney.objects.select_for_update().filter(user=user, withdrawn_at__isnull=True)
    records = []
    for document in accepted.order_by("version"):
        signed_document = None
        if kind == ConsentDocument.Kind.POWER_OF_ATTORNEY:
            signed_document = signed.filter(document=document).order_by("-signed_at").first()
        records.append(
            _record(
                user=user,
                document=document,
                action=ConsentRecord.Action.WITHDRAWN,
                meta=meta,
                signed_content_sha256=signed_document.content_sha256 if signed_document else "",
                signed_document_sha256=signed_document.pdf_sha256 if signed_document else "",
            )
        )
    if kind == ConsentDocument.Kind.POWER_OF_ATTORNEY:
        signed.update(withdrawn_at=timezone.now())
    return records


@transaction.atomic
def consent_withdraw(*, user: User, document: ConsentDocument, meta: RequestMeta) -> ConsentRecord:
    """Withdraw an accepted document (every accepted version of its kind), returning the ledger row for it.

    Withdrawing the power of attorney revokes the signed powers of attorney (`withdrawn_at`); withdrawing the
    required privacy consent revokes them as well, because the firm may no longer act for a claimant whose data
    it may not process. In both cases the claimant leaves the suit.
    """
    User.objects.select_for_update().get(pk=user.pk)
    if document.pk not in consent_accepted_document_ids(user=user):
        raise ConsentError(_("동의한 상태가 아니어서 철회할 것이 없습니다."))
    records = _withdraw_kind(user=user, kind=document.kind, meta=meta)
    if document.kind == ConsentDocument.Kind.PRIVACY_REQUIRED:
        _withdraw_kind(user=user, kind=ConsentDocument.Kind.POWER_OF_ATTORNEY, meta=meta)
    return next(record for record in records if record.document_id == document.pk)
