"""Shared account factories (Faker ko_KR): users, claimants ready for the consent step, consent documents."""

import base64
import datetime as dt
import io

import factory
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory
from PIL import Image, ImageDraw

from accounts.consent_texts import consent_documents_seed
from accounts.models import ConsentDocument, User
from accounts.roles import Role
from accounts.services.auth import staff_user_create
from config.hashing import sha256_hex

STAFF_PASSWORD = "staff-correct-horse-battery"


class UserFactory(DjangoModelFactory):
    """A registered, not yet verified account with an empty profile."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class ClaimantFactory(UserFactory):
    """A claimant with a verified email address and a complete profile: the next step is the consents."""

    email_verified_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    legal_name = factory.Faker("name", locale="ko_KR")
    date_of_birth = factory.Faker("date_of_birth", locale="ko_KR", minimum_age=20, maximum_age=80)
    phone = factory.Sequence(lambda n: f"010{1000 + n % 9000:04d}{(n * 7919) % 10000:04d}")  # stored normalised
    postal_code = factory.Faker("postcode", locale="ko_KR")
    address = factory.Faker("address", locale="ko_KR")
    address_detail = factory.Sequence(lambda n: f"{101 + n % 20}동 {1001 + n}호")


class StaffFactory(DjangoModelFactory):
    """A staff member in one role (`StaffFactory(role=Role.PARALEGAL)`), made by `staff_user_create`.

    `totp=True` also gives them a confirmed authenticator device (see `staff_totp_code`)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"staff{n}@lawfirm.example")
    legal_name = factory.Faker("name", locale="ko_KR")
    role = Role.LAWYER
    totp = False

    @classmethod
    def _create(cls, model_class, *, email, legal_name, role, totp, **kwargs):
        user = staff_user_create(email=email, password=STAFF_PASSWORD, role=role, legal_name=legal_name)
        if totp:
            TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        return user


def staff_totp_code(user: User) -> str:
    """The current code of the staff member's confirmed authenticator device."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


class ConsentDocumentFactory(DjangoModelFactory):
    """A published consent document version (use `published_at=None` for a draft)."""

    class Meta:
        model = ConsentDocument

    kind = ConsentDocument.Kind.PRIVACY_REQUIRED
    version = factory.Sequence(lambda n: 100 + n)
    title = factory.LazyAttribute(lambda o: f"{ConsentDocument.Kind(o.kind).label} v{o.version}")
    body = factory.LazyAttribute(lambda o: f"{o.title}\n\n{{{{ name }}}}님, 아래 내용을 읽고 동의해 주세요.")
    is_required = factory.LazyAttribute(lambda o: o.kind != ConsentDocument.Kind.PRIVACY_OPTIONAL)
    published_at = factory.LazyFunction(timezone.now)
    text_sha256 = factory.LazyAttribute(lambda o: sha256_hex(o.body) if o.published_at else "")


def consent_documents_published() -> dict[str, ConsentDocument]:
    """The seeded version 1 documents (re-created if a transactional test flushed them), by kind."""
    consent_documents_seed(document_model=ConsentDocument)
    return {document.kind: document for document in ConsentDocument.objects.filter(version=1)}


def signature_data_url(*, size: tuple[int, int] = (800, 320), ink: bool = True, image_format: str = "PNG") -> str:
    """What the signature pad posts: a data URL of a transparent image with a scribbled signature on it."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if ink:
        draw = ImageDraw.Draw(image)
        width, height = size
        points = [(width * x / 20, height * (0.5 + 0.3 * (-1) ** x)) for x in range(2, 18)]
        draw.line(points, fill=(17, 17, 17, 255), width=6, joint="curve")
    buffer = io.BytesIO()
    image.convert("RGB" if image_format == "JPEG" else "RGBA").save(buffer, format=image_format)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def identity_verified(user: User) -> User:
    """Complete the identity step (간편인증) for `user` through the sandbox provider, as the identity pages do: the
    request, the approval on the sandbox "phone", the verification."""
    from accounts.services.identity import identity_check_start, identity_verification_refresh  # noqa: PLC0415
    from core.audit import RequestMeta  # noqa: PLC0415
    from integrations.identity.sandbox import sandbox_request_answer  # noqa: PLC0415

    meta = RequestMeta(ip="203.0.113.10", user_agent="factory")
    verification = identity_check_start(
        user=user, method="kakao", name=user.legal_name, birth_date=user.date_of_birth, phone=user.phone, meta=meta
    )
    sandbox_request_answer(receipt_id=verification.receipt_id, approve=True)
    identity_verification_refresh(verification=verification, meta=meta)
    user.refresh_from_db(fields=["readiness_stamp"])
    return user


def power_of_attorney_certified_signed(user: User, *, method: str = "toss") -> User:
    """The privacy consent given and the current power of attorney signed with a certificate in `method`'s app
    through the sandbox provider, with no identity check before it (the signature finishes that step too)."""
    from accounts.services.consents import consent_accept  # noqa: PLC0415
    from accounts.services.signing import (  # noqa: PLC0415
        power_of_attorney_certified_refresh,
        power_of_attorney_certified_start,
    )
    from accounts.tasks import power_of_attorney_pdf_render_task  # noqa: PLC0415
    from core.audit import RequestMeta  # noqa: PLC0415
    from integrations.identity.sandbox import sandbox_request_answer  # noqa: PLC0415

    meta = RequestMeta(ip="203.0.113.10", user_agent="factory")
    documents = consent_documents_published()
    consent_accept(user=user, document=documents[ConsentDocument.Kind.PRIVACY_REQUIRED], meta=meta)
    document = documents[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=meta, method=method)
    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    signed = power_of_attorney_certified_refresh(verification=request, document=document, meta=meta)
    power_of_attorney_pdf_render_task(signed.pk)  # what the `documents` worker does after commit
    user.refresh_from_db(fields=["readiness_stamp"])
    return user
