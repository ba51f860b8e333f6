"""The claim admin: the claim list (filters, normalised search, counts that stay fast on a large table), the staff
correction form, and the routes of the review actions and evidence files. The parts live beside it: access.py
(permissions), filters.py, bulk_actions.py, review.py (the review page and actions), evidence_files.py."""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from accounts.names import name_masked
from accounts.proof import PROOF_LEVEL_MEANINGS, ProofLevel, proof_level_label
from claims.admin.claims.access import ClaimAccess
from claims.admin.claims.bulk_actions import ClaimBulkActions
from claims.admin.claims.evidence_files import EVIDENCE_SANDBOX, ClaimEvidenceFiles
from claims.admin.claims.filters import (
    EstimateRangeFilter,
    EvidenceConfirmedFilter,
    FlagFilter,
    NewAdditionsFilter,
    OverdueFilter,
    ProofLevelFilter,
    ProofOfUseFilter,
    RevenueEvidenceFilter,
    ReviewerFilter,
    ServiceFilter,
    StatusFilter,
)
from claims.admin.claims.paginator import EstimatedCountPaginator
from claims.admin.claims.review import ClaimReviewPages
from claims.admin.reference import WindowCorrectionFilter
from claims.admin.review_forms import ClaimStaffForm
from claims.models import Claim, Evidence
from claims.review_panels import claim_list_filters
from claims.selectors.review import (
    claim_search_filter,
    claims_evidence_attach,
    claims_for_review,
    claims_proof_level_attach,
    claims_with_evidence,
)
from claims.services.review import claim_staff_update
from core.audit import RequestMeta

# The list at 1280 px (e2e/test_staff_claim_list.py): at most two service names per row, the rest counted.
SERVICES_SHOWN = 2


class ClaimChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        claims_evidence_attach(self.result_list)  # evaluates the page's queryset, which keeps the attributes
        claims_proof_level_attach(self.result_list)


@admin.register(Claim)
class ClaimAdmin(ClaimAccess, ClaimBulkActions, ClaimReviewPages, ClaimEvidenceFiles, admin.ModelAdmin):
    form = ClaimStaffForm
    fieldsets = [(gettext_lazy("직원 수정"), {"fields": ["expected_version", *ClaimStaffForm.Meta.fields]})]
    list_display_links = ["reference_code"]
    list_filter = [
        StatusFilter,
        OverdueFilter,
        NewAdditionsFilter,
        "claimant_type",
        ServiceFilter,
        FlagFilter,
        ProofLevelFilter,
        ProofOfUseFilter,
        EvidenceConfirmedFilter,
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
    actions = ["assign_reviewer", "accept_selected", "accept_evidence_confirmed"]

    def get_list_filter(self, request):
        """The claim admin's own filters, then those apps above claims register (filing: readiness)."""
        return [*super().get_list_filter(request), *claim_list_filters()]

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

    def save_model(self, request, obj, form, change):
        claim_staff_update(
            claim=obj,
            actor=request.user,
            expected_version=form.cleaned_data["expected_version"],
            changes=form.changes(),
            meta=RequestMeta.from_request(request),
        )

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
            "proof_level_display",
            "status",
            "reviewer",
            "submitted_on",
        ]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        condition = claim_search_filter(search_term, personal_data=self.sees_personal_data(request))
        return (queryset.none() if condition is None else queryset.filter(condition)), False

    @admin.display(description=gettext_lazy("증명 수준"))
    def proof_level_display(self, claim: Claim) -> str:
        level = ProofLevel(claim.proof_level)
        return format_html(
            '<span title="{}">{}</span>',
            PROOF_LEVEL_MEANINGS[level],
            proof_level_label(level, sandbox=claim.proof_level_sandbox),
        )

    @admin.display(description=gettext_lazy("신청인"), ordering="claimant__legal_name")
    def claimant_name(self, claim: Claim) -> str:
        return claim.claimant.legal_name or "-"

    @admin.display(description=gettext_lazy("신청인"))
    def claimant_name_masked(self, claim: Claim) -> str:
        name = claim.claimant.legal_name
        return name_masked(name) if name.strip() else "-"

    @admin.display(description=gettext_lazy("피해 서비스"))
    def services_list(self, claim: Claim) -> str:
        """The first two services and how many more (all of them on hover), so the list fits 1280 px."""
        names = [service.name for service in claim.services.all()]
        if len(names) <= SERVICES_SHOWN:
            return ", ".join(names) or "-"
        shown = ", ".join(names[:SERVICES_SHOWN])
        more = gettext("외 %(count)d개") % {"count": len(names) - SERVICES_SHOWN}
        return format_html('<span title="{}">{} {}</span>', ", ".join(names), shown, more)

    @admin.display(description=gettext_lazy("제출일"), ordering="submitted_at")
    def submitted_on(self, claim: Claim) -> str:
        if claim.submitted_at is None:
            return "-"
        return format_html(
            '<time datetime="{}">{}</time>',
            claim.submitted_at.isoformat(),
            date_format(timezone.localtime(claim.submitted_at), "Y-m-d"),
        )

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
