"""The audit log for lawyers: staff actions and every view of personal data, filterable by who, what, when and
which claim. Nobody (superusers included) can add, change or delete an entry here."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.models import AuditEntry


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Records kept as evidence or written only by the system: staff may view them, nobody (superusers included)
    adds, changes or deletes one here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ActorFilter(admin.SimpleListFilter):
    title = _("직원")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        staff = get_user_model().objects.filter(is_staff=True).order_by("legal_name", "email")
        return [(str(user.pk), str(user)) for user in staff.only("pk", "email", "legal_name")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(actor_id=int(value)) if value and value.isdigit() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "actor", "action", "claim_link", "object_label", "ip"]
    list_filter = ["action", ActorFilter, ("at", admin.DateFieldListFilter)]
    list_select_related = ["actor", "claim"]
    search_fields = ["claim__reference_code", "object_id"]
    search_help_text = _("접수번호 또는 대상 ID로 찾기")
    date_hierarchy = "at"
    show_full_result_count = False
    list_per_page = 100
    fields = ["at", "actor", "action", "object_type", "object_id", "claim", "data", "ip", "user_agent"]
    readonly_fields = fields

    @admin.display(description=_("신청"), ordering="claim__reference_code")
    def claim_link(self, entry: AuditEntry) -> str:
        if entry.claim_id is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:claims_claim_change", args=[entry.claim_id]), entry.claim
        )

    @admin.display(description=_("대상"))
    def object_label(self, entry: AuditEntry) -> str:
        return f"{entry.object_type} #{entry.object_id}" if entry.object_id else entry.object_type
