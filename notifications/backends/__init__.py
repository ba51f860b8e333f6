"""Channel backends, chosen by settings.NOTIFICATION_BACKENDS ({"email": "notifications.backends.email.
DjangoEmailBackend"}) like EMAIL_BACKEND: each sends one rendered message and reports the provider's id and cost."""

from dataclasses import dataclass

from core.backends import ProviderBackend, backend_from_setting


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str = ""
    cost: int = 0  # whole won


class NotificationSendError(Exception):
    """A message the backend could not send; `retryable` when trying again later may work (a provider or network
    fault), not when the message itself is refused."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class BaseBackend(ProviderBackend):
    """Send `message` to `notification.addresses`; raise NotificationSendError on failure."""

    def send(self, *, notification, message: RenderedMessage) -> SendResult:
        raise NotImplementedError


def backend_for(channel: str) -> BaseBackend:
    return backend_from_setting("NOTIFICATION_BACKENDS", channel)
