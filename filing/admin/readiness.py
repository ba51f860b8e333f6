"""Filing readiness in the admin (docs/filing.md, "Readiness"): the claim list's filter (registered into claims'
admin from filing/apps.py) and the Lawyers' overrides, granted with a reason and revoked by an action; both through
filing/services/readiness.py, so each is audited."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import RequestMeta
from filing.models import ReadinessOverride
from filing.selectors.readiness import claims_missing, claims_ready, override_in_force, readiness_rules
from filing.services.readiness import readiness_override_grant, readiness_override_revoke


class ReadinessFilter(admin.SimpleListFilter):
    """Ready for filing, not ready, let through by an override, or missing one condition."""

    title = gettext_lazy("소 제기 준비")
    parameter_name = "filing_ready"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("준비 완료")),
            ("no", _("준비 안 됨")),
            ("override", _("변호사 예외")),
            *[(f"missing_{rule.key}", _("없음: %(rule)s") % {"rule": rule.label}) for rule in readiness_rules()],
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "yes":
            return queryset.filter(claims_ready())
        if value == "no":
            return queryset.exclude(claims_ready())
        if value == "override":
            return queryset.filter(override_in_force())
        if value and value.startswith("missing_"):
            key = value.removeprefix("missing_")
            if key in {rule.key for rule in readiness_rules()}:
                return queryset.filter(claims_missing(key))
        return queryset


class ReadinessOverrideForm(forms.ModelForm):
    class Meta:
        model = ReadinessOverride
        fields = ["claim", "reason"]
        help_texts = {
            "reason": gettext_lazy("왜 준비가 끝나지 않은 이 신청을 차수에 넣는지 적어 주세요. 감사 기록에 남습니다.")
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        claim = cleaned.get("claim")
        if claim is not None and ReadinessOverride.objects.filter(claim=claim, revoked_at__isnull=True).exists():
            raise forms.ValidationError(_("이 신청에는 이미 예외가 있습니다."))
        return cleaned


@admin.register(ReadinessOverride)
class ReadinessOverrideAdmin(admin.ModelAdmin):
    form = ReadinessOverrideForm
    list_display = ["claim", "reason", "created_by", "created_at", "revoked_at", "revoked_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["claim", "created_by", "revoked_by"]
    raw_id_fields = ["claim"]
    search_fields = ["claim__reference_code"]
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["claim", "reason", "created_by", "created_at", "revoked_at", "revoked_by", "revoke_reason"]

    def get_fields(self, request, obj=None):
        return ["claim", "reason"] if obj is None else self.get_readonly_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)  # the list's revoke action; rows stay as written

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_changeform_initial_data(self, request):
        return {"claim": request.GET.get("claim")}

    def save_model(self, request, obj, form, change) -> None:
        saved = readiness_override_grant(
            claim=obj.claim, reason=obj.reason, actor=request.user, meta=RequestMeta.from_request(request)
        )
        obj.pk = saved.pk

    @admin.action(description=gettext_lazy("선택한 예외 취소"), permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        count = 0
        for override in queryset.filter(revoked_at__isnull=True):
            readiness_override_revoke(override=override, actor=request.user, meta=RequestMeta.from_request(request))
            count += 1
        messages.success(request, _("예외 %(count)d건을 취소했습니다.") % {"count": count})
