"""Shared claim factories (Faker ko_KR): claims with loss items and evidence, damage-model versions.

`ClaimFactory()` is a draft of the default incident; `SubmittedClaimFactory()` a submitted one with a reference
code. Services come from the reference data: `LossItemFactory(claim=claim, service=service_by_slug("melon"))`.
"""

import factory
from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import ClaimantFactory
from claims.damages import DEFAULT_PARAMETERS
from claims.models import Claim, DamageModelVersion, Evidence, Incident, LossItem, Service, new_reference_code


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
