"""The identity seam over Linkhub's barocert SDK: Kakao, PASS, Naver and Toss (docs/providers/identity.md).

Configured from the environment (BAROCERT_LINK_ID, BAROCERT_SECRET_KEY, BAROCERT_CLIENT_CODE; PASS and Naver also
show BAROCERT_CALL_CENTER_NUM); while any credential is empty the backend is not `available` and every call fails
as the unconfigured backend's do.

The SDK keeps one service object per provider for the whole process (its classes are singletons, built with the
credentials of the first call) and talks HTTP itself through http.client, without time-outs and through one shared
connection. So this adapter cannot use core.http.provider_session: instead it gives the SDK's connections (and the
Linkhub token client's) a time-out of BAROCERT_TIMEOUT_SECONDS, makes one SDK call at a time per process, and turns
the SDK's failures into the project's errors the way provider_session does: a time-out, a refused or dropped
connection or an answer that is not JSON is a retryable ProviderError; an error the provider answers (a
BarocertException or LinkhubException) is not retryable. Logs name the provider, the call, the outcome and the time,
never the person's details or the provider's message.

Receipt ids given out are `<method>.<barocert receiptID>` (e.g. `kakao.0230...`), so status and verification know
which provider to ask. Requests carry the person's details encrypted with the secret key (the SDK's `_encrypt`);
a signature request sends the document's SHA-256 as the SDK asks for a HASH token (Base64 URL-safe, no padding).
"""

import base64
import http.client
import json
import logging
import re
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta

import linkhub
from barocert import (
    BarocertException,
    KakaocertService,
    KakaoIdentity,
    KakaoSign,
    NavercertService,
    NaverIdentity,
    NaverSign,
    PasscertService,
    PassIdentity,
    PassIdentityVerify,
    PassSign,
    PassSignVerify,
    TosscertService,
    TossIdentity,
    TossSign,
)
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from linkhub import LinkhubException

from core.exceptions import ProviderError
from core.phones import phone_number_normalised
from integrations.identity import (
    CertifiedSignature,
    IdentityBackend,
    IdentityMethod,
    IdentityReceipt,
    IdentityReceiptError,
    IdentityState,
    VerifiedIdentity,
    document_checked,
    identity_unconfigured_error,
    subject_checked,
)

logger = logging.getLogger(__name__)

SERVICES = {
    IdentityMethod.KAKAO: KakaocertService,
    IdentityMethod.PASS: PasscertService,
    IdentityMethod.NAVER: NavercertService,
    IdentityMethod.TOSS: TosscertService,
}
# barocert's `state`: 0 waiting, 1 completed, 2 expired, 3 refused; anything else (4 failed, 5 not processed at PASS)
# cannot be approved any more, so it counts as refused: the person asks again either way.
STATES = {0: IdentityState.PENDING, 1: IdentityState.APPROVED, 2: IdentityState.EXPIRED, 3: IdentityState.REFUSED}
APPROVED = 1
BAROCERT_RECEIPT = re.compile(r"^\d{32}$")
# One SDK call at a time in this process: the SDK's service objects share one connection.
_sdk_lock = threading.Lock()


def _with_timeout(get_connection):
    """The SDK's connection factory, its connections given the configured time-out (used when they connect)."""

    def connection(*args, **kwargs):
        opened = get_connection(*args, **kwargs)
        opened.timeout = settings.BAROCERT_TIMEOUT_SECONDS
        return opened

    connection.with_timeout = True
    return connection


def _service(method: str):
    """The SDK's service object for `method`, pointed at the configured addresses, its connections timed out."""
    service = SERVICES[method](settings.BAROCERT_LINK_ID, settings.BAROCERT_SECRET_KEY)
    service.ServiceURL(settings.BAROCERT_SERVICE_URL)
    service.AuthURL(settings.BAROCERT_AUTH_URL)
    if not getattr(service._getConn, "with_timeout", False):
        service._getConn = _with_timeout(service._getConn)
    token_client = linkhub.TokenInstance
    if not getattr(token_client._getconn, "with_timeout", False):
        token_client._getconn = _with_timeout(token_client._getconn)
    return service


@contextmanager
def _sdk_call(method: str, operation: str):
    """One SDK call: serialised, timed, logged, its failures raised as ProviderError."""
    started = time.monotonic()
    outcome = "ok"
    try:
        with _sdk_lock:
            yield
    except (BarocertException, LinkhubException) as error:
        outcome = f"refused {error.code}"
        raise ProviderError(
            _("본인인증 서비스가 요청을 처리하지 못했습니다. 입력한 정보를 확인해 주세요."),
            retryable=False,
            code="barocert_refused",
            extra={"provider": "barocert", "method": method, "barocert_code": error.code},
        ) from error
    except (TimeoutError, OSError, http.client.HTTPException, json.JSONDecodeError) as error:
        if isinstance(error, TimeoutError):
            outcome = "timeout"
        elif isinstance(error, json.JSONDecodeError):
            outcome = "bad_answer"
        else:
            outcome = "unreachable"
        raise ProviderError(
            _("외부 서비스가 잠시 응답하지 않습니다. 잠시 뒤에 다시 시도해 주세요."),
            retryable=True,
            code=outcome,
            extra={"provider": "barocert", "method": method},
        ) from error
    finally:
        logger.info("barocert %s %s: %s in %.0f ms", method, operation, outcome, (time.monotonic() - started) * 1000)


def _receipt_parts(receipt_id: str) -> tuple[str, str]:
    method, _dot, barocert_receipt = (receipt_id or "").partition(".")
    if method not in SERVICES or not BAROCERT_RECEIPT.match(barocert_receipt):
        raise IdentityReceiptError(_("인증 요청을 찾을 수 없습니다."), code="unknown_receipt")
    return method, barocert_receipt


def _hash_token(document_sha256: str) -> str:
    """The document's SHA-256 as barocert's HASH token: Base64 URL-safe without padding."""
    return base64.urlsafe_b64encode(bytes.fromhex(document_sha256)).rstrip(b"=").decode()


def _birth_date(year: str | None, month_day: str | None) -> date | None:
    if not (year and month_day and len(month_day) == 4):
        return None
    try:
        return date(int(year), int(month_day[:2]), int(month_day[2:]))
    except ValueError:
        return None


class BarocertIdentityBackend(IdentityBackend):
    provider = "barocert"
    sandbox = False

    @property
    def available(self) -> bool:
        return bool(settings.BAROCERT_LINK_ID and settings.BAROCERT_SECRET_KEY and settings.BAROCERT_CLIENT_CODE)

    def _configured_service(self, method: str):
        if not self.available:
            raise identity_unconfigured_error()
        return _service(method)

    def _receiver(self, service, *, name: str, birth_date: date, phone: str) -> dict:
        return {
            "receiverHP": service._encrypt(phone),
            "receiverName": service._encrypt(name),
            "receiverBirthday": service._encrypt(birth_date.strftime("%Y%m%d")),
            "expireIn": settings.IDENTITY_REQUEST_EXPIRES_SECONDS,
        }

    def _receipt(self, method: str, result) -> IdentityReceipt:
        return IdentityReceipt(
            receipt_id=f"{method}.{result.receiptID}",
            method=method,
            expires_at=timezone.now() + timedelta(seconds=settings.IDENTITY_REQUEST_EXPIRES_SECONDS),
        )

    def identity_request(self, *, method, name, birth_date, phone):
        name, phone = subject_checked(method=method, name=name, phone=phone)
        service = self._configured_service(method)
        receiver = self._receiver(service, name=name, birth_date=birth_date, phone=phone)
        title = _("공동소송 참여 본인인증")
        token = service._encrypt(secrets.token_hex(16))
        if method == IdentityMethod.KAKAO:
            request = KakaoIdentity(**receiver, reqTitle=title, token=token, appUseYN=False)
        elif method == IdentityMethod.PASS:
            request = PassIdentity(
                **receiver,
                reqTitle=title,
                reqMessage=service._encrypt(title),
                callCenterNum=settings.BAROCERT_CALL_CENTER_NUM,
                token=token,
                userAgreementYN=True,
                receiverInfoYN=True,
                appUseYN=False,
            )
        elif method == IdentityMethod.NAVER:
            request = NaverIdentity(**receiver, callCenterNum=settings.BAROCERT_CALL_CENTER_NUM)
        else:
            request = TossIdentity(**receiver)
        with _sdk_call(method, "identity_request"):
            result = service.requestIdentity(settings.BAROCERT_CLIENT_CODE, request)
        return self._receipt(method, result)

    def signature_request(self, *, method, name, birth_date, phone, document_title, document_sha256):
        name, phone = subject_checked(method=method, name=name, phone=phone)
        document_title, document_sha256 = document_checked(
            document_title=document_title, document_sha256=document_sha256
        )
        service = self._configured_service(method)
        receiver = self._receiver(service, name=name, birth_date=birth_date, phone=phone)
        signed = {"token": service._encrypt(_hash_token(document_sha256)), "tokenType": "HASH"}
        if method == IdentityMethod.KAKAO:
            request = KakaoSign(**receiver, **signed, signTitle=document_title, appUseYN=False)
        elif method == IdentityMethod.PASS:
            request = PassSign(
                **receiver,
                **signed,
                reqTitle=document_title,
                reqMessage=service._encrypt(document_title),
                callCenterNum=settings.BAROCERT_CALL_CENTER_NUM,
                userAgreementYN=True,
                receiverInfoYN=True,
                appUseYN=False,
            )
        elif method == IdentityMethod.NAVER:
            request = NaverSign(
                **receiver,
                **signed,
                reqTitle=document_title,
                reqMessage=service._encrypt(document_title),
                callCenterNum=settings.BAROCERT_CALL_CENTER_NUM,
            )
        else:
            request = TossSign(**receiver, **signed, reqTitle=document_title)
        with _sdk_call(method, "signature_request"):
            result = service.requestSign(settings.BAROCERT_CLIENT_CODE, request)
        return self._receipt(method, result)

    def _status(self, receipt_id: str, operation: str):
        method, barocert_receipt = _receipt_parts(receipt_id)
        service = self._configured_service(method)
        call = service.getIdentityStatus if operation == "identity" else service.getSignStatus
        with _sdk_call(method, f"{operation}_status"):
            return call(settings.BAROCERT_CLIENT_CODE, barocert_receipt)

    def identity_status(self, receipt_id):
        return STATES.get(self._status(receipt_id, "identity").state, IdentityState.REFUSED)

    def signature_status(self, receipt_id):
        return STATES.get(self._status(receipt_id, "signature").state, IdentityState.REFUSED)

    def _verified(self, receipt_id: str, operation: str, *, name: str, phone: str):
        """The provider's verification result, once: a refused verification of a receipt the provider already
        verified is a replay, of one not approved a `not_approved`; anything else stays a ProviderError."""
        method, barocert_receipt = _receipt_parts(receipt_id)
        service = self._configured_service(method)
        client_code = settings.BAROCERT_CLIENT_CODE
        if method == IdentityMethod.PASS:
            check = {
                "receiverHP": service._encrypt(phone_number_normalised(phone)),
                "receiverName": service._encrypt((name or "").strip()),
            }
            verify = PassIdentityVerify(**check) if operation == "identity" else PassSignVerify(**check)
            call = service.verifyIdentity if operation == "identity" else service.verifySign
            arguments = (client_code, barocert_receipt, verify)
        else:
            call = service.verifyIdentity if operation == "identity" else service.verifySign
            arguments = (client_code, barocert_receipt)
        try:
            with _sdk_call(method, f"{operation}_verify"):
                result = call(*arguments)
        except ProviderError as refused:
            if refused.retryable:
                raise
            status = self._status(receipt_id, operation)
            if status.verifyDT:
                raise IdentityReceiptError(_("이미 확인을 마친 인증 요청입니다."), code="receipt_used") from refused
            if status.state != APPROVED:
                raise self._not_approved(status.state) from refused
            raise
        if result.state != APPROVED:
            raise self._not_approved(result.state)
        return method, result

    def _not_approved(self, state: int) -> IdentityReceiptError:
        return IdentityReceiptError(
            _("승인되지 않은 인증 요청입니다."),
            code="not_approved",
            extra={"state": STATES.get(state, IdentityState.REFUSED)},
        )

    def identity_verify(self, receipt_id, *, name, phone):
        method, result = self._verified(receipt_id, "identity", name=name, phone=phone)
        return VerifiedIdentity(
            method=method,
            receipt_id=receipt_id,
            name=result.receiverName or "",
            birth_date=_birth_date(result.receiverYear, result.receiverDay),
            phone=result.receiverHP or "",
            ci=result.ci or "",
            verified_at=timezone.now(),
            sandbox=False,
        )

    def signature_verify(self, receipt_id, *, name, phone):
        method, result = self._verified(receipt_id, "signature", name=name, phone=phone)
        return CertifiedSignature(
            method=method,
            receipt_id=receipt_id,
            signature_value=result.signedData or "",
            signer_ci=result.ci or "",
            signed_at=timezone.now(),
            sandbox=False,
        )
