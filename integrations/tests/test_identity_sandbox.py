"""The identity seam's sandbox: the providers' asynchronous flow (request -> pending -> approved / refused / expired ->
verify once), the page that plays the phone, and production refusing it."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ProviderError
from integrations.identity import (
    IdentityMethod,
    IdentityReceiptError,
    IdentityState,
    IdentitySubjectError,
    UnconfiguredIdentityBackend,
    identity_backend,
)
from integrations.identity.models import SandboxIdentityRequest
from integrations.identity.sandbox import SANDBOX_MARK, SandboxIdentityBackend, sandbox_request_answer
from integrations.tests.production import backend_check_errors, production_setting

pytestmark = pytest.mark.django_db

SANDBOX = "integrations.identity.sandbox.SandboxIdentityBackend"
UNCONFIGURED = "integrations.identity.UnconfiguredIdentityBackend"
PERSON = {"name": "김민수", "birth_date": date(1988, 4, 15), "phone": "010-1234-5678"}
SUBJECT = {"name": PERSON["name"], "phone": PERSON["phone"]}
POA_SHA256 = "3f" * 32


@pytest.fixture
def backend(settings) -> SandboxIdentityBackend:
    settings.IDENTITY_BACKEND = SANDBOX
    return identity_backend()


def _identity_receipt(backend, method=IdentityMethod.KAKAO, **person):
    return backend.identity_request(method=method, **{**PERSON, **person})


def _signature_receipt(backend, method=IdentityMethod.PASS):
    return backend.signature_request(
        method=method, **PERSON, document_title="소송위임장", document_sha256=POA_SHA256.upper()
    )


def _expire(receipt_id: str) -> None:
    SandboxIdentityRequest.objects.filter(receipt_id=receipt_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_the_sandbox_is_the_default_backend_outside_production():
    assert isinstance(identity_backend(), SandboxIdentityBackend)
    assert identity_backend().sandbox and identity_backend().available


def test_identity_flow_request_pending_approve_verify(backend, settings):
    settings.IDENTITY_REQUEST_EXPIRES_SECONDS = 300
    before = timezone.now()
    receipt = _identity_receipt(backend)
    assert receipt.method == IdentityMethod.KAKAO
    assert before + timedelta(seconds=299) < receipt.expires_at <= timezone.now() + timedelta(seconds=300)
    assert backend.identity_status(receipt.receipt_id) == IdentityState.PENDING

    sandbox_request_answer(receipt_id=receipt.receipt_id, approve=True)
    assert backend.identity_status(receipt.receipt_id) == IdentityState.APPROVED

    verified = backend.identity_verify(receipt.receipt_id, **SUBJECT)
    assert (verified.method, verified.receipt_id) == (IdentityMethod.KAKAO, receipt.receipt_id)
    assert (verified.name, verified.birth_date, verified.phone) == ("김민수", date(1988, 4, 15), "01012345678")
    assert verified.sandbox and verified.ci.startswith(SANDBOX_MARK)
    assert verified.verified_at >= before


def test_signature_flow_signs_the_documents_hash(backend):
    receipt = _signature_receipt(backend)
    assert backend.signature_status(receipt.receipt_id) == IdentityState.PENDING
    sandbox_request_answer(receipt_id=receipt.receipt_id, approve=True)
    assert backend.signature_status(receipt.receipt_id) == IdentityState.APPROVED

    signature = backend.signature_verify(receipt.receipt_id, **SUBJECT)
    assert signature.method == IdentityMethod.PASS
    assert SandboxIdentityRequest.objects.get(receipt_id=receipt.receipt_id).document_sha256 == POA_SHA256
    assert signature.signature_value.startswith(SANDBOX_MARK) and signature.sandbox
    assert signature.signer_ci == backend.identity_verify(_approved_identity(backend), **SUBJECT).ci
    assert signature.signed_at == SandboxIdentityRequest.objects.get(receipt_id=receipt.receipt_id).decided_at


def _approved_identity(backend, **person) -> str:
    receipt = _identity_receipt(backend, **person)
    sandbox_request_answer(receipt_id=receipt.receipt_id, approve=True)
    return receipt.receipt_id


def test_a_refusal_on_the_phone_is_a_state_and_cannot_be_verified(backend):
    receipt = _identity_receipt(backend)
    sandbox_request_answer(receipt_id=receipt.receipt_id, approve=False)
    assert backend.identity_status(receipt.receipt_id) == IdentityState.REFUSED
    with pytest.raises(IdentityReceiptError) as refused:
        backend.identity_verify(receipt.receipt_id, **SUBJECT)
    assert refused.value.code == "not_approved" and refused.value.extra == {"state": IdentityState.REFUSED}


def test_an_unanswered_request_expires_and_cannot_be_answered_any_more(backend):
    receipt = _identity_receipt(backend)
    _expire(receipt.receipt_id)
    assert backend.identity_status(receipt.receipt_id) == IdentityState.EXPIRED
    assert SandboxIdentityRequest.objects.get(receipt_id=receipt.receipt_id).state == IdentityState.EXPIRED
    with pytest.raises(IdentityReceiptError) as late:
        sandbox_request_answer(receipt_id=receipt.receipt_id, approve=True)
    assert late.value.code == "expired"
    with pytest.raises(IdentityReceiptError) as unverifiable:
        backend.identity_verify(receipt.receipt_id, **SUBJECT)
    assert unverifiable.value.code == "not_approved"


def test_a_request_is_answered_once(backend):
    receipt = _identity_receipt(backend)
    sandbox_request_answer(receipt_id=receipt.receipt_id, approve=True)
    with pytest.raises(IdentityReceiptError) as again:
        sandbox_request_answer(receipt_id=receipt.receipt_id, approve=False)
    assert again.value.code == "decided"
    assert backend.identity_status(receipt.receipt_id) == IdentityState.APPROVED


def test_a_second_verification_of_the_same_receipt_is_refused_as_a_replay(backend):
    receipt_id = _approved_identity(backend)
    backend.identity_verify(receipt_id, **SUBJECT)
    with pytest.raises(IdentityReceiptError) as replay:
        backend.identity_verify(receipt_id, **SUBJECT)
    assert replay.value.code == "receipt_used"


@pytest.mark.django_db(transaction=True)
def test_two_verifications_racing_for_one_receipt_let_exactly_one_through(backend):
    receipt_id = _approved_identity(backend)
    start = threading.Barrier(2)
    outcomes = []

    def verify():
        start.wait()
        try:
            outcomes.append(backend.identity_verify(receipt_id, **SUBJECT).receipt_id)
        except IdentityReceiptError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=verify) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([receipt_id, "receipt_used"])


def test_a_verification_with_another_name_or_phone_is_refused_and_can_be_repeated_rightly(backend):
    receipt_id = _approved_identity(backend)
    for subject in ({**SUBJECT, "name": "김민주"}, {**SUBJECT, "phone": "01012345679"}):
        with pytest.raises(IdentityReceiptError) as mismatch:
            backend.identity_verify(receipt_id, **subject)
        assert mismatch.value.code == "subject_mismatch"
    assert backend.identity_verify(receipt_id, name=" 김민수 ", phone="01012345678").receipt_id == receipt_id


def test_an_unknown_receipt_and_a_receipt_of_the_other_kind_are_refused(backend):
    with pytest.raises(IdentityReceiptError) as unknown:
        backend.identity_status("0" * 32)
    assert unknown.value.code == "unknown_receipt"
    signature = _signature_receipt(backend)
    sandbox_request_answer(receipt_id=signature.receipt_id, approve=True)
    with pytest.raises(IdentityReceiptError) as other_kind:
        backend.identity_verify(signature.receipt_id, **SUBJECT)
    assert other_kind.value.code == "unknown_receipt"


def test_receipt_ids_are_random_and_long(backend):
    first, second = _identity_receipt(backend), _identity_receipt(backend)
    assert first.receipt_id != second.receipt_id
    assert len(first.receipt_id) == 32 and int(first.receipt_id, 16) >= 0


def test_the_same_person_gets_the_same_ci_and_another_person_another(backend):
    first = backend.identity_verify(_approved_identity(backend, method=IdentityMethod.KAKAO), **SUBJECT).ci
    again = backend.identity_verify(
        _approved_identity(backend, method=IdentityMethod.TOSS, phone="01012345678"), **SUBJECT
    ).ci
    other = backend.identity_verify(_approved_identity(backend, birth_date=date(1988, 4, 16)), **SUBJECT).ci
    assert first == again
    assert other != first


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"phone": "02-123-4567"}, "phone"),
        ({"name": "  "}, "name"),
        ({"method": "paypal"}, "method"),
    ],
)
def test_a_subject_the_providers_would_refuse_is_refused_before_sending(backend, change, code):
    with pytest.raises(IdentitySubjectError) as refused:
        backend.identity_request(**{"method": IdentityMethod.NAVER, **PERSON, **change})
    assert refused.value.code == code
    assert not SandboxIdentityRequest.objects.exists()


def test_a_signature_needs_a_sha256_and_a_title(backend):
    with pytest.raises(IdentitySubjectError) as bad_hash:
        backend.signature_request(
            method=IdentityMethod.KAKAO, **PERSON, document_title="소송위임장", document_sha256="abc"
        )
    assert bad_hash.value.code == "document_sha256"
    with pytest.raises(IdentitySubjectError) as no_title:
        backend.signature_request(method=IdentityMethod.KAKAO, **PERSON, document_title="", document_sha256=POA_SHA256)
    assert no_title.value.code == "document_title"


# The phone page


def test_the_phone_page_shows_the_request_with_the_sandbox_banner(backend, client):
    receipt = _signature_receipt(backend)
    response = client.get(reverse("integrations:sandbox_phone", args=[receipt.receipt_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "SANDBOX / 테스트용 가상 인증" in page
    assert "소송위임장" in page and POA_SHA256 in page
    assert "010-****-5678" in page and "01012345678" not in page
    assert 'value="approve"' in page and 'value="refuse"' in page


@pytest.mark.parametrize(
    ("decision", "state"), [("approve", IdentityState.APPROVED), ("refuse", IdentityState.REFUSED)]
)
def test_the_phone_page_approves_or_refuses(backend, decision, state):
    receipt = _identity_receipt(backend)
    client = Client(enforce_csrf_checks=True)
    url = reverse("integrations:sandbox_phone", args=[receipt.receipt_id])
    token = client.get(url).context["csrf_token"]
    response = client.post(url, {"decision": decision, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302 and response.url == url
    assert backend.identity_status(receipt.receipt_id) == state
    answered = client.get(url).content.decode()
    assert 'value="approve"' not in answered


def test_the_phone_pages_script_gets_the_answer_in_place_without_a_second_page_load(backend):
    receipt = _identity_receipt(backend)
    client = Client(enforce_csrf_checks=True)
    url = reverse("integrations:sandbox_phone", args=[receipt.receipt_id])
    page = client.get(url)
    assert "js/sandbox-phone.js" in page.content.decode() and "data-sandbox-answered" in page.content.decode()
    token = str(page.context["csrf_token"])
    answer = client.post(url, {"decision": "approve", "csrfmiddlewaretoken": token}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert answer.json() == {"state": "approved", "state_label": "승인", "problem": ""}
    assert backend.identity_status(receipt.receipt_id) == IdentityState.APPROVED
    again = client.post(url, {"decision": "refuse", "csrfmiddlewaretoken": token}, HTTP_ACCEPT="application/json")
    assert again.json()["state"] == "approved" and again.json()["problem"]  # answered once only
    assert backend.identity_status(receipt.receipt_id) == IdentityState.APPROVED


def test_the_phone_page_refuses_a_post_without_the_csrf_token(backend):
    receipt = _identity_receipt(backend)
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("integrations:sandbox_phone", args=[receipt.receipt_id]), {"decision": "approve"})
    assert response.status_code == 403
    assert backend.identity_status(receipt.receipt_id) == IdentityState.PENDING


def test_an_expired_request_shows_as_expired_and_cannot_be_approved(backend, client):
    receipt = _identity_receipt(backend)
    _expire(receipt.receipt_id)
    url = reverse("integrations:sandbox_phone", args=[receipt.receipt_id])
    page = client.get(url).content.decode()
    assert "만료된 인증 요청입니다" in page and 'value="approve"' not in page
    response = client.post(url, {"decision": "approve"}, follow=True)
    assert "만료된 인증 요청입니다" in response.content.decode()
    assert backend.identity_status(receipt.receipt_id) == IdentityState.EXPIRED


def test_the_list_shows_only_requests_still_waiting(backend, client, django_assert_max_num_queries):
    waiting = _identity_receipt(backend, method=IdentityMethod.TOSS)
    expired = _identity_receipt(backend).receipt_id
    _expire(expired)
    answered = _identity_receipt(backend).receipt_id
    sandbox_request_answer(receipt_id=answered, approve=True)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("integrations:sandbox_phone_list"))
    page = response.content.decode()
    assert response.status_code == 200 and "SANDBOX / 테스트용 가상 인증" in page
    assert reverse("integrations:sandbox_phone", args=[waiting.receipt_id]) in page
    assert expired not in page and answered not in page


def test_the_phone_pages_answer_404_unless_the_sandbox_is_configured(backend, client, settings):
    receipt = _identity_receipt(backend)
    settings.IDENTITY_BACKEND = UNCONFIGURED
    assert client.get(reverse("integrations:sandbox_phone_list")).status_code == 404
    url = reverse("integrations:sandbox_phone", args=[receipt.receipt_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve"}).status_code == 404
    settings.IDENTITY_BACKEND = SANDBOX
    assert client.get(reverse("integrations:sandbox_phone", args=["f" * 32])).status_code == 404


# Production


def test_production_refuses_the_sandbox_backend(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = False
    settings.IDENTITY_BACKEND = SANDBOX
    assert backend_check_errors("IDENTITY_BACKEND") == ["core.E002"]
    settings.IDENTITY_BACKEND = UNCONFIGURED
    assert backend_check_errors("IDENTITY_BACKEND") == []


def test_production_checks_identity_with_barocert_when_its_credentials_are_set_and_is_off_otherwise(tmp_path):
    assert production_setting("IDENTITY_BACKEND", tmp_path) == UNCONFIGURED
    barocert = production_setting("IDENTITY_BACKEND", tmp_path, BAROCERT_LINK_ID="LINKHUB_ID")
    assert barocert == "integrations.identity.barocert.BarocertIdentityBackend"


def test_the_unconfigured_backend_refuses_every_call_with_a_clear_message(settings):
    settings.IDENTITY_BACKEND = UNCONFIGURED
    backend = identity_backend()
    assert isinstance(backend, UnconfiguredIdentityBackend) and not backend.available and not backend.sandbox
    calls = [
        lambda: backend.identity_request(method=IdentityMethod.KAKAO, **PERSON),
        lambda: backend.identity_status("0" * 32),
        lambda: backend.identity_verify("0" * 32, **SUBJECT),
        lambda: backend.signature_request(
            method=IdentityMethod.KAKAO, **PERSON, document_title="소송위임장", document_sha256=POA_SHA256
        ),
        lambda: backend.signature_status("0" * 32),
        lambda: backend.signature_verify("0" * 32, **SUBJECT),
    ]
    for call in calls:
        with pytest.raises(ProviderError) as off:
            call()
        assert off.value.code == "identity_unconfigured" and not off.value.retryable
        assert "본인인증 서비스가 아직 설정되지 않아" in str(off.value.message)
