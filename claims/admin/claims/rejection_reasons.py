"""The rejection reasons lawyers choose from."""

from django.contrib import admin

from claims.models import RejectionReason


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    """The reasons lawyers choose from; retire a reason by unticking 'in use' (rejected claims keep its code)."""

    list_display = ["label_ko", "label_en", "code", "requires_note", "is_active", "order"]
    list_editable = ["requires_note", "is_active", "order"]
    search_fields = ["code", "label_ko", "label_en"]

    def has_delete_permission(self, request, obj=None):
        return False
