"""One row per message (email, SMS, 알림톡): what to render, for whom, and what became of it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.phones import phone_number_masked


class Notification(models.Model):
    """A message in the outbox. `idempotency_key` names the message ("claim-status:<event id>:<user id>"), so it is
    created once however often it is asked for; `context` holds ids only (claim, event...), never personal data:
    the message is rendered from them when it is sent. `address` is kept for delivery (masked in the admin and
    never logged): email addresses, or a mobile number 010XXXXXXXX for SMS and 알림톡."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("이메일")
        SMS = "sms", _("문자(SMS)")
        ALIMTALK = "alimtalk", _("알림톡")

    class Status(models.TextChoices):
        QUEUED = "queued", _("대기")
        SENDING = "sending", _("보내는 중")
        SENT = "sent", _("보냄")
        FAILED = "failed", _("실패")

    channel = models.CharField(_("채널"), max_length=20, choices=Channel.choices)
    template = models.CharField(_("템플릿"), max_length=200)
    language = models.CharField(_("언어"), max_length=10)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("받는 사람"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    address = models.TextField(_("주소"), blank=True)
    context = models.JSONField(_("관련 항목"), default=dict, blank=True)
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("시도 횟수"), default=0)
    provider_message_id = models.CharField(_("제공자 메시지 ID"), max_length=255, blank=True)
    cost = models.PositiveBigIntegerField(_("비용(원)"), default=0)
    error = models.TextField(_("오류"), blank=True)
    idempotency_key = models.CharField(_("중복 방지 키"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("보낸 때"), null=True, blank=True)
    fell_back = models.BooleanField(_("문자로 대체 발송"), default=False, help_text=_("알림톡 대신 문자로 보냄"))

    class Meta:
        verbose_name = _("메시지")
        verbose_name_plural = _("메시지")
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status_created")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.template}#{self.pk}"

    @property
    def addresses(self) -> list[str]:
        return [address.strip() for address in self.address.split(",") if address.strip()]


def address_masked(address: str) -> str:
    """`k***@example.com` for each email address and `010-****-5678` for each phone number, for the admin (never
    log an address at all)."""
    masked = []
    for item in address.split(","):
        local, at, domain = item.strip().partition("@")
        if local and at:
            masked.append(f"{local[0]}***{at}{domain}")
        elif local:
            masked.append(phone_number_masked(local))
    return ", ".join(masked)
