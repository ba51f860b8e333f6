"""The journey checklist shown on every page of the journey and the portal: `{% journey_checklist %}`, or
`{% journey_checklist claim=claim %}` on a claim's pages. Drawn from accounts.journey (`claimant_steps`), the
claim's part (the losses and evidence, then submission) from the claim passed in, which accounts does not import.
A display only: the pages' guards and services decide."""

from dataclasses import dataclass, replace

from django import template
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.journey import (
    JOURNEY_AFTER_STEPS_URL_NAME,
    POWER_OF_ATTORNEY,
    claimant_steps,
    journey_step,
    journey_steps,
)
from accounts.selectors import ClaimantReadiness, claimant_readiness_cached

register = template.Library()
SIGNING_ACCEPTS = journey_step(POWER_OF_ATTORNEY).accepts

DONE, CURRENT, TODO = "done", "current", "todo"
SIGN_UP = _("회원가입")
CLAIM = _("신청서 작성 (손해·증빙)")
SUBMITTED = _("제출")


@dataclass(frozen=True)
class ChecklistItem:
    label: Promise | str
    state: str  # DONE, CURRENT or TODO
    url: str = ""  # linked while done (to look back) or current (to go on); never ahead of the claimant


def _anonymous_items() -> list[ChecklistItem]:
    """Before sign-up: the account first, then the steps every claimant meets as configured now."""
    nobody = ClaimantReadiness(email_verified=False, profile_complete=False)
    return [
        ChecklistItem(SIGN_UP, CURRENT, reverse("accounts:signup")),
        *(ChecklistItem(step.label, TODO) for step in journey_steps(readiness=nobody)),
        ChecklistItem(CLAIM, TODO),
        ChecklistItem(SUBMITTED, TODO),
    ]


def checklist_items(*, user, readiness: ClaimantReadiness | None = None, claim=None) -> list[ChecklistItem]:
    """Every step with its state, in the journey's order, then the claim and its submission."""
    if not user.is_authenticated:
        return _anonymous_items()
    readiness = readiness or claimant_readiness_cached(user=user)
    # The power-of-attorney text is accepted by signing it: the consents item is done once every other consent is
    # given, so the identity and signing pages do not show the consents as the current step.
    later = [document for document in readiness.consents_missing if document.kind not in SIGNING_ACCEPTS]
    states = claimant_steps(user=user, readiness=replace(readiness, consents_missing=later))
    items = [ChecklistItem(SIGN_UP, DONE)]
    items += [
        ChecklistItem(state.step.label, state.state, reverse(state.step.url_name) if state.state != TODO else "")
        for state in states
    ]
    steps_done = all(state.state == DONE for state in states)
    submitted = claim is not None and getattr(claim, "status", "draft") != "draft"
    claim_url = reverse(JOURNEY_AFTER_STEPS_URL_NAME)
    items.append(
        ChecklistItem(CLAIM, DONE if submitted else CURRENT if steps_done else TODO, claim_url if steps_done else "")
    )
    items.append(ChecklistItem(SUBMITTED, DONE if submitted else TODO))
    return items


@register.inclusion_tag("accounts/_journey_checklist.html", takes_context=True)
def journey_checklist(context: template.Context, claim=None) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or user.is_staff:
        return {"items": []}
    items = checklist_items(user=user, readiness=getattr(request, "claimant_readiness", None), claim=claim)
    current = next((item for item in items if item.state == CURRENT), None)
    return {
        "items": items,
        "current": current,
        "done_count": sum(item.state == DONE for item in items),
        "total": len(items),
    }
