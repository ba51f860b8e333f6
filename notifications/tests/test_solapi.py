"""The Solapi adapter against a local server speaking its send endpoint (notifications/tests/solapi_server.py): the
signed request it makes for an SMS, an LMS and a 알림톡 with its fallback; what it does with an acceptance, a refusal
at registration, a 4xx error body, a 429 and a 5xx, a time-out and an answer it cannot read; and the whole path from
the outbox through the task."""

import pytest

from config.tests.test_security import manage, production_env
from core.exceptions import ProviderError
from core.http import provider_session
from notifications.backends import AlimtalkButton, AlimtalkMessage, TextMessage, backend_for
from notifications.backends.solapi import SEND_PATH, SolapiBackend, solapi_authorization
from notifications.models import Notification
from notifications.renderers import renderer
from notifications.services import notification_queue, notification_send
from notifications.tasks import notification_send_task
from notifications.tests.solapi_server import HANG, Answer, accepted_body, solapi_server

pytestmark = pytest.mark.django_db

KEY, SECRET, SENDER, PFID = "NCSTESTKEY", "test-secret-not-real", "0212345678", "KA01PFTEST"
SMS_TEMPLATE, ALIMTALK_TEMPLATE = "tests/solapi/sms", "tests/solapi/alimtalk"


@renderer(SMS_TEMPLATE)
def sms_render(notification: Notification) -> TextMessage:
    return TextMessage(text=notification.context.get("text", "[카카오 장애 소송] 접수되었습니다."), subject="안내")


@renderer(ALIMTALK_TEMPLATE)
def alimtalk_render(notification: Notification) -> AlimtalkMessage:
    return AlimtalkMessage(
        template_code="KA01TP-CLAIM-RECEIVED",
        variables={"신청번호": "K-0001", "건수": 2},
        buttons=(AlimtalkButton(kind="WL", name="신청 보기", url_mobile="https://claims.example.com/c/1"),),
        fallback=TextMessage(text="[카카오 장애 소송] 신청 K-0001 접수"),
    )


@pytest.fixture
def solapi(settings):
    path = "notifications.backends.solapi.SolapiBackend"
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "sms": path, "alimtalk": path}
    settings.SOLAPI_API_KEY, settings.SOLAPI_API_SECRET = KEY, SECRET
    settings.SOLAPI_SENDER, settings.SOLAPI_PFID = SENDER, PFID
    with solapi_server(api_key=KEY, api_secret=SECRET) as server:
        settings.SOLAPI_API_URL = server.url
        yield server


def queue(channel: str, template: str, key: str = "test:1", **context) -> Notification:
    return notification_queue(
        channel=channel, template=template, language="ko", address="010-1234-5678", idempotency_key=key,
        context=context,
    )[0]  # fmt: skip


def test_the_authorization_header_is_the_documented_hmac():
    header = solapi_authorization(api_key="k", api_secret="s", date="2026-12-07T00:00:00+00:00", salt="abc")
    # hmac-sha256("s", "2026-12-07T00:00:00+00:00abc"), computed independently with `openssl dgst -sha256 -hmac s`
    assert header == (
        "HMAC-SHA256 apiKey=k, date=2026-12-07T00:00:00+00:00, salt=abc, "
        "signature=24a9005557eda7a166879d4a6da5ca1cede5c8e9c57e4ebc01b6735709e702be"
    )


def test_an_sms_is_sent_signed_and_its_message_id_recorded(solapi):
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    assert notification_send(notification_id=notification.pk) is True
    [request] = solapi.received
    assert request["path"] == SEND_PATH and request["signed"]
    assert request["json"]["showMessageList"] is True
    assert request["json"]["messages"] == [
        {
            "to": "01012345678",
            "from": SENDER,
            "type": "SMS",
            "text": "[카카오 장애 소송] 접수되었습니다.",
            "customFields": {"notificationId": str(notification.pk)},
        }
    ]
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.provider_message_id.startswith("M4V")
    assert (notification.cost, notification.fell_back) == (0, False)  # known from the delivery report only


def test_a_long_text_goes_as_an_lms_with_its_subject(solapi):
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE, text="가" * 46)
    notification_send(notification_id=notification.pk)
    [message] = solapi.received[0]["json"]["messages"]
    assert (message["type"], message["subject"]) == ("LMS", "안내")


def test_an_alimtalk_names_its_template_variables_buttons_and_fallback_sms(solapi):
    notification = queue(Notification.Channel.ALIMTALK, ALIMTALK_TEMPLATE)
    assert notification_send(notification_id=notification.pk) is True
    [message] = solapi.received[0]["json"]["messages"]
    assert message["type"] == "ATA" and message["from"] == SENDER
    assert message["kakaoOptions"] == {
        "pfId": PFID,
        "templateId": "KA01TP-CLAIM-RECEIVED",
        "variables": {"#{신청번호}": "K-0001", "#{건수}": "2"},
        "disableSms": False,
        "buttons": [{"buttonType": "WL", "buttonName": "신청 보기", "linkMo": "https://claims.example.com/c/1"}],
    }
    assert message["replacements"] == [
        {"to": "01012345678", "from": SENDER, "type": "SMS", "text": "[카카오 장애 소송] 신청 K-0001 접수"}
    ]


def test_a_message_refused_at_registration_fails_at_once(solapi):
    failed = {
        "to": "01012345678",
        "from": SENDER,
        "type": "SMS",
        "statusMessage": "sample refusal mentioning 01012345678",
        "country": "82",
        "messageId": "M4VREFUSED",
        "statusCode": "1062",
        "accountId": "A1",
    }
    solapi.answers.append(Answer(body=accepted_body([{"to": "01012345678"}], failed=[failed])))
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    assert notification_send_task(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and len(solapi.received) == 1
    assert notification.error.startswith("solapi_1062: ") and "01012345678" not in notification.error


def test_an_error_body_is_a_refusal_named_by_its_code(solapi):
    solapi.answers.append(Answer(400, {"errorCode": "ValidationError", "errorMessage": "sample: text is empty"}))
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    with pytest.raises(ProviderError) as raised:
        backend_for("sms").send(notification=notification, message=TextMessage(text="x"))
    assert not raised.value.retryable and raised.value.code == "solapi_ValidationError"


def test_a_429_is_retryable_after_the_wait_solapi_asks_for(solapi):
    solapi.answers.append(
        Answer(429, {"errorCode": "TooManyRequests", "errorMessage": "slow down"}, {"Retry-After": "30"})
    )
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    with pytest.raises(ProviderError) as raised:
        notification_send(notification_id=notification.pk)
    assert raised.value.retryable and raised.value.retry_after == 30 and raised.value.code == "solapi_http_429"
    assert len(solapi.received) == 1  # a POST is not repeated inside the request
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED and notification.address == "01012345678"


def test_a_server_error_is_retried_by_the_task_and_the_message_sent_once(solapi, monkeypatch):
    monkeypatch.setattr(notification_send_task.app.conf, "task_eager_propagates", False)
    solapi.answers += [Answer(503, "<html>maintenance</html>"), Answer(500, {"errorCode": "InternalError"})]
    notification = queue(Notification.Channel.ALIMTALK, ALIMTALK_TEMPLATE)
    notification_send_task.delay(notification.pk)  # inline: the retries run at once, without their backoff
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.attempts == 3
    assert len(solapi.received) == 3


def test_a_time_out_is_retryable(solapi):
    solapi.answers.append(HANG)
    backend = backend_for("sms")
    assert isinstance(backend, SolapiBackend)
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    patient = backend.session
    backend.session = provider_session("solapi", read_timeout=0.5)
    try:
        with pytest.raises(ProviderError) as raised:
            backend.send(notification=notification, message=TextMessage(text="x"))
    finally:
        backend.session = patient
        solapi.release.set()
    assert raised.value.retryable and raised.value.code == "timeout"


def test_an_answer_that_is_not_json_is_a_refusal_not_a_retry(solapi):
    solapi.answers.append(Answer(200, "not json"))
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    with pytest.raises(ProviderError) as raised:
        backend_for("sms").send(notification=notification, message=TextMessage(text="x"))
    assert not raised.value.retryable and raised.value.code == "solapi_bad_response"


def test_production_keeps_sms_off_by_default_and_needs_solapi_s_keys_once_it_is_named():
    solapi_path = "notifications.backends.solapi.SolapiBackend"
    code = "from django.conf import settings as s; b = s.NOTIFICATION_BACKENDS; print(b['sms'], b['alimtalk'])"

    default = manage("shell", "-c", code, env=production_env())
    missing = manage("check", env=production_env(DJANGO_SMS_BACKEND=solapi_path))
    named = manage(
        "shell", "-c", code,
        env=production_env(DJANGO_SMS_BACKEND=solapi_path, SOLAPI_API_KEY=KEY, SOLAPI_API_SECRET=SECRET,
                           SOLAPI_SENDER=SENDER),
    )  # fmt: skip

    unconfigured = "notifications.backends.unconfigured.UnconfiguredMessageBackend"
    assert default.returncode == 0, default.stderr
    assert default.stdout.split()[-2:] == [unconfigured, unconfigured]
    assert missing.returncode != 0 and "SOLAPI_API_KEY" in missing.stderr
    assert named.returncode == 0, named.stderr  # no pfId needed while 알림톡 stays off
    assert named.stdout.split()[-2:] == [solapi_path, unconfigured]
