"""The claimant's portal: my claims, a claim's status and timeline, staff's requests and the answers to them,
the estimate when staff show it, withdrawal and re-joining."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import claimant_required
from accounts.journey import claimant_steps
from claims.forms import (
    ClaimNoteForm,
    EvidenceUploadForm,
    InformationAnswerForm,
    WithdrawForm,
    evidence_upload_initial,
)
from claims.models import Claim
from claims.portal_notices import portal_notices
from claims.review_panels import claim_portal_panels
from claims.selectors import intake as selectors
from claims.services import intake as services
from claims.services.intake import EDITABLE_STATUSES, ClaimError
from claims.views.common import evidence_upload_page, missing_evidence, resume_url, upload_limits
from core.audit import RequestMeta


@claimant_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    claims = list(selectors.claims_for_claimant(user=request.user))
    # The journey's pages a claimant comes back to (consents; the retainer's payments and receipts, when it applies).
    steps = claimant_steps(user=request.user, readiness=request.claimant_readiness)
    links = [state.step for state in steps if state.step.linked_when_done]
    incidents = list(selectors.incidents_open_for_claimant(user=request.user))
    return render(
        request,
        "claims/portal/index.html",
        {
            "claims": claims,
            "journey_links": links,
            "incidents_open": incidents,
            "notices": portal_notices(user=request.user),
        },
    )


@claimant_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_detail_for_claimant(user=request.user, pk=pk)
    loss_items, evidence = list(claim.loss_items.all()), list(claim.evidence.all())
    checklist = selectors.claim_checklist(claim=claim, loss_items=loss_items, evidence=evidence)
    upload_page = evidence_upload_page(claim)
    return render(
        request,
        "claims/portal/detail.html",
        {
            "claim": claim,
            "loss_items": loss_items,
            "evidence": evidence,
            "total": sum(item.claimed_amount for item in loss_items),
            "open_requests": [r for r in claim.requests if not r.answered_at],
            "answered_requests": [r for r in claim.requests if r.answered_at],
            "estimate": selectors.claim_estimate_for_claimant(claim=claim),
            "checklist": checklist,
            "missing": missing_evidence(claim, checklist, page=upload_page),
            "additions_url": upload_page if claim.status != Claim.Status.DRAFT else None,
            "message_kinds": selectors.CLAIMANT_MESSAGE_EVENTS,
            "continue_url": resume_url(claim) if claim.status == Claim.Status.DRAFT else None,
            "can_withdraw": claim.status != Claim.Status.WITHDRAWN,
            "can_rejoin": claim.status == Claim.Status.WITHDRAWN and claim.incident.accepting_claims,
            "editable": claim.status in EDITABLE_STATUSES,
            "portal_panels": claim_portal_panels(claim=claim, user=request.user),
        },
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def additions(request: HttpRequest, pk: int) -> HttpResponse:
    """After submission: more files (the upload preselected from a "missing" link) and a note to staff."""
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if claim.status == Claim.Status.DRAFT:
        return redirect(resume_url(claim))
    if problem := services.claim_additions_problem(claim=claim):
        messages.error(request, problem)
        return redirect("claims:detail", pk=claim.pk)
    form = ClaimNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_note_add(
                claim=claim, actor=request.user, text=form.cleaned_data["text"], meta=RequestMeta.from_request(request)
            )
        except ClaimError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("메모를 보냈습니다. 담당자가 확인합니다."))
            return redirect("claims:detail", pk=claim.pk)
    loss_items = list(selectors.loss_items_for_claim(claim=claim))
    evidence = list(selectors.evidence_for_claim(claim=claim))
    checklist = selectors.claim_checklist(claim=claim, loss_items=loss_items, evidence=evidence)
    return render(
        request,
        "claims/portal/additions.html",
        {
            "claim": claim,
            "note_form": form,
            "evidence": evidence,
            "checklist": checklist,
            "missing": missing_evidence(claim, checklist),
            "upload_form": EvidenceUploadForm(
                loss_items=loss_items, initial=evidence_upload_initial(request.GET, loss_items=loss_items)
            ),
            **upload_limits(),
            "can_remove": False,
        },
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def information_request(request: HttpRequest, pk: int, request_pk: int) -> HttpResponse:
    """What staff asked for, the files sent for it so far, and the answer."""
    info = selectors.information_request_for_claimant(user=request.user, claim_pk=pk, pk=request_pk)
    claim = info.claim
    form = InformationAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.information_request_answer(
                information_request=info,
                actor=request.user,
                answer=form.cleaned_data["answer"],
                meta=RequestMeta.from_request(request),
            )
        except ClaimError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("답변을 보냈습니다. 담당자가 확인한 뒤 다시 검토합니다."))
            return redirect("claims:detail", pk=claim.pk)
    loss_items = list(selectors.loss_items_for_claim(claim=claim))
    return render(
        request,
        "claims/portal/information_request.html",
        {
            "claim": claim,
            "info": info,
            "files": list(selectors.evidence_for_claim(claim=claim).filter(information_request=info)),
            "form": form,
            "upload_form": EvidenceUploadForm(loss_items=loss_items),
            **upload_limits(),
            "can_answer": not info.answered_at and claim.status == Claim.Status.INFO_REQUESTED,
        },
    )


@claimant_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    if claim.status == Claim.Status.WITHDRAWN:
        return redirect("claims:detail", pk=claim.pk)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.claim_withdraw(
            claim=claim, actor=request.user, reason=form.cleaned_data["reason"], meta=RequestMeta.from_request(request)
        )
        messages.success(request, _("공동소송 참여를 철회했습니다. 접수 기간 안에는 다시 참여할 수 있습니다."))
        return redirect("claims:detail", pk=claim.pk)
    return render(request, "claims/portal/withdraw.html", {"claim": claim, "form": form})


@claimant_required
@require_POST
def rejoin(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    try:
        claim = services.claim_rejoin(claim=claim, actor=request.user, meta=RequestMeta.from_request(request))
    except ClaimError as error:
        messages.error(request, error.message)
        return redirect("claims:detail", pk=claim.pk)
    messages.success(request, _("다시 참여합니다. 내용을 확인한 뒤 제출해 주세요."))
    return redirect(resume_url(claim))
