"""The claim review workspace: the claim list (filters, normalised search, counts that stay fast on a large
table), the review page (profile, evidence previews, estimate, flags, timeline), review actions behind
permission-checked admin views, bulk actions, the flag list and the rejection reasons."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from csp.decorators import csp_update
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.names import name_masked
from accounts.validators import mobile_phone_format
from claims.admin.reference import WindowCorrectionFilter
from claims.admin.review_forms import (
    AcceptForm,
    AssignForm,
    BulkAssignForm,
    ClaimStaffForm,
    FlagReviewForm,
    RejectForm,
    RequestInformationForm,
    ReviewActionForm,
    StartReviewForm,
)
from claims.models import Claim, Evidence, Flag, RejectionReason, Service
from claims.selectors.dashboard import ESTIMATE_BUCKETS, estimate_bucket_filter, estimate_bucket_label
from claims.selectors.estimates import ESTIMATE_FLAG_LABELS
from claims.selectors.reference import estimate_windows
from claims.selectors.review import (
    claim_review_detail,
    claim_search_filter,
    claims_evidence_attach,
    claims_for_review,
    claims_with_evidence,
    claims_with_flag_code,
    claims_with_open_flags,
    evidence_for_staff,
    reviewers_eligible,
)
from claims.services.evidence import evidence_download_name
from claims.services.review import (
    PERMISSION_DECIDE,
    PERMISSION_REVIEW,
    REVIEWABLE_STATUSES,
    SKIPPED_FLAGS,
    SKIPPED_STATUS,
    TRANSITIONS,
    BulkResult,
    ReviewError,
    claim_accept,
    claim_assign,
    claim_reject,
    claim_request_information,
    claim_staff_update,
    claim_start_review,
    claim_transitions_available,
    claims_accept,
    claims_assign,
    flag_mark_reviewed,
)
from core.audit import RequestMeta, audit_record
from core.models import AuditEntry

PERMISSION_PERSONAL_DATA = "claims.view_personal_data"
# Shown inline only when the bytes were checked at upload (claims/validators.py) or re-encoded by us. Never a PDF:
# a browser's PDF viewer runs the file's scripts. Staff read PDFs as page images drawn on the server
# (claims/services/evidence_previews.py) and download the original as an attachment.
INLINE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png"})
# Evidence responses are sandboxed documents: opened on their own they run no script and reach no origin.
EVIDENCE_SANDBOX = csp_update({"sandbox": True})


class EstimatedCountPaginator(Paginator):
    """Counts exactly when the result is small; above EXACT_COUNT_LIMIT rows PostgreSQL's planner estimate is
    used, because an exact COUNT(*) over a large table on every page view is the slowest query of a list."""

    EXACT_COUNT_LIMIT = 10_000
    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        if (
            connection.vendor == "postgresql"
            and isinstance(self.object_list, QuerySet)
            and not self.object_list.query.is_empty()
        ):
            plan = json.loads(self.object_list.explain(format="json"))
            planned = int(plan[0]["Plan"]["Plan Rows"])
            if planned > self.EXACT_COUNT_LIMIT:
                self.count_is_estimate = True
                return planned
        return super().count


# --- list filters ----------------------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Drafts are the claimant's work in progress: hidden unless asked for."""

    title = gettext_lazy("상태")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Claim.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset.exclude(status=Claim.Status.DRAFT)

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = _("제출된 신청 전체")
        return choices


class ServiceFilter(admin.SimpleListFilter):
    title = gettext_lazy("피해 서비스")
    parameter_name = "service"

    def lookups(self, request, model_admin):
        return [(service.slug, service.name) for service in Service.objects.only("slug", "name_ko", "name_en")]

    def queryset(self, request, queryset):
        return queryset.filter(services__slug=self.value()) if self.value() else queryset


class FlagFilter(admin.SimpleListFilter):
    title = gettext_lazy("의심 플래그")
    parameter_name = "flags"

    def lookups(self, request, model_admin):
        return [("open", _("확인 필요 플래그 있음")), ("none", _("확인 필요 플래그 없음")), *Flag.Code.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(claims_with_open_flags())
        if value == "none":
            return queryset.filter(~claims_with_open_flags())
        if value in Flag.Code.values:
            return queryset.filter(claims_with_flag_code(value))
        return queryset


class EvidenceFilter(admin.SimpleListFilter):
    tag = ""

    def lookups(self, request, model_admin):
        return [("yes", _("있음")), ("no", _("없음"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(claims_with_evidence(self.tag))
        if self.value() == "no":
            return queryset.filter(~claims_with_evidence(self.tag))
        return queryset


class ProofOfUseFilter(EvidenceFilter):
    title = gettext_lazy("이용 증빙")
    parameter_name = "proof_of_use"
    tag = Evidence.Tag.PROOF_OF_USE


class RevenueEvidenceFilter(EvidenceFilter):
    title = gettext_lazy("매출 증빙")
    parameter_name = "revenue_evidence"
    tag = Evidence.Tag.REVENUE_RECORDS


class ClaimChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        claims_evidence_attach(self.result_list)  # evaluates the page's queryset, which keeps the attributes


class ReviewerFilter(admin.SimpleListFilter):
    title = gettext_lazy("담당자")
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        return [
            ("mine", _("내 담당")),
            ("none", _("미지정")),
            *((str(user.pk), str(user)) for user in reviewers_eligible().only("pk", "email", "legal_name")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "mine":
            return queryset.filter(reviewer=request.user)
        if value == "none":
            return queryset.filter(reviewer__isnull=True)
        if value and value.isdigit():
            return queryset.filter(reviewer_id=int(value))
        return queryset


class EstimateRangeFilter(admin.SimpleListFilter):
    title = gettext_lazy("산정액")
    parameter_name = "estimate"

    def lookups(self, request, model_admin):
        buckets = [(str(index), estimate_bucket_label(*bucket)) for index, bucket in enumerate(ESTIMATE_BUCKETS)]
        return [*buckets, ("none", _("아직 산정 안 됨"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(estimate_total__isnull=True)
        if value and value.isdigit() and int(value) < len(ESTIMATE_BUCKETS):
            return queryset.filter(estimate_bucket_filter(*ESTIMATE_BUCKETS[int(value)]))
        return queryset


# --- review actions on one claim ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewAction:
    label: Promise
    form: type[ReviewActionForm]
    service: Callable
    permission: str
    done: Promise


REVIEW_ACTIONS = {
    "start_review": ReviewAction(
        TRANSITIONS["start_review"].label,
        StartReviewForm,
        claim_start_review,
        PERMISSION_REVIEW,
        gettext_lazy("검토를 시작했습니다."),
    ),
    "request_information": ReviewAction(
        TRANSITIONS["request_information"].label,
        RequestInformationForm,
        claim_request_information,
        PERMISSION_REVIEW,
        gettext_lazy("추가 자료를 요청했습니다. 신청인에게 이메일로 알립니다."),
    ),
    "accept": ReviewAction(
        TRANSITIONS["accept"].label, AcceptForm, claim_accept, PERMISSION_DECIDE, gettext_lazy("승인했습니다.")
    ),
    "reject": ReviewAction(
        TRANSITIONS["reject"].label, RejectForm, claim_reject, PERMISSION_DECIDE, gettext_lazy("반려했습니다.")
    ),
    "assign": ReviewAction(
        gettext_lazy("담당자 지정"), AssignForm, claim_assign, PERMISSION_REVIEW, gettext_lazy("담당자를 바꿨습니다.")
    ),
    "flag_review": ReviewAction(
        gettext_lazy("플래그 검토 완료"),
        FlagReviewForm,
        flag_mark_reviewed,
        PERMISSION_REVIEW,
        gettext_lazy("플래그를 검토 완료로 표시했습니다."),
    ),
}


def _action_form(name: str, claim: Claim, *, id_prefix: str = "", **kwargs) -> ReviewActionForm:
    """The action's form, with element ids unique on the review page (several forms share field names)."""
    return REVIEW_ACTIONS[name].form(claim=claim, auto_id=f"id_{id_prefix or name}_%s", **kwargs)


def _bulk_messages(request: HttpRequest, result: BulkResult, done_message: str) -> None:
    if result.done:
        messages.success(request, done_message % {"count": len(result.done)})
    reasons = {
        SKIPPED_FLAGS: _("확인 필요 플래그가 있어 건너뛴 신청 %(count)d건: %(codes)s"),
        SKIPPED_STATUS: _("지금 상태에서는 처리할 수 없어 건너뛴 신청 %(count)d건: %(codes)s"),
    }
    for reason, skipped in result.skipped.items():
        codes = ", ".join(str(claim) for claim in skipped)
        messages.warning(request, reasons[reason] % {"count": len(skipped), "codes": codes})


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    form = ClaimStaffForm
    fieldsets = [(gettext_lazy("직원 수정"), {"fields": ["expected_version", *ClaimStaffForm.Meta.fields]})]
    list_display_links = ["reference_code"]
    list_filter = [
        StatusFilter,
        "claimant_type",
        ServiceFilter,
        FlagFilter,
        ProofOfUseFilter,
        RevenueEvidenceFilter,
        ReviewerFilter,
        ("submitted_at", admin.DateFieldListFilter),
        EstimateRangeFilter,
        WindowCorrectionFilter,
    ]
    search_fields = ["reference_code"]  # shows the box; get_search_results does the real work
    search_help_text = gettext_lazy(
        "접수번호, 신청인 이름, 휴대전화 번호, 이메일, 사업자등록번호로 찾을 수 있습니다 "
        "(하이픈은 있어도 없어도 됩니다)."
    )
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    list_max_show_all = 200
    actions = ["assign_reviewer", "accept_selected"]

    # --- permissions -------------------------------------------------------------------------------------------

    def has_view_permission(self, request, obj=None):
        user = request.user
        return super().has_view_permission(request, obj) or user.has_perm(PERMISSION_REVIEW)

    def has_change_permission(self, request, obj=None):
        """Reviewers correct submitted claims; a draft is the claimant's own until it is submitted."""
        return request.user.has_perm(PERMISSION_REVIEW) and (obj is None or obj.status != Claim.Status.DRAFT)

    def has_add_permission(self, request):
        return False  # claimants file claims

    def has_delete_permission(self, request, obj=None):
        return False  # claims are withdrawn or rejected, never deleted from here

    def has_review_permission(self, request):
        return request.user.has_perm(PERMISSION_REVIEW)

    def has_decide_permission(self, request):
        return request.user.has_perm(PERMISSION_DECIDE)

    @staticmethod
    def sees_personal_data(request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION_PERSONAL_DATA)

    # --- the list ----------------------------------------------------------------------------------------------

    def get_queryset(self, request):
        return claims_for_review()

    def get_changelist(self, request, **kwargs):
        return ClaimChangeList

    def get_list_display(self, request):
        claimant = "claimant_name" if self.sees_personal_data(request) else "claimant_name_masked"
        return [
            "reference_code",
            claimant,
            "claimant_type",
            "services_list",
            "claimed_total_won",
            "estimate_total_won",
            "has_proof_of_use",
            "has_revenue_evidence",
            "open_flags_list",
            "status",
            "reviewer",
            "submitted_at",
        ]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        condition = claim_search_filter(search_term, personal_data=self.sees_personal_data(request))
        return (queryset.none() if condition is None else queryset.filter(condition)), False

    @admin.display(description=gettext_lazy("신청인"), ordering="claimant__legal_name")
    def claimant_name(self, claim: Claim) -> str:
        return claim.claimant.legal_name or "-"

    @admin.display(description=gettext_lazy("신청인"))
    def claimant_name_masked(self, claim: Claim) -> str:
        name = claim.claimant.legal_name
        return name_masked(name) if name.strip() else "-"

    @admin.display(description=gettext_lazy("피해 서비스"))
    def services_list(self, claim: Claim) -> str:
        return ", ".join(service.name for service in claim.services.all()) or "-"

    @admin.display(description=gettext_lazy("청구액"), ordering="claimed_total")
    def claimed_total_won(self, claim: Claim) -> str:
        return f"{claim.claimed_total:,}원"

    @admin.display(description=gettext_lazy("산정액"), ordering="estimate_total")
    def estimate_total_won(self, claim: Claim) -> str:
        return "-" if claim.estimate_total is None else f"{claim.estimate_total:,}원"

    @admin.display(
        description=gettext_lazy("이용 증빙"), boolean=True, ordering=claims_with_evidence(Evidence.Tag.PROOF_OF_USE)
    )
    def has_proof_of_use(self, claim: Claim) -> bool:
        return claim.has_proof_of_use

    @admin.display(
        description=gettext_lazy("매출 증빙"),
        boolean=True,
        ordering=claims_with_evidence(Evidence.Tag.REVENUE_RECORDS),
    )
    def has_revenue_evidence(self, claim: Claim) -> bool:
        return claim.has_revenue_evidence

    @admin.display(description=gettext_lazy("확인 필요 플래그"))
    def open_flags_list(self, claim: Claim) -> str:
        if not claim.open_flags:
            return "-"
        return format_html_join(
            " ",
            '<span class="review-flag review-flag--{}">{}</span>',
            ((flag.severity, flag.get_code_display()) for flag in claim.open_flags),
        )

    # --- bulk actions ------------------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("선택한 신청의 담당자 지정"), permissions=["review"])
    def assign_reviewer(self, request: HttpRequest, queryset: QuerySet[Claim]) -> HttpResponse | None:
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                result = claims_assign(
                    claim_ids=queryset.values_list("pk", flat=True),
                    actor=request.user,
                    reviewer=form.cleaned_data["reviewer"],
                    meta=RequestMeta.from_request(request),
                )
            except ReviewError as error:
                form.add_error(None, error.message)
            else:
                _bulk_messages(request, result, _("신청 %(count)d건의 담당자를 지정했습니다."))
                return None
        return self._intermediate(request, queryset, "assign_reviewer", form, _("담당자 지정"))

    @admin.action(description=gettext_lazy("선택한 신청 일괄 승인 (플래그 없는 신청만)"), permissions=["decide"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Claim]) -> HttpResponse | None:
        if "apply" in request.POST:
            try:
                result = claims_accept(
                    claim_ids=queryset.values_list("pk", flat=True),
                    actor=request.user,
                    meta=RequestMeta.from_request(request),
                )
            except ReviewError as error:
                messages.error(request, error.message)
            else:
                _bulk_messages(request, result, _("신청 %(count)d건을 승인했습니다."))
            return None
        return self._intermediate(request, queryset, "accept_selected", None, _("일괄 승인"))

    def _intermediate(self, request, queryset, action, form, title) -> TemplateResponse:
        """The page between choosing a bulk action and applying it: what will happen to each selected claim."""
        allowed = TRANSITIONS["accept"].sources if action == "accept_selected" else REVIEWABLE_STATUSES
        rows = []
        for claim in queryset.annotate(has_open_flags=claims_with_open_flags()).order_by("pk"):
            problem = None
            if claim.status not in allowed:
                problem = _("지금 상태(%(status)s)에서는 처리할 수 없어 건너뜁니다.") % {
                    "status": claim.get_status_display()
                }
            elif action == "accept_selected" and claim.has_open_flags:
                problem = _("확인 필요 플래그가 있어 건너뜁니다.")
            rows.append((claim, problem))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "action": action,
            "form": form,
            "rows": rows,
            "applicable": sum(1 for _claim, problem in rows if problem is None),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/claims/claim/bulk_action.html", context)

    # --- the review page ---------------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/review/<str:action>/", wrap(self.review_action_view), name="claims_claim_review"),
            path(
                "<path:object_id>/evidence/<int:evidence_id>/",
                wrap(EVIDENCE_SANDBOX(self.evidence_view)),
                name="claims_claim_evidence",
            ),
            path(
                "<path:object_id>/evidence/<int:evidence_id>/page/<int:page>/",
                wrap(EVIDENCE_SANDBOX(self.evidence_preview_view)),
                name="claims_claim_evidence_preview",
            ),
            *super().get_urls(),
        ]

    def _claim_or_404(self, request: HttpRequest, object_id: str) -> Claim:
        if not self.sees_personal_data(request):
            raise PermissionDenied
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            raise Http404(_("신청을 찾을 수 없습니다."))
        return claim

    def _change_url(self, claim: Claim) -> str:
        return reverse("admin:claims_claim_change", args=[claim.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        claim = self._claim_or_404(request, object_id)
        if request.method == "GET":
            audit_record(
                actor=request.user,
                action=AuditEntry.Action.VIEWED_CLAIM,
                target=claim,
                meta=RequestMeta.from_request(request),
            )
        context = {**self._review_context(request, claim), **(extra_context or {})}
        try:
            return super().change_view(request, object_id, form_url, context)
        except ReviewError as error:  # the claim changed between the form check and the save
            messages.error(request, error.message)
            return HttpResponseRedirect(self._change_url(claim))

    def _review_context(self, request: HttpRequest, claim: Claim) -> dict:
        detail = claim_review_detail(claim=claim)
        claim = detail.claim
        user = request.user
        can_review = user.has_perm(PERMISSION_REVIEW)
        can_assign = can_review and claim.status in REVIEWABLE_STATUSES
        transitions = [
            (transition, _action_form(transition.name, claim))
            for transition in claim_transitions_available(claim=claim, user=user)
        ]
        flag_forms = [
            (view, _action_form("flag_review", claim, id_prefix=f"flag{view.flag.pk}", initial={"flag": view.flag.pk}))
            if can_review and view.flag.status == Flag.Status.OPEN
            else (view, None)
            for view in detail.flags
        ]
        language = "en" if get_language() == "en" else "ko"
        components = detail.estimate.breakdown.get("components", []) if detail.estimate else []
        return {
            "detail": detail,
            "review_claim": claim,
            "transitions": transitions,
            "assign_form": _action_form("assign", claim) if can_assign else None,
            "flag_forms": flag_forms,
            "estimate_components": [
                {**component, "text": component.get("explanation", {}).get(language, "")} for component in components
            ],
            "estimate_flag_labels": [ESTIMATE_FLAG_LABELS.get(flag, flag) for flag in claim.estimate_flags or []],
            "estimate_windows": estimate_windows(estimate=detail.estimate) if detail.estimate else [],
            "claimant_phone": mobile_phone_format(claim.claimant.phone),
            "audit_url": f"{reverse('admin:core_auditentry_changelist')}?claim__id__exact={claim.pk}",
            "can_see_audit": user.has_perm("core.view_auditentry"),
        }

    def save_model(self, request, obj, form, change):
        claim_staff_update(
            claim=obj,
            actor=request.user,
            expected_version=form.cleaned_data["expected_version"],
            changes=form.changes(),
            meta=RequestMeta.from_request(request),
        )

    def review_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        spec = REVIEW_ACTIONS.get(action)
        if spec is None:
            raise Http404
        claim = self._claim_or_404(request, object_id)
        if not request.user.has_perm(spec.permission):
            raise PermissionDenied
        if request.method == "POST":
            form = _action_form(action, claim, data=request.POST)
            if form.is_valid():
                try:
                    spec.service(
                        claim=claim, actor=request.user, meta=RequestMeta.from_request(request), **form.service_kwargs()
                    )
                except ReviewError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(request, spec.done)
                    return HttpResponseRedirect(self._change_url(claim))
        else:
            form = _action_form(action, claim)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{claim} · {spec.label}",
            "review_claim": claim,
            "action": action,
            "action_label": spec.label,
            "form": form,
        }
        return TemplateResponse(request, "admin/claims/claim/review_action.html", context)

    def evidence_view(self, request: HttpRequest, object_id: str, evidence_id: int) -> FileResponse:
        """An evidence file for staff: pictures as their metadata-free copy; PDFs (read on the review page as page
        images), anything else, or `?download=1`, as an attachment of type application/octet-stream, which no
        browser hands to its PDF viewer. Every request is audited."""
        claim = self._claim_or_404(request, object_id)
        evidence = evidence_for_staff(claim_id=claim.pk, evidence_id=evidence_id)
        if evidence is None:
            raise Http404
        download = request.GET.get("download") == "1"
        display = not download and bool(evidence.display_file)
        stored = evidence.display_file if display else evidence.file
        content_type = evidence.content_type
        if display:
            content_type = "image/png" if evidence.content_type == "image/png" else "image/jpeg"
        inline = not download and content_type in INLINE_CONTENT_TYPES
        return self._evidence_file_response(
            request,
            claim=claim,
            evidence=evidence,
            open_file=lambda: stored.open("rb"),
            audit={"variant": "display" if display else "original", "inline": inline},
            as_attachment=not inline,
            filename=evidence_download_name(evidence=evidence, display=display),
            content_type=content_type if inline else "application/octet-stream",
        )

    def evidence_preview_view(self, request: HttpRequest, object_id: str, evidence_id: int, page: int) -> FileResponse:
        """One page of a PDF's preview, a PNG drawn on the server (never the PDF itself); same permission and
        audit as the file."""
        claim = self._claim_or_404(request, object_id)
        evidence = evidence_for_staff(claim_id=claim.pk, evidence_id=evidence_id)
        pages = evidence.preview_pages if evidence is not None else []
        if not 1 <= page <= len(pages):
            raise Http404
        return self._evidence_file_response(
            request,
            claim=claim,
            evidence=evidence,
            open_file=lambda: default_storage.open(pages[page - 1]["name"], "rb"),
            audit={"variant": "preview", "page": page, "inline": True},
            content_type="image/png",
        )

    def _evidence_file_response(
        self, request: HttpRequest, *, claim: Claim, evidence: Evidence, open_file, audit: dict, **response_options
    ) -> FileResponse:
        """A stored evidence file (404 once the retention rules removed it), its view audited, never cached."""
        try:
            handle = open_file()
        except FileNotFoundError:  # removed by the retention rules after the claim was closed
            raise Http404(_("파일이 더 이상 보관되어 있지 않습니다.")) from None
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.VIEWED_EVIDENCE,
            target=evidence,
            claim=claim,
            meta=RequestMeta.from_request(request),
            data={"evidence": evidence.pk, **audit},
        )
        response = FileResponse(handle, **response_options)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    """All flags across claims, to work through one kind at a time; decisions are made on the claim's page."""

    list_display = ["claim_link", "code", "severity", "status", "created_at", "reviewed_by", "reviewed_at"]
    list_filter = ["status", "code", "severity"]
    list_select_related = ["claim", "reviewed_by"]
    search_fields = ["claim__reference_code"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION_REVIEW)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("신청"), ordering="claim__reference_code")
    def claim_link(self, flag: Flag) -> str:
        return format_html(
            '<a href="{}#flags">{}</a>', reverse("admin:claims_claim_change", args=[flag.claim_id]), flag.claim
        )


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    """The reasons lawyers choose from; retire a reason by unticking 'in use' (rejected claims keep its code)."""

    list_display = ["label_ko", "label_en", "code", "requires_note", "is_active", "order"]
    list_editable = ["requires_note", "is_active", "order"]
    search_fields = ["code", "label_ko", "label_en"]

    def has_delete_permission(self, request, obj=None):
        return False
