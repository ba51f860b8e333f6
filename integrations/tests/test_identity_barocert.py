"""Contract tests of the barocert adapter: the real barocert SDK against a local server speaking its endpoints
(integrations/tests/barocert_server.py), never the real service."""

import base64
import hashlib
import socket
import threading
from datetime import date

import pytest

from core.exceptions import ProviderError
from integrations.identity import IdentityMethod, IdentityReceiptError, IdentityState
from integrations.identity.barocert import BarocertIdentityBackend
from integrations.tests.barocert_server import COMPLETED, EXPIRED, REFUSED, BarocertServer
from integrations.tests.production import backend_check_errors

LINK_ID = "KAKAO_CLAIMS_TEST"
SECRET_KEY = base64.b64encode(hashlib.sha256(b"contract-test-secret").digest()).decode()
CLIENT_CODE = "023040000001"
PERSON = {"name": "김민수", "birth_date": date(1988, 4, 15), "phone": "010-1234-5678"}
SUBJECT = {"name": "김민수", "phone": "01012345678"}
POA_SHA256 = hashlib.sha256(b"the filled-in power of attorney").hexdigest()
ALL_METHODS = list(IdentityMethod)


@pytest.fixture
def barocert(settings):
    server = BarocertServer(link_id=LINK_ID, secret_key=SECRET_KEY).start()
    settings.BAROCERT_LINK_ID = LINK_ID
    settings.BAROCERT_SECRET_KEY = SECRET_KEY
    settings.BAROCERT_CLIENT_CODE = CLIENT_CODE
    settings.BAROCERT_CALL_CENTER_NUM = "1600-0000"
    settings.BAROCERT_SERVICE_URL = server.url
    settings.BAROCERT_AUTH_URL = server.url
    settings.BAROCERT_TIMEOUT_SECONDS = 5.0
    yield server
    server.stop()


@pytest.fixture
def backend(barocert) -> BarocertIdentityBackend:
    return BarocertIdentityBackend()


def _barocert_receipt(receipt_id: str) -> str:
    return receipt_id.partition(".")[2]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_identity_request_status_and_verification_at_each_provider(backend, barocert, method):
    receipt = backend.identity_request(method=method, **PERSON)
    assert receipt.receipt_id.startswith(f"{method}.") and receipt.method == method
    sent = barocert.requests[_barocert_receipt(receipt.receipt_id)]
    assert sent.provider == method.upper() and sent.kind == "Identity" and sent.client_code == CLIENT_CODE
    assert (sent.fields["receiverName"], sent.fields["receiverHP"]) == ("김민수", "01012345678")
    assert sent.fields["receiverBirthday"] == "19880415"
    if method in (IdentityMethod.PASS, IdentityMethod.NAVER):
        assert sent.fields["callCenterNum"] == "1600-0000"
    assert backend.identity_status(receipt.receipt_id) == IdentityState.PENDING

    barocert.answer(_barocert_receipt(receipt.receipt_id), COMPLETED)
    assert backend.identity_status(receipt.receipt_id) == IdentityState.APPROVED
    verified = backend.identity_verify(receipt.receipt_id, **SUBJECT)
    assert (verified.method, verified.receipt_id, verified.sandbox) == (method, receipt.receipt_id, False)
    assert (verified.name, verified.birth_date, verified.phone) == ("김민수", date(1988, 4, 15), "01012345678")
    assert verified.ci and not verified.ci.startswith("SANDBOX")


@pytest.mark.parametrize("method", ALL_METHODS)
def test_a_signature_signs_the_documents_sha256_as_a_hash_token(backend, barocert, method):
    receipt = backend.signature_request(
        method=method, **PERSON, document_title="소송위임장", document_sha256=POA_SHA256
    )
    sent = barocert.requests[_barocert_receipt(receipt.receipt_id)]
    assert sent.kind == "Sign" and sent.fields["tokenType"] == "HASH"
    token = base64.urlsafe_b64encode(bytes.fromhex(POA_SHA256)).rstrip(b"=").decode()
    assert sent.fields["token"] == token
    assert "소송위임장" in (sent.fields.get("signTitle"), sent.fields.get("reqTitle"))
    assert backend.signature_status(receipt.receipt_id) == IdentityState.PENDING

    barocert.answer(_barocert_receipt(receipt.receipt_id), COMPLETED)
    signature = backend.signature_verify(receipt.receipt_id, **SUBJECT)
    assert signature.signature_value and signature.signer_ci and not signature.sandbox
    assert backend.signature_status(receipt.receipt_id) == IdentityState.APPROVED


@pytest.mark.parametrize(("answer", "state"), [(REFUSED, IdentityState.REFUSED), (EXPIRED, IdentityState.EXPIRED)])
def test_a_refusal_or_expiry_is_a_state_and_cannot_be_verified(backend, barocert, answer, state):
    receipt = backend.identity_request(method=IdentityMethod.KAKAO, **PERSON)
    barocert.answer(_barocert_receipt(receipt.receipt_id), answer)
    assert backend.identity_status(receipt.receipt_id) == state
    with pytest.raises(IdentityReceiptError) as refused:
        backend.identity_verify(receipt.receipt_id, **SUBJECT)
    assert refused.value.code == "not_approved" and refused.value.extra == {"state": state}


def test_a_second_verification_is_a_replay(backend, barocert):
    receipt = backend.identity_request(method=IdentityMethod.NAVER, **PERSON)
    barocert.answer(_barocert_receipt(receipt.receipt_id), COMPLETED)
    backend.identity_verify(receipt.receipt_id, **SUBJECT)
    with pytest.raises(IdentityReceiptError) as replay:
        backend.identity_verify(receipt.receipt_id, **SUBJECT)
    assert replay.value.code == "receipt_used"


def test_pass_checks_the_name_and_phone_again_at_verification(backend, barocert):
    receipt = backend.identity_request(method=IdentityMethod.PASS, **PERSON)
    barocert.answer(_barocert_receipt(receipt.receipt_id), COMPLETED)
    with pytest.raises(ProviderError) as mismatch:
        backend.identity_verify(receipt.receipt_id, name="김민주", phone=SUBJECT["phone"])
    assert not mismatch.value.retryable and mismatch.value.code == "barocert_refused"
    assert backend.identity_verify(receipt.receipt_id, **SUBJECT).name == "김민수"


def test_receipts_not_given_out_by_the_adapter_are_refused_before_asking(backend, barocert):
    for receipt_id in ("", "0" * 32, "paypal." + "0" * 32, "kakao.123", "kakao." + "a" * 32):
        with pytest.raises(IdentityReceiptError) as unknown:
            backend.identity_status(receipt_id)
        assert unknown.value.code == "unknown_receipt"
    with pytest.raises(ProviderError) as not_found:
        backend.identity_status("kakao." + "0" * 32)
    assert not not_found.value.retryable and not_found.value.extra["barocert_code"] == -11000003


def test_a_provider_that_does_not_answer_in_time_is_a_retryable_error(backend, barocert, settings):
    receipt = backend.identity_request(method=IdentityMethod.KAKAO, **PERSON)
    barocert.hang = threading.Event()
    settings.BAROCERT_TIMEOUT_SECONDS = 0.5
    with pytest.raises(ProviderError) as timed_out:
        backend.identity_status(receipt.receipt_id)
    assert timed_out.value.retryable and timed_out.value.code == "timeout"
    barocert.hang.set()


def test_a_provider_answering_an_error_page_is_a_retryable_error(backend, barocert):
    barocert.outage = True
    with pytest.raises(ProviderError) as down:
        backend.identity_request(method=IdentityMethod.TOSS, **PERSON)
    assert down.value.retryable and down.value.code == "bad_answer"


def test_an_unreachable_provider_is_a_retryable_error(backend, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.BAROCERT_SERVICE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(ProviderError) as unreachable:
        backend.identity_request(method=IdentityMethod.KAKAO, **PERSON)
    assert unreachable.value.retryable and unreachable.value.code == "unreachable"


def test_credentials_the_provider_refuses_are_not_retried(backend, barocert):
    barocert.link_id = "ANOTHER_LINK_ID"
    with pytest.raises(ProviderError) as refused:
        backend.identity_request(method=IdentityMethod.KAKAO, **PERSON)
    assert not refused.value.retryable and refused.value.code == "barocert_refused"
    assert not barocert.requests


def test_without_credentials_the_feature_is_off(settings):
    settings.BAROCERT_LINK_ID, settings.BAROCERT_SECRET_KEY, settings.BAROCERT_CLIENT_CODE = "", "", ""
    backend = BarocertIdentityBackend()
    assert not backend.available
    with pytest.raises(ProviderError) as off:
        backend.identity_request(method=IdentityMethod.KAKAO, **PERSON)
    assert off.value.code == "identity_unconfigured" and not off.value.retryable


def test_production_accepts_the_barocert_backend(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = False
    settings.IDENTITY_BACKEND = "integrations.identity.barocert.BarocertIdentityBackend"
    assert backend_check_errors("IDENTITY_BACKEND") == []
