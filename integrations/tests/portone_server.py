"""A local HTTP server speaking the PortOne V2 endpoints the adapter uses (integrations/payments/portone.py), with the
documented bodies: `GET /payments/{paymentId}` answers a payment object or `{"type": "PAYMENT_NOT_FOUND", ...}`;
`POST /payments/{paymentId}/cancel` answers `{"cancellation": {...}}` or the documented refusals (409
CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT, PAYMENT_NOT_PAID, PAYMENT_ALREADY_CANCELLED), replays the first answer for
a repeated Idempotency-Key, and refuses another API secret (401 UNAUTHORIZED).

A test can also make it answer the next requests with a status of its choosing (`fail_next`) or hold them until
released (`hang`), to play a gateway that is down or does not answer."""

import json
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

API_SECRET = "portone-test-api-secret"
STORE_ID = "store-4f7e1a2b-0000-4000-8000-000000000001"
HANG_LIMIT_SECONDS = 30


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class PortOneState:
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[int, dict[str, Any] | None]] = field(default_factory=list)
    hang: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def paid_payment(payment_id: str, *, total: int, method_type: str = "PaymentMethodCard") -> dict[str, Any]:
    """A PAID payment as `GET /payments/{paymentId}` returns it (the fields the adapter reads and their neighbours)."""
    now = _now()
    return {
        "status": "PAID",
        "id": payment_id,
        "transactionId": str(uuid.uuid4()),
        "merchantId": "merchant-4f7e1a2b",
        "storeId": STORE_ID,
        "method": {"type": method_type},
        "channel": {
            "type": "TEST",
            "id": "channel-id",
            "key": "channel-key",
            "name": "test",
            "pgProvider": "TOSSPAYMENTS",
            "pgMerchantId": "tosstest",
        },
        "version": "V2",
        "requestedAt": now,
        "updatedAt": now,
        "statusChangedAt": now,
        "orderName": "착수금",
        "amount": {
            "total": total,
            "taxFree": 0,
            "vat": total // 11,
            "supply": total - total // 11,
            "discount": 0,
            "paid": total,
            "cancelled": 0,
            "cancelledTaxFree": 0,
        },
        "currency": "KRW",
        "customer": {},
        "isCulturalExpense": False,
        "paidAt": now,
        "pgTxId": "pg-tx-0001",
        "receiptUrl": f"https://receipt.example/{payment_id}",
        "cancellations": [],
    }


class PortOneHandler(BaseHTTPRequestHandler):
    server: "PortOneServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: the tests read `state.received` instead."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with state.lock:
            state.received.append(Received(self.command, parts.path, parts.query, dict(self.headers.items()), body))
            failure = state.failures.pop(0) if state.failures else None
        if state.hang is not None:
            state.hang.wait(HANG_LIMIT_SECONDS)
            return self._answer(503, {"type": "TIMED_OUT"})
        if failure is not None:
            return self._answer(*failure)
        if self.headers.get("Authorization") != f"PortOne {API_SECRET}":
            return self._answer(401, {"type": "UNAUTHORIZED", "message": "인증 정보가 올바르지 않습니다."})
        segments = [unquote(segment) for segment in parts.path.strip("/").split("/")]
        if self.command == "GET" and len(segments) == 2 and segments[0] == "payments":
            return self._payment_get(segments[1])
        if self.command == "POST" and len(segments) == 3 and segments[0] == "payments" and segments[2] == "cancel":
            return self._payment_cancel(segments[1], body or {})
        return self._answer(404, {"type": "NOT_FOUND"})

    def _payment_get(self, payment_id: str) -> None:
        payment = self.server.state.payments.get(payment_id)
        if payment is None:
            return self._answer(404, {"type": "PAYMENT_NOT_FOUND", "message": "결제 건이 존재하지 않습니다."})
        return self._answer(200, payment)

    def _payment_cancel(self, payment_id: str, request: dict[str, Any]) -> None:
        state = self.server.state
        key = self.headers.get("Idempotency-Key")
        with state.lock:
            if key and key in state.idempotent:
                return self._answer(*state.idempotent[key])
            status, answer = self._cancel(payment_id, request)
            if key and status == 200:
                state.idempotent[key] = (status, answer)
        return self._answer(status, answer)

    def _cancel(self, payment_id: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        payment = self.server.state.payments.get(payment_id)
        if payment is None:
            return 404, {"type": "PAYMENT_NOT_FOUND", "message": "결제 건이 존재하지 않습니다."}
        if payment["status"] == "CANCELLED":
            return 409, {"type": "PAYMENT_ALREADY_CANCELLED", "message": "이미 취소된 결제 건입니다."}
        if payment["status"] not in ("PAID", "PARTIAL_CANCELLED"):
            return 409, {"type": "PAYMENT_NOT_PAID", "message": "결제가 완료되지 않았습니다."}
        amount = payment["amount"]
        cancellable = amount["total"] - amount["cancelled"]
        wanted = request.get("amount", cancellable)
        if wanted > cancellable:
            message = "결제 취소 금액이 취소 가능 금액을 초과했습니다."
            return 409, {"type": "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT", "message": message}
        now = _now()
        cancellation = {
            "status": "SUCCEEDED",
            "id": f"cancellation-{uuid.uuid4().hex[:12]}",
            "pgCancellationId": "pg-cancel-0001",
            "totalAmount": wanted,
            "taxFreeAmount": 0,
            "vatAmount": wanted // 11,
            "reason": request["reason"],
            "cancelledAt": now,
            "requestedAt": now,
        }
        amount["cancelled"] += wanted
        payment["status"] = "CANCELLED" if amount["cancelled"] == amount["total"] else "PARTIAL_CANCELLED"
        payment["cancellations"].append(cancellation)
        return 200, {"cancellation": cancellation}

    def _answer(self, status: int, body: dict[str, Any] | None) -> None:
        data = json.dumps(body).encode() if body is not None else b"<html>Bad Gateway</html>"
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if body is not None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class PortOneServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), PortOneHandler)
        self.state = PortOneState()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (the adapter's time-out) closes its end before the held answer is written."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "PortOneServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.state.hang is not None:
            self.state.hang.set()
        self.shutdown()
        self.server_close()

    def fail_next(self, status: int, body: dict[str, Any] | None = None, *, times: int = 1) -> None:
        self.state.failures.extend([(status, body)] * times)
