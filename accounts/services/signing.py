"""Signing the electronic power of attorney (소송위임장) and proving later which PDF was signed.

Evidence kept for each signature: the exact text version (`ConsentDocument.text_sha256`), the filled-in text and
the signature (`content_sha256`, also written into the consent ledger with the acceptance), who was logged in and
how they were authenticated, when, from which IP and browser, and, once a worker has rendered it (queue
`documents`, `power_of_attorney_pdf_render_task`), the PDF and its SHA-256.

Two ways to sign (docs/identity.md): with a certificate (간편인증: the claimant signs the filled-in text's SHA-256 in
the Kakao, PASS, Naver or Toss app through the identity seam; the provider's signed result is kept with the
signature and printed on the audit certificate page), or, where `handwritten_signature_allowed()`, by drawing or
typing the name (weaker: it proves only who was logged in).
"""

import base64
import binascii
import datetime as dt
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from accounts import journey
from accounts.journey import journey_step_blocker
from accounts.models import ConsentDocument, IdentityVerification, PowerOfAttorney, User
from accounts.pdf import signed_document_pdf
from accounts.selectors import (
    IDENTITY_CHECK_PENDING,
    certified_signature_latest,
    claimant_readiness,
    consent_documents_current,
    identity_verified_latest,
)
from accounts.services.consents import (
    ConsentError,
    consent_accept,
    consent_placeholder_values,
    consent_text_fill,
)
from accounts.services.identity import identity_verification_record, identity_verification_refresh
from config.hashing import sha256_chunks, sha256_hex
from core.audit import RequestMeta, audit_record
from core.exceptions import ApplicationError
from core.links import absolute_url
from core.models import AuditEntry
from integrations.identity import IdentityMethod, identity_backend

# The title the claimant sees in their app when asked to sign (the power of attorney is a Korean document).
CERTIFIED_SIGNATURE_TITLE = "소송위임장 전자서명"

SIGNATURE_DATA_URL_PREFIX = "data:image/png;base64,"
SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MIN_SIZE = (200, 80)
SIGNATURE_MAX_SIZE = (2000, 1000)
# A signature needs some ink: at least this many dark pixels spread at least this wide.
SIGNATURE_MIN_INK_PIXELS = 150
SIGNATURE_MIN_INK_WIDTH = 40
INK_LUMINANCE = 160


class SignatureError(ConsentError):
    """The signature cannot be accepted; the message tells the claimant what to do."""


def signature_png_from_data_url(data_url: str) -> bytes:
    """Decode and check the pad's PNG data URL; return the image re-encoded as a clean PNG (no metadata)."""
    if not data_url.startswith(SIGNATURE_DATA_URL_PREFIX):
        raise SignatureError(_("서명 이미지를 읽을 수 없습니다. 서명을 지우고 다시 그려 주세요."))
    encoded = data_url.removeprefix(SIGNATURE_DATA_URL_PREFIX)
    if len(encoded) > SIGNATURE_MAX_BYTES * 4 // 3 + 4:
        raise SignatureError(_("서명 이미지가 너무 큽니다. 서명을 지우고 다시 그려 주세요."))
    try:
        raw = base64.b64decode(encoded, validate=True)
        image = Image.open(io.BytesIO(raw))
        if image.format != "PNG":
            raise SignatureError(_("서명 이미지를 읽을 수 없습니다. 서명을 지우고 다시 그려 주세요."))
        width, height = image.size
        if not (SIGNATURE_MIN_SIZE[0] <= width <= SIGNATURE_MAX_SIZE[0]) or not (
            SIGNATURE_MIN_SIZE[1] <= height <= SIGNATURE_MAX_SIZE[1]
        ):
            raise SignatureError(_("서명 이미지의 크기가 올바르지 않습니다. 서명을 지우고 다시 그려 주세요."))
        image = image.convert("RGBA")
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as error:
        raise SignatureError(_("서명 이미지를 읽을 수 없습니다. 서명을 지우고 다시 그려 주세요.")) from error
    _require_ink(image)
    clean = io.BytesIO()
    image.save(clean, format="PNG", optimize=True)
    return clean.getvalue()


def _require_ink(image: Image.Image) -> None:
    on_white = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("L")
    ink = on_white.point(lambda value: 255 if value < INK_LUMINANCE else 0)
    ink_pixels = ink.histogram()[255]
    box = ink.getbbox()
    if ink_pixels < SIGNATURE_MIN_INK_PIXELS or box is None or box[2] - box[0] < SIGNATURE_MIN_INK_WIDTH:
        raise SignatureError(
            _(
                "서명이 비어 있거나 너무 작습니다. 칸 안에 이름을 크게 써 주세요. "
                "그리기 어려우면 '이름 입력'을 선택하세요."
            )
        )


def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFC", name).split()).casefold()


def _authentication(user: User) -> dict[str, str]:
    return {
        "email": user.email,
        "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else "",
        "login_at": user.last_login.isoformat() if user.last_login else "",
        "session": "password_login",
    }


def handwritten_signature_allowed() -> bool:
    """Whether a drawn or typed signature is offered: where the firm allows it in settings
    (POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE), and always while no identity provider is available (there is no
    other way to sign then)."""
    return settings.POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE or not identity_backend().available


def _check_can_sign(
    *, user: User, document: ConsentDocument, typed_name: str, signature_png: bytes | None, certified: bool = False
) -> None:
    if not certified and not handwritten_signature_allowed():
        raise ConsentError(_("이 사무실은 인증서 전자서명으로만 소송위임장을 받습니다."))
    if document.kind != ConsentDocument.Kind.POWER_OF_ATTORNEY or document not in consent_documents_current():
        raise ConsentError(_("이 소송위임장은 최신 버전이 아닙니다. 페이지를 새로 고쳐 주세요."))
    readiness = claimant_readiness(user=user)
    if earlier := journey_step_blocker(readiness=readiness, key=journey.POWER_OF_ATTORNEY):
        raise ConsentError(str(earlier.refusal))
    if journey.journey_step(journey.POWER_OF_ATTORNEY).done(readiness):
        raise ConsentError(_("이미 이 소송위임장에 서명하셨습니다."))
    signature_name_check(user=user, typed_name=typed_name, signature_png=signature_png, certified=certified)


def signature_name_check(*, user: User, typed_name: str, signature_png: bytes | None, certified: bool) -> None:
    """A typed signature must be the legal name on the profile (SignatureError otherwise)."""
    if not certified and signature_png is None and _name_key(typed_name) != _name_key(user.legal_name):
        raise SignatureError(
            _("입력한 이름이 회원 정보의 실명과 다릅니다. 실명을 정확히 입력하거나 회원 정보를 고쳐 주세요.")
        )


# What a signed record holds: a model with these fields (PowerOfAttorney, and the 선정서 of filing.Designation), so
# every signed document keeps the same evidence. `document_sign` fills in all but `pdf` and `pdf_sha256`, which
# `signed_document_pdf_render` fills in (in a worker).
SIGNED_RECORD_FIELDS = (
    "signature_method",
    "signature_image",
    "typed_name",
    "pdf",
    "pdf_sha256",
    "content_sha256",
    "signer_snapshot",
    "signed_at",
    "ip",
    "user_agent",
    "authentication",
    "certified_signature",
)


@dataclass(frozen=True)
class SignedDocumentText:
    """What a claimant signs: the document's title and version details (printed on the audit certificate), the
    text filled in with their details, and the name of the signing party ("위임인", "선정자")."""

    title: str
    version: str
    published_at: dt.datetime | None
    text_sha256: str
    text: str
    signer_label: str
    file_prefix: str


def document_sign(
    *,
    record: Any,
    user: User,
    document: SignedDocumentText,
    signer_snapshot: dict,
    meta: RequestMeta,
    signature_png: bytes | None = None,
    certified: IdentityVerification | None = None,
) -> Any:
    """Sign `document.text` on the unsaved `record` (see SIGNED_RECORD_FIELDS) with a certified signature (a
    verified signature request over the text's SHA-256: checked here), a drawn signature (checked PNG bytes, kept
    privately) or the typed legal name, and save the record. Its PDF is rendered afterwards, by a worker
    (`signed_document_pdf_render`): the caller queues its task on commit. The caller holds the transaction and checks
    who may sign what."""
    text = document.text
    if certified is not None:
        _check_certified(certified=certified, user=user, text=text)
        method = PowerOfAttorney.SignatureMethod.CERTIFIED
    elif signature_png is not None:
        method = PowerOfAttorney.SignatureMethod.DRAWN
    else:
        method = PowerOfAttorney.SignatureMethod.TYPED
    record.signature_method = method
    record.typed_name = user.legal_name if method == PowerOfAttorney.SignatureMethod.TYPED else ""
    record.certified_signature = certified
    record.content_sha256 = sha256_chunks([text.encode("utf-8"), _signature_bytes(record, signature_png)])
    record.signer_snapshot = signer_snapshot
    record.signed_at = timezone.now()
    record.ip, record.user_agent = meta.ip, meta.user_agent
    record.authentication = _authentication(user)
    record.full_clean()
    record.save()
    if method == PowerOfAttorney.SignatureMethod.DRAWN:
        record.signature_image.save(f"signature-{record.pk}.png", ContentFile(signature_png), save=False)
        record.save(update_fields=["signature_image"])
    return record


def _signature_bytes(record: Any, signature_png: bytes | None) -> bytes:
    """What is hashed with the text as the signature: the provider's signature value, the drawn PNG or the typed
    name."""
    if record.signature_method == PowerOfAttorney.SignatureMethod.CERTIFIED:
        return record.certified_signature.signature_value.encode()
    if record.signature_method == PowerOfAttorney.SignatureMethod.DRAWN:
        return signature_png or b""
    return record.typed_name.encode("utf-8")


class SignedDocumentPdfError(ApplicationError):
    """The signed record's PDF cannot be rendered: what would be printed is not what was signed."""

    default_code = "signed_pdf_content_mismatch"


def signed_document_pdf_render(*, record: Any, document: SignedDocumentText, claim: Any) -> bool:
    """Render the PDF of a signed record (locked by the caller, in its transaction) with its audit certificate, store
    it privately with its SHA-256 and audit it (on `claim`'s entries). Does nothing when the PDF is already rendered
    (False). Refuses (SignedDocumentPdfError) when `document.text` with the stored signature does not give the
    content hash recorded at signing: the PDF shows exactly what was signed or nothing."""
    if record.pdf_sha256:
        return False
    signature_png = None
    if record.signature_method == PowerOfAttorney.SignatureMethod.DRAWN:
        with record.signature_image.open("rb") as stored:
            signature_png = stored.read()
    if sha256_chunks([document.text.encode("utf-8"), _signature_bytes(record, signature_png)]) != (
        record.content_sha256
    ):
        raise SignedDocumentPdfError(_("서명한 내용과 다른 PDF는 만들 수 없습니다."))
    pdf_bytes = signed_document_pdf(
        record=record,
        document=document,
        signature_png=signature_png,
        verify_url=absolute_url(reverse("accounts:power_of_attorney_verify")),
    )
    record.pdf.save(f"{document.file_prefix}-{record.pk}.pdf", ContentFile(pdf_bytes), save=False)
    record.pdf_sha256 = sha256_hex(pdf_bytes)
    record.full_clean()
    record.save(update_fields=["pdf", "pdf_sha256"])
    audit_record(
        actor=None,
        action=AuditEntry.Action.EDITED,
        target=record,
        claim=claim,
        data={
            "event": "signed_pdf_rendered",
            "document_number": record.document_number,
            "content_sha256": record.content_sha256,
            "pdf_sha256": record.pdf_sha256,
        },
    )
    return True


def certified_signature_audit_data(*, record: Any, certified: IdentityVerification) -> dict[str, Any]:
    """The certified signature's evidence as kept in the audit log for a signed document."""
    return {
        "document_number": record.document_number,
        "content_sha256": record.content_sha256,
        "document_sha256": certified.document_sha256,
        "receipt_id": certified.receipt_id,
        "method": certified.method,
        "signature_value": certified.signature_value,
        "signer_digest": certified.ci_digest,
        "signed_at": certified.verified_at.isoformat() if certified.verified_at else "",
        "sandbox": certified.sandbox,
    }


def _power_of_attorney_text(*, document: ConsentDocument, signer_snapshot: dict) -> SignedDocumentText:
    """The power of attorney as signed: its text filled in with the signer's details at signing."""
    return SignedDocumentText(
        title=document.title,
        version=str(document.version),
        published_at=document.published_at,
        text_sha256=document.text_sha256,
        text=consent_text_fill(document=document, values=signer_snapshot),
        signer_label="위임인",  # printed in the Korean PDF whatever the language of the page
        file_prefix="power-of-attorney",
    )


@transaction.atomic
def power_of_attorney_sign(
    *,
    user: User,
    document: ConsentDocument,
    meta: RequestMeta,
    signature_png: bytes | None = None,
    typed_name: str = "",
    certified: IdentityVerification | None = None,
) -> PowerOfAttorney:
    """Sign the current power of attorney (see `document_sign`), and record the acceptance in the consent ledger
    with the signed PDF's hash."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_can_sign(
        user=user,
        document=document,
        typed_name=typed_name,
        signature_png=signature_png,
        certified=certified is not None,
    )
    identity = journey.journey_step(journey.IDENTITY)
    identity_open = (
        certified is None
        and identity.shown(readiness := claimant_readiness(user=user))
        and not identity.done(readiness)
    )
    values = consent_placeholder_values(user=user)
    power_of_attorney = document_sign(
        record=PowerOfAttorney(user=user, document=document),
        user=user,
        document=_power_of_attorney_text(document=document, signer_snapshot=values),
        signer_snapshot=values,
        meta=meta,
        signature_png=signature_png,
        certified=certified,
    )
    if identity_open:  # drawn or typed ahead of the identity check: that step stays open (accounts.journey)
        power_of_attorney.authentication[IDENTITY_CHECK_PENDING] = True
        power_of_attorney.save(update_fields=["authentication"])
    consent_accept(user=user, document=document, meta=meta, signed_content_sha256=power_of_attorney.content_sha256)
    if certified is not None:
        audit_record(
            actor=user,
            action=AuditEntry.Action.IDENTITY_CHECKED,
            target=power_of_attorney,
            meta=meta,
            data={
                "event": "power_of_attorney_certified",
                **certified_signature_audit_data(record=power_of_attorney, certified=certified),
            },
        )
    from accounts.tasks import power_of_attorney_pdf_render_task

    power_of_attorney_pdf_render_task.delay_on_commit(power_of_attorney.pk)
    return power_of_attorney


@transaction.atomic
def power_of_attorney_pdf_render(*, power_of_attorney_id: int) -> bool:
    """Render a signed power of attorney's PDF once (`signed_document_pdf_render`); False when it was already
    rendered."""
    power_of_attorney = (
        PowerOfAttorney.objects.select_for_update(of=("self",))
        .select_related("document", "user", "certified_signature")
        .get(pk=power_of_attorney_id)
    )
    document = _power_of_attorney_text(
        document=power_of_attorney.document, signer_snapshot=power_of_attorney.signer_snapshot
    )
    latest_claim = power_of_attorney.user.claims.order_by("-created_at").first()
    return signed_document_pdf_render(record=power_of_attorney, document=document, claim=latest_claim)


def power_of_attorney_certified_intact(*, power_of_attorney: PowerOfAttorney) -> bool:
    """Whether the recorded certified signature fits this signed power of attorney: a verified signature request
    of its signer, over the SHA-256 of the text filled in with the details recorded at signing, and the content
    hash made of that text and the signature value."""
    certified = power_of_attorney.certified_signature
    if certified is None:
        return False
    text = consent_text_fill(document=power_of_attorney.document, values=power_of_attorney.signer_snapshot)
    return (
        certified.user_id == power_of_attorney.user_id
        and certified.status == IdentityVerification.Status.VERIFIED
        and certified.document_sha256 == sha256_hex(text)
        and power_of_attorney.content_sha256
        == sha256_chunks([text.encode("utf-8"), certified.signature_value.encode()])
    )


def power_of_attorney_text_sha256(*, user: User, document: ConsentDocument) -> str:
    """The SHA-256 (hex) of the power of attorney's text filled in with the user's details: what they sign with
    their certificate."""
    return sha256_hex(consent_text_fill(document=document, values=consent_placeholder_values(user=user)))


def certified_signature_used(*, certified: IdentityVerification) -> bool:
    """Whether this signature request already signed a document (a power of attorney, or a document of a
    registered kind: see `signature_purpose_register`)."""
    if PowerOfAttorney.objects.filter(certified_signature=certified).exists():
        return True
    return any(purpose.used(certified) for purpose in _PURPOSES)


def _check_certified(*, certified: IdentityVerification, user: User, text: str) -> None:
    if (
        certified.user_id != user.pk
        or certified.kind != IdentityVerification.Kind.SIGNATURE
        or certified.status != IdentityVerification.Status.VERIFIED
        or certified_signature_used(certified=certified)
    ):
        raise ConsentError(_("이 전자서명은 사용할 수 없습니다. 다시 서명해 주세요."))
    if certified.document_sha256 != sha256_hex(text):
        raise ConsentError(
            _("서명을 요청한 뒤 소송위임장 내용(회원 정보)이 바뀌었습니다. 바뀐 내용으로 다시 서명해 주세요.")
        )
    identity = identity_verified_latest(user=user)
    if (
        certified.ci_digest
        and identity is not None
        and identity.ci_digest
        and identity.ci_digest != certified.ci_digest
    ):
        raise ConsentError(_("본인인증을 한 사람과 전자서명을 한 사람이 다릅니다. 본인 명의로 다시 서명해 주세요."))


def certified_signature_start(
    *, user: User, document_title: str, document_sha256: str, meta: RequestMeta, method: str = ""
) -> IdentityVerification:
    """Ask the claimant to sign `document_sha256` (the filled-in text's SHA-256) with their certificate: in the app
    they verified their identity with, with the name, birth date and phone verified then; without an identity check,
    in the app `method` with the profile's name, birth date and phone (the certificate app checks them before it
    signs, so the signature proves who signed: docs/identity.md), or, with no `method`, in the app and with the
    details of their last certified signature (the power of attorney's, for the 선정서). Raises ProviderError when
    the provider times out or is down. The caller checks first that they may sign the document."""
    identity = identity_verified_latest(user=user)
    if identity is None and method not in IdentityMethod.values:
        identity = certified_signature_latest(user=user)
    if identity is not None:
        method = identity.method
        subject = {
            "name": identity.requested_name,
            "birth_date": identity.requested_birth_date,
            "phone": identity.requested_phone,
        }
    elif method in IdentityMethod.values:
        subject = {"name": user.legal_name, "birth_date": user.date_of_birth, "phone": user.phone}
    else:
        raise ConsentError(_("서명할 인증서 앱을 골라 주세요."))
    backend = identity_backend()
    receipt = backend.signature_request(
        method=method, document_title=document_title, document_sha256=document_sha256, **subject
    )
    return identity_verification_record(
        user=user,
        kind=IdentityVerification.Kind.SIGNATURE,
        provider=backend.provider,
        sandbox=backend.sandbox,
        receipt=receipt,
        document_sha256=document_sha256,
        meta=meta,
        **subject,
    )


def power_of_attorney_certified_start(
    *, user: User, document: ConsentDocument, meta: RequestMeta, method: str = ""
) -> IdentityVerification:
    """Ask the claimant to sign the power of attorney's filled-in text with their certificate (in the app `method`
    when they have no identity check: certified_signature_start)."""
    _check_can_sign(user=user, document=document, typed_name="", signature_png=None, certified=True)
    return certified_signature_start(
        user=user,
        document_title=CERTIFIED_SIGNATURE_TITLE,
        document_sha256=power_of_attorney_text_sha256(user=user, document=document),
        meta=meta,
        method=method,
    )


@dataclass(frozen=True)
class SignaturePurpose:
    """Another document signed with a certificate through the identity pages (the 선정서 of filing), registered
    from its app's AppConfig.ready() so accounts never imports it: `pending(verification)` says whether a pending
    or verified signature request is for it, `complete(verification=, meta=)` signs it once verified (returns
    nothing; raises ConsentError to show a problem), `used(verification)` whether it signed one already, and
    `finished_url(verification)` where the claimant goes when the request is answered; `title` names the document
    on the waiting page."""

    key: str
    title: str
    pending: Callable[[IdentityVerification], bool]
    complete: Callable[..., None]
    used: Callable[[IdentityVerification], bool]
    finished_url: Callable[[IdentityVerification], str]


_PURPOSES: list[SignaturePurpose] = []


def signature_purpose_register(purpose: SignaturePurpose) -> None:
    if all(known.key != purpose.key for known in _PURPOSES):
        _PURPOSES.append(purpose)


def signature_purpose_for(*, verification: IdentityVerification) -> SignaturePurpose | None:
    """The registered purpose of a certified signature request, or None for the power of attorney."""
    return next((purpose for purpose in _PURPOSES if purpose.pending(verification)), None)


def power_of_attorney_certified_refresh(
    *, verification: IdentityVerification, document: ConsentDocument, meta: RequestMeta
) -> PowerOfAttorney | None:
    """Ask the provider about a pending signature request; once it is verified, sign the power of attorney with it
    (once). None while it is pending, refused, expired or failed (the verification's status says which)."""
    verification = identity_verification_refresh(verification=verification, meta=meta)
    if verification.status != IdentityVerification.Status.VERIFIED:
        return None
    signed = PowerOfAttorney.objects.filter(certified_signature=verification).first()
    if signed is not None:
        return signed
    return power_of_attorney_sign(user=verification.user, document=document, meta=meta, certified=verification)


def power_of_attorney_access_record(*, power_of_attorney: PowerOfAttorney, actor: User, meta: RequestMeta) -> None:
    """Staff opening someone's signed power of attorney is a view of personal data: keep it in the audit log,
    linked to the signer's latest claim so it shows with that claim's other entries."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.VIEWED_EVIDENCE,
        target=power_of_attorney,
        meta=meta,
        claim=power_of_attorney.user.claims.order_by("-created_at").first(),
        data={"document_number": power_of_attorney.document_number, "pdf_sha256": power_of_attorney.pdf_sha256},
    )
