"""The claim's review page (the admin change page: profile, evidence previews, estimate, flags, timeline) and the
review actions on one claim (start, request information, accept, reject, assign, flag reviewed), each a
permission-checked admin view with its own form."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy

from accounts.proof import PROOF_LEVEL_MEANINGS, ProofLevel, proof_level_label
from accounts.validators import mobile_phone_format
from claims.admin.review_forms import (
    AcceptForm,
    AdditionsSeenForm,
    AssignForm,
    FlagReviewForm,
    RejectForm,
    RequestInformationForm,
    ReviewActionForm,
    StartReviewForm,
)
from claims.models import Claim, Estimate, Flag
from claims.review_panels import claim_review_panels
from claims.selectors.estimates import ESTIMATE_FLAG_LABELS
from claims.selectors.reference import estimate_windows
from claims.selectors.review import FlagView, claim_review_detail, claims_proof_level_attach
from claims.services.review import (
    PERMISSION_DECIDE,
    PERMISSION_REVIEW,
    REVIEWABLE_STATUSES,
    TRANSITIONS,
    ReviewError,
    claim_accept,
    claim_additions_mark_seen,
    claim_assign,
    claim_reject,
    claim_request_information,
    claim_start_review,
    claim_transitions_available,
    flag_mark_reviewed,
)
from core.audit import RequestMeta, audit_record
from core.models import AuditEntry
from notifications.selectors import notifications_for_user


def _proof_level_context(claim: Claim) -> dict:
    """The plaintiff's proof level (accounts/proof.py) with what it means in court."""
    claims_proof_level_attach([claim])
    level = ProofLevel(claim.proof_level)
    return {
        "proof_level_label": proof_level_label(level, sandbox=claim.proof_level_sandbox),
        "proof_level_meaning": PROOF_LEVEL_MEANINGS[level],
    }


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
    "additions_seen": ReviewAction(
        gettext_lazy("추가 자료 확인함"),
        AdditionsSeenForm,
        claim_additions_mark_seen,
        PERMISSION_REVIEW,
        gettext_lazy("신청인이 추가한 자료를 확인한 것으로 표시했습니다."),
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


def _change_url(claim: Claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


def _estimate_context(claim: Claim, estimate: Estimate | None) -> dict:
    """The estimate's components explained in the page's language, its flags' labels and the outage windows it
    used."""
    language = "en" if get_language() == "en" else "ko"
    components = estimate.breakdown.get("components", []) if estimate else []
    return {
        "estimate_components": [
            {**component, "text": component.get("explanation", {}).get(language, "")} for component in components
        ],
        "estimate_flag_labels": [ESTIMATE_FLAG_LABELS.get(flag, flag) for flag in claim.estimate_flags or []],
        "estimate_windows": estimate_windows(estimate=estimate) if estimate else [],
    }


def _action_forms_context(request: HttpRequest, claim: Claim, flags: list[FlagView], additions: list) -> dict:
    """The forms of the actions this member of staff may take now: transitions, assigning, open flags."""
    can_review = request.user.has_perm(PERMISSION_REVIEW)
    can_assign = can_review and claim.status in REVIEWABLE_STATUSES
    return {
        "transitions": [
            (transition, _action_form(transition.name, claim))
            for transition in claim_transitions_available(claim=claim, user=request.user)
        ],
        "assign_form": _action_form("assign", claim) if can_assign else None,
        "additions_seen_form": _action_form("additions_seen", claim, initial={"seen_through": additions[-1].pk})
        if can_review and additions
        else None,
        "flag_forms": [
            (view, _action_form("flag_review", claim, id_prefix=f"flag{view.flag.pk}", initial={"flag": view.flag.pk}))
            if can_review and view.flag.status == Flag.Status.OPEN
            else (view, None)
            for view in flags
        ],
    }


class ClaimReviewPages:
    """Mixed into ClaimAdmin ahead of ModelAdmin (needs ClaimAccess.claim_or_404)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        claim = self.claim_or_404(request, object_id)
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
            return HttpResponseRedirect(_change_url(claim))

    def _review_context(self, request: HttpRequest, claim: Claim) -> dict:
        detail = claim_review_detail(claim=claim)
        claim = detail.claim
        return {
            "detail": detail,
            "review_claim": claim,
            **_action_forms_context(request, claim, detail.flags, detail.new_additions),
            **_estimate_context(claim, detail.estimate),
            "claimant_phone": mobile_phone_format(claim.claimant.phone),
            "claimant_messages": notifications_for_user(user_id=claim.claimant_id),
            "audit_url": f"{reverse('admin:core_auditentry_changelist')}?claim__id__exact={claim.pk}",
            "can_see_audit": request.user.has_perm("core.view_auditentry"),
            **_proof_level_context(claim),
            "review_panels": claim_review_panels(claim=claim, user=request.user),
        }

    def review_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        spec = REVIEW_ACTIONS.get(action)
        if spec is None:
            raise Http404
        claim = self.claim_or_404(request, object_id)
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
                    return HttpResponseRedirect(_change_url(claim))
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
