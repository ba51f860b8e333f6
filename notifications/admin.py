"""The outbox in the admin: a read-only list for Lawyers (what was sent, when, and what failed); addresses (emails
and phone numbers) masked. The versioned message templates."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyModelAdmin
from core.exceptions import InvalidInputError
from notifications.bulk import AUDIENCES, BULK_KINDS, bulk_message_create, bulk_message_preview, bulk_message_progress
from notifications.models import BulkMessage, MessageTemplate, Notification, address_masked


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


class BulkMessageForm(forms.Form):
    audience = forms.ChoiceField(label=_("받는 사람들"))
    kind = forms.ChoiceField(
        label=_("템플릿"), choices=[(kind.value, kind.label) for kind in MessageTemplate.Kind if kind in BULK_KINDS]
    )
    message = forms.CharField(label=_("내용"), widget=forms.Textarea(attrs={"rows": 5}), max_length=1000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = [
            (f"{name}:{pk}", f"{item.label}: {label}")
            for name, item in AUDIENCES.items()
            for pk, label in item.choices()
        ]

    def audience_parts(self) -> tuple[str, int]:
        name, _colon, pk = self.cleaned_data["audience"].rpartition(":")
        return name, int(pk)


@admin.register(BulkMessage)
class BulkMessageAdmin(admin.ModelAdmin):
    """Bulk messages to a cohort or a wave: written and previewed on the add page, then queued by a task; the list
    shows each one's progress."""

    list_display = ("created_at", "audience_label", "kind", "total", "estimated_cost", "status", "progress")
    readonly_fields = (
        "audience_label",
        "kind",
        "message",
        "status",
        "total",
        "estimated_cost",
        "created_by",
        "created_at",
        "queued_at",
        "progress",
    )
    fields = readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("진행"))
    def progress(self, bulk: BulkMessage) -> str:
        counts = bulk_message_progress(bulk=bulk)
        done = counts["sent"] + counts["failed"]
        return format_html(
            '<progress max="{}" value="{}"></progress> {} / {} ({} {})',
            bulk.total or 1,
            done,
            done,
            bulk.total,
            counts["failed"],
            _("실패"),
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BulkMessageForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            name, audience_id = form.audience_parts()
            arguments = {
                "audience_name": name,
                "audience_id": audience_id,
                "kind": form.cleaned_data["kind"],
                "message": form.cleaned_data["message"],
            }
            try:
                if "send" in request.POST:
                    bulk = bulk_message_create(**arguments, actor=request.user)
                    self.message_user(
                        request, _("%(count)s명에게 보낼 메시지를 대기열에 넣습니다.") % {"count": bulk.total}
                    )
                    return HttpResponseRedirect(reverse("admin:notifications_bulkmessage_changelist"))
                preview = bulk_message_preview(**arguments)
            except InvalidInputError as error:
                form.add_error(None, error.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("대량 발송"),
            "form": form,
            "preview": preview,
            "channel_counts": [
                (Notification.Channel(channel).label, count) for channel, count in sorted(preview.by_channel.items())
            ]
            if preview
            else [],
        }
        return TemplateResponse(request, "admin/notifications/bulkmessage/add.html", context)
