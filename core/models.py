from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    """One delivery a provider sent us, kept as received (core.webhooks.WebhookView): a provider sends an event
    again until we answer 200, so its id is unique per provider and a repeat is answered without processing it
    twice. `processed_at` is set by the task that handled it."""

    provider = models.CharField(_("제공자"), max_length=50)
    event_id = models.CharField(_("이벤트 ID"), max_length=200)
    received_at = models.DateTimeField(_("받은 때"), default=timezone.now)
    payload = models.JSONField(_("내용"))
    signature_valid = models.BooleanField(_("서명 확인됨"))
    processed_at = models.DateTimeField(_("처리한 때"), null=True, blank=True)

    class Meta:
        verbose_name = _("웹훅 이벤트")
        verbose_name_plural = _("웹훅 이벤트")
        constraints = [
            # Only signed deliveries count: a forged one, if kept for investigation, never shadows the real event.
            models.UniqueConstraint(
                fields=["provider", "event_id"], condition=Q(signature_valid=True), name="webhook_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "received_at"], name="webhook_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"
