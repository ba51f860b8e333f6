"""Proof level per plaintiff (accounts/proof.py): the rule, and where staff see it (claim list and filter, review
page)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentDocument, IdentityVerification, User
from accounts.proof import ProofLevel, proof_level_annotations, proof_level_label
from accounts.roles import Role
from accounts.services.consents import consent_accept
from accounts.services.signing import power_of_attorney_certified_refresh, power_of_attorney_certified_start
from accounts.tests.factories import (
    ClaimantFactory,
    consent_documents_published,
    identity_verified,
    power_of_attorney_certified_signed,
)
from claims.tests.factories import SubmittedClaimFactory
from claims.tests.staff import admin_login, staff_member
from core.audit import RequestMeta
from integrations.identity.sandbox import sandbox_request_answer

pytestmark = pytest.mark.django_db
META = RequestMeta(ip="203.0.113.11", user_agent="test")


def certified(user: User) -> User:
    documents = consent_documents_published()
    consent_accept(user=user, document=documents[ConsentDocument.Kind.PRIVACY_REQUIRED], meta=META)
    identity_verified(user)
    document = documents[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=META)
    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    power_of_attorney_certified_refresh(verification=request, document=document, meta=META)
    return user


def levels() -> dict[int, tuple[int, bool]]:
    rows = User.objects.annotate(**proof_level_annotations()).values_list("pk", "proof_level", "proof_level_sandbox")
    return {pk: (level, sandbox) for pk, level, sandbox in rows}


def test_certified_signature_beats_verified_identity_beats_verified_phone_beats_email_only():
    email_only = ClaimantFactory()
    phone = ClaimantFactory(phone_verified_at=timezone.now())
    identity = identity_verified(ClaimantFactory(phone_verified_at=timezone.now()))
    signed = certified(ClaimantFactory())
    mismatched = ClaimantFactory()
    identity_verified(mismatched)
    IdentityVerification.objects.filter(user=mismatched).update(profile_mismatch=["legal_name"])  # someone else

    found = levels()
    assert found[email_only.pk] == (ProofLevel.EMAIL, False)
    assert found[phone.pk] == (ProofLevel.PHONE, False)
    assert found[identity.pk] == (ProofLevel.IDENTITY, True)
    assert found[signed.pk] == (ProofLevel.CERTIFIED, True)
    assert found[mismatched.pk] == (ProofLevel.EMAIL, False)


def test_a_withdrawn_certified_power_of_attorney_no_longer_counts():
    user = certified(ClaimantFactory())
    user.powers_of_attorney.update(withdrawn_at=timezone.now())
    assert levels()[user.pk][0] == ProofLevel.IDENTITY


def test_a_certified_signature_without_an_identity_check_is_the_certified_level():
    # the certificate app checked the person before signing: no identity check is needed for the higher level
    user = power_of_attorney_certified_signed(ClaimantFactory())
    assert not IdentityVerification.objects.filter(user=user, kind=IdentityVerification.Kind.IDENTITY).exists()
    assert levels()[user.pk] == (ProofLevel.CERTIFIED, True)
    user.powers_of_attorney.update(withdrawn_at=timezone.now())
    assert levels()[user.pk][0] == ProofLevel.EMAIL  # no identity check to fall back on


def test_the_label_marks_only_sandbox_certificates():
    assert proof_level_label(ProofLevel.CERTIFIED, sandbox=True) == "인증서 전자서명 (SANDBOX)"
    assert proof_level_label(ProofLevel.PHONE, sandbox=True) == "휴대전화 인증"


def test_staff_see_and_filter_by_proof_level_in_the_claim_list_and_on_the_review_page(client):
    strong = SubmittedClaimFactory(claimant=certified(ClaimantFactory()))
    weak = SubmittedClaimFactory(claimant=ClaimantFactory())
    admin_login(client, staff_member(Role.LAWYER))
    changelist = reverse("admin:claims_claim_changelist")

    page = client.get(changelist).content.decode()
    assert "인증서 전자서명 (SANDBOX)" in page and "이메일만" in page
    filtered = client.get(changelist, {"proof": str(ProofLevel.CERTIFIED)}).content.decode()
    assert strong.reference_code in filtered and weak.reference_code not in filtered
    review = client.get(reverse("admin:claims_claim_change", args=[weak.pk])).content.decode()
    assert 'data-testid="proof-level"' in review and "이메일만" in review and "공증" in review
