"""The claim list's bulk actions (assign a reviewer, accept the claims without open flags, accept the claims whose
evidence the reading confirmed) and the page between choosing one and applying it."""

from django.contrib import admin, messages
from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.admin.review_forms import BulkAssignForm
from claims.models import Claim
from claims.selectors.evidence_findings import claims_evidence_confirmed
from claims.selectors.review import claims_with_open_flags
from claims.services.review import (
    REVIEWABLE_STATUSES,
    SKIPPED_CHANGED,
    SKIPPED_FLAGS,
    SKIPPED_NOT_CONFIRMED,
    SKIPPED_STATUS,
    TRANSITIONS,
    BulkResult,
    ReviewError,
    claims_accept,
    claims_accept_evidence_confirmed,
    claims_assign,
)
from core.audit import RequestMeta


def _bulk_messages(request: HttpRequest, result: BulkResult, done_message: str) -> None:
    if result.done:
        messages.success(request, done_message % {"count": len(result.done)})
    reasons = {
        SKIPPED_FLAGS: _("확인 필요 플래그가 있어 건너뛴 신청 %(count)d건: %(codes)s"),
        SKIPPED_STATUS: _("지금 상태에서는 처리할 수 없어 건너뛴 신청 %(count)d건: %(codes)s"),
        SKIPPED_NOT_CONFIRMED: _("증빙 확인이 끝나지 않아 건너뛴 신청 %(count)d건: %(codes)s"),
        SKIPPED_CHANGED: _("목록을 본 뒤 바뀌어 건너뛴 신청 %(count)d건: %(codes)s"),
    }
    for reason, skipped in result.skipped.items():
        codes = ", ".join(str(claim) for claim in skipped)
        messages.warning(request, reasons[reason] % {"count": len(skipped), "codes": codes})


def _skip_reason(claim: Claim, action: str) -> str | None:
    """Why the bulk action will leave this claim alone, or None when it applies."""
    accepting = action in ("accept_selected", "accept_evidence_confirmed")
    allowed = TRANSITIONS["accept"].sources if accepting else REVIEWABLE_STATUSES
    if claim.status not in allowed:
        return _("지금 상태(%(status)s)에서는 처리할 수 없어 건너뜁니다.") % {"status": claim.get_status_display()}
    if accepting and claim.has_open_flags:
        return _("확인 필요 플래그가 있어 건너뜁니다.")
    if action == "accept_evidence_confirmed" and not claim.evidence_confirmed:
        return _("금액·이용 증빙이 모두 확인되지 않았거나 답변하지 않은 추가 자료 요청이 있어 건너뜁니다.")
    return None


def _versions_posted(request: HttpRequest, queryset: QuerySet[Claim]) -> dict[int, int]:
    """The version of each claim as the confirmation page showed it (a claim without one counts as changed)."""
    versions = {}
    for claim_id in queryset.values_list("pk", flat=True):
        posted = request.POST.get(f"version-{claim_id}", "")
        versions[claim_id] = int(posted) if posted.isdigit() else -1
    return versions


class ClaimBulkActions:
    """Mixed into ClaimAdmin; `actions` names these methods."""

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

    @admin.action(description=gettext_lazy("선택한 신청 일괄 승인 (증빙 확인 완료만)"), permissions=["decide"])
    def accept_evidence_confirmed(self, request: HttpRequest, queryset: QuerySet[Claim]) -> HttpResponse | None:
        """Accept the claims whose evidence the reading confirmed, after the lawyer saw them listed (each at the
        version shown)."""
        if "apply" in request.POST:
            try:
                result = claims_accept_evidence_confirmed(
                    claim_versions=_versions_posted(request, queryset),
                    actor=request.user,
                    meta=RequestMeta.from_request(request),
                )
            except ReviewError as error:
                messages.error(request, error.message)
            else:
                _bulk_messages(request, result, _("증빙이 확인된 신청 %(count)d건을 승인했습니다."))
            return None
        return self._intermediate(
            request, queryset, "accept_evidence_confirmed", None, _("증빙 확인 완료 신청 일괄 승인")
        )

    def _intermediate(self, request, queryset, action, form, title) -> TemplateResponse:
        """The page between choosing a bulk action and applying it: what will happen to each selected claim."""
        rows = [
            (claim, _skip_reason(claim, action))
            for claim in queryset.annotate(
                has_open_flags=claims_with_open_flags(),
                evidence_confirmed=ExpressionWrapper(claims_evidence_confirmed(), output_field=BooleanField()),
            ).order_by("pk")
        ]
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
