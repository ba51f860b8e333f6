"""Cohorts, filing waves and exports in the staff admin.

- A cohort is a saved filter; its page shows the live count and totals, offers the claim sheet exports and leads
  to the freeze page, where the cohort's claims become a filing wave's numbered plaintiffs.
- A wave's page lists its frozen plaintiffs (a withdrawal after the freeze is marked, never dropped), offers every
  export and records the filing.
- An export's page shows its progress (polled by static/js/export-progress.js, or refreshed without JavaScript)
  and the download once ready.

Every export URL (request, progress, download) needs `claims.export_personal_data`: other staff get 403, signed-in
claimants get 403, anonymous visitors are sent to the staff login.
"""

from functools import wraps

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from claims.models import Claim, Flag, Service
from claims.selectors.review import reviewers_eligible
from claims.templatetags.money import format_won
from core.admin import ReadOnlyModelAdmin
from core.audit import RequestMeta
from filing.admin.selected_parties import selected_parties_context, selected_parties_post
from filing.exports import safe_file_name
from filing.models import Cohort, ExportJob, FilingWave
from filing.selectors.cohorts import CohortCriteria, cohort_summary, wave_candidates, wave_counts, wave_members_page
from filing.selectors.readiness import wave_readiness
from filing.services.cohorts import (
    PERMISSION_WAVE,
    CohortError,
    cohort_freeze_wave,
    cohort_save,
    filing_wave_create,
    filing_wave_freeze,
    filing_wave_mark_filed,
    filing_wave_update,
)
from filing.services.court_costs import CourtCostError, court_cost_sheet_csv, wave_court_cost_totals
from filing.services.exports import (
    PERMISSION_EXPORT,
    ExportError,
    ExportExpiredError,
    export_download_open,
    export_kinds_available,
    export_request,
)

MEMBERS_PER_PAGE = 100
RECENT_EXPORTS = 10
DEFAULT_COURT = "서울중앙지방법원"
EVIDENCE_CHOICES = [("", gettext_lazy("상관없음")), ("yes", gettext_lazy("있음")), ("no", gettext_lazy("없음"))]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def can_export(request: HttpRequest) -> bool:
    return request.user.has_perm(PERMISSION_EXPORT)


def export_view(admin_site, view):
    """The admin's own checks (signed-in, verified staff) plus: a signed-in claimant gets 403 rather than the staff
    login, and staff without the export permission get 403."""
    guarded = admin_site.admin_view(view)

    @wraps(view)
    def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and not request.user.is_staff:
            raise PermissionDenied
        return guarded(request, *args, **kwargs)

    return inner


def _require_export(request: HttpRequest) -> None:
    if not can_export(request):
        raise PermissionDenied


def _export_requested(request: HttpRequest, **scope) -> HttpResponse:
    """POST kind=... for a cohort or a wave: queue the export and go to its progress page."""
    _require_export(request)
    target = scope.get("cohort") or scope.get("wave")
    back = reverse(f"admin:{target._meta.app_label}_{target._meta.model_name}_change", args=[target.pk])
    try:
        job = export_request(
            kind=request.POST.get("kind", ""), actor=request.user, meta=RequestMeta.from_request(request), **scope
        )
    except ExportError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    messages.success(request, _("내보내기를 시작했습니다. 준비되면 이 화면에서 내려받을 수 있습니다."))
    return HttpResponseRedirect(reverse("admin:filing_exportjob_status", args=[job.pk]))


def _export_buttons(request: HttpRequest, **scope) -> list[tuple[str, str]]:
    if not can_export(request):
        return []
    return [(kind, ExportJob.Kind(kind).label) for kind in export_kinds_available(**scope)]


def _recent_exports(**scope):
    return ExportJob.objects.filter(**scope).select_related("requested_by")[:RECENT_EXPORTS]


# --- cohorts ----------------------------------------------------------------------------------------------------


class CohortForm(forms.ModelForm):
    """The cohort's name and incident, and one field per criterion (stored together as `criteria`)."""

    services = forms.ModelMultipleChoiceField(
        label=gettext_lazy("피해 서비스"),
        queryset=Service.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("고른 서비스 중 하나라도 피해 서비스로 적은 신청"),
    )
    claimant_types = forms.MultipleChoiceField(
        label=gettext_lazy("신청인 유형"),
        choices=Claim.ClaimantType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    statuses = forms.MultipleChoiceField(
        label=gettext_lazy("상태"),
        choices=Claim.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=[Claim.Status.ACCEPTED],
        help_text=gettext_lazy("차수로 확정할 수 있는 상태는 접수됨, 검토 중, 추가 자료 요청, 승인입니다."),
    )
    flags_present = forms.MultipleChoiceField(
        label=gettext_lazy("확인 필요 플래그가 있는 신청"),
        choices=Flag.Code.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    flags_absent = forms.MultipleChoiceField(
        label=gettext_lazy("확인 필요 플래그가 없는 신청"),
        choices=Flag.Code.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    estimate_min = forms.IntegerField(label=gettext_lazy("산정액 최소 (원)"), min_value=0, required=False)
    estimate_max = forms.IntegerField(label=gettext_lazy("산정액 최대 (원)"), min_value=0, required=False)
    proof_of_use = forms.ChoiceField(
        label=gettext_lazy("장애 당시 이용 증빙"), choices=EVIDENCE_CHOICES, required=False
    )
    revenue_evidence = forms.ChoiceField(label=gettext_lazy("매출 자료"), choices=EVIDENCE_CHOICES, required=False)
    reviewer = forms.ModelChoiceField(label=gettext_lazy("담당자"), queryset=None, required=False)
    submitted_from = forms.DateField(
        label=gettext_lazy("제출일 (부터)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=gettext_lazy("제출일 (까지)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    CRITERIA_FIELDS = [
        "services",
        "claimant_types",
        "statuses",
        "flags_present",
        "flags_absent",
        "estimate_min",
        "estimate_max",
        "proof_of_use",
        "revenue_evidence",
        "reviewer",
        "submitted_from",
        "submitted_to",
    ]

    class Meta:
        model = Cohort
        fields = ["name", "incident", "note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers_eligible()
        if self.instance.pk:
            criteria = CohortCriteria.from_dict(self.instance.criteria)
            self.initial.update(
                {
                    "services": list(criteria.services),
                    "claimant_types": list(criteria.claimant_types),
                    "statuses": list(criteria.statuses),
                    "flags_present": list(criteria.flags_present),
                    "flags_absent": list(criteria.flags_absent),
                    "estimate_min": criteria.estimate_min,
                    "estimate_max": criteria.estimate_max,
                    "proof_of_use": _evidence_choice(criteria.proof_of_use),
                    "revenue_evidence": _evidence_choice(criteria.revenue_evidence),
                    "reviewer": criteria.reviewer_id,
                    "submitted_from": criteria.submitted_from,
                    "submitted_to": criteria.submitted_to,
                }
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        low, high = cleaned.get("estimate_min"), cleaned.get("estimate_max")
        if low is not None and high is not None and low > high:
            self.add_error("estimate_max", _("최대 산정액은 최소 산정액보다 크거나 같아야 합니다."))
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            self.add_error("submitted_to", _("끝 날짜는 시작 날짜와 같거나 그 뒤여야 합니다."))
        return cleaned

    def criteria(self) -> CohortCriteria:
        data = self.cleaned_data
        evidence = {"yes": True, "no": False}
        return CohortCriteria(
            services=tuple(service.slug for service in data["services"]),
            claimant_types=tuple(data["claimant_types"]),
            statuses=tuple(data["statuses"]),
            flags_present=tuple(data["flags_present"]),
            flags_absent=tuple(data["flags_absent"]),
            estimate_min=data["estimate_min"],
            estimate_max=data["estimate_max"],
            proof_of_use=evidence.get(data["proof_of_use"]),
            revenue_evidence=evidence.get(data["revenue_evidence"]),
            reviewer_id=data["reviewer"].pk if data["reviewer"] else None,
            submitted_from=data["submitted_from"],
            submitted_to=data["submitted_to"],
        )


def _evidence_choice(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "")


class WaveDetailsForm(forms.ModelForm):
    class Meta:
        model = FilingWave
        fields = ["name", "court", "case_name", "defendant"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].initial = DEFAULT_COURT
        self.fields["name"].help_text = _("예: 1차 소송. 다른 차수와 겹치지 않게 지어 주세요.")


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    form = CohortForm
    list_display = ["name", "incident", "wave_count", "created_by", "created_at"]
    list_select_related = ["incident", "created_by"]
    search_fields = ["name"]
    change_form_template = "admin/filing/cohort/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "incident", "note"]}),
        (gettext_lazy("조건"), {"fields": CohortForm.CRITERIA_FIELDS}),
    ]

    class Media:
        css = {"all": ["css/admin_cohorts.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(waves_total=Count("waves"))

    @admin.display(description=gettext_lazy("차수"), ordering="waves_total")
    def wave_count(self, cohort: Cohort) -> int:
        return cohort.waves_total

    def save_model(self, request, obj, form, change) -> None:
        cohort_save(cohort=obj, criteria=form.criteria(), actor=request.user, meta=RequestMeta.from_request(request))

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or not obj.waves.exists())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                {
                    "summary": cohort_summary(cohort=obj),
                    "waves": obj.waves.order_by("-created_at"),
                    "export_buttons": _export_buttons(request, cohort=obj),
                    "exports": _recent_exports(cohort=obj) if can_export(request) else [],
                    "can_freeze": request.user.has_perm("filing.add_filingwave"),
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path("<int:cohort_id>/freeze/", self.admin_site.admin_view(self.freeze_view), name="filing_cohort_freeze"),
            path(
                "<int:cohort_id>/export/",
                export_view(self.admin_site, require_POST(self.export_view)),
                name="filing_cohort_export",
            ),
            *super().get_urls(),
        ]

    def _cohort(self, request: HttpRequest, cohort_id: int) -> Cohort:
        cohort = get_object_or_404(Cohort.objects.select_related("incident"), pk=cohort_id)
        if not self.has_view_permission(request, cohort):
            raise PermissionDenied
        return cohort

    def freeze_view(self, request: HttpRequest, cohort_id: int) -> HttpResponse:
        """Confirm and freeze: the cohort's claims as they are now become a new wave's numbered plaintiffs."""
        if not request.user.has_perm("filing.add_filingwave"):
            raise PermissionDenied
        cohort = self._cohort(request, cohort_id)
        form = WaveDetailsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                wave = cohort_freeze_wave(
                    cohort=cohort,
                    actor=request.user,
                    meta=RequestMeta.from_request(request),
                    **form.cleaned_data,
                )
            except CohortError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("%(name)s의 원고 %(count)s명을 확정했습니다.")
                    % {"name": wave.name, "count": f"{wave.member_count:,}"},
                )
                return HttpResponseRedirect(reverse("admin:filing_filingwave_change", args=[wave.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": cohort,
            "title": _("%(cohort)s을(를) 차수로 확정") % {"cohort": cohort},
            "summary": cohort_summary(cohort=cohort),
            "readiness": wave_readiness(candidates=wave_candidates(cohort=cohort)),
            "form": form,
        }
        return TemplateResponse(request, "admin/filing/cohort/freeze.html", context)

    def export_view(self, request: HttpRequest, cohort_id: int) -> HttpResponse:
        return _export_requested(request, cohort=self._cohort(request, cohort_id))


# --- filing waves -----------------------------------------------------------------------------------------------


class FiledForm(forms.Form):
    case_number = forms.CharField(
        label=gettext_lazy("사건번호"), max_length=50, help_text=gettext_lazy("법원이 붙인 번호. 예: 2024가합123456")
    )
    filed_on = forms.DateField(label=gettext_lazy("소 제기일"), widget=forms.DateInput(attrs={"type": "date"}))


class CourtCostForm(forms.Form):
    """The inputs of a wave's court-cost sheet, from the query string."""

    selected_parties = forms.IntegerField(
        label=gettext_lazy("선정당사자 수"),
        min_value=1,
        required=False,
        widget=forms.NumberInput,
        help_text=gettext_lazy("비워 두면 이 차수에서 정한 선정당사자 수 (정하지 않았으면 1)"),
    )
    filed_on = forms.DateField(
        label=gettext_lazy("소 제기일 (송달료 단가 기준)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def sheet_inputs(self) -> dict:
        """The inputs given; without a number of selected parties the sheet counts those picked for the wave."""
        data = self.cleaned_data if self.is_valid() else {}
        return {"selected_parties": data.get("selected_parties"), "filed_on": data.get("filed_on")}


def _court_costs(wave: FilingWave, form: CourtCostForm) -> tuple:
    """The wave's sheet for the form's inputs, or the reason it cannot be computed."""
    try:
        return wave_court_cost_totals(wave=wave, **form.sheet_inputs()), None
    except CourtCostError as error:
        return None, error.message


@admin.register(FilingWave)
class FilingWaveAdmin(admin.ModelAdmin):
    form = WaveDetailsForm
    list_display = ["name", "cohort", "court", "status", "member_count", "claimed_total_won", "frozen_at", "filed_on"]
    list_filter = ["status", "court"]
    list_select_related = ["cohort"]
    search_fields = ["name", "case_number"]
    change_form_template = "admin/filing/filingwave/change_form.html"

    class Media:
        css = {"all": ["css/admin_cohorts.css"]}

    @admin.display(description=gettext_lazy("청구금액 합계"), ordering="claimed_total")
    def claimed_total_won(self, wave: FilingWave) -> str:
        return format_won(wave.claimed_total)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["cohort", "name", "court", "case_name", "defendant", "defendant_count"]
        return [
            "cohort",
            "name",
            "court",
            "case_name",
            "defendant",
            "defendant_count",
            "status",
            "case_number",
            "filed_on",
            "frozen_at",
            "frozen_by",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["cohort", "status", "case_number", "filed_on", "frozen_at", "frozen_by"]
        if obj.status == FilingWave.Status.FILED:
            fixed += ["name", "court", "case_name", "defendant", "defendant_count"]
        return fixed

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["fields"] = ["cohort", "name", "court", "case_name", "defendant", "defendant_count"]
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == FilingWave.Status.DRAFT)

    def save_model(self, request, obj, form, change) -> None:
        meta = RequestMeta.from_request(request)
        if change:
            filing_wave_update(wave=obj, actor=request.user, meta=meta, changes=form.changed_data)
            return
        wave = filing_wave_create(
            cohort=obj.cohort,
            name=obj.name,
            court=obj.court,
            case_name=obj.case_name,
            defendant=obj.defendant,
            defendant_count=obj.defendant_count,
            actor=request.user,
            meta=meta,
        )
        obj.pk, obj.created_by, obj.created_at = wave.pk, wave.created_by, wave.created_at
        obj._state.adding = False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            page = Paginator(wave_members_page(wave=obj), MEMBERS_PER_PAGE).get_page(request.GET.get("members_page"))
            court_cost_form = CourtCostForm(request.GET or None)
            court_costs, court_costs_error = _court_costs(obj, court_cost_form)
            context.update(
                {
                    **selected_parties_context(request, wave=obj),
                    "court_cost_form": court_cost_form,
                    "court_costs": court_costs,
                    "court_costs_error": court_costs_error,
                    "court_costs_query": request.GET.urlencode(),
                    "can_export": can_export(request),
                    "members": page,
                    "counts": wave_counts(wave=obj) if obj.status != FilingWave.Status.DRAFT else None,
                    "cohort_summary": cohort_summary(cohort=obj.cohort)
                    if obj.status == FilingWave.Status.DRAFT
                    else None,
                    "export_buttons": _export_buttons(request, wave=obj),
                    "exports": _recent_exports(wave=obj) if can_export(request) else [],
                    "can_change_wave": request.user.has_perm(PERMISSION_WAVE),
                    "withdrawn_status": Claim.Status.WITHDRAWN,
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:wave_id>/freeze/", view(self.freeze_view), name="filing_filingwave_freeze"),
            path("<int:wave_id>/filed/", view(self.filed_view), name="filing_filingwave_filed"),
            path(
                "<int:wave_id>/selected-parties/",
                view(require_POST(self.selected_parties_view)),
                name="filing_filingwave_selected_parties",
            ),
            path(
                "<int:wave_id>/court-costs.csv",
                export_view(self.admin_site, self.court_costs_csv_view),
                name="filing_filingwave_court_costs_csv",
            ),
            path(
                "<int:wave_id>/export/",
                export_view(self.admin_site, require_POST(self.export_view)),
                name="filing_filingwave_export",
            ),
            *super().get_urls(),
        ]

    def _wave(self, request: HttpRequest, wave_id: int) -> FilingWave:
        wave = get_object_or_404(FilingWave.objects.select_related("cohort__incident"), pk=wave_id)
        if not self.has_view_permission(request, wave):
            raise PermissionDenied
        return wave

    def _change_url(self, wave: FilingWave) -> str:
        return reverse("admin:filing_filingwave_change", args=[wave.pk])

    def freeze_view(self, request: HttpRequest, wave_id: int) -> HttpResponse:
        """Freeze a wave that was being prepared: a confirmation page showing what would be frozen, then POST."""
        if not request.user.has_perm(PERMISSION_WAVE):
            raise PermissionDenied
        wave = self._wave(request, wave_id)
        error = None
        if request.method == "POST":
            try:
                wave = filing_wave_freeze(wave=wave, actor=request.user, meta=RequestMeta.from_request(request))
            except CohortError as exc:
                error = exc.message
            else:
                messages.success(request, _("원고 %(count)s명을 확정했습니다.") % {"count": f"{wave.member_count:,}"})
                return HttpResponseRedirect(self._change_url(wave))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": wave,
            "title": _("%(wave)s 원고 확정") % {"wave": wave},
            "summary": cohort_summary(cohort=wave.cohort),
            "readiness": wave_readiness(candidates=wave_candidates(cohort=wave.cohort)),
            "error": error,
        }
        return TemplateResponse(request, "admin/filing/filingwave/freeze.html", context)

    def filed_view(self, request: HttpRequest, wave_id: int) -> HttpResponse:
        if not request.user.has_perm(PERMISSION_WAVE):
            raise PermissionDenied
        wave = self._wave(request, wave_id)
        form = FiledForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                filing_wave_mark_filed(
                    wave=wave, actor=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
                )
            except CohortError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("소 제기 완료로 표시했습니다."))
                return HttpResponseRedirect(self._change_url(wave))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": wave,
            "title": _("%(wave)s 소 제기 기록") % {"wave": wave},
            "form": form,
        }
        return TemplateResponse(request, "admin/filing/filingwave/filed.html", context)

    def export_view(self, request: HttpRequest, wave_id: int) -> HttpResponse:
        return _export_requested(request, wave=self._wave(request, wave_id))

    def selected_parties_view(self, request: HttpRequest, wave_id: int) -> HttpResponse:
        """Pick the selected parties, or ask the plaintiffs to sign the 선정서 (Lawyers: PERMISSION_WAVE)."""
        if not request.user.has_perm(PERMISSION_WAVE):
            raise PermissionDenied
        wave = self._wave(request, wave_id)
        selected_parties_post(request, wave=wave)
        return HttpResponseRedirect(self._change_url(wave) + "#selected-parties-heading")

    def court_costs_csv_view(self, request: HttpRequest, wave_id: int) -> HttpResponse:
        """The court-cost sheet as a CSV for the firm (audited; staff who may export personal data only)."""
        _require_export(request)
        wave = self._wave(request, wave_id)
        form = CourtCostForm(request.GET or None)
        try:
            content = court_cost_sheet_csv(
                wave=wave, actor=request.user, meta=RequestMeta.from_request(request), **form.sheet_inputs()
            )
        except CourtCostError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(self._change_url(wave))
        response = HttpResponse(content, content_type=CONTENT_TYPES["csv"])
        name = _("%(wave)s 소송비용.csv") % {"wave": safe_file_name(wave.name, fallback="wave")}
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# --- export jobs ------------------------------------------------------------------------------------------------


@admin.display(description=gettext_lazy("진행"))
def export_progress(job: ExportJob) -> str:
    percent = job_percent(job)
    return format_html(
        "<progress value='{}' max='100' aria-label='{}'>{}%</progress> {}%", percent, _("진행률"), percent, percent
    )


def job_percent(job: ExportJob) -> int:
    if job.status in (ExportJob.Status.DONE, ExportJob.Status.EXPIRED):
        return 100
    return min(100, job.done * 100 // job.total) if job.total else 0


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyModelAdmin):
    """Read-only: jobs are started from a cohort or a wave; each opens on its progress and download page."""

    list_display = ["__str__", "kind", "scope", "status", export_progress, "requested_by", "created_at", "expires_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["cohort", "wave", "requested_by"]

    def has_view_permission(self, request, obj=None) -> bool:
        return can_export(request)

    @admin.display(description=gettext_lazy("대상"))
    def scope(self, job: ExportJob) -> str:
        return str(job.wave or job.cohort)

    def get_urls(self):
        return [
            path(
                "<int:job_id>/status/", export_view(self.admin_site, self.status_view), name="filing_exportjob_status"
            ),
            path(
                "<int:job_id>/progress/",
                export_view(self.admin_site, self.progress_view),
                name="filing_exportjob_progress",
            ),
            path(
                "<int:job_id>/download/",
                export_view(self.admin_site, self.download_view),
                name="filing_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        _require_export(request)
        if not str(object_id).isdigit():
            raise Http404
        return HttpResponseRedirect(reverse("admin:filing_exportjob_status", args=[object_id]))

    def _job(self, request: HttpRequest, job_id: int) -> ExportJob:
        _require_export(request)
        return get_object_or_404(ExportJob.objects.select_related("cohort", "wave", "requested_by"), pk=job_id)

    def status_view(self, request: HttpRequest, job_id: int, *, error: str = "", status: int = 200) -> HttpResponse:
        job = self._job(request, job_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": job,
            "title": str(job),
            "job": job,
            "percent": job_percent(job),
            "running": job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING),
            "error": error,
        }
        return TemplateResponse(request, "admin/filing/exportjob/status.html", context, status=status)

    def progress_view(self, request: HttpRequest, job_id: int) -> JsonResponse:
        job = self._job(request, job_id)
        finished = job.status not in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING)
        response = JsonResponse(
            {
                "status": job.status,
                "status_label": job.get_status_display(),
                "done": job.done,
                "total": job.total,
                "percent": job_percent(job),
                "finished": finished,
                "download_url": (
                    reverse("admin:filing_exportjob_download", args=[job.pk])
                    if job.status == ExportJob.Status.DONE
                    else ""
                ),
            }
        )
        response["Cache-Control"] = "no-store"
        return response

    def download_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._job(request, job_id)
        try:
            handle = export_download_open(job=job, actor=request.user, meta=RequestMeta.from_request(request))
        except ExportExpiredError as error:
            return self.status_view(request, job_id, error=error.message, status=410)
        except ExportError as error:
            return self.status_view(request, job_id, error=error.message, status=409)
        extension = job.file_name.rpartition(".")[2]
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=job.file_name,
            content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
