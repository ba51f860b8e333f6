"""Reference data in the staff admin: incidents, services and their outage windows.

A window is corrected on its own page, with a reason; the change goes through `claims.services.reference` (a
revision and an audit entry). The page and the incident's list of windows show how many claims were estimated with
an older revision of each window, linked to those claims; a Lawyer can recompute them in the background.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from claims.models import Incident, OutageWindow, OutageWindowRevision, Service
from claims.selectors.reference import outage_window_revisions, window_affected_claims, window_affected_counts
from claims.services.estimates import MANAGE_PERMISSION
from claims.services.reference import (
    OutageWindowError,
    outage_window_create,
    outage_window_recompute,
    outage_window_revise,
)
from core.audit import RequestMeta

WINDOW_FIELDS = list(OutageWindowRevision.FIELDS)


def affected_claims_url(window: OutageWindow) -> str:
    return f"{reverse('admin:claims_claim_changelist')}?{WindowCorrectionFilter.parameter_name}={window.pk}"


def affected_claims_link(window: OutageWindow, count: int) -> str:
    if not count:
        return gettext("없음")
    label = gettext("%(count)s건") % {"count": f"{count:,}"}
    return format_html("<a href='{}' data-testid='affected-claims'>{}</a>", affected_claims_url(window), label)


class WindowCorrectionFilter(admin.SimpleListFilter):
    """Claims whose current estimate used an older revision of a window (reached from the window's page; shown in
    the filter panel only while it is applied)."""

    title = _("장애 시간 정정 전 산정")
    parameter_name = "window_corrected"

    def _window(self) -> OutageWindow | None:
        value = self.value()
        if not value or not value.isdigit():
            return None
        return OutageWindow.objects.select_related("service", "incident").filter(pk=value).first()

    def lookups(self, request, model_admin):
        window = self._window()
        return [(str(window.pk), str(window))] if window else []

    def queryset(self, request, queryset):
        window = self._window()
        if window is None:
            return queryset
        return queryset.filter(pk__in=window_affected_claims(window=window).values("pk"))


class OutageWindowInline(admin.TabularInline):
    """The incident's windows, read-only: each is corrected on its own page (with a reason, kept as a revision)."""

    model = OutageWindow
    extra = 0
    fields = ["service", "start", "partial_end", "end", "end_kind", "confidence", "revision", "affected", "correct"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "incident")

    def get_formset(self, request, obj=None, **kwargs):
        self._counts = window_affected_counts(windows=obj.outage_windows.select_related("service")) if obj else {}
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("이전 개정으로 산정된 신청"))
    def affected(self, window: OutageWindow) -> str:
        return affected_claims_link(window, getattr(self, "_counts", {}).get(window.pk, 0))

    @admin.display(description=_("정정"))
    def correct(self, window: OutageWindow) -> str:
        url = reverse("admin:claims_outagewindow_change", args=[window.pk])
        return format_html("<a href='{}'>{}</a>", url, gettext("정정·이력"))


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["name_ko", "slug", "outage_started", "outage_ended", "is_default", "accepting_claims"]
    search_fields = ["slug", "name_ko", "name_en"]
    inlines = [OutageWindowInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name_ko", "name_en", "slug"]
    search_fields = ["slug", "name_ko", "name_en"]


def _url_fields_assume_https(field, **kwargs):
    """Sources are written without a scheme now and then; https, Django 6's default, is the one meant."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class OutageWindowForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("정정 사유"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("고친 값의 근거를 적어 주세요 (출처, 확인한 사람 등). 개정 이력에 남습니다."),
    )

    class Meta:
        model = OutageWindow
        fields = ["incident", "service", *WINDOW_FIELDS]
        formfield_callback = _url_fields_assume_https  # also when the admin rebuilds the form read-only

    def clean(self) -> dict:
        cleaned = super().clean()
        changed = [name for name in WINDOW_FIELDS if name in self.changed_data]
        if self.instance.pk and changed and not cleaned.get("reason", "").strip():
            self.add_error("reason", gettext("정정 사유를 적어 주세요."))
        return cleaned


@admin.register(OutageWindow)
class OutageWindowAdmin(admin.ModelAdmin):
    form = OutageWindowForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["service", "incident", "start", "partial_end", "end", "end_kind", "confidence", "revision"]
    list_filter = ["incident", "end_kind", "confidence"]
    list_select_related = ["service", "incident"]
    search_fields = ["service__name_ko", "service__slug"]
    autocomplete_fields = ["service"]
    change_form_template = "admin/claims/outagewindow/change_form.html"

    class Media:
        css = {"all": ["css/admin_damage_models.css"]}  # the object-tool button and the notice

    def has_delete_permission(self, request, obj=None) -> bool:
        """A window is corrected, never deleted: deleting it would take its history with it and leave the
        estimates that used it pointing at nothing."""
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["incident", "service", *WINDOW_FIELDS, "reason"]
        reason = ["reason"] if self.has_change_permission(request, obj) else []
        return ["incident", "service", "revision", *WINDOW_FIELDS, *reason, "affected_claims", "revision_history"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = ["incident", "service", "revision", "affected_claims", "revision_history"]
        return readonly if self.has_change_permission(request, obj) else [*readonly, *WINDOW_FIELDS]

    @admin.display(description=_("이전 개정으로 산정된 신청"))
    def affected_claims(self, window: OutageWindow) -> str:
        return affected_claims_link(window, window_affected_claims(window=window).count())

    @admin.display(description=_("개정 이력"))
    def revision_history(self, window: OutageWindow) -> str:
        rows = (
            (
                revision.number,
                localtime(revision.created_at).strftime("%Y-%m-%d %H:%M"),
                revision.actor.get_username() if revision.actor else revision.actor_label,
                revision.get_source_display(),
                revision.source_detail,
                ", ".join(str(OutageWindow._meta.get_field(name).verbose_name) for name in revision.changed),
                localtime(revision.end).strftime("%Y-%m-%d %H:%M"),
                revision.get_end_kind_display(),
                revision.get_confidence_display(),
                revision.reason,
            )
            for revision in outage_window_revisions(window=window)
        )
        header = format_html_join(
            "",
            "<th scope='col'>{}</th>",
            (
                (label,)
                for label in (
                    gettext("개정"),
                    gettext("시각"),
                    gettext("변경한 사람"),
                    gettext("변경 경로"),
                    gettext("세부"),
                    gettext("바뀐 항목"),
                    gettext("완전 복구"),
                    gettext("복구 시각의 근거"),
                    gettext("신뢰도"),
                    gettext("정정 사유"),
                )
            ),
        )
        body = format_html_join(
            "", "<tr>" + "<td>{}</td>" * 10 + "</tr>", rows
        )  # every value escaped by format_html_join
        return format_html(
            "<table data-testid='revisions'><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, body
        )

    def save_model(self, request, obj, form, change) -> None:
        meta = RequestMeta.from_request(request)
        reason = form.cleaned_data.get("reason", "")
        if change:
            changes = {name: form.cleaned_data[name] for name in WINDOW_FIELDS if name in form.changed_data}
            outage_window_revise(
                window=obj,
                changes=changes,
                reason=reason,
                source=OutageWindowRevision.Source.ADMIN,
                actor=request.user,
                meta=meta,
            )
            obj.refresh_from_db()
            return
        created = outage_window_create(
            incident=obj.incident,
            service=obj.service,
            values={name: form.cleaned_data[name] for name in WINDOW_FIELDS},
            source=OutageWindowRevision.Source.ADMIN,
            reason=reason,
            actor=request.user,
            meta=meta,
        )
        obj.pk, obj.revision = created.pk, created.revision
        obj._state.adding = False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_recompute"] = request.user.has_perm(MANAGE_PERMISSION)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- the Lawyer's recompute of the affected claims ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/recompute/", view(self.recompute_view), name="claims_outagewindow_recompute"),
            *super().get_urls(),
        ]

    def recompute_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._recompute)(request, object_id)

    def _recompute(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not request.user.has_perm(MANAGE_PERMISSION):
            raise PermissionDenied
        window = get_object_or_404(OutageWindow.objects.select_related("incident", "service"), pk=object_id)
        count = window_affected_claims(window=window).count()
        try:
            job = outage_window_recompute(window=window, actor=request.user, meta=RequestMeta.from_request(request))
        except OutageWindowError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_outagewindow_change", args=[window.pk]))
        self.message_user(
            request,
            gettext("%(count)s건의 신청을 개정 %(revision)s의 장애 시간으로 백그라운드에서 다시 산정합니다.")
            % {"count": f"{count:,}", "revision": window.revision},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:claims_recomputejob_change", args=[job.pk]))
