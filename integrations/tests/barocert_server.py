"""A local stand-in for Linkhub's barocert service, speaking what the barocert 1.8.0 SDK sends and reads, for the
adapter's contract tests (integrations/tests/test_identity_barocert.py). Never the real service.

What it implements, as the SDK does it (barocert/base.py, linkhub/linkhub.py):
- `GET /Time`: the server's time, which the SDK signs its requests with;
- `POST /BAROCERT/Token`: a session token, for `Authorization: LINKHUB <link id> <HMAC-SHA256>` over
  "POST\\n<Base64 SHA-256 of the body>\\n<x-lh-date>\\n<x-lh-forwarded>\\n2.0\\n/BAROCERT/Token" with the secret key;
- for KAKAO, PASS, NAVER and TOSS: `POST /<P>/Identity/<client code>` and `POST /<P>/Sign/<client code>` (a receipt
  `receiptID`, 32 digits), `GET /<P>/Identity|Sign/<client code>/<receipt>` (the status: `state`, `requestDT`,
  `completeDT`, `expireDT`, `verifyDT`), `POST /<P>/Identity|Sign/Verify/<client code>/<receipt>` (the result:
  `state`, `signedData`, `ci` and, for identity, `receiverName`, `receiverYear`, `receiverDay`, `receiverHP`).
  POSTs must carry `x-bc-auth`, the HMAC of "POST\\n[<Base64 SHA-256 of the body>\\n]<x-bc-date>\\n<path>\\n", and the
  bearer token; the person's details arrive AES-256-GCM encrypted with the secret key (IV, ciphertext, tag).
- Each provider's required request fields (the SDK's own checks); PASS's verification repeats name and phone.
- Errors as the SDK reads them: a non-200 answer with `{"code": <negative number>, "message": "..."}`. The numbers
  are this server's own (the SDK does not publish barocert's): ERROR_* below.
- A verification is accepted once (as Kakao's and Naver's rules say); after it the status carries `verifyDT`.

The test drives the phone: `answer(receipt, state)`. And the failures: `hang` (answers only after the event is set,
so the client times out), `outage` (503 with an HTML page).
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ERROR_UNAUTHORIZED = -11000001
ERROR_BAD_REQUEST = -11000002
ERROR_RECEIPT_NOT_FOUND = -11000003
ERROR_NOT_COMPLETED = -11000004
ERROR_ALREADY_VERIFIED = -11000005
ERROR_RECEIVER_MISMATCH = -11000006

WAITING, COMPLETED, EXPIRED, REFUSED = 0, 1, 2, 3
PROVIDERS = ("KAKAO", "PASS", "NAVER", "TOSS")
# The fields each provider's request must carry (the SDK's checks in barocert 1.8.0), and those sent encrypted.
REQUIRED = {
    ("KAKAO", "Identity"): {"receiverHP", "receiverName", "receiverBirthday", "reqTitle", "expireIn", "token"},
    ("PASS", "Identity"): {"receiverHP", "receiverName", "reqTitle", "callCenterNum", "expireIn", "token"},
    ("NAVER", "Identity"): {"receiverHP", "receiverName", "receiverBirthday", "callCenterNum", "expireIn"},
    ("TOSS", "Identity"): {"receiverHP", "receiverName", "receiverBirthday", "expireIn"},
    ("KAKAO", "Sign"): {
        "receiverHP",
        "receiverName",
        "receiverBirthday",
        "signTitle",
        "expireIn",
        "token",
        "tokenType",
    },
    ("PASS", "Sign"): {"receiverHP", "receiverName", "reqTitle", "callCenterNum", "expireIn", "token", "tokenType"},
    ("NAVER", "Sign"): {
        "receiverHP",
        "receiverName",
        "receiverBirthday",
        "reqTitle",
        "reqMessage",
        "callCenterNum",
        "expireIn",
        "token",
        "tokenType",
    },
    ("TOSS", "Sign"): {"receiverHP", "receiverName", "receiverBirthday", "reqTitle", "expireIn", "token", "tokenType"},
}
ENCRYPTED = {"receiverHP", "receiverName", "receiverBirthday", "token", "reqMessage", "extraMessage"}

REQUEST_PATH = re.compile(r"^/(?P<provider>[A-Z]+)/(?P<kind>Identity|Sign)/(?P<client>\d{12})$")
STATUS_PATH = re.compile(r"^/(?P<provider>[A-Z]+)/(?P<kind>Identity|Sign)/(?P<client>\d{12})/(?P<receipt>\d{32})$")
VERIFY_PATH = re.compile(
    r"^/(?P<provider>[A-Z]+)/(?P<kind>Identity|Sign)/Verify/(?P<client>\d{12})/(?P<receipt>\d{32})$"
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64_sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _b64_hmac(secret_key: str, text: str) -> str:
    return base64.b64encode(hmac.new(base64.b64decode(secret_key), text.encode(), hashlib.sha256).digest()).decode()


class _Refusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class BarocertRequest:
    provider: str
    kind: str
    client_code: str
    fields: dict
    state: int = WAITING
    requested_at: str = field(default_factory=_now)
    completed_at: str | None = None
    verified_at: str | None = None


class BarocertServer:
    def __init__(self, *, link_id: str, secret_key: str) -> None:
        self.link_id = link_id
        self.secret_key = secret_key
        self.requests: dict[str, BarocertRequest] = {}
        self.tokens: set[str] = set()
        self.hang: threading.Event | None = None
        self.outage = False
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "BarocertServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self._http.shutdown()
        self._http.server_close()

    def answer(self, receipt: str, state: int) -> None:
        """The person answers on the phone (COMPLETED or REFUSED), or the request runs out (EXPIRED)."""
        with self._lock:
            request = self.requests[receipt]
            request.state = state
            request.completed_at = _now()

    def decrypt(self, value: str) -> str:
        raw = base64.b64decode(value)
        return AESGCM(base64.b64decode(self.secret_key)).decrypt(raw[:12], raw[12:], None).decode()

    # The endpoints

    def token(self, headers, body: str) -> dict:
        scheme, _space, credentials = (headers.get("Authorization") or "").partition(" ")
        link_id, _space, signature = credentials.partition(" ")
        target = "POST\n" + _b64_sha256(body) + "\n" + headers.get("x-lh-date", "") + "\n"
        if headers.get("x-lh-forwarded") is not None:
            target += headers["x-lh-forwarded"] + "\n"
        target += headers.get("x-lh-version", "") + "\n/BAROCERT/Token"
        expected = _b64_hmac(self.secret_key, target)
        if scheme != "LINKHUB" or link_id != self.link_id or not hmac.compare_digest(signature, expected):
            raise _Refusal(401, ERROR_UNAUTHORIZED, "인증 정보가 올바르지 않습니다.")
        session_token = secrets.token_hex(16)
        self.tokens.add(session_token)
        # Expired at once, so the SDK asks for a token (and is checked) on every call.
        return {"session_token": session_token, "serviceID": "BAROCERT", "expiration": _now()[:-1] + ".000Z"}

    def check_service_call(self, method: str, path: str, headers, body: str | None) -> None:
        scheme, _space, session_token = (headers.get("Authorization") or "").partition(" ")
        if scheme != "Bearer" or session_token not in self.tokens:
            raise _Refusal(401, ERROR_UNAUTHORIZED, "인증 토큰이 올바르지 않습니다.")
        if method == "POST":
            target = "POST\n" + (_b64_sha256(body) + "\n" if body else "") + headers.get("x-bc-date", "") + "\n"
            target += path + "\n"
            if not hmac.compare_digest(headers.get("x-bc-auth", ""), _b64_hmac(self.secret_key, target)):
                raise _Refusal(401, ERROR_UNAUTHORIZED, "요청 서명이 올바르지 않습니다.")

    def request(self, provider: str, kind: str, client_code: str, body: dict) -> dict:
        missing = REQUIRED[(provider, kind)] - {name for name, value in body.items() if value not in (None, "")}
        if missing:
            raise _Refusal(400, ERROR_BAD_REQUEST, f"필수 항목이 없습니다: {sorted(missing)}")
        try:
            fields = {name: self.decrypt(value) if name in ENCRYPTED else value for name, value in body.items()}
        except (ValueError, TypeError) as error:
            raise _Refusal(400, ERROR_BAD_REQUEST, "암호화된 항목을 풀 수 없습니다.") from error
        receipt = f"{secrets.randbelow(10**32):032d}"
        with self._lock:
            self.requests[receipt] = BarocertRequest(provider, kind, client_code, fields)
        return {"receiptID": receipt, "scheme": None}

    def _found(self, provider: str, kind: str, client_code: str, receipt: str) -> BarocertRequest:
        request = self.requests.get(receipt)
        if request is None or (request.provider, request.kind, request.client_code) != (provider, kind, client_code):
            raise _Refusal(404, ERROR_RECEIPT_NOT_FOUND, "접수아이디를 찾을 수 없습니다.")
        return request

    def status(self, provider: str, kind: str, client_code: str, receipt: str) -> dict:
        request = self._found(provider, kind, client_code, receipt)
        return {
            "receiptID": receipt,
            "clientCode": client_code,
            "state": request.state,
            "requestDT": request.requested_at,
            "completeDT": request.completed_at,
            "expireDT": None,
            "verifyDT": request.verified_at,
        }

    def verify(self, provider: str, kind: str, client_code: str, receipt: str, body: dict) -> dict:
        with self._lock:
            request = self._found(provider, kind, client_code, receipt)
            if request.verified_at is not None:
                raise _Refusal(400, ERROR_ALREADY_VERIFIED, "이미 검증된 요청입니다.")
            if request.state != COMPLETED:
                raise _Refusal(400, ERROR_NOT_COMPLETED, "완료되지 않은 요청입니다.")
            if provider == "PASS":
                given = {name: self.decrypt(body.get(name) or "") for name in ("receiverHP", "receiverName")}
                if given != {name: request.fields[name] for name in given}:
                    raise _Refusal(400, ERROR_RECEIVER_MISMATCH, "수신자 정보가 일치하지 않습니다.")
            request.verified_at = _now()
        fields = request.fields
        person = f"{fields['receiverName']}|{fields.get('receiverBirthday', '')}|{fields['receiverHP']}"
        result = {
            "receiptID": receipt,
            "state": COMPLETED,
            "signedData": base64.b64encode(
                hashlib.sha256(f"{receipt}|{fields.get('token', '')}".encode()).digest()
            ).decode(),
            "ci": base64.b64encode(hashlib.sha512(person.encode()).digest()).decode(),
        }
        if kind == "Identity":
            birthday = fields.get("receiverBirthday", "")
            result |= {
                "receiverName": fields["receiverName"],
                "receiverYear": birthday[:4],
                "receiverDay": birthday[4:],
                "receiverHP": fields["receiverHP"],
            }
        return result


def _handler_for(server: BarocertServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def _answer(self, status: int, payload) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> str:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()

        def _serve(self, method: str) -> None:
            body = self._body() if method == "POST" else None
            path = self.path
            if path == "/Time":
                return self._answer(200, _now())
            try:
                if path == "/BAROCERT/Token":
                    return self._answer(200, server.token(self.headers, body or ""))
                if server.hang is not None:
                    server.hang.wait(timeout=30)
                if server.outage:
                    self.send_response(503)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<html><body>Service Unavailable</body></html>")
                    return None
                server.check_service_call(method, path, self.headers, body)
                return self._answer(200, self._route(method, path, body))
            except _Refusal as refusal:
                return self._answer(refusal.status, {"code": refusal.code, "message": refusal.message})

        def _route(self, method: str, path: str, body: str | None) -> dict:
            for pattern, wanted, action in (
                (REQUEST_PATH, "POST", "request"),
                (STATUS_PATH, "GET", "status"),
                (VERIFY_PATH, "POST", "verify"),
            ):
                match = pattern.match(path)
                if match and method == wanted and match["provider"] in PROVIDERS:
                    parts = match.groupdict()
                    if action == "request":
                        return server.request(parts["provider"], parts["kind"], parts["client"], json.loads(body))
                    if action == "status":
                        return server.status(**_named(parts))
                    return server.verify(**_named(parts), body=json.loads(body) if body else {})
            raise _Refusal(404, ERROR_BAD_REQUEST, "알 수 없는 주소입니다.")

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

    return Handler


def _named(parts: dict) -> dict:
    return {
        "provider": parts["provider"],
        "kind": parts["kind"],
        "client_code": parts["client"],
        "receipt": parts["receipt"],
    }
