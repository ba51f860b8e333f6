"""A local HTTP server speaking Solapi's send and message list endpoints, for the adapter's contract tests.

`POST /messages/v4/send-many/detail` answers with the shapes of Solapi's SDKs (solapi/solapi-python:
model/response/send_message_response.py, common_response.py; lib/fetcher.py for the 4xx `errorCode` /
`errorMessage` body): `messageList` for the messages accepted, `failedMessageList` for those refused, and
`groupInfo`. The status codes and messages in the tests are sample values; the adapter keeps only the codes.

Each request is recorded with its JSON body and whether its Authorization header carries a valid signature (HMAC-
SHA256 of date + salt with the secret). Answers are scripted in turn (`answers`); with none left, every message is
accepted. `HANG` holds the answer until the test sets `release` (a client time-out without sleeping).

`GET /messages/v4/list?criteria=messageId&cond=eq&value=<id>` (solapi/documents api-reference/messages/
getmessagelist.md) answers `{"startKey", "limit", "messageList": {<id>: {...}}}` from `reports` (message id ->
`statusCode` and `replacement`); a message without a report is listed with statusCode 2000 (accepted, pending)."""

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SEND_PATH = "/messages/v4/send-many/detail"
LIST_PATH = "/messages/v4/list"
HANG = "hang"
AUTHORIZATION = re.compile(
    r"HMAC-SHA256 apiKey=(?P<key>[^,]+), date=(?P<date>[^,]+), salt=(?P<salt>[^,]+), signature=(?P<signature>\w+)"
)


@dataclass
class Answer:
    status: int = 200
    body: object = None  # None: accept every message
    headers: dict[str, str] = field(default_factory=dict)


def accepted_body(messages: list[dict], failed: list[dict] | None = None) -> dict:
    """Solapi's 200 answer: every message accepted, except those given in `failed` (as failedMessageList items)."""
    failed = failed or []
    failed_numbers = {item["to"] for item in failed}
    accepted = [message for message in messages if message["to"] not in failed_numbers]
    group_id = f"G4V{uuid.uuid4().hex[:20].upper()}"
    return {
        "failedMessageList": failed,
        "groupInfo": {
            "count": {
                "total": len(messages),
                "sentTotal": 0,
                "sentSuccess": 0,
                "sentPending": 0,
                "sentReplacement": 0,
                "refund": 0,
                "registeredFailed": len(failed),
                "registeredSuccess": len(accepted),
            },
            "status": "SENDING",
            "groupId": group_id,
        },
        "messageList": [
            {"messageId": f"M4V{uuid.uuid4().hex[:20].upper()}", "statusCode": "2000", "statusMessage": "정상 접수"}
            for _ in accepted
        ],
    }


class SolapiServer:
    def __init__(self, *, api_key: str, api_secret: str) -> None:
        self.api_key, self.api_secret = api_key, api_secret
        self.answers: list[Answer | str] = []
        self.received: list[dict] = []
        self.reports: dict[str, dict] = {}
        self.release = threading.Event()
        self.url = ""

    def signature_valid(self, header: str) -> bool:
        match = AUTHORIZATION.fullmatch(header or "")
        if not match or match["key"] != self.api_key:
            return False
        expected = hmac.new(
            self.api_secret.encode(), f"{match['date']}{match['salt']}".encode(), hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, match["signature"])

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.received.append(
                    {
                        "path": self.path,
                        "json": body,
                        "signed": server.signature_valid(self.headers.get("Authorization", "")),
                    }
                )
                answer = server.answers.pop(0) if server.answers else Answer()
                if answer == HANG:
                    server.release.wait(timeout=30)
                    answer = Answer()
                if self.path != SEND_PATH:
                    answer = Answer(404, {"errorCode": "NotFound", "errorMessage": "no such resource"})
                payload = answer.body if answer.body is not None else accepted_body(body.get("messages", []))
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                with suppress(BrokenPipeError, ConnectionResetError):  # a client that timed out has left
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                url = urlsplit(self.path)
                query = {name: values[0] for name, values in parse_qs(url.query).items()}
                server.received.append(
                    {
                        "path": url.path,
                        "query": query,
                        "signed": server.signature_valid(self.headers.get("Authorization", "")),
                    }
                )
                answer = server.answers.pop(0) if server.answers else Answer()
                if url.path != LIST_PATH:
                    answer = Answer(404, {"errorCode": "NotFound", "errorMessage": "no such resource"})
                message_id = query.get("value", "")
                report = {"statusCode": "2000", "replacement": False, **server.reports.get(message_id, {})}
                listed = {message_id: {"messageId": message_id, "_id": message_id, "type": "SMS", **report}}
                payload = (
                    answer.body if answer.body is not None else {"startKey": None, "limit": 20, "messageList": listed}
                )
                self.reply(answer, payload)

            def reply(self, answer: Answer, payload) -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
                return

        return Handler


@contextmanager
def solapi_server(*, api_key: str, api_secret: str) -> Iterator[SolapiServer]:
    """A SolapiServer on a free local port, in a thread, for the duration of the block."""
    script = SolapiServer(api_key=api_key, api_secret=api_secret)
    http = ThreadingHTTPServer(("127.0.0.1", 0), script.handler())
    script.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        script.release.set()
        http.shutdown()
        http.server_close()
        thread.join(timeout=10)
