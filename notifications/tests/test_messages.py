"""SMS and 알림톡 through the outbox: queued by notification_queue, sent by the task through the backend the setting
names (locmem in the tests), retried on a provider fault, failed on a refusal, a 알림톡's fallback to SMS recorded;
the console and file backends, and production's backend until a provider is configured."""

import json

import pytest

from accounts.tests.factories import UserFactory
from core.checks import provider_backends_check
from core.exceptions import InvalidInputError
from notifications.backends import AlimtalkButton, AlimtalkMessage, RenderedMessage, TextMessage
from notifications.backends.local import LocalMessage
from notifications.models import Notification
from notifications.renderers import renderer
from notifications.services import notification_queue, notification_send
from notifications.tasks import notification_send_task
from notifications.tests.backends import FlakyMessageBackend

pytestmark = pytest.mark.django_db

SMS_TEMPLATE = "tests/sms/hello"
ALIMTALK_TEMPLATE = "tests/alimtalk/hello"
LOCAL = "notifications.backends.local"


@renderer(SMS_TEMPLATE)
def sms_hello_render(notification: Notification) -> TextMessage:
    return TextMessage(
        text=notification.context.get("text", "[카카오 장애 소송] 신청이 접수되었습니다."), subject="안내"
    )


@renderer(ALIMTALK_TEMPLATE)
def alimtalk_hello_render(notification: Notification) -> AlimtalkMessage:
    return AlimtalkMessage(
        template_code="CLAIM_RECEIVED_V1",
        variables={"신청번호": "K-0001"},
        buttons=(AlimtalkButton(kind="WL", name="신청 보기", url_mobile="https://claims.example.com/c/1"),),
        fallback=TextMessage(text="[카카오 장애 소송] 신청 K-0001이 접수되었습니다."),
    )


@renderer("tests/sms/wrong")
def sms_wrong_render(notification: Notification) -> RenderedMessage:
    return RenderedMessage(subject="an email", body="for an SMS channel")


def queue(channel: str, template: str, address: str = "010-1234-5678", key: str = "test:1", **context):
    return notification_queue(
        channel=channel, template=template, language="ko", address=address, idempotency_key=key, context=context
    )


@pytest.fixture
def flaky(settings):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "sms": "notifications.tests.backends.FlakyMessageBackend",
        "alimtalk": "notifications.tests.backends.FlakyMessageBackend",
    }
    FlakyMessageBackend.calls, FlakyMessageBackend.failures, FlakyMessageBackend.retryable = 0, 0, True
    return FlakyMessageBackend


def test_an_sms_goes_from_the_queue_through_the_task_to_the_backend(message_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification, created = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    notification.refresh_from_db()
    assert created and notification.status == Notification.Status.SENT and notification.attempts == 1
    [sent] = message_outbox
    assert (sent.channel, sent.to, sent.kind) == ("sms", ("01012345678",), "SMS")
    assert sent.text == "[카카오 장애 소송] 신청이 접수되었습니다." and sent.subject == ""  # a subject is for LMS only
    assert notification.provider_message_id == sent.message_id and notification.cost == 0
    assert not notification.fell_back and notification.address == ""


def test_a_long_text_goes_as_an_lms_with_its_subject(message_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(Notification.Channel.SMS, SMS_TEMPLATE, text="가" * 46)
    assert [(sent.kind, sent.subject) for sent in message_outbox] == [("LMS", "안내")]


def test_an_alimtalk_is_delivered_with_its_template_variables_and_buttons(
    message_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification, _ = queue(Notification.Channel.ALIMTALK, ALIMTALK_TEMPLATE)
    notification.refresh_from_db()
    [sent] = message_outbox
    assert (sent.channel, sent.kind, sent.template_code) == ("alimtalk", "ALIMTALK", "CLAIM_RECEIVED_V1")
    assert sent.variables == {"신청번호": "K-0001"} and sent.text == ""
    assert sent.buttons == (
        {"kind": "WL", "name": "신청 보기", "url_mobile": "https://claims.example.com/c/1", "url_pc": ""},
    )
    assert notification.status == Notification.Status.SENT and not notification.fell_back


def test_an_alimtalk_to_a_phone_without_kakaotalk_falls_back_to_its_sms_and_says_so(
    message_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification, _ = queue(Notification.Channel.ALIMTALK, ALIMTALK_TEMPLATE, address="010-9999-0000")
    notification.refresh_from_db()
    [sent] = message_outbox
    assert (sent.kind, sent.fell_back, sent.template_code) == ("SMS", True, "CLAIM_RECEIVED_V1")
    assert sent.text == "[카카오 장애 소송] 신청 K-0001이 접수되었습니다."
    assert notification.status == Notification.Status.SENT and notification.fell_back


def test_a_provider_fault_is_retried_and_the_message_sent_once(flaky, message_outbox, monkeypatch):
    monkeypatch.setattr(notification_send_task.app.conf, "task_eager_propagates", False)
    flaky.failures = 2
    notification, _ = queue(Notification.Channel.ALIMTALK, ALIMTALK_TEMPLATE)
    notification_send_task.delay(notification.pk)  # inline: the retries run at once, without their backoff
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.attempts == flaky.calls == 3
    assert notification.error == "" and len(message_outbox) == 1


def test_a_provider_refusal_fails_the_message_at_once(flaky, message_outbox):
    flaky.failures, flaky.retryable = 1, False
    notification, _ = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    assert notification_send_task(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and flaky.calls == 1
    assert notification.error == "test_failure: provider unavailable" and notification.address == ""
    assert message_outbox == []


def test_a_text_longer_than_an_lms_is_refused_and_not_retried(message_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification, _ = queue(Notification.Channel.SMS, SMS_TEMPLATE, text="가" * 1001)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 1
    assert notification.error.startswith("message_too_long: ") and message_outbox == []


def test_a_renderer_giving_another_channel_s_message_fails_it(message_outbox):
    notification, _ = queue(Notification.Channel.SMS, "tests/sms/wrong")
    assert notification_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and "not TextMessage" in notification.error
    assert message_outbox == []


def test_the_phone_number_is_normalised_when_queued_and_defaults_to_the_user_s():
    user = UserFactory(phone="010-2222-3333")
    given, _ = queue(Notification.Channel.SMS, SMS_TEMPLATE, address="+82 10 4444 5555", key="test:given")
    default = notification_queue(
        channel=Notification.Channel.ALIMTALK,
        template=ALIMTALK_TEMPLATE,
        language="ko",
        user=user,
        idempotency_key="test:default",
    )[0]
    assert (given.address, default.address) == ("01044445555", "01022223333")


def test_a_number_that_is_not_a_mobile_number_is_refused_when_queued():
    with pytest.raises(InvalidInputError):
        queue(Notification.Channel.SMS, SMS_TEMPLATE, address="02-123-4567")
    assert not Notification.objects.exists()


def test_the_console_backend_prints_a_readable_message(settings, capsys):
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "alimtalk": f"{LOCAL}.ConsoleMessageBackend"}
    notification, _ = queue(Notification.Channel.ALIMTALK, ALIMTALK_TEMPLATE)
    assert notification_send(notification_id=notification.pk) is True
    printed = capsys.readouterr().out
    assert "ALIMTALK (alimtalk) to 01012345678" in printed and "template: CLAIM_RECEIVED_V1" in printed
    assert "#{신청번호} = K-0001" in printed and "[신청 보기] https://claims.example.com/c/1" in printed


def test_the_file_backend_writes_one_json_file_per_message(settings, tmp_path):
    settings.NOTIFICATION_MESSAGE_FILE_PATH = tmp_path / "messages"
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "sms": f"{LOCAL}.FileMessageBackend"}
    for key in ("test:1", "test:2"):
        notification, _ = queue(Notification.Channel.SMS, SMS_TEMPLATE, key=key)
        assert notification_send(notification_id=notification.pk) is True
    files = sorted((tmp_path / "messages").iterdir())
    assert len(files) == 2
    written = LocalMessage(**json.loads(files[0].read_text(encoding="utf-8")))
    assert (written.kind, written.text) == ("SMS", "[카카오 장애 소송] 신청이 접수되었습니다.")


def test_production_s_backend_refuses_every_message_until_a_provider_is_configured(settings):
    unconfigured = "notifications.backends.unconfigured.UnconfiguredMessageBackend"
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "sms": unconfigured}
    notification, _ = queue(Notification.Channel.SMS, SMS_TEMPLATE)
    assert notification_send_task(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 1
    assert notification.error == (
        "message_provider_unconfigured: 문자와 알림톡을 보낼 제공자가 설정되지 않았습니다. (channel=sms)"
    )


def test_the_production_check_refuses_the_local_backends_but_not_the_unconfigured_one(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = False
    settings.NOTIFICATION_BACKENDS = {
        "email": settings.NOTIFICATION_BACKENDS["email"],
        "sms": f"{LOCAL}.ConsoleMessageBackend",
        "alimtalk": "notifications.backends.unconfigured.UnconfiguredMessageBackend",
    }
    errors = [error for error in provider_backends_check(None) if "NOTIFICATION_BACKENDS" in error.msg]
    assert [(error.id, "['sms']" in error.msg) for error in errors] == [("core.E002", True)]
