"""The outbox in the admin: a read-only list for Lawyers (what was sent, when, and what failed); addresses (emails
and phone numbers) masked."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyModelAdmin
from notifications.models import Notification, address_masked


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "template",
        "language",
        "status",
        "attempts",
        "sent_at",
        "fell_back",
        "cost",
    )
    list_filter = ("status", "channel", "template")
    search_fields = ("idempotency_key",)
    date_hierarchy = "created_at"
    fields = (
        "channel",
        "template",
        "language",
        "recipient",
        "address_shown",
        "context",
        "status",
        "attempts",
        "provider_message_id",
        "cost",
        "error",
        "idempotency_key",
        "created_at",
        "sent_at",
        "fell_back",
    )
    readonly_fields = fields

    @admin.display(description=_("받는 사람"))
    def recipient(self, notification: Notification) -> str:
        return f"#{notification.user_id}" if notification.user_id else "-"

    @admin.display(description=_("주소"))
    def address_shown(self, notification: Notification) -> str:
        return address_masked(notification.address)
