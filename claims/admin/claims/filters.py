"""The claim list's filters (the outage-window correction filter is in claims/admin/reference.py)."""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.proof import ProofLevel
from claims.models import Claim, Evidence, Flag, Service
from claims.selectors.dashboard import ESTIMATE_BUCKETS, estimate_bucket_filter, estimate_bucket_label
from claims.selectors.evidence_findings import claims_evidence_confirmed
from claims.selectors.review import (
    claims_overdue,
    claims_with_evidence,
    claims_with_flag_code,
    claims_with_new_additions,
    claims_with_open_flags,
    claims_with_proof_level,
    reviewers_eligible,
)


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


class OverdueFilter(admin.SimpleListFilter):
    """The staff queue of claims whose information request passed its due date unanswered."""

    title = gettext_lazy("추가 자료 기한")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("기한 지난 요청 있음"))]

    def queryset(self, request, queryset):
        return queryset.filter(claims_overdue()) if self.value() == "yes" else queryset


class NewAdditionsFilter(admin.SimpleListFilter):
    """The staff queue of claims where the claimant added files or notes after submitting, not yet marked seen."""

    title = gettext_lazy("신청인 추가 자료")
    parameter_name = "new_additions"

    def lookups(self, request, model_admin):
        return [("yes", _("확인하지 않은 추가 자료 있음"))]

    def queryset(self, request, queryset):
        return queryset.filter(claims_with_new_additions()) if self.value() == "yes" else queryset


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


class EvidenceConfirmedFilter(admin.SimpleListFilter):
    """The "clean claims" queue: every amount and every service's use confirmed by the evidence read, nothing
    open (claims.selectors.evidence_findings.claims_evidence_confirmed), for the bulk accept after a look."""

    title = gettext_lazy("증빙 확인")
    parameter_name = "evidence_confirmed"

    def lookups(self, request, model_admin):
        return [("yes", _("증빙 확인 완료"))]

    def queryset(self, request, queryset):
        return queryset.filter(claims_evidence_confirmed()) if self.value() == "yes" else queryset


class RevenueEvidenceFilter(EvidenceFilter):
    title = gettext_lazy("매출 증빙")
    parameter_name = "revenue_evidence"
    tag = Evidence.Tag.REVENUE_RECORDS


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


class ProofLevelFilter(admin.SimpleListFilter):
    """The plaintiff's proof level (accounts/proof.py): certified signature, verified identity, verified phone,
    email only."""

    title = gettext_lazy("증명 수준")
    parameter_name = "proof"

    def lookups(self, request, model_admin):
        return [(str(value), label) for value, label in ProofLevel.choices[::-1]]

    def queryset(self, request, queryset):
        if self.value() in {str(value) for value in ProofLevel.values}:
            return queryset.filter(claims_with_proof_level(int(self.value())))
        return queryset
