"""The identity step (간편인증) and the certified signature of the power of attorney, on the sandbox provider:
services, pages, the journey, the CI duplicate flag (accounts/services/identity.py, accounts/views/identity.py)."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from accounts import journey
from accounts.journey import claimant_next_step, journey_step_blocker
from accounts.models import ConsentDocument, ConsentRecord, IdentityVerification, PowerOfAttorney
from accounts.selectors import claimant_readiness
from accounts.services.consents import ConsentError, consent_accept
from accounts.services.data_rights import deletion_request_confirm, deletion_request_create, user_data_export
from accounts.services.identity import IdentityError, identity_check_start, identity_verification_refresh
from accounts.services.signing import (
    certified_signature_start,
    power_of_attorney_certified_refresh,
    power_of_attorney_certified_start,
    power_of_attorney_sign,
    power_of_attorney_text_sha256,
)
from accounts.tasks import power_of_attorney_pdf_render_task
from accounts.tests.factories import ClaimantFactory, consent_documents_published
from claims.models import Flag
from claims.services.fraud import claim_fraud_check
from claims.tests.factories import SubmittedClaimFactory
from config.hashing import sha256_hex
from core.audit import RequestMeta
from core.exceptions import ProviderError
from core.models import AuditEntry
from integrations.identity import IdentityReceipt, identity_backend
from integrations.identity.sandbox import SandboxIdentityBackend, sandbox_request_answer

pytestmark = pytest.mark.django_db
META = RequestMeta(ip="203.0.113.9", user_agent="Mozilla/5.0 (Linux; Android 14) TestPhone/1.0")


def consents_given(user) -> dict[str, ConsentDocument]:
    documents = consent_documents_published()
    consent_accept(user=user, document=documents[ConsentDocument.Kind.PRIVACY_REQUIRED], meta=META)
    return documents


def poa_blocker(user):
    """The open step that keeps the claimant from signing the power of attorney, if any."""
    return journey_step_blocker(readiness=claimant_readiness(user=user), key=journey.POWER_OF_ATTORNEY)


def start(user, **overrides) -> IdentityVerification:
    details = {"method": "kakao", "name": user.legal_name, "birth_date": user.date_of_birth, "phone": user.phone}
    return identity_check_start(user=user, meta=META, **{**details, **overrides})


def approved(verification: IdentityVerification, *, approve: bool = True) -> IdentityVerification:
    sandbox_request_answer(receipt_id=verification.receipt_id, approve=approve)
    return identity_verification_refresh(verification=verification, meta=META)


def verified_claimant(**kwargs):
    user = ClaimantFactory(**kwargs)
    consents_given(user)
    approved(start(user))
    return user


# --- the identity check ----------------------------------------------------------------------------------------------


def test_an_approved_check_is_verified_once_with_the_ci_encrypted_and_the_next_step_is_signing():
    user = ClaimantFactory()
    consents_given(user)
    assert poa_blocker(user) is None  # signing comes first; the identity check may still be done before it
    verification = start(user)
    assert verification.status == IdentityVerification.Status.PENDING and verification.sandbox
    assert identity_verification_refresh(verification=verification, meta=META).status == "pending"

    verification = approved(verification)

    assert verification.status == IdentityVerification.Status.VERIFIED
    assert verification.verified_name == user.legal_name and verification.profile_mismatch == []
    assert verification.ci.startswith("SANDBOX-") and len(verification.ci_digest) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT ci FROM accounts_identityverification WHERE id = %s", [verification.pk])
        assert "SANDBOX-" not in cursor.fetchone()[0]  # encrypted at rest
    assert claimant_readiness(user=user).identity_verified
    assert poa_blocker(user) is None
    events = [entry.data["event"] for entry in AuditEntry.objects.filter(object_id=str(verification.pk))]
    assert sorted(events) == ["requested", "verified"]
    assert all(verification.ci not in str(entry.data) for entry in AuditEntry.objects.all())


def test_a_verified_identity_that_differs_from_the_profile_is_explained_and_does_not_complete_the_step(client):
    user = ClaimantFactory(legal_name="김민수")
    consents_given(user)
    verification = approved(start(user, name="김민서"))  # the phone's owner is someone else

    assert verification.status == IdentityVerification.Status.VERIFIED
    assert verification.profile_mismatch == ["legal_name"]
    assert not claimant_readiness(user=user).identity_verified
    client.force_login(user)
    page = client.get(reverse("accounts:identity_verify"))
    assert (
        "인증된 정보가 회원 정보와 다릅니다" in page.content.decode() and "identity-mismatch" in page.content.decode()
    )


@pytest.mark.parametrize(("approve", "status"), [(False, "refused"), (None, "expired")])
def test_a_refused_or_expired_request_is_recorded_and_the_step_stays_open(approve, status, settings):
    user = ClaimantFactory()
    consents_given(user)
    if approve is None:
        settings.IDENTITY_REQUEST_EXPIRES_SECONDS = 0
        verification = identity_verification_refresh(verification=start(user), meta=META)
    else:
        verification = approved(start(user), approve=approve)
    assert verification.status == status
    assert not journey.journey_step(journey.IDENTITY).done(claimant_readiness(user=user))


def test_a_receipt_verified_before_is_refused_as_a_replay():
    user = ClaimantFactory()
    consents_given(user)
    verification = start(user)
    sandbox_request_answer(receipt_id=verification.receipt_id, approve=True)
    identity_backend().identity_verify(verification.receipt_id, name=user.legal_name, phone=user.phone)  # replayed

    verification = identity_verification_refresh(verification=verification, meta=META)

    assert verification.status == IdentityVerification.Status.FAILED and verification.ci == ""
    assert "이미 확인을 마친" in verification.failure
    assert not claimant_readiness(user=user).identity_verified


def test_a_receipt_already_on_record_is_refused_as_reused(monkeypatch):
    user = ClaimantFactory()
    consents_given(user)
    first = start(user)
    reused = IdentityReceipt(receipt_id=first.receipt_id, method="kakao", expires_at=first.expires_at)
    monkeypatch.setattr(SandboxIdentityBackend, "identity_request", lambda self, **kwargs: reused)
    with pytest.raises(IdentityError, match="이미 사용된"):
        start(user)
    assert IdentityVerification.objects.count() == 1


def test_the_same_ci_on_two_accounts_flags_both_claims():
    details = {"legal_name": "박지훈", "date_of_birth": dt.date(1985, 3, 1), "phone": "01055551234"}
    first, second = verified_claimant(**details), verified_claimant(**details)
    other = verified_claimant()
    first_claim, second_claim = SubmittedClaimFactory(claimant=first), SubmittedClaimFactory(claimant=second)
    other_claim = SubmittedClaimFactory(claimant=other)

    claim_fraud_check(claim_id=second_claim.pk)

    flags = Flag.objects.filter(code=Flag.Code.DUPLICATE_IDENTITY)
    assert {flag.claim_id: flag.related_claim_ids for flag in flags} == {
        first_claim.pk: [second_claim.pk],
        second_claim.pk: [first_claim.pk],
    }
    assert not Flag.objects.filter(claim=other_claim, code=Flag.Code.DUPLICATE_IDENTITY).exists()
    ci = IdentityVerification.objects.filter(user=first).first().ci
    assert all(ci not in flag.fingerprint for flag in flags)


# --- the pages ---------------------------------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_profile_and_the_waiting_page_goes_on_once_approved(client):
    user = ClaimantFactory(phone="01012345678")
    consents_given(user)
    client.force_login(user)
    page = client.get(reverse("accounts:identity_verify")).content.decode()
    assert user.legal_name in page and "010-1234-5678" in page and "SANDBOX" in page

    response = client.post(
        reverse("accounts:identity_verify"),
        {"method": "toss", "name": user.legal_name, "birth_date": user.date_of_birth.isoformat(), "phone": user.phone},
    )
    verification = IdentityVerification.objects.get(user=user)
    assert response.status_code == 302 and response.url == reverse("accounts:identity_wait", args=[verification.pk])
    poll = reverse("accounts:identity_poll", args=[verification.pk])
    assert client.get(poll).json() == {"pending": True, "status": "pending", "problem": ""}
    sandbox_request_answer(receipt_id=verification.receipt_id, approve=True)
    assert client.get(poll).json()["pending"] is False
    response = client.post(reverse("accounts:identity_wait", args=[verification.pk]))  # the no-JS 확인 button
    assert response.url == reverse("accounts:power_of_attorney_sign")  # straight on to signing
    assert "identity-verified" in client.get(reverse("accounts:identity_verify")).content.decode()


def test_a_provider_that_is_down_keeps_what_was_typed_and_records_nothing(client, monkeypatch):
    def down(self, **kwargs):
        raise ProviderError("본인인증 서비스가 응답하지 않습니다.", retryable=True)

    monkeypatch.setattr(SandboxIdentityBackend, "identity_request", down)
    user = ClaimantFactory()
    consents_given(user)
    client.force_login(user)
    response = client.post(
        reverse("accounts:identity_verify"),
        {"method": "pass", "name": "홍길동", "birth_date": "1980-01-31", "phone": "010-9999-8888"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "응답하지 않습니다" in page and "잠시 뒤 다시 시도" in page
    assert "홍길동" in page and "010-9999-8888" in page
    assert not IdentityVerification.objects.exists()


def test_requests_are_rate_limited_per_account(client):
    user = ClaimantFactory()
    consents_given(user)
    client.force_login(user)
    data = {"method": "kakao", "name": user.legal_name, "birth_date": user.date_of_birth, "phone": user.phone}
    codes = [client.post(reverse("accounts:identity_verify"), data).status_code for _ in range(6)]
    assert codes == [302] * 5 + [429]
    assert IdentityVerification.objects.filter(user=user).count() == 5


def test_requests_are_rate_limited_per_address_across_accounts(client):
    codes = []
    for _account in range(7):
        user = ClaimantFactory()
        consents_given(user)
        client.force_login(user)
        data = {"method": "naver", "name": user.legal_name, "birth_date": user.date_of_birth, "phone": user.phone}
        codes += [client.post(reverse("accounts:identity_verify"), data).status_code for _ in range(5)]
    assert codes.count(302) == 30 and codes[30:] == [429] * 5  # 30 an hour from one address


def test_another_accounts_request_is_not_found(client):
    owner = ClaimantFactory()
    consents_given(owner)
    verification = start(owner)
    client.force_login(ClaimantFactory())
    assert client.get(reverse("accounts:identity_wait", args=[verification.pk])).status_code == 404
    assert client.get(reverse("accounts:identity_poll", args=[verification.pk])).status_code == 404


def test_without_an_identity_provider_the_step_is_absent(settings, client):
    settings.IDENTITY_BACKEND = "integrations.identity.UnconfiguredIdentityBackend"
    user = ClaimantFactory()
    consents_given(user)
    assert poa_blocker(user) is None
    client.force_login(user)
    assert client.get(reverse("accounts:identity_verify")).status_code == 404


# --- the certified signature ------------------------------------------------------------------------------------------


def certified_signed(user) -> PowerOfAttorney:
    document = consent_documents_published()[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=META)
    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    signed = power_of_attorney_certified_refresh(verification=request, document=document, meta=META)
    power_of_attorney_pdf_render_task(signed.pk)  # what the `documents` worker does after commit
    signed.refresh_from_db()
    return signed


def test_the_claimant_signs_the_filled_in_texts_sha256_and_the_result_is_in_the_pdf_and_the_ledger(
    django_capture_on_commit_callbacks,
):
    user = verified_claimant()
    document = consent_documents_published()[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=META)
    assert request.kind == IdentityVerification.Kind.SIGNATURE
    assert request.document_sha256 == power_of_attorney_text_sha256(user=user, document=document)
    assert power_of_attorney_certified_refresh(verification=request, document=document, meta=META) is None

    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    with django_capture_on_commit_callbacks(execute=True):  # the PDF's task, inline
        signed = power_of_attorney_certified_refresh(verification=request, document=document, meta=META)
    signed.refresh_from_db()

    assert signed.signature_method == PowerOfAttorney.SignatureMethod.CERTIFIED
    assert signed.certified_signature.signature_value.startswith("SANDBOX-")
    assert (
        signed.certified_signature.ci_digest == IdentityVerification.objects.get(user=user, kind="identity").ci_digest
    )
    pdf = signed.pdf.open("rb").read()
    assert sha256_hex(pdf) == signed.pdf_sha256
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert "SANDBOX" in text and "카카오 인증서로 전자서명함" in text and request.receipt_id in text
    assert signed.certified_signature.ci not in text
    record = ConsentRecord.objects.get(user=user, document=document)
    assert record.signed_content_sha256 == signed.content_sha256
    entry = AuditEntry.objects.get(data__event="power_of_attorney_certified")
    assert entry.data["signature_value"] == signed.certified_signature.signature_value
    assert entry.data["content_sha256"] == signed.content_sha256 and entry.data["sandbox"] is True
    rendered = AuditEntry.objects.get(data__event="signed_pdf_rendered")
    assert (rendered.data["content_sha256"], rendered.data["pdf_sha256"]) == (signed.content_sha256, signed.pdf_sha256)
    assert claimant_next_step(user=user).key == "retainer"  # signing done; the retainer comes next
    # polling again does not sign twice
    assert power_of_attorney_certified_refresh(verification=request, document=document, meta=META) == signed


def test_a_certified_signature_over_a_text_that_changed_since_is_refused():
    user = verified_claimant()
    document = consent_documents_published()[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=META)
    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    user.address = "서울특별시 종로구 새 주소 1"
    user.save(update_fields=["address"])
    with pytest.raises(ConsentError, match="바뀌었습니다"):
        power_of_attorney_certified_refresh(verification=request, document=document, meta=META)
    assert not PowerOfAttorney.objects.filter(user=user).exists()


def test_the_verification_page_names_the_certified_signer_and_time(client):
    user = verified_claimant()
    signed = certified_signed(user)
    response = client.post(reverse("accounts:power_of_attorney_verify"), {"document": signed.pdf.open("rb")})
    page = response.content.decode()
    assert "인증서 전자서명" in page and 'data-testid="verify-certified"' in page
    assert "SANDBOX" in page


def test_signing_without_a_certificate_is_refused_where_the_firm_does_not_allow_it(settings):
    settings.POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE = False
    user = verified_claimant()
    document = consent_documents_published()[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    with pytest.raises(ConsentError, match="인증서 전자서명으로만"):
        power_of_attorney_sign(user=user, document=document, meta=META, typed_name=user.legal_name)


def test_the_handwritten_signature_is_offered_as_weaker_where_allowed(client):
    user = verified_claimant()
    client.force_login(user)
    page = client.get(reverse("accounts:power_of_attorney_sign")).content.decode()
    assert "poa-certified-submit" in page and "poa-handwritten-weaker" in page


# --- the person's data -------------------------------------------------------------------------------------------


def test_the_data_download_has_the_identity_checks_without_the_ci_and_a_deletion_keeps_no_personal_detail():
    user = verified_claimant()
    signed = certified_signed(user)
    ci = IdentityVerification.objects.filter(user=user).first().ci
    out = io.BytesIO()
    user_data_export(user=user, out=out)
    data = json.loads(zipfile.ZipFile(out).read("data.json"))
    assert [check["kind"] for check in data["identity_checks"]] == ["identity", "signature"]
    assert ci not in json.dumps(data) and "ci_digest" not in json.dumps(data)

    deletion_request_confirm(deletion_request=deletion_request_create(user=user), actor=None)

    for check in IdentityVerification.objects.filter(user=user):
        assert (check.ci, check.ci_digest, check.requested_phone, check.verified_birth_date) == ("", "", "", None)
        assert user.legal_name not in (check.requested_name, check.verified_name)
    signed.certified_signature.refresh_from_db()
    assert signed.certified_signature.signature_value.startswith("SANDBOX-")  # the evidence of the signature stays


# --- a certified signature finishes the identity step too (accounts.journey) ---------------------------------------


def certified_without_identity_check(user, *, method="toss") -> PowerOfAttorney:
    """Sign the power of attorney with a certificate in `method`'s app, no identity check before it."""
    document = consents_given(user)[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=META, method=method)
    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    return power_of_attorney_certified_refresh(verification=request, document=document, meta=META)


def test_a_certified_signature_without_an_identity_check_finishes_the_identity_step_and_keeps_the_ci():
    user = ClaimantFactory()
    signed = certified_without_identity_check(user)

    request = signed.certified_signature
    assert request.method == "toss" and request.requested_name == user.legal_name
    assert request.requested_birth_date == user.date_of_birth and request.requested_phone == user.phone
    assert not IdentityVerification.objects.filter(user=user, kind=IdentityVerification.Kind.IDENTITY).exists()
    readiness = claimant_readiness(user=user)
    assert readiness.power_of_attorney_counts_for_identity and not readiness.identity_verified
    assert journey.journey_step(journey.IDENTITY).done(readiness)
    assert claimant_next_step(user=user).key == "retainer"  # identity and signing done at once
    assert len(request.ci_digest) == 64  # the provider's CI, kept for the duplicate-CI flag


def test_a_certified_signature_without_an_identity_check_needs_the_app_to_sign_in():
    user = ClaimantFactory()
    document = consents_given(user)[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    with pytest.raises(ConsentError, match="인증서 앱을 골라"):
        power_of_attorney_certified_start(user=user, document=document, meta=META, method="")
    assert not IdentityVerification.objects.filter(user=user).exists()


def test_a_typed_signature_while_the_identity_step_is_open_leaves_it_open():
    user = ClaimantFactory()
    document = consents_given(user)[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    signed = power_of_attorney_sign(user=user, document=document, meta=META, typed_name=user.legal_name)

    assert signed.authentication["identity_check_pending"] is True
    assert claimant_next_step(user=user).key == "identity"  # asked for the identity check after signing
    approved(start(user))
    assert claimant_next_step(user=user).key == "retainer"


def test_a_typed_signature_without_an_identity_provider_still_counts_once_one_is_configured(settings):
    settings.IDENTITY_BACKEND = "integrations.identity.UnconfiguredIdentityBackend"
    user = ClaimantFactory()
    document = consents_given(user)[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    signed = power_of_attorney_sign(user=user, document=document, meta=META, typed_name=user.legal_name)
    assert "identity_check_pending" not in signed.authentication
    settings.IDENTITY_BACKEND = "integrations.identity.sandbox.SandboxIdentityBackend"
    assert claimant_next_step(user=user).key == "retainer"  # not sent back to the identity check


def test_the_same_ci_from_a_certified_signature_and_an_identity_check_flags_both_claims():
    details = {"legal_name": "박지훈", "date_of_birth": dt.date(1985, 3, 1), "phone": "01055551234"}
    first, second = verified_claimant(**details), ClaimantFactory(**details)
    certified_without_identity_check(second)
    first_claim, second_claim = SubmittedClaimFactory(claimant=first), SubmittedClaimFactory(claimant=second)

    claim_fraud_check(claim_id=second_claim.pk)

    flagged = set(Flag.objects.filter(code=Flag.Code.DUPLICATE_IDENTITY).values_list("claim_id", flat=True))
    assert flagged == {first_claim.pk, second_claim.pk}


def test_the_signing_page_offers_the_certified_signature_first_with_the_app_and_goes_on_once_signed(client):
    user = ClaimantFactory()
    consents_given(user)
    client.force_login(user)
    sign = reverse("accounts:power_of_attorney_sign")
    page = client.get(sign).content.decode()
    assert "인증서로 서명하면 본인인증도 함께 끝납니다." in page
    assert page.index("poa-certified-submit") < page.index("poa-submit")
    assert 'name="certified_method" id="poa-certified-method-kakao" value="kakao" required checked' in page

    response = client.post(sign, {"certified": "1", "certified_method": "pass"})
    request = IdentityVerification.objects.get(user=user, kind=IdentityVerification.Kind.SIGNATURE)
    assert response["Location"] == reverse("accounts:identity_wait", args=[request.pk])
    assert request.method == "pass"
    sandbox_request_answer(receipt_id=request.receipt_id, approve=True)
    response = client.post(reverse("accounts:identity_wait", args=[request.pk]))
    assert response["Location"] == reverse("payments:retainer")  # signing and identity done: the retainer


def test_after_an_identity_check_the_signing_page_signs_in_the_same_app_without_asking():
    user = verified_claimant()
    document = consent_documents_published()[ConsentDocument.Kind.POWER_OF_ATTORNEY]
    request = power_of_attorney_certified_start(user=user, document=document, meta=META, method="naver")
    assert request.method == "kakao"  # the verified check's app and details


def test_a_later_certified_signature_without_an_identity_check_uses_the_power_of_attorneys_app():
    user = ClaimantFactory()
    certified_without_identity_check(user, method="naver")
    later = certified_signature_start(
        user=user, document_title="선정서", document_sha256=sha256_hex("선정서 본문"), meta=META
    )
    assert later.method == "naver" and later.requested_name == user.legal_name  # the 선정서 signs the same way
