"""The flag list in the admin."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from claims.models import Flag
from claims.services.review import PERMISSION_REVIEW
from core.admin import ReadOnlyModelAdmin


@admin.register(Flag)
class FlagAdmin(ReadOnlyModelAdmin):
    """All flags across claims, to work through one kind at a time; decisions are made on the claim's page."""

    list_display = ["claim_link", "code", "severity", "status", "created_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status", "code", "severity"]
    list_select_related = ["claim", "reviewed_by"]
    search_fields = ["claim__reference_code"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION_REVIEW)

    @admin.display(description=gettext_lazy("신청"), ordering="claim__reference_code")
    def claim_link(self, flag: Flag) -> str:
        return format_html(
            '<a href="{}#flags">{}</a>', reverse("admin:claims_claim_change", args=[flag.claim_id]), flag.claim
        )
