"""Sections that apps above claims add to the staff's claim review page (the retainer's ledger: payments), registered
from their AppConfig.ready() so claims never imports them: a template and a function of the claim and the viewing
user giving its context, or None to show nothing."""

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
