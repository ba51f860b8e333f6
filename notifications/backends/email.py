"""Email through Django's EMAIL_BACKEND (SMTP in production, locmem in tests), from DEFAULT_FROM_EMAIL."""

from smtplib import SMTPException

from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.utils.translation import gettext as _

from core.exceptions import ProviderError
from notifications.backends import BaseBackend, RenderedMessage, SendResult


class DjangoEmailBackend(BaseBackend):
    def send(self, *, notification, message: RenderedMessage) -> SendResult:
        message_id = make_msgid(domain=DNS_NAME)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            to=notification.addresses,
            headers={"Message-ID": message_id},
        )
        try:
            email.send()
        except (SMTPException, ConnectionError, TimeoutError) as error:
            # The exception's text can hold the addresses (SMTPRecipientsRefused): keep its kind and code only.
            details = {"error": type(error).__name__}
            if getattr(error, "smtp_code", None):
                details["smtp_code"] = error.smtp_code
            raise ProviderError(
                _("메일 서버가 메시지를 받지 못했습니다."), retryable=True, code="smtp_failed", extra=details
            ) from error
        return SendResult(provider_message_id=message_id, cost=0)
