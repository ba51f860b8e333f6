"""Fault test with a real Celery worker: the SMS provider is down (Solapi answers 503), so the message stays queued
and the worker's task retries it after the provider's Retry-After; once the provider is back it is sent exactly once.
A bulk message's chunk meets the same outage: its messages stay queued and the sweep sends each of them once."""

import pytest

from accounts.tests.factories import ClaimantFactory
from notifications.models import Notification
from notifications.services import notification_queue
from notifications.tasks import notification_send_sweep_task
from notifications.tests.factories import message_templates_published
from notifications.tests.solapi_server import Answer, solapi_server
from notifications.tests.test_solapi import KEY, PFID, SECRET, SENDER

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _templates():
    message_templates_published()


DOWN = Answer(503, {"errorCode": "ServiceUnavailable"}, {"Retry-After": "1"})


def _worker_env(url: str) -> dict[str, str]:
    return {
        "DJANGO_SMS_BACKEND": "notifications.backends.solapi.SolapiBackend",
        "SOLAPI_API_URL": url,
        "SOLAPI_API_KEY": KEY,
        "SOLAPI_API_SECRET": SECRET,
        "SOLAPI_SENDER": SENDER,
        "SOLAPI_PFID": PFID,
    }


def test_a_message_queued_while_the_provider_is_down_is_retried_and_sent_once(celery_worker_factory, wait_until):
    claimant = ClaimantFactory()
    with solapi_server(api_key=KEY, api_secret=SECRET) as solapi:
        solapi.answers += [DOWN, DOWN]
        celery_worker_factory(**_worker_env(solapi.url))
        notification, _created = notification_queue(
            channel="sms",
            template="notifications/message",
            language="ko",
            user=claimant,
            address="01012345678",
            context={"message_template_id": _notice_template_id(), "variables": {"message": "변론기일 안내"}},
            idempotency_key="fault:1",
        )
        wait_until(lambda: Notification.objects.get(pk=notification.pk).status == Notification.Status.SENT, timeout=60)
        posts = [request for request in solapi.received if request["path"].endswith("/send-many/detail")]
        assert len(posts) == 3  # twice refused with 503, then accepted
        assert all(post["json"]["messages"][0]["text"] == "[카카오 장애 공동소송] 변론기일 안내" for post in posts)
    notification.refresh_from_db()
    assert notification.attempts == 3 and notification.provider_message_id.startswith("M4V")
    assert "," not in notification.provider_message_id  # one message accepted, never two


def test_a_bulk_chunk_during_an_outage_leaves_its_messages_queued_and_the_sweep_sends_each_once(
    celery_worker_factory, wait_until
):
    from notifications.tasks import notification_send_chunk_task

    claimants = [ClaimantFactory() for _ in range(3)]
    with solapi_server(api_key=KEY, api_secret=SECRET) as solapi:
        solapi.answers += [DOWN, DOWN, DOWN]
        celery_worker_factory(**_worker_env(solapi.url))
        ids = [
            Notification.objects.create(
                channel="sms",
                template="notifications/message",
                language="ko",
                user=claimant,
                address=claimant.phone,
                context={"message_template_id": _notice_template_id(), "variables": {"message": "안내"}},
                idempotency_key=f"fault-bulk:{claimant.pk}",
            ).pk
            for claimant in claimants
        ]
        assert notification_send_chunk_task.delay(ids).get(timeout=60) == 0
        assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"queued"}
        Notification.objects.filter(pk__in=ids).update(created_at=_minutes_ago(6))
        assert notification_send_sweep_task.delay().get(timeout=60) == 3
        wait_until(lambda: Notification.objects.filter(pk__in=ids, status="sent").count() == 3, timeout=60)
        posts = [request for request in solapi.received if request["path"].endswith("/send-many/detail")]
        assert len(posts) == 6  # three refused during the outage, three accepted after it
        assert sorted(post["json"]["messages"][0]["to"] for post in posts[3:]) == sorted(c.phone for c in claimants)


def _minutes_ago(minutes: int):
    import datetime as dt

    from django.utils import timezone

    return timezone.now() - dt.timedelta(minutes=minutes)


def _notice_template_id() -> int:
    from notifications.messages import message_template_current

    return message_template_current(kind="notice").pk
