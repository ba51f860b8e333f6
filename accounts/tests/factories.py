"""Shared account factories (Faker ko_KR): users, claimants ready for the consent step, consent documents."""

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import ConsentDocument, User, text_sha256


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
    phone = factory.Sequence(lambda n: f"010-{1000 + n % 9000:04d}-{(n * 7919) % 10000:04d}")
    postal_code = factory.Faker("postcode", locale="ko_KR")
    address = factory.Faker("address", locale="ko_KR")
    address_detail = factory.Sequence(lambda n: f"{101 + n % 20}동 {1001 + n}호")


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
    text_sha256 = factory.LazyAttribute(lambda o: text_sha256(o.body) if o.published_at else "")
