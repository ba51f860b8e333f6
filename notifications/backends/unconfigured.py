"""Production's SMS and 알림톡 backend until a real provider is configured: every message is refused (failed, not
retried) with a message saying so. It is not a sandbox, so production starts; SMS and 알림톡 stay off until
DJANGO_SMS_BACKEND / DJANGO_ALIMTALK_BACKEND name a provider's adapter (docs/providers/messages.md)."""

from django.utils.translation import gettext as _

from core.exceptions import ProviderError
from notifications.backends import BaseBackend, Message, SendResult


class UnconfiguredMessageBackend(BaseBackend):
    provider = "unconfigured"

    def send(self, *, notification, message: Message) -> SendResult:
        raise ProviderError(
            _("문자와 알림톡을 보낼 제공자가 설정되지 않았습니다."),
            retryable=False,
            code="message_provider_unconfigured",
            extra={"channel": notification.channel},
        )
