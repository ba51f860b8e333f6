"""Helpers shared by the claimant's pages: the wizard's steps and the editable-claim guard."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.models import Claim, Evidence, LossItem
from claims.selectors.intake import Checklist
from claims.services.evidence import evidence_too_large_message
from claims.services.intake import EDITABLE_STATUSES, WIZARD_STEPS, claim_additions_allowed

STEP_LABELS = {
    "eligibility": gettext_lazy("참여 자격"),
    "claimant": gettext_lazy("신청인 정보"),
    "losses": gettext_lazy("손해 내용"),
    "evidence": gettext_lazy("증빙 자료"),
    "review": gettext_lazy("확인·제출"),
}


def upload_limits() -> dict:
    """What the upload form tells the claimant and the browser checks before sending."""
    return {
        "max_bytes": settings.EVIDENCE_MAX_BYTES,
        "max_files": settings.EVIDENCE_MAX_FILES,
        "too_large_message": evidence_too_large_message(),
    }


def step_url(claim: Claim, step: str) -> str:
    return reverse(f"claims:wizard_{step}", args=[claim.pk])


def resume_url(claim: Claim) -> str:
    """Where the claimant picks up: the furthest wizard step of a draft, otherwise the claim's page."""
    if claim.status == Claim.Status.DRAFT:
        return step_url(claim, claim.wizard_step if claim.wizard_step in WIZARD_STEPS else "eligibility")
    return reverse("claims:detail", args=[claim.pk])


def not_editable(request: HttpRequest, claim: Claim) -> HttpResponse | None:
    """A redirect to the claim's page when the wizard may no longer change it."""
    if claim.status in EDITABLE_STATUSES:
        return None
    messages.info(request, _("제출한 신청은 고칠 수 없습니다. 진행 상황은 이 화면에서 확인하세요."))
    return redirect("claims:detail", pk=claim.pk)


@dataclass(frozen=True)
class StepLink:
    key: str
    number: int
    label: str
    url: str | None
    state: str  # "done", "current" or "todo"


def wizard_steps(claim: Claim | None, current: str) -> list[StepLink]:
    reached = WIZARD_STEPS.index(claim.wizard_step) if claim and claim.wizard_step in WIZARD_STEPS else 0
    links = []
    for index, key in enumerate(WIZARD_STEPS):
        state = "current" if key == current else ("done" if index < WIZARD_STEPS.index(current) else "todo")
        url = step_url(claim, key) if claim and index <= reached else None
        links.append(StepLink(key, index + 1, str(STEP_LABELS[key]), url, state))
    return links


def render_step(request: HttpRequest, claim: Claim | None, step: str, template: str, context: dict) -> HttpResponse:
    number = WIZARD_STEPS.index(step) + 1
    return render(
        request,
        template,
        {
            "claim": claim,
            "step": step,
            "steps": wizard_steps(claim, step),
            "step_number": number,
            "step_count": len(WIZARD_STEPS),
            "step_percent": round(number * 100 / len(WIZARD_STEPS)),
            **context,
        },
    )


# What usually proves each kind of loss item: the tag preselected when the claimant follows its "missing" link.
TAG_FOR_LOSS_KIND = {
    LossItem.Kind.SUBSCRIPTION: Evidence.Tag.SUBSCRIPTION_PAYMENT,
    LossItem.Kind.BUSINESS_REVENUE: Evidence.Tag.REVENUE_RECORDS,
    LossItem.Kind.EXPENSE: Evidence.Tag.RECEIPT,
    LossItem.Kind.OTHER: Evidence.Tag.OTHER,
}


@dataclass(frozen=True)
class MissingEvidence:
    """One thing the claim still lacks, with a link straight to its upload (None when nothing can be added)."""

    text: str
    tag: str
    url: str | None


def evidence_upload_page(claim: Claim) -> str | None:
    """Where this claim takes files now: the wizard's evidence step for a draft, the "add" page after submission
    (while additions are allowed), else nowhere."""
    if claim.status == Claim.Status.DRAFT:
        return reverse("claims:wizard_evidence", args=[claim.pk])
    if claim_additions_allowed(claim=claim):
        return reverse("claims:additions", args=[claim.pk])
    return None


def missing_evidence(claim: Claim, checklist: Checklist, *, page: str | None = "") -> list[MissingEvidence]:
    """The checklist's gaps in words, each linking to the upload with its tag (and loss item) preselected; `page`
    is `evidence_upload_page(claim)` when the caller has it already."""
    page = evidence_upload_page(claim) if page == "" else page

    def link(tag: str, loss_item: LossItem | None = None) -> str | None:
        if page is None:
            return None
        query = {"tag": tag, **({"loss_item": loss_item.pk} if loss_item else {})}
        return f"{page}?{urlencode(query)}#upload"

    found = []
    if not checklist.has_proof_of_use:
        found.append(MissingEvidence(_("장애 당시 이용 증빙이 없습니다."), "proof_of_use", link("proof_of_use")))
    if checklist.needs_business_registration:
        tag = Evidence.Tag.BUSINESS_REGISTRATION
        found.append(MissingEvidence(_("사업자등록증이 없습니다."), tag, link(tag)))
    if checklist.revenue_without_records:
        tag = Evidence.Tag.REVENUE_RECORDS
        found.append(MissingEvidence(_("매출 손실의 매출 자료가 없습니다."), tag, link(tag)))
    for item in checklist.items_without_evidence:
        tag = TAG_FOR_LOSS_KIND.get(item.kind, Evidence.Tag.OTHER)
        text = _("%(service)s · %(kind)s에 증빙 파일이 없습니다.") % {
            "service": item.service.name,
            "kind": item.get_kind_display(),
        }
        found.append(MissingEvidence(text, tag, link(tag, item)))
    return found
