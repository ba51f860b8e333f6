"""Reads for the claimant's side: eligibility choices, the wizard, the portal and evidence downloads.

Every claim read here is filtered by its claimant, so another person's claim is simply not found (404)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import User
from claims.models import Claim, ClaimEvent, Estimate, Evidence, Incident, InformationRequest, LossItem, OutageWindow
from claims.selectors.reference import estimate_windows

KST = ZoneInfo("Asia/Seoul")
SATURDAY = 5

# The timeline a claimant sees: status changes, not the audit detail of every saved step.
CLAIMANT_VISIBLE_EVENTS = (
    ClaimEvent.Kind.SUBMITTED,
    ClaimEvent.Kind.REVIEW_STARTED,
    ClaimEvent.Kind.INFO_REQUESTED,
    ClaimEvent.Kind.INFO_PROVIDED,
    ClaimEvent.Kind.ACCEPTED,
    ClaimEvent.Kind.REJECTED,
    ClaimEvent.Kind.WITHDRAWN,
    ClaimEvent.Kind.REJOINED,
    ClaimEvent.Kind.NOTE_ADDED,
)
# What a claimant adds after submitting (marked `after_submission` in the event's data): new to staff until a
# reviewer marks it seen (Claim.additions_seen_through).
ADDITION_KINDS = (ClaimEvent.Kind.EVIDENCE_ADDED, ClaimEvent.Kind.NOTE_ADDED)
# Kinds whose ClaimEvent.message staff write for the claimant (a decision's reason).
CLAIMANT_MESSAGE_EVENTS = (ClaimEvent.Kind.ACCEPTED, ClaimEvent.Kind.REJECTED, ClaimEvent.Kind.NOTE_ADDED)


def incidents_for_eligibility() -> QuerySet[Incident]:
    """Every incident, the default first, so people about a closed one can learn that it is closed."""
    return Incident.objects.order_by("-is_default", "-outage_started")


def incidents_open_for_claimant(*, user: User) -> QuerySet[Incident]:
    """Incidents accepting claims for which this claimant has no claim yet (a withdrawn one is re-joined from its
    own page), the default first: what the portal offers to start."""
    return (
        Incident.objects.filter(accepting_claims=True)
        .exclude(pk__in=Claim.objects.filter(claimant=user).values("incident_id"))
        .order_by("-is_default", "-outage_started")
    )


def event_is_new_addition(event: ClaimEvent, *, claim: Claim) -> bool:
    """A file or note the claimant added after submitting that no reviewer has marked seen yet."""
    return (
        event.kind in ADDITION_KINDS
        and bool((event.data or {}).get("after_submission"))
        and event.pk > claim.additions_seen_through
    )


def outage_windows_for_incident(*, incident: Incident) -> QuerySet[OutageWindow]:
    return OutageWindow.objects.filter(incident=incident).select_related("service", "incident").order_by("end", "pk")


def incident_outage_week(*, incident: Incident) -> tuple[date, date]:
    """The Saturday-to-Friday week (KST) in which the outage started, as the operator compared revenue."""
    started = timezone.localtime(incident.outage_started, KST).date()
    saturday = started - timedelta(days=(started.weekday() - SATURDAY) % 7)
    return saturday, saturday + timedelta(days=6)


def claims_for_claimant(*, user: User) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(claimant=user)
        .select_related("incident")
        .annotate(loss_item_count=Count("loss_items", distinct=True), evidence_count=Count("evidence", distinct=True))
        .order_by("-created_at")
    )


def claim_active(*, user: User, incident: Incident) -> Claim | None:
    return Claim.objects.filter(claimant=user, incident=incident).exclude(status=Claim.Status.WITHDRAWN).first()


def claim_for_claimant(*, user: User, pk: int) -> Claim:
    claim = get_object_or_404(Claim.objects.select_related("incident"), pk=pk, claimant=user)
    claim.claimant = user  # the claimant is the user asking: not read again
    return claim


def loss_items_for_claim(*, claim: Claim) -> QuerySet[LossItem]:
    return LossItem.objects.filter(claim=claim).select_related("service").order_by("service__name_ko", "pk")


def evidence_for_claim(*, claim: Claim) -> QuerySet[Evidence]:
    return (
        Evidence.objects.filter(claim=claim)
        .select_related("loss_item__service", "information_request", "finding")
        .order_by("uploaded_at", "pk")
    )


def claim_detail_for_claimant(*, user: User, pk: int) -> Claim:
    """The claim with everything the portal shows, in a fixed number of queries."""
    visible_events = ClaimEvent.objects.filter(kind__in=CLAIMANT_VISIBLE_EVENTS).order_by("created_at", "pk")
    queryset = Claim.objects.select_related("incident").prefetch_related(
        "services",
        Prefetch("loss_items", queryset=LossItem.objects.select_related("service").order_by("pk")),
        Prefetch("evidence", queryset=Evidence.objects.select_related("loss_item__service", "finding").order_by("pk")),
        Prefetch("events", queryset=visible_events, to_attr="timeline"),
        Prefetch(
            "information_requests",
            queryset=InformationRequest.objects.order_by("-created_at").prefetch_related("evidence"),
            to_attr="requests",
        ),
        Prefetch("estimates", queryset=Estimate.objects.filter(is_current=True), to_attr="current_estimates"),
    )
    return get_object_or_404(queryset, pk=pk, claimant=user)


def evidence_for_owner(*, user: User, claim_pk: int, evidence_pk: int) -> Evidence:
    return get_object_or_404(
        Evidence.objects.select_related("claim"), pk=evidence_pk, claim_id=claim_pk, claim__claimant=user
    )


def evidence_finding_for_owner(*, user: User, claim_pk: int, evidence_pk: int) -> Evidence:
    """The claimant's own evidence row with its finding (for the feedback under an upload)."""
    return get_object_or_404(
        Evidence.objects.select_related("finding"), pk=evidence_pk, claim_id=claim_pk, claim__claimant=user
    )


def evidence_for_staff(*, evidence_pk: int) -> Evidence:
    return get_object_or_404(Evidence.objects.select_related("claim"), pk=evidence_pk)


def information_request_for_claimant(*, user: User, claim_pk: int, pk: int) -> InformationRequest:
    return get_object_or_404(
        InformationRequest.objects.select_related("claim"), pk=pk, claim_id=claim_pk, claim__claimant=user
    )


@dataclass(frozen=True)
class Checklist:
    """What the claim still lacks, for the review step and the portal. Only the readiness items block."""

    has_proof_of_use: bool
    needs_business_registration: bool
    items_without_evidence: list[LossItem] = field(default_factory=list)
    revenue_without_records: bool = False
    has_loss_items: bool = True

    @property
    def complete(self) -> bool:
        return (
            self.has_proof_of_use
            and not self.needs_business_registration
            and not self.items_without_evidence
            and not self.revenue_without_records
        )


def claim_checklist(*, claim: Claim, loss_items: list[LossItem], evidence: list[Evidence]) -> Checklist:
    """Computed from rows already loaded, so it costs no query."""
    tags = {item.tag for item in evidence}
    documented = {item.loss_item_id for item in evidence if item.loss_item_id}
    is_business = claim.claimant_type in (Claim.ClaimantType.SOLE_PROPRIETOR, Claim.ClaimantType.COMPANY)
    has_revenue = any(item.kind == LossItem.Kind.BUSINESS_REVENUE for item in loss_items)
    return Checklist(
        has_proof_of_use=Evidence.Tag.PROOF_OF_USE in tags,
        needs_business_registration=is_business and Evidence.Tag.BUSINESS_REGISTRATION not in tags,
        items_without_evidence=[item for item in loss_items if item.pk not in documented],
        revenue_without_records=has_revenue and Evidence.Tag.REVENUE_RECORDS not in tags,
        has_loss_items=bool(loss_items),
    )


@dataclass(frozen=True)
class EstimateLine:
    explanation: str
    amount: int


@dataclass(frozen=True)
class ClaimantEstimate:
    total: int
    lines: list[EstimateLine]
    computed_at: object
    windows: list = field(default_factory=list)  # claims.selectors.reference.EstimateWindow: the outage windows used


def claim_estimate_for_claimant(*, claim: Claim) -> ClaimantEstimate | None:
    """The current estimate, explained line by line in the reader's language, when staff chose to show it.
    Uses `claim.current_estimates` from `claim_detail_for_claimant`."""
    if not claim.estimate_visible_to_claimant or not claim.current_estimates:
        return None
    estimate = claim.current_estimates[0]
    language = "en" if get_language() == "en" else "ko"
    lines = [
        EstimateLine(
            explanation=component["explanation"].get(language) or component["explanation"].get("ko", ""),
            amount=component["amount"],
        )
        for component in estimate.breakdown.get("components", [])
    ]
    return ClaimantEstimate(
        total=estimate.total,
        lines=lines,
        computed_at=estimate.computed_at,
        windows=estimate_windows(estimate=estimate),
    )
