"""Channel backends for the tests: one that records what it was given, one that fails a set number of times."""

from core.exceptions import ProviderError
from notifications.backends import BaseBackend, RenderedMessage, SendResult


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
