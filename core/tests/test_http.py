"""The outgoing session against a real local HTTP server in a thread (and a socket that never answers)."""

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.request_context import request_id_var
from core.exceptions import ProviderError
from core.http import provider_session, retry_after_seconds


class Provider:
    """A scripted provider: answers the queued (status, headers) in turn, then 200; records what it received."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.received: list[dict] = []


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    script = Provider()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.received.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            status, headers = script.answers.pop(0) if script.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "11")
            self.end_headers()
            self.wfile.write(b'{"ok": true}'[:11])

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield script, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def session():
    return provider_session("test", backoff_factor=0, read_timeout=5)


def test_a_request_carries_the_current_request_id(provider, session):
    script, url = provider
    token = request_id_var.set("req-0123456789")
    try:
        response = session.get(f"{url}/status")
    finally:
        request_id_var.reset(token)
    assert response.status_code == 200
    assert script.received[0]["headers"]["X-Request-ID"] == "req-0123456789"


def test_without_a_request_id_none_is_sent(provider, session):
    script, url = provider
    session.get(url)
    assert "X-Request-ID" not in script.received[0]["headers"]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_an_idempotent_request_is_retried_on_a_passing_failure(provider, session, status):
    script, url = provider
    script.answers = [(status, {}), (status, {})]
    assert session.get(url).status_code == 200
    assert len(script.received) == 3


def test_retries_are_limited_and_the_last_failure_is_a_retryable_provider_error(provider, session):
    script, url = provider
    script.answers = [(503, {})] * 5
    with pytest.raises(ProviderError) as raised:
        session.get(url)
    assert (raised.value.retryable, raised.value.code, raised.value.status_code) == (True, "http_503", 503)
    assert raised.value.extra == {"provider": "test"}
    assert len(script.received) == 3  # the first try and two retries


def test_a_post_is_not_repeated_but_its_passing_failure_is_retryable(provider, session):
    script, url = provider
    script.answers = [(503, {})]
    with pytest.raises(ProviderError) as raised:
        session.post(url, json={"a": 1})
    assert raised.value.retryable
    assert len(script.received) == 1


def test_a_short_retry_after_is_waited_for(provider, session):
    script, url = provider
    script.answers = [(429, {"Retry-After": "0"})]
    assert session.get(url).status_code == 200
    assert len(script.received) == 2


def test_a_long_retry_after_is_handed_to_the_caller_instead_of_waited_for(provider, session):
    script, url = provider
    script.answers = [(429, {"Retry-After": "120"})]
    with pytest.raises(ProviderError) as raised:
        session.get(url)
    assert (raised.value.retryable, raised.value.retry_after) == (True, 120)
    assert len(script.received) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_a_refusal_is_a_provider_error_that_is_not_retryable(provider, session, status):
    script, url = provider
    script.answers = [(status, {})]
    with pytest.raises(ProviderError) as raised:
        session.get(url)
    assert (raised.value.retryable, raised.value.code) == (False, f"http_{status}")
    assert len(script.received) == 1


def test_a_refusal_can_be_read_by_the_adapter_itself(provider, session):
    script, url = provider
    script.answers = [(404, {})]
    assert session.get(url, raise_for_status=False).status_code == 404


def test_a_provider_that_never_answers_is_a_retryable_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # connections are accepted by the kernel, and nothing is ever read or written
    try:
        session = provider_session("silent", read_timeout=0.2, retries=1, backoff_factor=0)
        with pytest.raises(ProviderError) as raised:
            session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    finally:
        listener.close()
    assert (raised.value.retryable, raised.value.code) == (True, "timeout")


def test_a_provider_that_is_down_is_retryable():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now: connection refused
    with pytest.raises(ProviderError) as raised:
        provider_session("down", retries=1, backoff_factor=0).get(f"http://127.0.0.1:{port}/")
    assert (raised.value.retryable, raised.value.code) == (True, "unreachable")


def test_personal_data_in_the_query_or_body_is_not_logged(provider, session, caplog):
    script, url = provider
    script.answers = [(404, {})]
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError):
        session.post(f"{url}/people?phone=01012345678", json={"name": "홍길동"})
    assert "01012345678" not in caplog.text
    assert "홍길동" not in caplog.text
    assert "test POST 127.0.0.1: 404" in caplog.text


def test_retry_after_is_read_as_seconds_or_a_date():
    assert retry_after_seconds("30") == 30
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
