"""Shared claim factories (Faker ko_KR): claims with loss items and evidence, damage-model versions.

`ClaimFactory()` is a draft of the default incident; `SubmittedClaimFactory()` a submitted one with a reference
code. Services come from the reference data: `LossItemFactory(claim=claim, service=service_by_slug("melon"))`.
"""

import hashlib
import io

import factory
from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils import timezone
from factory.django import DjangoModelFactory
from PIL import Image
from pypdf import PdfWriter

from accounts.models import ConsentDocument, ConsentRecord, PowerOfAttorney, User
from accounts.tests.factories import ClaimantFactory, consent_documents_published
from claims.damages import DEFAULT_PARAMETERS
from claims.models import Claim, DamageModelVersion, Evidence, Incident, LossItem, Service, new_reference_code
from claims.services.estimates import estimates_refresh
from payments.tests.factories import retainer_settled_if_due


def default_incident() -> Incident:
    return Incident.objects.get(is_default=True)


def service_by_slug(slug: str) -> Service:
    return Service.objects.get(slug=slug)


class ClaimFactory(DjangoModelFactory):
    """A draft claim of an individual for the default incident (the reference data loaded by the migrations)."""

    class Meta:
        model = Claim

    claimant = factory.SubFactory(ClaimantFactory)
    incident = factory.LazyFunction(default_incident)
    claimant_type = Claim.ClaimantType.INDIVIDUAL
    was_using_during_outage = True


class SubmittedClaimFactory(ClaimFactory):
    status = Claim.Status.SUBMITTED
    reference_code = factory.LazyFunction(new_reference_code)
    submitted_at = factory.LazyFunction(timezone.now)
    wizard_step = "done"


class LossItemFactory(DjangoModelFactory):
    """A paid-subscription loss on Kakao T (39,000 won a month: the Kakao T Pro plan) unless told otherwise."""

    class Meta:
        model = LossItem

    claim = factory.SubFactory(SubmittedClaimFactory)
    service = factory.LazyFunction(lambda: service_by_slug("kakao-t"))
    kind = LossItem.Kind.SUBSCRIPTION
    monthly_fee = 39_000


class EvidenceFactory(DjangoModelFactory):
    """A small PNG uploaded by the claimant; `loss_item=` links it to a loss item."""

    class Meta:
        model = Evidence

    claim = factory.SubFactory(SubmittedClaimFactory)
    tag = Evidence.Tag.PROOF_OF_USE
    file = factory.LazyFunction(lambda: ContentFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, name="evidence.png"))
    original_name = factory.Sequence(lambda n: f"증빙{n}.png")
    content_type = "image/png"
    size = 72
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    uploaded_by = factory.LazyAttribute(lambda o: o.claim.claimant)


class DamageModelVersionFactory(DjangoModelFactory):
    """A draft version of the default incident's damage model, numbered after the latest one."""

    class Meta:
        model = DamageModelVersion

    incident = factory.LazyFunction(default_incident)
    version = factory.LazyAttribute(
        lambda o: (DamageModelVersion.objects.filter(incident=o.incident).aggregate(v=Max("version"))["v"] or 0) + 1
    )
    parameters = factory.LazyFunction(lambda: dict(DEFAULT_PARAMETERS))
    note = "초안"


def claimant_ready(*, retainer_paid: bool = True, **kwargs) -> User:
    """A claimant who may file: verified email, complete profile, the current required consents accepted and the
    current power of attorney signed (rows written directly, as the accounts pages would), and the retainer paid in
    the sandbox when the payment step applies (payments; `retainer_paid=False` leaves it to pay)."""
    user = ClaimantFactory(**kwargs)
    documents = consent_documents_published()
    for kind in (ConsentDocument.Kind.PRIVACY_REQUIRED, ConsentDocument.Kind.POWER_OF_ATTORNEY):
        document = documents[kind]
        ConsentRecord.objects.create(
            user=user, document=document, action=ConsentRecord.Action.ACCEPTED, text_sha256=document.text_sha256
        )
    pdf = b"%PDF-1.4\n% signed power of attorney\n%%EOF\n"
    PowerOfAttorney.objects.create(
        user=user,
        document=documents[ConsentDocument.Kind.POWER_OF_ATTORNEY],
        signature_method=PowerOfAttorney.SignatureMethod.TYPED,
        typed_name=user.legal_name,
        pdf=ContentFile(pdf, name="poa.pdf"),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        signer_snapshot={"legal_name": user.legal_name},
    )
    if retainer_paid:
        retainer_settled_if_due(user)
    return user


def png_bytes(*, size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (250, 200, 30), exif=None) -> bytes:
    """A real PNG picture (or a JPEG with `exif=` bytes, to test that location data is stripped)."""
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):  # some structure so perceptual hashes differ between colours
        image.putpixel((x, x % size[1]), (0, 0, 0))
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    """A real one-page PDF."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def claim_estimated(*, monthly_fee: int = 39_000, proof_of_use: bool = True, **kwargs) -> Claim:
    """A submitted claim with one Kakao T subscription loss, a proof-of-use picture (unless `proof_of_use=False`)
    and the current estimate of the active damage model, written as the estimate task writes it."""
    claim = SubmittedClaimFactory(claimed_total=monthly_fee, **kwargs)
    claim.services.add(service_by_slug("kakao-t"))
    LossItemFactory(claim=claim, monthly_fee=monthly_fee)
    if proof_of_use:
        picture = png_bytes()
        EvidenceFactory(
            claim=claim,
            file=ContentFile(picture, name="proof.png"),
            size=len(picture),
            sha256=hashlib.sha256(picture).hexdigest(),
        )
    estimates_refresh(claim_ids=[claim.pk])
    claim.refresh_from_db()
    return claim
