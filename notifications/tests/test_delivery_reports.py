"""Delivery tracking: a sent SMS or 알림톡 becomes delivered, fell back (to SMS) or failed from the provider's report;
Solapi's reports are polled from its message list endpoint (contract tests against the local server), the local
backends report at once, email has no reports, and a provider that cannot answer leaves the messages sent."""

import pytest

from core.exceptions import ProviderError
from notifications.backends.solapi import LIST_PATH
from notifications.models import Notification
from notifications.services import notification_queue, notification_reports_update, notification_send
from notifications.tasks import notification_reports_task
from notifications.tests.solapi_server import Answer
from notifications.tests.test_solapi import SMS_TEMPLATE, queue, solapi  # noqa: F401 - the fixture
from notifications.tests.test_templates import VARIABLES

pytestmark = pytest.mark.django_db


def _sent(key: str = "test:1") -> Notification:
    notification = queue(Notification.Channel.SMS, SMS_TEMPLATE, key=key)
    notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    return notification


def test_a_received_message_is_delivered_and_the_report_request_is_signed(solapi):  # noqa: F811
    notification = _sent()
    solapi.reports[notification.provider_message_id] = {"statusCode": "4000"}
    assert notification_reports_update(notification_ids=[notification.pk]) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.report_code) == (Notification.Status.DELIVERED, "4000")
    assert notification.reported_at is not None
    request = solapi.received[-1]
    assert request["path"] == LIST_PATH and request["signed"]
    assert request["query"] == {"criteria": "messageId", "cond": "eq", "value": notification.provider_message_id}


def test_a_message_that_arrived_as_its_replacement_sms_fell_back(solapi):  # noqa: F811
    notification = _sent()
    solapi.reports[notification.provider_message_id] = {"statusCode": "4000", "replacement": True}
    notification_reports_update(notification_ids=[notification.pk])
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FELL_BACK and notification.fell_back


@pytest.mark.parametrize("code", ["3043", "3059", "2230"])
def test_a_carrier_or_gateway_failure_code_fails_the_message(solapi, code):  # noqa: F811
    notification = _sent()
    solapi.reports[notification.provider_message_id] = {"statusCode": code}
    notification_reports_update(notification_ids=[notification.pk])
    notification.refresh_from_db()
    assert (notification.status, notification.report_code) == (Notification.Status.FAILED, code)


@pytest.mark.parametrize("code", ["2000", "3000"])
def test_a_message_accepted_but_not_yet_received_stays_sent(solapi, code):  # noqa: F811
    notification = _sent()
    solapi.reports[notification.provider_message_id] = {"statusCode": code}
    assert notification_reports_update(notification_ids=[notification.pk]) == 0
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.reported_at is None


def test_a_provider_that_cannot_answer_leaves_the_messages_sent_for_the_next_run(solapi):  # noqa: F811
    first, second = _sent("test:1"), _sent("test:2")
    solapi.answers.append(Answer(429, {"errorCode": "TooManyRequests"}, {"Retry-After": "1"}))
    assert notification_reports_task.delay().get() == 0
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 2
    solapi.reports[first.provider_message_id] = {"statusCode": "4000"}
    solapi.reports[second.provider_message_id] = {"statusCode": "4000"}
    assert notification_reports_task.delay().get() == 2
    assert notification_reports_task.delay().get() == 0  # final: not asked again


def test_local_backends_report_at_once_and_email_has_no_report(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sms = notification_queue(
            channel="sms", template="notifications/message", language="ko", address="01012345678",
            idempotency_key="t:sms", context={"message_template_id": _template_id(), "variables": VARIABLES},
        )[0]  # fmt: skip
        fallback = notification_queue(
            channel="alimtalk", template="notifications/message", language="ko", address="01055550000",
            idempotency_key="t:alimtalk", context={"message_template_id": _template_id(), "variables": VARIABLES},
        )[0]  # fmt: skip
        email = notification_queue(
            channel="email", template="notifications/message", language="ko", address="kim@example.com",
            idempotency_key="t:email", context={"message_template_id": _template_id(), "variables": VARIABLES},
        )[0]  # fmt: skip
    assert notification_reports_task.delay().get() == 2
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {sms.pk: "delivered", fallback.pk: "fell_back", email.pk: "sent"}


def _template_id() -> int:
    from notifications.messages import message_template_current

    return message_template_current(kind="claim_received").pk


def test_a_refused_report_request_is_an_error_named_by_its_code_and_the_message_stays_sent(solapi):  # noqa: F811
    notification = _sent()
    solapi.answers.append(Answer(403, {"errorCode": "Forbidden", "errorMessage": "not your message"}))
    with pytest.raises(ProviderError) as raised:
        notification_reports_update(notification_ids=[notification.pk])
    assert (raised.value.code, raised.value.retryable) == ("solapi_Forbidden", False)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
