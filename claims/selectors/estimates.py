"""Reads for damage estimates: which claims are estimated, the calculator's input built from the database in a
fixed number of queries per batch, the sweep's list of stale claims, and a draft model's preview."""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.damages import (
    FLAG_HOURS_EXCEED_WINDOW,
    FLAG_NO_PROOF_OF_USE,
    FLAG_REVENUE_WITHOUT_EVIDENCE,
    ClaimInput,
    LossItemInput,
    Parameters,
    ServiceWindow,
    estimate,
)
from claims.models import Claim, ClaimEvent, DamageModelVersion, Estimate, Evidence, Incident, LossItem, OutageWindow
from config.hashing import sha256_hex, sha256_json

# Drafts are never estimated; withdrawn claims keep their last estimate but are not recomputed. Every other
# status (submitted and later, including decided claims) is estimated, so staff always see a current figure.
ESTIMABLE_STATUSES = (
    Claim.Status.SUBMITTED,
    Claim.Status.IN_REVIEW,
    Claim.Status.INFO_REQUESTED,
    Claim.Status.ACCEPTED,
    Claim.Status.REJECTED,
)
# Timeline entries written with a change to what the estimate reads (the claim, its loss items or evidence).
INPUT_EVENT_KINDS = (
    ClaimEvent.Kind.CREATED,
    ClaimEvent.Kind.UPDATED,
    ClaimEvent.Kind.SUBMITTED,
    ClaimEvent.Kind.INFO_PROVIDED,
    ClaimEvent.Kind.REJOINED,
    ClaimEvent.Kind.EVIDENCE_ADDED,
    ClaimEvent.Kind.EVIDENCE_REMOVED,
)
CHUNK_SIZE = 1000

FLAG_COHORT_OUTLIER = "cohort_outlier"
ESTIMATE_FLAG_LABELS = {
    FLAG_HOURS_EXCEED_WINDOW: _("신청인이 적은 피해 시간이 공식 장애 시간보다 깁니다"),
    FLAG_REVENUE_WITHOUT_EVIDENCE: _("매출 자료 없이 영업 손실을 청구했습니다"),
    FLAG_NO_PROOF_OF_USE: _("장애 당시 이용 증빙이 없습니다"),
    FLAG_COHORT_OUTLIER: _("산정액이 같은 사고 신청의 상위 1%를 넘습니다"),
}


def claims_estimable(*, incident_id: int | None = None) -> QuerySet[Claim]:
    claims = Claim.objects.filter(status__in=ESTIMABLE_STATUSES)
    return claims if incident_id is None else claims.filter(incident_id=incident_id)


def claim_ids_in_batches(claims: QuerySet[Claim], *, size: int = CHUNK_SIZE) -> Iterator[tuple[int, ...]]:
    """The claims' ids in ascending order, `size` at a time, streamed from the database."""
    ids = claims.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=max(size, 2000))
    while batch := tuple(islice(ids, size)):
        yield batch


def damage_model_active(*, incident_id: int) -> DamageModelVersion | None:
    return DamageModelVersion.objects.filter(incident_id=incident_id, is_active=True).first()


def damage_models_active(*, incident_ids: Iterable[int]) -> dict[int, DamageModelVersion]:
    versions = DamageModelVersion.objects.filter(incident_id__in=set(incident_ids), is_active=True)
    return {version.incident_id: version for version in versions}


def damage_model_is_editable(version: DamageModelVersion) -> bool:
    """Only a draft that has never been applied may change; anything that produced estimates is history."""
    return version.pk is None or (not version.is_active and version.activated_at is None)


def inputs_digest(claim_input: ClaimInput) -> tuple[dict[str, Any], str]:
    """The stored JSON form of an input and its SHA-256 (over canonical JSON: sorted keys, no spaces, UTF-8; orjson
    writes the same bytes as `json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, tested,
    several times faster)."""
    data = claim_input.to_dict()
    return data, sha256_json(data)


# --- reference data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentReference:
    """What the calculator needs to know about one incident: its start and each service's outage window."""

    incident_id: int
    slug: str
    start: datetime
    windows: dict[str, ServiceWindow]
    service_names: dict[str, str]
    service_names_en: dict[str, str]

    def claim_input(
        self,
        *,
        loss_items: Sequence[LossItemInput],
        already_compensated: int,
        has_proof_of_use: bool,
        has_revenue_evidence: bool,
    ) -> ClaimInput:
        """The calculator's input, carrying only the windows and names of the services the claim names."""
        used = {item.service for item in loss_items}
        return ClaimInput(
            incident_start=self.start,
            windows={slug: window for slug, window in self.windows.items() if slug in used},
            loss_items=tuple(loss_items),
            already_compensated=already_compensated,
            has_proof_of_use=has_proof_of_use,
            has_revenue_evidence=has_revenue_evidence,
            service_names={slug: name for slug, name in self.service_names.items() if slug in used},
            service_names_en={slug: name for slug, name in self.service_names_en.items() if slug in used},
        )


def incident_references(*, incident_ids: Iterable[int]) -> dict[int, IncidentReference]:
    """Incidents with their outage windows and service names in Korean and English (two queries)."""
    incidents = {
        incident.pk: incident
        for incident in Incident.objects.filter(pk__in=set(incident_ids)).only("pk", "slug", "outage_started")
    }
    windows: dict[int, dict[str, ServiceWindow]] = defaultdict(dict)
    names: dict[int, dict[str, str]] = defaultdict(dict)
    names_en: dict[int, dict[str, str]] = defaultdict(dict)
    rows = OutageWindow.objects.filter(incident_id__in=incidents).values_list(
        "incident_id",
        "service__slug",
        "service__name_ko",
        "service__name_en",
        "start",
        "end",
        "end_kind",
        "confidence",
        "revision",
    )
    for incident_id, slug, name, name_en, start, end, end_kind, confidence, revision in rows:
        start = start or incidents[incident_id].outage_started
        windows[incident_id][slug] = ServiceWindow(slug, start, end, end_kind, confidence, revision)
        names[incident_id][slug] = name
        if name_en:
            names_en[incident_id][slug] = name_en
    return {
        pk: IncidentReference(pk, incident.slug, incident.outage_started, windows[pk], names[pk], names_en[pk])
        for pk, incident in incidents.items()
    }


# --- claims as calculator input --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentEstimate:
    pk: int
    model_version_id: int
    inputs_sha256: str
    total: int
    window_revisions: dict[str, int] = field(default_factory=dict)


def window_revisions_used(claim_input: ClaimInput) -> dict[str, int]:
    """The revision of each outage window an input carries, by service slug (what an estimate records)."""
    return {slug: window.revision or 0 for slug, window in sorted(claim_input.windows.items())}


@dataclass
class ClaimSnapshot:
    """One claim as the estimator sees it: its input (or why none could be built) and its current estimate."""

    pk: int
    reference_code: str
    incident_id: int
    estimate_total: int | None
    estimate_flags: list[str]
    estimate_error: str
    input: ClaimInput
    current: CurrentEstimate | None = None
    loss_item_ids: list[int] = field(default_factory=list)


_CLAIM_FIELDS = (
    "pk",
    "reference_code",
    "incident_id",
    "already_compensated",
    "estimate_total",
    "estimate_flags",
    "estimate_error",
)
_ITEM_FIELDS = (
    "pk",
    "claim_id",
    "service__slug",
    "kind",
    "monthly_fee",
    "comparison_revenue",
    "outage_revenue",
    "amount",
    "affected_hours",
    "has_evidence",
)


def claim_snapshots(
    *, claim_ids: Sequence[int], lock: bool = False, references: dict[int, IncidentReference] | None = None
) -> list[ClaimSnapshot]:
    """Estimable claims among `claim_ids`, ordered by id, with their inputs and current estimates.

    Four queries whatever the number of claims (claims, loss items with an evidence flag, evidence tags, current
    estimates) plus two for reference data unless `references` is given. With `lock`, the claim rows are locked
    (FOR UPDATE, in id order) until the caller's transaction ends.
    """
    claims = claims_estimable().filter(pk__any_of=claim_ids).order_by("pk")
    if lock:
        claims = claims.select_for_update()
    rows = list(claims.values_list(*_CLAIM_FIELDS))
    if not rows:
        return []
    ids = [row[0] for row in rows]

    items: dict[int, list[tuple]] = defaultdict(list)
    item_rows = (
        LossItem.objects.filter(claim_id__any_of=ids)
        .annotate(has_evidence=Exists(Evidence.objects.filter(loss_item=OuterRef("pk"))))
        .order_by("claim_id", "pk")
        .values_list(*_ITEM_FIELDS)
    )
    for row in item_rows:
        items[row[1]].append(row)

    tags: dict[int, set[str]] = defaultdict(set)
    tag_rows = (
        Evidence.objects.filter(claim_id__any_of=ids, tag__in=[Evidence.Tag.PROOF_OF_USE, Evidence.Tag.REVENUE_RECORDS])
        .values_list("claim_id", "tag")
        .distinct()
    )
    for claim_id, tag in tag_rows:
        tags[claim_id].add(tag)

    current = {
        row[0]: CurrentEstimate(*row[1:])
        for row in Estimate.objects.filter(claim_id__any_of=ids, is_current=True).values_list(
            "claim_id", "pk", "model_version_id", "inputs_sha256", "total", "window_revisions"
        )
    }
    if references is None:
        references = incident_references(incident_ids={row[2] for row in rows})

    snapshots = []
    for pk, code, incident_id, compensated, total, flags, error in rows:
        loss_items = [
            LossItemInput(
                service=slug,
                kind=kind,
                monthly_fee=fee,
                comparison_revenue=comparison,
                outage_revenue=outage,
                amount=amount,
                has_evidence=has_evidence,
                affected_hours=hours,
                ref=str(item_pk),
            )
            for item_pk, _claim, slug, kind, fee, comparison, outage, amount, hours, has_evidence in items[pk]
        ]
        claim_input = references[incident_id].claim_input(
            loss_items=loss_items,
            already_compensated=compensated,
            has_proof_of_use=Evidence.Tag.PROOF_OF_USE in tags[pk],
            has_revenue_evidence=Evidence.Tag.REVENUE_RECORDS in tags[pk],
        )
        snapshots.append(
            ClaimSnapshot(
                pk=pk,
                reference_code=code or "",
                incident_id=incident_id,
                estimate_total=total,
                estimate_flags=list(flags or []),
                estimate_error=error,
                input=claim_input,
                current=current.get(pk),
                loss_item_ids=[row[0] for row in items[pk]],
            )
        )
    return snapshots


def claim_estimate_input(*, claim: Claim) -> ClaimInput | None:
    """The input the estimator would use for this claim now, or None if the claim is not estimated."""
    snapshots = claim_snapshots(claim_ids=[claim.pk])
    return snapshots[0].input if snapshots else None


def claim_estimate_current(*, claim: Claim) -> Estimate | None:
    return Estimate.objects.filter(claim=claim, is_current=True).select_related("model_version").first()


# --- the sweep -----------------------------------------------------------------------------------------------


def claims_needing_estimate() -> QuerySet[Claim]:
    """Estimable claims (of incidents with an active model) whose estimate is missing or stale.

    Stale means: never checked; checked before the claim, one of its loss items or evidence files last changed
    (or before a timeline entry that records such a change, which also covers deletions); checked before the
    active model was applied; or the current estimate is not from the active model and the last attempt did not
    record an error (a claim whose data cannot be estimated is retried when its data or the model changes).
    """
    checked = OuterRef("estimated_at")
    active = DamageModelVersion.objects.filter(incident=OuterRef("incident_id"), is_active=True)
    return claims_estimable().filter(
        Exists(active),
        Q(estimated_at__isnull=True)
        | Q(updated_at__gt=F("estimated_at"))
        | Exists(LossItem.objects.filter(claim=OuterRef("pk"), updated_at__gt=checked))
        | Exists(Evidence.objects.filter(claim=OuterRef("pk"), uploaded_at__gt=checked))
        | Exists(ClaimEvent.objects.filter(claim=OuterRef("pk"), kind__in=INPUT_EVENT_KINDS, created_at__gt=checked))
        | Exists(active.filter(activated_at__gt=checked))
        | (
            Q(estimate_error="")
            & ~Exists(Estimate.objects.filter(claim=OuterRef("pk"), is_current=True, model_version__is_active=True))
        ),
    )


# --- preview -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewChange:
    claim_id: int
    reference_code: str
    before: int
    after: int

    @property
    def difference(self) -> int:
        return self.after - self.before


@dataclass
class DamageModelPreview:
    """What a model version would do to its incident's cohort, computed without writing anything."""

    claims: int = 0
    total_before: int = 0
    total_after: int = 0
    changed: int = 0
    increased: int = 0
    decreased: int = 0
    not_estimated_before: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    largest_changes: list[PreviewChange] = field(default_factory=list)
    computed_at: datetime | None = None

    @property
    def difference(self) -> int:
        return self.total_after - self.total_before


def damage_model_preview(*, version: DamageModelVersion, top: int = 20) -> DamageModelPreview:
    """Compare every estimable claim's current estimate with what `version` would give (reads only)."""
    parameters = Parameters.from_dict(version.parameters)
    references = incident_references(incident_ids=[version.incident_id])
    preview = DamageModelPreview()
    changes: list[PreviewChange] = []
    for ids in claim_ids_in_batches(claims_estimable(incident_id=version.incident_id)):
        for snapshot in claim_snapshots(claim_ids=ids, references=references):
            preview.claims += 1
            before = snapshot.estimate_total or 0
            preview.not_estimated_before += snapshot.estimate_total is None
            try:
                after = estimate(snapshot.input, parameters).total
            except ValueError as exc:
                preview.failures.append((snapshot.reference_code, str(exc)))
                after = before
            preview.total_before += before
            preview.total_after += after
            if after != before:
                preview.changed += 1
                preview.increased += after > before
                preview.decreased += after < before
                changes.append(PreviewChange(snapshot.pk, snapshot.reference_code, before, after))
        changes = heapq.nlargest(top, changes, key=lambda change: (abs(change.difference), -change.claim_id))
    preview.largest_changes = changes
    preview.computed_at = timezone.now()
    return preview


# A preview of a large cohort takes a while (every claim is estimated), so it is computed by a task and kept in the
# cache for PREVIEW_CACHE_SECONDS under a key that changes with the version's parameters and the active version.
PREVIEW_CACHE_SECONDS = 15 * 60


def damage_model_preview_cache_key(*, version: DamageModelVersion) -> str:
    active = damage_model_active(incident_id=version.incident_id)
    parameters = sha256_hex(json.dumps(version.parameters, sort_keys=True))[:16]
    return f"claims:damage-model-preview:{version.pk}:{parameters}:{active.pk if active else 0}"


def damage_model_preview_cached(*, version: DamageModelVersion) -> DamageModelPreview | None:
    return cache.get(damage_model_preview_cache_key(version=version))
