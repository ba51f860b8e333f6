"""JSON logs with a request id that follows a request into the Celery tasks it starts; personal data masked."""

import io
import json
import logging

import pytest
from django.urls import reverse

from claims.models import ClaimEvent
from claims.tasks.notifications import claim_status_email_task
from claims.tests.factories import SubmittedClaimFactory
from config.logging import RequestIdFilter, logging_config, mask_personal_data
from config.request_context import request_id_var
from notifications.models import Notification


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("login failed for kim.minsu@example.co.kr", "login failed for [email]"),
        ("call 010-1234-5678 now", "call [number] now"),
        ("call 010 1234 5678", "call [number]"),
        ("call 01012345678", "call [number]"),
        ("call +82 10-1234-5678", "call [number]"),
        ("office 02-123-4567", "office [number]"),
        ("rrn 900101-1234567", "rrn [number]"),
        ("rrn 9001011234567", "rrn [number]"),
        ("account 110-123-456789", "account [number]"),
        ("business 123-45-67890", "business [number]"),
        ("claim 12345 at 2026-11-23 19:51:10,372", "claim 12345 at 2026-11-23 19:51:10,372"),
        ("amount 1,234,000원 took 0.123456789s", "amount 1,234,000원 took 0.123456789s"),
        ("sha a1234567890b uuid 123e4567-e89b-12d3-a456-426614174000", None),
    ],
)
def test_personal_data_is_masked_and_the_rest_stays_readable(text, masked):
    assert mask_personal_data(text) == (text if masked is None else masked)


def configured_logger(stream: io.StringIO, *, json_format: bool = True) -> logging.Logger:
    config = logging_config(level="INFO", json=json_format)
    formatter_config = dict(config["formatters"]["json" if json_format else "plain"])
    factory = formatter_config.pop("()")
    module, name = factory.rsplit(".", 1)
    formatter = getattr(__import__(module, fromlist=[name]), name)(**formatter_config)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger(f"test.masking.{id(stream)}")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO
    return logger


def test_a_json_line_carries_the_request_id_and_masks_arguments_extras_and_tracebacks():
    stream = io.StringIO()
    logger = configured_logger(stream)
    token = request_id_var.set("req-12345678")
    try:
        try:
            raise ValueError("duplicate key (phone)=(010-9876-5432)")
        except ValueError:
            logger.exception("Signup failed for %s", "lee@example.com", extra={"account": "110-123-456789"})
    finally:
        request_id_var.reset(token)

    line = stream.getvalue().strip()
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert record["request_id"] == "req-12345678"
    assert record["message"] == "Signup failed for [email]"
    assert record["account"] == "[number]"
    assert "(phone)=([number])" in record["exc_info"]
    assert "lee@example.com" not in line and "9876" not in line and "456789" not in line


def test_plain_lines_are_masked_too():
    stream = io.StringIO()
    configured_logger(stream, json_format=False).warning("phone %s", "010-1111-2222")

    assert "[number]" in stream.getvalue() and "1111" not in stream.getvalue()
    assert "[-]" in stream.getvalue()  # no request: the id is a dash


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    first = client.get(reverse("healthz"))
    second = client.get(reverse("healthz"))

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [("lb-7f3a9c2e-0001", True), ("<script>alert(1)</script>", False), ("short", False), ("a" * 200, False)],
)
def test_a_sane_request_id_from_the_proxy_is_kept_and_anything_else_replaced(client, sent, kept):
    response = client.get(reverse("healthz"), headers={"X-Request-ID": sent})

    assert (response["X-Request-ID"] == sent) is kept
    assert len(response["X-Request-ID"]) >= 8


@pytest.mark.django_db
def test_log_records_written_during_a_request_carry_its_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(request_id)s %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no-such-page/", headers={"X-Request-ID": "trace-abcdef12"})
    finally:
        logger.removeHandler(handler)

    assert "trace-abcdef12 Not Found: /no-such-page/" in stream.getvalue()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_request_id_follows_a_task_into_the_worker(celery_worker, wait_until):
    claim = SubmittedClaimFactory()
    event = ClaimEvent.objects.create(claim=claim, actor=claim.claimant, kind=ClaimEvent.Kind.SUBMITTED)
    token = request_id_var.set("submit-5e1f2a3b")
    try:
        claim_status_email_task.delay(claim.pk, event.pk)
    finally:
        request_id_var.reset(token)

    sent = Notification.Status.SENT
    wait_until(lambda: Notification.objects.filter(context__event_id=event.pk, status=sent).exists())

    def lines_with(text):
        lines = celery_worker.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if text in line]

    record = wait_until(lambda: lines_with("Status email queued"), timeout=10)[0]
    assert record["request_id"] == "submit-5e1f2a3b"
    assert record["logger"] == "claims.tasks.notifications"
    # ... and on into the outbox's task, which the first one queued
    record = wait_until(lambda: lines_with("sent (claims/email/status)"), timeout=10)[0]
    assert record["request_id"] == "submit-5e1f2a3b"
    assert record["logger"] == "notifications.services"
