"""The outbox: a message is created once by its key, sent once by its status, retried on transient errors, marked
failed when it cannot be sent, through the backend the setting names; the sweep finds messages whose task was lost."""

from datetime import timedelta
from smtplib import SMTPRecipientsRefused

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from claims.models import ClaimEvent
from claims.services.recovery import status_events_unsent
from claims.tasks.recovery import status_email_sweep_task
from claims.tests.factories import SubmittedClaimFactory
from core.exceptions import ProviderError
from notifications.backends import RenderedMessage
from notifications.models import Notification, address_masked
from notifications.renderers import RENDERERS, renderer
from notifications.services import notification_queue, notification_send
from notifications.tasks import MAX_RETRIES, notification_send_sweep_task, notification_send_task
from notifications.tests.backends import FailingBackend, RecordingBackend

pytestmark = pytest.mark.django_db

TEMPLATE = "tests/hello"


@renderer(TEMPLATE)
def hello_render(notification: Notification) -> RenderedMessage:
    return RenderedMessage(subject=f"hello {notification.context['n']}", body="body")


@pytest.fixture
def failing(settings):
    settings.NOTIFICATION_BACKENDS = {"email": "notifications.tests.backends.FailingBackend"}
    FailingBackend.calls, FailingBackend.failures, FailingBackend.retryable = 0, 0, True
    return FailingBackend


def queue(key: str = "test:1", **overrides) -> tuple[Notification, bool]:
    arguments = {
        "channel": Notification.Channel.EMAIL,
        "template": TEMPLATE,
        "address": "kim@example.com",
        "language": "ko",
        "context": {"n": 1},
        "idempotency_key": key,
        **overrides,
    }
    return notification_queue(**arguments)


def test_a_message_is_created_once_however_often_it_is_asked_for(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first, created = queue()
        again, created_again = queue()
    assert created and not created_again and again.pk == first.pk
    assert len(callbacks) == 1  # one send task queued
    assert Notification.objects.count() == 1
    assert [mail.subject for mail in mailoutbox] == ["hello 1"]


def test_the_email_backend_sends_through_django_and_records_the_result(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification, _ = queue(address="kim@example.com, lee@example.com")
    notification.refresh_from_db()
    assert mailoutbox[0].to == ["kim@example.com", "lee@example.com"]
    assert notification.status == Notification.Status.SENT and notification.sent_at and notification.attempts == 1
    assert notification.provider_message_id == mailoutbox[0].extra_headers["Message-ID"]
    assert notification.cost == 0
    assert notification.address == ""  # kept only until it was delivered


def test_an_smtp_error_is_retryable_and_recorded_without_the_addresses(monkeypatch):
    def refuse(self, messages):
        raise SMTPRecipientsRefused({"kim@example.com": (450, b"mailbox busy")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    notification, _ = queue()
    with pytest.raises(ProviderError) as raised:
        notification_send(notification_id=notification.pk)
    assert raised.value.retryable and raised.value.code == "smtp_failed"
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED
    assert notification.error.startswith("smtp_failed: ") and notification.error.endswith(
        "(error=SMTPRecipientsRefused)"
    )
    assert "kim@" not in notification.error


def test_the_backend_is_the_one_the_setting_names(settings, mailoutbox):
    settings.NOTIFICATION_BACKENDS = {"email": "notifications.tests.backends.RecordingBackend"}
    RecordingBackend.sent = []
    notification, _ = queue()
    assert notification_send(notification_id=notification.pk) is True
    notification.refresh_from_db()
    assert [(to, message.subject) for to, message in RecordingBackend.sent] == [(["kim@example.com"], "hello 1")]
    assert mailoutbox == []
    assert (notification.provider_message_id, notification.cost) == ("rec-1", 9)


def test_a_sent_message_is_not_sent_again(mailoutbox):
    notification, _ = queue()
    assert notification_send(notification_id=notification.pk) is True
    assert notification_send(notification_id=notification.pk) is False
    assert notification_send_task(notification.pk) is False
    assert len(mailoutbox) == 1


def test_a_transient_error_is_retried_and_the_message_sent_once(failing, monkeypatch):
    monkeypatch.setattr(notification_send_task.app.conf, "task_eager_propagates", False)
    failing.failures = 2
    notification, _ = queue()
    notification_send_task.delay(notification.pk)  # inline: the retries run at once, without their backoff
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 3 and failing.calls == 3
    assert notification.error == ""


def test_the_task_marks_the_message_failed_when_its_retries_are_spent(failing, monkeypatch):
    monkeypatch.setattr(notification_send_task.app.conf, "task_eager_propagates", False)
    failing.failures = 99
    notification, _ = queue()
    notification_send_task.delay(notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == failing.calls == MAX_RETRIES + 1


def test_a_transient_error_leaves_the_message_queued_for_the_next_try(failing):
    failing.failures = 1
    notification, _ = queue()
    with pytest.raises(Exception, match="provider unavailable"):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED and notification.attempts == 1
    assert "provider unavailable" in notification.error and notification.address == "kim@example.com"


def test_a_message_that_still_fails_at_the_last_try_is_marked_failed(failing):
    failing.failures = 99
    notification, _ = queue()
    assert notification_send(notification_id=notification.pk, last_attempt=True) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and "provider unavailable" in notification.error
    assert notification_send(notification_id=notification.pk) is False  # failed is final
    assert failing.calls == 1


def test_a_refused_message_fails_at_once_without_retrying(failing):
    failing.failures, failing.retryable = 1, False
    notification, _ = queue()
    assert notification_send_task(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and failing.calls == 1


def test_a_message_whose_records_are_gone_fails(mailoutbox):
    RENDERERS["tests/gone"] = lambda notification: ClaimEvent.objects.get(pk=0)
    notification, _ = queue(template="tests/gone")
    assert notification_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and "DoesNotExist" in notification.error
    assert mailoutbox == []


def test_a_message_without_an_address_fails_instead_of_counting_as_sent(mailoutbox):
    notification, _ = queue(address="")
    assert notification_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.error.startswith("no_address: ")
    assert mailoutbox == []


def test_the_sweep_sends_a_message_whose_task_was_lost_once(mailoutbox):
    lost, _ = queue(key="test:lost")  # its task was never run (no commit in this test)
    recent, _ = queue(key="test:recent")
    Notification.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    assert notification_send_sweep_task.delay().get() == 1
    assert notification_send_sweep_task.delay().get() == 0
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=recent.pk).status == Notification.Status.QUEUED


def test_a_status_email_is_sent_exactly_once_by_both_sweeps(mailoutbox):
    claim = SubmittedClaimFactory()
    event = ClaimEvent.objects.create(
        claim=claim, kind=ClaimEvent.Kind.SUBMITTED, created_at=timezone.now() - timedelta(minutes=30)
    )
    assert status_events_unsent() == [(claim.pk, event.pk)]
    assert status_email_sweep_task.delay().get() == 1  # the message is created; its own task is lost here
    assert status_email_sweep_task.delay().get() == 0  # the outbox has it: not created again
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=30))
    assert notification_send_sweep_task.delay().get() == 1
    assert notification_send_sweep_task.delay().get() == 0
    assert [mail.to for mail in mailoutbox] == [[claim.claimant.email]]
    assert Notification.objects.get().context == {"claim_id": claim.pk, "event_id": event.pk}  # ids only


def test_addresses_are_masked_for_the_admin():
    assert address_masked("kim@example.com, lee@example.org") == "k***@example.com, l***@example.org"
    assert address_masked("") == ""


def test_the_user_s_email_is_the_default_address():
    user = UserFactory()
    notification, _ = queue(address="", user=user)
    assert notification.address == user.email and notification.user == user
