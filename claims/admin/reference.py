from django.contrib import admin

from claims.models import Incident, OutageWindow, Service


class OutageWindowInline(admin.TabularInline):
    model = OutageWindow
    extra = 0
    autocomplete_fields = ["service"]
    fields = ["service", "start", "partial_end", "end", "end_kind", "confidence", "note", "source_url"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["name_ko", "slug", "outage_started", "outage_ended", "is_default", "accepting_claims"]
    search_fields = ["slug", "name_ko", "name_en"]
    inlines = [OutageWindowInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name_ko", "name_en", "slug"]
    search_fields = ["slug", "name_ko", "name_en"]


@admin.register(OutageWindow)
class OutageWindowAdmin(admin.ModelAdmin):
    list_display = ["service", "incident", "start", "partial_end", "end", "end_kind", "confidence"]
    list_filter = ["incident", "end_kind", "confidence"]
    list_select_related = ["service", "incident"]
    search_fields = ["service__name_ko", "service__slug"]
