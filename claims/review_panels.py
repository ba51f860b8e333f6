"""Sections that apps above claims add to the staff's claim review page (the retainer's ledger: payments; filing
readiness: filing), registered from their AppConfig.ready() so claims never imports them: a template and a function
of the claim and the viewing user giving its context, or None to show nothing. Also the claimant's portal page and
the claim list's filters (below)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import User
from claims.models import Claim

PanelContext = Callable[..., dict[str, Any] | None]  # context(*, claim: Claim, user: User)


@dataclass(frozen=True)
class ReviewPanel:
    template: str
    context: dict[str, Any]


_PANELS: dict[str, PanelContext] = {}


def claim_review_panel_register(template: str, context: PanelContext) -> None:
    _PANELS[template] = context


def claim_review_panels(*, claim: Claim, user: User) -> list[ReviewPanel]:
    panels = ((template, context(claim=claim, user=user)) for template, context in _PANELS.items())
    return [ReviewPanel(template=template, context=found) for template, found in panels if found is not None]


# The claimant's side: sections apps above claims add to the portal's claim page (filing: "아직 필요한 것"), the same
# way: a template and a function of the claim and the claimant giving its context, or None to show nothing.
_PORTAL_PANELS: dict[str, PanelContext] = {}


def claim_portal_panel_register(template: str, context: PanelContext) -> None:
    _PORTAL_PANELS[template] = context


def claim_portal_panels(*, claim: Claim, user: User) -> list[ReviewPanel]:
    panels = ((template, context(claim=claim, user=user)) for template, context in _PORTAL_PANELS.items())
    return [ReviewPanel(template=template, context=found) for template, found in panels if found is not None]


# List filters apps above claims add to the staff's claim list (filing: ready for filing / missing X): Django admin
# list filter classes, appended after the claim admin's own.
_LIST_FILTERS: list[type] = []


def claim_list_filter_register(list_filter: type) -> None:
    if list_filter not in _LIST_FILTERS:
        _LIST_FILTERS.append(list_filter)


def claim_list_filters() -> list[type]:
    return list(_LIST_FILTERS)
