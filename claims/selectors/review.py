"""Reads for staff review: the claim list (a fixed number of queries whatever the page size), one claim with
everything a reviewer needs to decide it, and who can be given claims to review."""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import ConsentRecord, PowerOfAttorney, User
from accounts.proof import proof_level_annotations
from accounts.validators import mobile_phone_normalize
from claims.models import (
    REFERENCE_ALPHABET,
    Claim,
    ClaimEvent,
    Estimate,
    Evidence,
    Flag,
    InformationRequest,
    LossItem,
    RejectionReason,
)
from claims.selectors.estimates import claim_estimate_current
from claims.selectors.intake import ADDITION_KINDS, event_is_new_addition
from claims.validators import business_registration_number_normalize


def claims_with_evidence(tag: str) -> Exists:
    """For WHERE clauses and ordering: probed per claim through the (claim, tag) index."""
    return Exists(Evidence.objects.filter(claim=OuterRef("pk"), tag=tag))


def claims_for_review() -> QuerySet[Claim]:
    """Claims with what the list shows: claimant, reviewer and services joined or prefetched, and open flags,
    so a page costs the same number of queries for 5 rows or 500. Evidence completeness is added to the page's
    claims only, by claims_evidence_attach: as an Exists in the SELECT list PostgreSQL hashes every evidence row
    of the table on each page. The same goes for the plaintiffs' proof levels (claims_proof_level_attach)."""
    return Claim.objects.select_related("claimant", "reviewer", "incident").prefetch_related(
        "services",
        Prefetch("flags", queryset=Flag.objects.filter(status=Flag.Status.OPEN), to_attr="open_flags"),
    )


def claims_proof_level_attach(claims: Iterable[Claim]) -> None:
    """Sets proof_level and proof_level_sandbox (accounts/proof.py) on each claim, in one query for all of them."""
    claims = list(claims)
    levels = {
        row["pk"]: row
        for row in User.objects.filter(pk__in={claim.claimant_id for claim in claims})
        .annotate(**proof_level_annotations())
        .values("pk", "proof_level", "proof_level_sandbox")
    }
    for claim in claims:
        claim.proof_level = levels[claim.claimant_id]["proof_level"]
        claim.proof_level_sandbox = levels[claim.claimant_id]["proof_level_sandbox"]


def claims_with_proof_level(level: int) -> Q:
    """A filter: claims whose plaintiff has this proof level."""
    users = User.objects.annotate(**proof_level_annotations()).filter(proof_level=level).values("pk")
    return Q(claimant_id__in=users)


def claims_evidence_attach(claims: Iterable[Claim]) -> None:
    """Sets has_proof_of_use and has_revenue_evidence on each claim, in one query for all of them."""
    claims = list(claims)
    tags = set(
        Evidence.objects.filter(
            claim__in=[claim.pk for claim in claims], tag__in=[Evidence.Tag.PROOF_OF_USE, Evidence.Tag.REVENUE_RECORDS]
        )
        .order_by()  # Evidence's default ordering would join claims_claim
        .values_list("claim_id", "tag")
        .distinct()
    )
    for claim in claims:
        claim.has_proof_of_use = (claim.pk, Evidence.Tag.PROOF_OF_USE) in tags
        claim.has_revenue_evidence = (claim.pk, Evidence.Tag.REVENUE_RECORDS) in tags


def claims_with_open_flags() -> Exists:
    return Exists(Flag.objects.filter(claim=OuterRef("pk"), status=Flag.Status.OPEN))


def information_requests_overdue(*, today: dt.date | None = None) -> QuerySet[InformationRequest]:
    """Information requests not answered by their due date (a request is due by the end of its due date, Seoul
    time)."""
    return InformationRequest.objects.filter(answered_at__isnull=True, due_date__lt=today or timezone.localdate())


def claims_overdue(*, today: dt.date | None = None) -> Exists:
    """Claims waiting on an overdue information request: the staff queue (the claim list's filter) and not ready
    for filing (filing.services.cohorts refuses to freeze them). Use as `Claim.objects.filter(claims_overdue())`."""
    return Exists(information_requests_overdue(today=today).filter(claim=OuterRef("pk")))


def claims_with_new_additions() -> Exists:
    """Claims with files or notes the claimant added after submitting that no reviewer has marked seen (the claim
    list's filter). Use as `Claim.objects.filter(claims_with_new_additions())`."""
    return Exists(
        ClaimEvent.objects.filter(
            claim=OuterRef("pk"),
            kind__in=ADDITION_KINDS,
            data__after_submission=True,
            pk__gt=OuterRef("additions_seen_through"),
        )
    )


def information_requests_to_remind(*, before_days: int, today: dt.date | None = None) -> dict[str, QuerySet]:
    """Open requests of claims still waiting on them, by reminder: "before" those due within `before_days` days
    (today included), "after" those past their due date."""
    today = today or timezone.localdate()
    waiting = InformationRequest.objects.filter(
        answered_at__isnull=True, claim__status=Claim.Status.INFO_REQUESTED
    ).select_related("claim__claimant")
    return {
        "before": waiting.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=before_days)),
        "after": waiting.filter(due_date__lt=today),
    }


def claims_with_flag_code(code: str) -> Exists:
    return Exists(Flag.objects.filter(claim=OuterRef("pk"), status=Flag.Status.OPEN, code=code))


def reviewers_eligible() -> QuerySet[User]:
    """Active staff who hold the review permission (directly, through a role group, or as superusers)."""
    permission = Permission.objects.filter(content_type__app_label="claims", codename="review_claim")
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .distinct()
        .order_by("legal_name", "email")
    )


def rejection_reasons_active() -> QuerySet[RejectionReason]:
    return RejectionReason.objects.filter(is_active=True)


@dataclass(frozen=True)
class FlagView:
    flag: Flag
    related: list[Claim]


@dataclass(frozen=True)
class ClaimReviewDetail:
    claim: Claim
    loss_items: list[LossItem]
    unattached_evidence: list[Evidence]
    estimate: Estimate | None
    flags: list[FlagView]
    events: list[ClaimEvent]
    information_requests: list[InformationRequest]
    consents: list[ConsentRecord]
    powers_of_attorney: list[PowerOfAttorney]

    @property
    def open_flag_count(self) -> int:
        return sum(1 for view in self.flags if view.flag.status == Flag.Status.OPEN)

    @cached_property
    def new_additions(self) -> list[ClaimEvent]:
        """Files and notes the claimant added after submitting that no reviewer has marked seen, each file event
        with its evidence row (`event.evidence`, None once the file is gone)."""
        files = {item.pk: item for item in self.unattached_evidence}
        files.update({item.pk: item for loss in self.loss_items for item in loss.evidence_files})
        new = [event for event in self.events if event_is_new_addition(event, claim=self.claim)]
        for event in new:
            event.evidence = files.get((event.data or {}).get("evidence"))
        return new

    @property
    def new_addition_ids(self) -> set[int]:
        return {event.pk for event in self.new_additions}


def consents_latest(*, user: User) -> list[ConsentRecord]:
    """The newest ledger entry for each consent document the user acted on."""
    latest: dict[int, ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(user=user).select_related("document").order_by("-at", "-id"):
        latest.setdefault(record.document_id, record)
    return sorted(latest.values(), key=lambda record: (record.document.kind, -record.document.version))


def claim_review_detail(*, claim: Claim) -> ClaimReviewDetail:
    """Everything on the review page of one claim, in a fixed number of queries."""
    claim = (
        Claim.objects.select_related("claimant", "reviewer", "incident").prefetch_related("services").get(pk=claim.pk)
    )
    evidence = list(Evidence.objects.filter(claim=claim).select_related("finding").order_by("uploaded_at", "pk"))
    loss_items = list(LossItem.objects.filter(claim=claim).select_related("service"))
    by_item: dict[int | None, list[Evidence]] = {}
    for item in evidence:
        by_item.setdefault(item.loss_item_id, []).append(item)
    for item in loss_items:
        item.evidence_files = by_item.get(item.pk, [])
    flags = list(claim.flags.select_related("reviewed_by"))
    related_ids = {pk for flag in flags for pk in flag.related_claim_ids}
    related = Claim.objects.filter(pk__in=related_ids).only("pk", "reference_code", "status").in_bulk()
    return ClaimReviewDetail(
        claim=claim,
        loss_items=loss_items,
        unattached_evidence=by_item.get(None, []),
        estimate=claim_estimate_current(claim=claim),
        flags=[FlagView(flag, [related[pk] for pk in flag.related_claim_ids if pk in related]) for flag in flags],
        events=list(claim.events.select_related("actor").order_by("created_at", "pk")),
        information_requests=list(
            claim.information_requests.select_related("requested_by").prefetch_related("evidence")
        ),
        consents=consents_latest(user=claim.claimant),
        powers_of_attorney=list(PowerOfAttorney.objects.filter(user=claim.claimant).select_related("document")),
    )


def evidence_for_staff(*, claim_id: int, evidence_id: int) -> Evidence | None:
    return Evidence.objects.filter(claim_id=claim_id, pk=evidence_id).select_related("claim").first()


def _reference_code(compact: str) -> str | None:
    """'kc-abcd-2345', 'KCABCD2345' or 'ABCD-2345' -> 'KC-ABCD-2345'; None if it is not shaped like one."""
    body = compact.removeprefix("KC")
    if len(body) != 8 or any(char not in REFERENCE_ALPHABET for char in body):
        return None
    if not compact.startswith("KC") and body.isdigit():
        return None  # eight digits alone are more likely part of a phone number
    return f"KC-{body[:4]}-{body[4:]}"


def claim_search_filter(term: str, *, personal_data: bool) -> Q | None:
    """What staff type in the search box, normalised to one indexed lookup: a reference code in any case with or
    without dashes, an email address, a mobile number with or without dashes, a business registration number,
    or else part of the claimant's name. Without the personal-data permission only reference codes are searched.
    None when the term cannot match anything."""
    text = " ".join(term.split())
    compact = re.sub(r"[\s-]", "", text).upper()
    code = _reference_code(compact)
    if code:
        return Q(reference_code=code)
    if not personal_data or not text:
        return None
    if "@" in text:
        return Q(claimant__email=text.lower())
    digits = re.sub(r"[\s\-.()]", "", text)
    if digits.lstrip("+").isdigit():
        try:
            return Q(claimant__phone=mobile_phone_normalize(digits))
        except ValidationError:
            pass
        number = business_registration_number_normalize(digits)
        return Q(business_registration_number=number) if len(number) == 10 else None
    return Q(claimant__legal_name__icontains=text)
