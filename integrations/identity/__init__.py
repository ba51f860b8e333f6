"""The identity seam: checking who a person is (간편인증) and having them sign a document with a certificate, through
Kakao, PASS, Naver or Toss (docs/providers/identity.md).

Both flows are asynchronous the way the providers run them: the site asks (`identity_request`,
`signature_request`) and gets a receipt; the person approves or refuses on their phone; the site polls the state
(`identity_status`, `signature_status`) and, once approved, verifies the result exactly once (`identity_verify`,
`signature_verify`, given the name and phone sent with the request: PASS checks them again). The backend is
`settings.IDENTITY_BACKEND`, a dotted path (core/backends.py):

- `integrations.identity.sandbox.SandboxIdentityBackend`: the whole flow locally, with a page that plays the phone
  (development, tests, demonstrations; refused by the production settings);
- `integrations.identity.barocert.BarocertIdentityBackend`: the real providers through Linkhub's barocert SDK;
- `integrations.identity.UnconfiguredIdentityBackend`: the feature is off (production's default until the real
  provider's credentials are configured); every call fails with a clear message.

Errors: a provider that times out or is down is a retryable ProviderError; a refusal on the phone and an expiry are
states, not errors; an unknown receipt, a receipt verified before (replay), one that is not approved and a
verification whose name or phone differ from the request's are IdentityReceiptErrors (InvalidInputError); a
subject that cannot be sent (a phone number that is not a mobile number, a document digest that is not SHA-256) is
an IdentitySubjectError.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.backends import ProviderBackend, backend_from_setting
from core.exceptions import InvalidInputError, ProviderError
from core.phones import phone_number_normalised

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
NAME_MAX_LENGTH = 80  # what the providers accept for a receiver's name
DOCUMENT_TITLE_MAX_LENGTH = 40  # the longest request title every provider accepts


class IdentityMethod(models.TextChoices):
    """The app the person approves the request in."""

    KAKAO = "kakao", gettext_lazy("카카오")
    PASS = "pass", gettext_lazy("PASS")
    NAVER = "naver", gettext_lazy("네이버")
    TOSS = "toss", gettext_lazy("토스")


class IdentityState(models.TextChoices):
    """Where a request stands: waiting for the person, approved on the phone, refused there, or timed out."""

    PENDING = "pending", gettext_lazy("대기")
    APPROVED = "approved", gettext_lazy("승인")
    REFUSED = "refused", gettext_lazy("거절")
    EXPIRED = "expired", gettext_lazy("만료")


class IdentityReceiptError(InvalidInputError):
    """The receipt cannot be used: unknown (`unknown_receipt`), verified before (`receipt_used`), not approved
    (`not_approved`, with the state in `extra`), verified with another name or phone than requested
    (`subject_mismatch`) or, on the sandbox's phone page, already answered (`decided`) or expired (`expired`)."""

    default_code = "identity_receipt"


class IdentitySubjectError(InvalidInputError):
    """The person's details or the document cannot be sent to the provider as given."""

    default_code = "identity_subject"


@dataclass(frozen=True)
class IdentityReceipt:
    """A request the provider accepted: the person now has until `expires_at` to answer on their phone."""

    receipt_id: str
    method: str
    expires_at: datetime


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the provider says approved the request. `ci` (연계정보) is the same for one person across providers and
    sites: keep it encrypted, never show or export it. `name`, `birth_date` and `phone` are as the provider returns
    them ("" or None where it returns none). `sandbox` marks a result the sandbox made up."""

    method: str
    receipt_id: str
    name: str
    birth_date: date | None
    phone: str
    ci: str
    verified_at: datetime
    sandbox: bool


@dataclass(frozen=True)
class CertifiedSignature:
    """The provider's signed result over the document's SHA-256 (`signature_value`, as the provider returns it),
    the signer's CI where the provider gives one ("" otherwise), and when the signature was confirmed."""

    method: str
    receipt_id: str
    signature_value: str
    signer_ci: str
    signed_at: datetime
    sandbox: bool


def subject_checked(*, method: str, name: str, phone: str) -> tuple[str, str]:
    """The method, name and phone checked for sending: (name stripped, phone digits)."""
    if method not in IdentityMethod.values:
        raise IdentitySubjectError(_("지원하지 않는 인증 수단입니다."), code="method")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise IdentitySubjectError(_("이름을 확인해 주세요."), code="name")
    try:
        phone = phone_number_normalised(phone or "")
    except InvalidInputError as error:
        raise IdentitySubjectError(error.message, code="phone") from error
    return name, phone


def document_checked(*, document_title: str, document_sha256: str) -> tuple[str, str]:
    """The title and SHA-256 (64 lowercase hex digits) of the document to sign, checked for sending."""
    title = (document_title or "").strip()
    digest = (document_sha256 or "").strip().lower()
    if not title or len(title) > DOCUMENT_TITLE_MAX_LENGTH:
        raise IdentitySubjectError(_("서명할 문서의 제목을 확인해 주세요."), code="document_title")
    if not SHA256_HEX.match(digest):
        raise IdentitySubjectError(_("서명할 문서의 해시가 올바르지 않습니다."), code="document_sha256")
    return title, digest


def identity_unconfigured_error() -> ProviderError:
    """The feature is off: not retried, since it fails the same way until someone configures a provider."""
    return ProviderError(
        _("본인인증 서비스가 아직 설정되지 않아 사용할 수 없습니다. 사무실에 문의해 주세요."),
        retryable=False,
        code="identity_unconfigured",
    )


class IdentityBackend(ProviderBackend):
    """The interface every identity backend implements. `available` is False where the feature is off, so the
    claimant's step can say so instead of offering a button that always fails."""

    available = True

    def identity_request(self, *, method: str, name: str, birth_date: date, phone: str) -> IdentityReceipt:
        """Ask the person (through the app `method`) to confirm who they are."""
        raise NotImplementedError

    def identity_status(self, receipt_id: str) -> str:
        """The request's IdentityState value."""
        raise NotImplementedError

    def identity_verify(self, receipt_id: str, *, name: str, phone: str) -> VerifiedIdentity:
        """The verified identity of an approved request; once only (a second call is a replay). `name` and `phone`
        are those sent with the request."""
        raise NotImplementedError

    def signature_request(
        self, *, method: str, name: str, birth_date: date, phone: str, document_title: str, document_sha256: str
    ) -> IdentityReceipt:
        """Ask the person to sign the document whose SHA-256 (hex) is given, with their certificate in `method`."""
        raise NotImplementedError

    def signature_status(self, receipt_id: str) -> str:
        """The signature request's IdentityState value."""
        raise NotImplementedError

    def signature_verify(self, receipt_id: str, *, name: str, phone: str) -> CertifiedSignature:
        """The certified signature of an approved request; once only, with the name and phone of the request."""
        raise NotImplementedError


class UnconfiguredIdentityBackend(IdentityBackend):
    """The feature is off: no provider is configured. Every call fails with a message the person can read."""

    provider = "unconfigured"
    available = False

    def _off(self) -> ProviderError:
        return identity_unconfigured_error()

    def identity_request(self, *, method, name, birth_date, phone):
        raise self._off()

    def identity_status(self, receipt_id):
        raise self._off()

    def identity_verify(self, receipt_id, *, name, phone):
        raise self._off()

    def signature_request(self, *, method, name, birth_date, phone, document_title, document_sha256):
        raise self._off()

    def signature_status(self, receipt_id):
        raise self._off()

    def signature_verify(self, receipt_id, *, name, phone):
        raise self._off()


def identity_backend() -> IdentityBackend:
    """The configured identity backend (`settings.IDENTITY_BACKEND`)."""
    return backend_from_setting("IDENTITY_BACKEND")
