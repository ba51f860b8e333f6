"""The audit log for lawyers: staff actions and every view of personal data, filterable by who, what, when and
which claim. Nobody (superusers included) can add, change or delete an entry here."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.audit import RequestMeta
from core.models import AuditEntry, FirmProfile
from core.services import FIRM_PROFILE_FIELDS, FirmProfileError, firm_logo_prepare, firm_profile_update


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


class FirmProfileAdminForm(forms.ModelForm):
    kakao_channel_url = forms.URLField(
        label=FirmProfile._meta.get_field("kakao_channel_url").verbose_name,
        help_text=FirmProfile._meta.get_field("kakao_channel_url").help_text,
        required=False,
        assume_scheme="https",
    )
    logo_upload = forms.FileField(
        label=_("로고"),
        required=False,
        help_text=_("PNG, JPEG 또는 WebP, 1MB 이하. 정사각형에 가까운 그림이 머리글과 파비콘에 잘 맞습니다."),
    )
    logo_remove = forms.BooleanField(label=_("로고 삭제"), required=False)

    class Meta:
        model = FirmProfile
        fields = FIRM_PROFILE_FIELDS

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        if upload:
            try:
                firm_logo_prepare(upload=upload)
            except FirmProfileError as error:
                raise forms.ValidationError(error.message, code=error.code) from None
        return upload


@admin.register(FirmProfile)
class FirmProfileAdmin(admin.ModelAdmin):
    """One page: the firm's profile (Lawyers and superusers). Saved through core.services.firm_profile_update, so
    every change is in the audit log and the pages show it at once."""

    form = FirmProfileAdminForm
    readonly_fields = ("logo_preview", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "logo_preview", "logo_upload", "logo_remove")}),
        (_("연락처"), {"fields": ("address", "phone", "email", "kakao_channel_url", "hours")}),
        (_("개인정보 보호책임자"), {"fields": ("privacy_officer_name", "privacy_officer_contact")}),
        (None, {"fields": ("updated_at",)}),
    )

    @admin.display(description=_("현재 로고"))
    def logo_preview(self, obj: FirmProfile) -> str:
        if not obj or not obj.logo:
            return _("없음 (기본 아이콘을 씁니다)")
        return format_html('<img src="{}" alt="" class="firm-logo-preview" height="48">', obj.logo_url)

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not FirmProfile.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        profile = FirmProfile.objects.filter(pk=FirmProfile.SINGLETON_PK).first()
        if profile is not None:
            return HttpResponseRedirect(reverse("admin:core_firmprofile_change", args=[profile.pk]))
        return HttpResponseRedirect(reverse("admin:core_firmprofile_add"))

    def save_model(self, request, obj, form, change) -> None:
        profile = firm_profile_update(
            actor=request.user,
            values={field: form.cleaned_data[field] for field in FIRM_PROFILE_FIELDS if field in form.cleaned_data},
            logo=form.cleaned_data.get("logo_upload") or None,
            logo_remove=form.cleaned_data.get("logo_remove", False),
            meta=RequestMeta.from_request(request),
        )
        obj.pk = profile.pk
        obj.logo = profile.logo
        obj.updated_at = profile.updated_at
