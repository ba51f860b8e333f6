"""The outbox in the admin: a read-only list for Lawyers (what was sent, when, and what failed); addresses (emails
and phone numbers) masked. The versioned message templates."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.models import MessageTemplate, Notification, address_masked


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Staff add a version (the next number) and publish it; a published version is read-only, and the latest
    published version of each kind is the one sent."""

    list_display = ("kind", "version", "alimtalk_code_ko", "alimtalk_code_en", "published_at")
    list_filter = ("kind",)
    fields = (
        "kind",
        "version",
        "alimtalk_code_ko",
        "alimtalk_code_en",
        "text_ko",
        "sms_text_ko",
        "text_en",
        "sms_text_en",
        "published_at",
    )
    actions = ("publish",)

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None and obj.published_at else ("published_at",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or obj.published_at is None

    @admin.action(description=_("선택한 템플릿 버전 게시"))
    def publish(self, request, queryset) -> None:
        count = queryset.filter(published_at__isnull=True).update(published_at=timezone.now())
        self.message_user(request, _("%(count)d개 버전을 게시했습니다.") % {"count": count})
