"""Reads about outage-window corrections: which claims' current estimates used an older revision of a window, and
the windows an estimate used, for its explanation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils.translation import get_language

from claims.models import Claim, Estimate, OutageWindow, OutageWindowRevision
from claims.selectors.estimates import claims_estimable


def estimates_with_older_revision(*, window: OutageWindow) -> QuerySet[Estimate]:
    """Current estimates of the window's incident that used an older revision of it."""
    used = KeyTransform(window.service.slug, "window_revisions")
    return (
        Estimate.objects.filter(is_current=True, claim__incident_id=window.incident_id)
        .alias(used_revision=used)
        .filter(used_revision__lt=window.revision)
    )


def window_affected_claims(*, window: OutageWindow) -> QuerySet[Claim]:
    """Estimable claims whose current estimate used an older revision of the window: what a recompute would change.
    (Withdrawn claims keep their last estimate and are not recomputed, so they are not counted.)"""
    older = estimates_with_older_revision(window=window).filter(claim=OuterRef("pk"))
    return claims_estimable(incident_id=window.incident_id).filter(Exists(older))


def window_affected_counts(*, windows: Iterable[OutageWindow]) -> dict[int, int]:
    """How many claims each window's correction affects (see window_affected_claims), for windows of one or more
    incidents, in one query per incident."""
    by_incident: dict[int, list[OutageWindow]] = {}
    for window in windows:
        by_incident.setdefault(window.incident_id, []).append(window)
    counts: dict[int, int] = {}
    for incident_id, incident_windows in by_incident.items():
        aggregates: dict[str, Any] = {}
        estimates = Estimate.objects.filter(is_current=True, claim__in=claims_estimable(incident_id=incident_id))
        for window in incident_windows:
            estimates = estimates.alias(**{f"used_{window.pk}": KeyTransform(window.service.slug, "window_revisions")})
            aggregates[f"w{window.pk}"] = Count("pk", filter=Q(**{f"used_{window.pk}__lt": window.revision}))
        if aggregates:
            for key, value in estimates.aggregate(**aggregates).items():
                counts[int(key[1:])] = value
    return counts


# --- explanations ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateWindow:
    """One outage window as an estimate used it: shown with the estimate's explanation."""

    service: str
    start: datetime
    end: datetime
    end_kind: str
    end_kind_label: str
    confidence: str
    confidence_label: str
    revision: int | None


def _label(choices: type, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def estimate_windows(*, estimate: Estimate) -> list[EstimateWindow]:
    """The windows the estimate used, from its breakdown (or, for an estimate made before the breakdown listed them,
    its stored input and recorded revisions), with labels in the reader's language. No queries."""
    english = get_language() == "en"
    rows: list[Mapping[str, Any]] = estimate.breakdown.get("windows") or [
        {"service": slug, **bounds, "revision": estimate.window_revisions.get(slug)}
        for slug, bounds in sorted((estimate.inputs or {}).get("windows", {}).items())
    ]
    names = (estimate.inputs or {}).get("service_names", {})
    names_en = (estimate.inputs or {}).get("service_names_en", {})
    windows = []
    for row in rows:
        slug = row["service"]
        name = (names_en.get(slug) if english else None) or names.get(slug) or slug
        end_kind, confidence = row.get("end_kind") or "", row.get("confidence") or ""
        windows.append(
            EstimateWindow(
                service=name,
                start=datetime.fromisoformat(row["start"]),
                end=datetime.fromisoformat(row["end"]),
                end_kind=end_kind,
                end_kind_label=_label(OutageWindow.EndKind, end_kind) if end_kind else "",
                confidence=confidence,
                confidence_label=_label(OutageWindow.Confidence, confidence) if confidence else "",
                revision=row.get("revision"),
            )
        )
    return windows


def outage_window_revisions(*, window: OutageWindow) -> QuerySet[OutageWindowRevision]:
    return OutageWindowRevision.objects.filter(window=window).select_related("actor").order_by("-number")
