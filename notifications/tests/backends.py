"""Channel backends for the tests: one that records what it was given, ones that fail a set number of times."""

from core.exceptions import ProviderError
from notifications.backends import BaseBackend, Message, RenderedMessage, SendResult
from notifications.backends.local import LocmemMessageBackend


class RecordingBackend(BaseBackend):
    sent: list[tuple[list[str], RenderedMessage]] = []

    def send(self, *, notification, message: RenderedMessage) -> SendResult:
        self.sent.append((notification.addresses, message))
        return SendResult(provider_message_id=f"rec-{len(self.sent)}", cost=9)


class FailingBackend(BaseBackend):
    """Fails `failures` times (retryable or not), then sends like RecordingBackend."""

    failures = 0
    retryable = True
    calls = 0

    def send(self, *, notification, message: RenderedMessage) -> SendResult:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise ProviderError("provider unavailable", retryable=type(self).retryable, code="test_failure")
        return SendResult(provider_message_id="ok", cost=0)


class FlakyMessageBackend(LocmemMessageBackend):
    """The locmem SMS and 알림톡 backend behind a provider that fails `failures` times (retryable or not) first."""

    failures = 0
    retryable = True
    calls = 0

    def send(self, *, notification, message: Message) -> SendResult:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise ProviderError("provider unavailable", retryable=type(self).retryable, code="test_failure")
        return super().send(notification=notification, message=message)
