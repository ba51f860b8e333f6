"""Damage-model versions and recompute jobs in the staff admin.

Lawyers (permission `claims.manage_damage_model`) create draft versions, edit their parameters one field at a time,
preview what a draft would do to the cohort and activate it; a version that has ever been active is read-only and
can only be copied into a new draft. Activation starts a recompute job whose progress shows here.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from claims.damages import DEFAULT_PARAMETERS, ParameterError, Parameters
from claims.models import DamageModelVersion, RecomputeJob
from claims.selectors import incident_default
from claims.selectors.estimates import damage_model_active, damage_model_is_editable
from claims.services.estimates import (
    MANAGE_PERMISSION,
    DamageModelError,
    damage_model_activate,
    damage_model_copy,
    damage_model_draft_create,
    damage_model_draft_update,
    damage_model_preview_request,
    recompute_job_retry,
)
from claims.templatetags.money import format_won
from core.admin import ReadOnlyModelAdmin

RATIO_HELP = _("1.0이면 100%, 0.5이면 50%를 인정합니다.")


def can_manage(request: HttpRequest) -> bool:
    return request.user.has_perm(MANAGE_PERMISSION)


def ratio_field(label: str, explanation: str) -> forms.DecimalField:
    """A non-negative ratio applied to one kind of amount (1.0 = all of it)."""
    help_text = format_lazy("{} {}", explanation, RATIO_HELP)
    return forms.DecimalField(label=label, min_value=0, max_digits=6, decimal_places=4, help_text=help_text)


class DamageModelVersionForm(forms.ModelForm):
    """The incident and note, and one field per parameter, checked together by the calculator's own rules."""

    subscription_multiplier = forms.DecimalField(
        label=_("유료 이용료 배수"),
        min_value=0,
        max_digits=8,
        decimal_places=4,
        help_text=_("월 이용료 × 피해일수 × 이 배수 ÷ 그 달의 일수. 운영사의 '피해 일수의 3배' 보상 기준은 3입니다."),
    )
    revenue_loss_ratio = ratio_field(
        _("영업 매출 손실 인정 비율"), _("(평상시 매출 − 장애 기간 매출)에 곱합니다. 마진만 인정하려면 낮추세요.")
    )
    documented_expense_ratio = ratio_field(
        _("증빙 있는 추가 지출 인정 비율"), _("증빙 파일이 연결된 추가 지출에 곱합니다.")
    )
    undocumented_expense_ratio = ratio_field(
        _("증빙 없는 추가 지출 인정 비율"),
        _("증빙이 없는 추가 지출에 곱합니다. 증빙 부족으로 기각된 선례가 있어 기본값은 0입니다."),
    )
    other_ratio = ratio_field(
        _("기타 손해 인정 비율"), _("기타 손해 금액에 곱합니다. 기본값 0은 변호사가 사건별로 판단한다는 뜻입니다.")
    )
    solatium_per_claimant = forms.IntegerField(
        label=_("위자료 (1인당, 원)"),
        min_value=0,
        help_text=_("장애 기간 중 서비스 이용 증빙이 있는 신청에만 한 번 더합니다."),
    )
    rounding_unit = forms.IntegerField(
        label=_("반올림 단위 (원)"),
        min_value=1,
        help_text=_("각 항목을 이 단위로 반올림합니다. 운영사 보상금과 같은 10원이 기본입니다."),
    )
    per_claim_cap = forms.IntegerField(
        label=_("신청 1건당 상한 (원)"),
        min_value=0,
        required=False,
        help_text=_("비워 두면 상한이 없습니다."),
    )

    class Meta:
        model = DamageModelVersion
        fields = ["incident", "note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            source = self.instance.parameters
        else:
            default = incident_default()
            active = damage_model_active(incident_id=default.pk) if default else None
            source = active.parameters if active else DEFAULT_PARAMETERS
            if default and "incident" in self.fields:
                self.fields["incident"].initial = default.pk
        for name in PARAMETER_NAMES:
            self.initial.setdefault(name, source.get(name, DEFAULT_PARAMETERS[name]))

    def clean(self) -> dict:
        cleaned = super().clean()
        if any(name in self.errors for name in PARAMETER_NAMES):
            return cleaned
        raw = {name: cleaned.get(name) for name in PARAMETER_NAMES}
        raw = {name: str(value) if isinstance(value, Decimal) else value for name, value in raw.items()}
        try:
            self.parameters = Parameters.from_dict(raw).to_dict()
        except ParameterError as exc:
            raise forms.ValidationError(gettext("매개변수가 올바르지 않습니다: %(detail)s") % {"detail": exc}) from exc
        return cleaned


PARAMETER_NAMES = list(DEFAULT_PARAMETERS)


def parameter_rows(parameters: dict) -> list[tuple[str, str]]:
    """(label, shown value) for each parameter, in the form's order."""
    rows = []
    for name in PARAMETER_NAMES:
        field = DamageModelVersionForm.base_fields[name]
        value = parameters.get(name, DEFAULT_PARAMETERS[name])
        if value is None:
            shown = gettext("없음")
        elif isinstance(field, forms.DecimalField):
            shown = f"{Decimal(str(value)).normalize():f}"
        else:
            shown = format_won(value)
        rows.append((str(field.label), shown))
    return rows


@admin.register(DamageModelVersion)
class DamageModelVersionAdmin(admin.ModelAdmin):
    form = DamageModelVersionForm
    list_display = ["__str__", "incident", "version", "state", "activated_at", "author", "created_at", "note"]
    list_display_links = ["__str__"]
    list_filter = ["is_active", "incident"]
    list_select_related = ["incident", "author"]
    search_fields = ["note", "incident__slug", "incident__name_ko"]
    change_form_template = "admin/claims/damagemodelversion/change_form.html"

    class Media:
        css = {"all": ["css/admin_damage_models.css"]}

    # --- permissions: drafts are edited by managers; anything ever applied is history ---

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or can_manage(request)

    def has_add_permission(self, request) -> bool:
        return can_manage(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_manage(request) and (obj is None or damage_model_is_editable(obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return can_manage(request) and (obj is None or damage_model_is_editable(obj))

    # --- the form ---

    def get_fieldsets(self, request, obj=None):
        parameters = (_("매개변수"), {"fields": PARAMETER_NAMES, "description": _("저장하면 초안에 반영됩니다.")})
        if obj is None:
            return [(None, {"fields": ["incident", "note"]}), parameters]
        if self.has_change_permission(request, obj):
            return [(None, {"fields": ["incident", "version", "state", "note"]}), parameters]
        history = ["incident", "version", "state", "activated_at", "author", "created_at", "note"]
        return [
            (None, {"fields": history}),
            (_("매개변수"), {"fields": ["parameters_table"]}),
            (_("재산정"), {"fields": ["recompute_jobs"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["incident", "version", "state"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and not self.has_change_permission(request, obj):
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            saved = damage_model_draft_update(
                version=obj, parameters=form.parameters, note=obj.note, actor=request.user
            )
        else:
            saved = damage_model_draft_create(
                incident=obj.incident, parameters=form.parameters, note=obj.note, actor=request.user
            )
        obj.pk, obj.version, obj.parameters, obj.author_id = saved.pk, saved.version, saved.parameters, saved.author_id
        obj._state.adding = False

    # --- read-only displays ---

    @admin.display(description=_("상태"))
    def state(self, obj: DamageModelVersion) -> str:
        if obj.is_active:
            return gettext("적용 중")
        return gettext("초안") if damage_model_is_editable(obj) else gettext("지난 버전")

    @admin.display(description=_("매개변수"))
    def parameters_table(self, obj: DamageModelVersion) -> str:
        rows = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", parameter_rows(obj.parameters))
        return format_html("<table class='damage-model-parameters'><tbody>{}</tbody></table>", rows)

    @admin.display(description=_("재산정 작업"))
    def recompute_jobs(self, obj: DamageModelVersion) -> str:
        jobs = obj.recompute_jobs.order_by("-created_at")[:5]
        if not jobs:
            return gettext("없음")
        return format_html_join(
            "",
            "<p><a href='{}'>{}</a> {} {}</p>",
            (
                (
                    reverse("admin:claims_recomputejob_change", args=[job.pk]),
                    job.created_at.strftime("%Y-%m-%d %H:%M"),
                    job.get_status_display(),
                    progress_bar(job),
                )
                for job in jobs
            ),
        )

    # --- preview, activation, copy ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/preview/", view(self.preview_view), name="claims_damagemodelversion_preview"),
            path("<path:object_id>/activate/", view(self.activate_view), name="claims_damagemodelversion_activate"),
            path("<path:object_id>/copy/", view(self.copy_view), name="claims_damagemodelversion_copy"),
            *super().get_urls(),
        ]

    def _version(self, request: HttpRequest, object_id: str) -> DamageModelVersion:
        version = get_object_or_404(DamageModelVersion.objects.select_related("incident"), pk=object_id)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return version

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_manage_damage_model"] = can_manage(request)
        context["is_draft"] = obj is not None and damage_model_is_editable(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The draft's effect on the cohort, computed in the background; the page reloads until it is ready.
        POST computes it again (the estimates may have changed since)."""
        version = self._version(request, object_id)
        if version.is_active:
            raise Http404(gettext("적용 중인 버전은 미리볼 것이 없습니다."))
        preview = damage_model_preview_request(version=version, refresh=request.method == "POST")
        if request.method == "POST":
            return HttpResponseRedirect(url_for(version, "preview"))
        active = damage_model_active(incident_id=version.incident_id)
        before = dict(parameter_rows(active.parameters)) if active else {}
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("%(version)s 미리보기") % {"version": version},
            "opts": self.model._meta,
            "original": version,
            "active": active,
            "preview": preview,
            "changes": [(c, claim_admin_url(c.claim_id)) for c in preview.largest_changes] if preview else [],
            "parameters": [
                (label, before.get(label, "-"), after) for label, after in parameter_rows(version.parameters)
            ],
            "can_activate": can_manage(request),
        }
        return TemplateResponse(request, "admin/claims/damagemodelversion/preview.html", context)

    @staticmethod
    def _require_manager(request: HttpRequest) -> None:
        if not can_manage(request):
            raise PermissionDenied

    def activate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._activate)(request, object_id)

    def _activate(self, request: HttpRequest, object_id: str) -> HttpResponse:
        self._require_manager(request)
        version = self._version(request, object_id)
        try:
            job = damage_model_activate(version=version, actor=request.user)
        except DamageModelError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(url_for(version, "change"))
        self.log_change(request, version, gettext("적용 (재산정 작업 #%(job)s)") % {"job": job.pk})
        self.message_user(
            request,
            gettext("%(version)s을(를) 적용했습니다. 모든 신청을 백그라운드에서 다시 산정합니다.")
            % {"version": version},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:claims_recomputejob_change", args=[job.pk]))

    def copy_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._copy)(request, object_id)

    def _copy(self, request: HttpRequest, object_id: str) -> HttpResponse:
        self._require_manager(request)
        source = self._version(request, object_id)
        draft = damage_model_copy(source=source, actor=request.user)
        self.log_addition(request, draft, gettext("버전 %(version)s에서 복사") % {"version": source.version})
        self.message_user(
            request, gettext("새 초안 %(draft)s을(를) 만들었습니다. 매개변수를 고친 뒤 저장하세요.") % {"draft": draft}
        )
        return HttpResponseRedirect(url_for(draft, "change"))


def url_for(version: DamageModelVersion, view: str) -> str:
    return reverse(f"admin:claims_damagemodelversion_{view}", args=[version.pk])


def claim_admin_url(claim_id: int) -> str | None:
    """The claim's page in the admin, where the claims admin is installed."""
    try:
        return reverse("admin:claims_claim_change", args=[claim_id])
    except NoReverseMatch:
        return None


@admin.display(description=_("진행"))
def progress_bar(job: RecomputeJob) -> str:
    finished = min(job.done + job.failures, job.total)
    percent = 100 if not job.total else finished * 100 // job.total
    return format_html(
        "<progress class='recompute-progress' value='{}' max='{}' aria-label='{}'>{}%</progress> {} / {} ({}%)",
        finished,
        job.total or 1,
        gettext("재산정 진행률"),
        percent,
        f"{finished:,}",
        f"{job.total:,}",
        percent,
    )


@admin.register(RecomputeJob)
class RecomputeJobAdmin(ReadOnlyModelAdmin):
    """Read-only: jobs are started by activating a version; a finished job with failures can be run again."""

    list_display = ["model_version", "status", progress_bar, "failures", "requested_by", "created_at", "finished_at"]
    list_filter = ["status", "model_version__incident"]
    list_select_related = ["model_version__incident", "requested_by", "outage_window__service"]
    fields = [
        "model_version",
        "outage_window",
        "status",
        progress_bar,
        "done",
        "failures",
        "error",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields
    actions = ["run_again"]
    change_form_template = "admin/claims/recomputejob/change_form.html"

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or can_manage(request)

    def has_manage_permission(self, request) -> bool:
        return can_manage(request)

    @admin.action(description=_("선택한 작업의 버전으로 다시 재산정"), permissions=["manage"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[RecomputeJob]) -> None:
        for job in queryset.select_related("model_version"):
            try:
                retry = recompute_job_retry(job=job, actor=request.user)
            except DamageModelError as exc:
                self.message_user(request, f"{job.model_version}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("%(version)s 재산정을 다시 시작했습니다 (작업 #%(job)s).")
                % {"version": job.model_version, "job": retry.pk},
            )
