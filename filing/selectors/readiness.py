"""Filing readiness per plaintiff: the one rule that says whether a claim's papers are complete enough to file it
(docs/filing.md, "Readiness").

Each condition is a boolean SQL expression over `Claim`, so a list, a filter, the freeze's INSERT ... SELECT and one
claim's checklist all use the same rule, in the same query: `readiness_annotate(queryset)` adds one `r_<key>` column
per condition that applies, `r_ready` (all of them) and `r_overridden` (a Lawyer's override in force).

A condition applies only where its part is configured:
- identity: an identity provider is configured (integrations.identity) -> proof level 3 or more (accounts/proof.py);
- power_of_attorney: always -> signed, not withdrawn, on the current power-of-attorney text, its PDF rendered (a
  worker renders it after the signature: until then the plaintiff is not ready, with that reason);
- proof_of_use: always -> every claimed service (at least one) has proof of use: a file tagged proof of use for that
  service (linked to a loss item of it, or not linked to any when the claim names only that service), or a file
  read (claims/services/evidence_reading.py) with a moment inside the service's outage window, for that service;
- estimate: always -> the claim accepted by a Lawyer with its estimate computed;
- retainer: a payment gateway is configured and the current fee terms ask a retainer -> paid or waived (payments);
- flags: always -> no open duplicate or fraud flag;
- requests: always -> no unanswered information request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ConsentDocument, PowerOfAttorney
from accounts.proof import ProofLevel, proof_level_annotations
from claims.models import Claim, Evidence, EvidenceFinding, Flag, InformationRequest
from filing.models import ReadinessOverride, WaveMember
from integrations.identity import identity_backend
from payments.models import RetainerOrder
from payments.selectors import SETTLED, payment_gateway_available, retainer_terms_current

IDENTITY = "identity"
POWER_OF_ATTORNEY = "power_of_attorney"
PROOF_OF_USE = "proof_of_use"
ESTIMATE = "estimate"
RETAINER = "retainer"
FLAGS = "flags"
REQUESTS = "requests"


@dataclass(frozen=True)
class Rule:
    key: str
    label: Promise  # staff's checklist and the list filter
    claimant_todo: Promise  # the claimant's "아직 필요한 것", in plain words


RULES: tuple[Rule, ...] = (
    Rule(
        IDENTITY,
        gettext_lazy("본인인증 (증명 수준 3 이상)"),
        gettext_lazy("휴대전화 본인인증(카카오·PASS·네이버·토스)을 마쳐 주세요."),
    ),
    Rule(
        POWER_OF_ATTORNEY,
        gettext_lazy("유효한 최신 소송위임장"),
        gettext_lazy("최신 소송위임장에 서명해 주세요."),
    ),
    Rule(
        PROOF_OF_USE,
        gettext_lazy("서비스마다 장애 당시 이용 증빙"),
        gettext_lazy("장애 시간에 서비스를 쓰고 있었다는 화면(캡처)을 서비스마다 올려 주세요."),
    ),
    Rule(
        ESTIMATE,
        gettext_lazy("승인된 산정액"),
        gettext_lazy("변호사가 신청을 검토하고 있습니다. 승인되면 이 항목이 채워집니다."),
    ),
    Rule(
        RETAINER,
        gettext_lazy("착수금 결제 또는 면제"),
        gettext_lazy("보수 약정에 따른 착수금을 결제해 주세요."),
    ),
    Rule(
        FLAGS,
        gettext_lazy("확인 필요 플래그 없음"),
        gettext_lazy("담당자가 신청 내용을 한 번 더 확인하고 있습니다. 따로 하실 일은 없습니다."),
    ),
    Rule(
        REQUESTS,
        gettext_lazy("답하지 않은 자료 요청 없음"),
        gettext_lazy("담당자의 자료 요청에 답해 주세요."),
    ),
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}


def readiness_rules() -> tuple[Rule, ...]:
    """The conditions that apply as configured now (at most one query: the current fee terms)."""
    keys = {POWER_OF_ATTORNEY, PROOF_OF_USE, ESTIMATE, FLAGS, REQUESTS}
    if identity_backend().available:
        keys.add(IDENTITY)
    if payment_gateway_available():
        terms = retainer_terms_current()
        if terms is not None and terms.amount:
            keys.add(RETAINER)
    return tuple(rule for rule in RULES if rule.key in keys)


# --- the conditions as SQL --------------------------------------------------------------------------------------


@contextmanager
def jit_off() -> Iterator[None]:
    """PostgreSQL's JIT compiler off for the statements inside (in a transaction of their own): the readiness
    subqueries over a whole cohort are estimated costly enough to be compiled, and compiling them takes seconds
    longer than running them (20,000 claims: 10 s with it, 0.2 s without)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _boolean(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _identity() -> Q:
    level = proof_level_annotations("claimant__")["proof_level"]
    return Q(GreaterThanOrEqual(level, int(ProofLevel.IDENTITY)))


def _powers_of_attorney_in_force() -> QuerySet:
    """The claimant's (OuterRef) signed, not withdrawn powers of attorney on the current text."""
    current = (
        ConsentDocument.objects.filter(kind=ConsentDocument.Kind.POWER_OF_ATTORNEY, published_at__isnull=False)
        .order_by("-version")
        .values("pk")[:1]
    )
    return PowerOfAttorney.objects.filter(
        user_id=OuterRef("claimant_id"), withdrawn_at__isnull=True, document_id=Subquery(current)
    )


def _power_of_attorney() -> Exists:
    return Exists(_powers_of_attorney_in_force().exclude(pdf_sha256=""))


def _power_of_attorney_pdf_pending() -> Exists:
    """Signed, but the PDF not rendered yet (the reason shown for an unmet power of attorney)."""
    return Exists(_powers_of_attorney_in_force().filter(pdf_sha256=""))


def _services_without_proof() -> QuerySet:
    """The claim's services (OuterRef: the claim) that have no proof of use, as rows of the claim-service table
    (read through its (claim, service) index, each check an EXISTS on the evidence's (claim, tag) index)."""
    through = Claim.services.through
    claim, service = OuterRef("claim_id"), OuterRef("service_id")
    tagged = Evidence.objects.filter(claim_id=claim, tag=Evidence.Tag.PROOF_OF_USE, loss_item__service_id=service)
    service_named = Func(OuterRef("service__slug"), function="jsonb_build_array", output_field=JSONField())
    read_inside = Evidence.objects.filter(
        Q(loss_item__service_id=service) | Q(finding__services__contains=service_named),
        claim_id=claim,
        finding__status=EvidenceFinding.Status.DONE,
        finding__proof_of_use=EvidenceFinding.ProofOfUse.YES,
    )
    unlinked = Evidence.objects.filter(claim_id=claim, tag=Evidence.Tag.PROOF_OF_USE, loss_item__isnull=True)
    other_services = through.objects.filter(claim_id=claim).exclude(service_id=service)
    return through.objects.filter(claim_id=OuterRef("pk")).exclude(
        Q(Exists(tagged)) | Q(Exists(read_inside)) | Q(Exists(unlinked), ~Exists(other_services))
    )


def _proof_of_use() -> Q:
    return Q(Exists(Claim.services.through.objects.filter(claim_id=OuterRef("pk")))) & ~Q(
        Exists(_services_without_proof())
    )


def _services_missing_proof() -> Func:
    """The names of the claim's services without proof of use, as an array (empty when none)."""
    names = _services_without_proof().order_by("service__name_ko").values("service__name_ko")
    return Func(Subquery(names), function="ARRAY", output_field=ArrayField(CharField()))


def _retainer() -> Exists:
    return Exists(RetainerOrder.objects.filter(claimant_id=OuterRef("claimant_id"), status__in=SETTLED))


def _no_open_flags() -> Q:
    return ~Q(Exists(Flag.objects.filter(claim=OuterRef("pk"), status=Flag.Status.OPEN)))


def _no_open_requests() -> Q:
    return ~Q(Exists(InformationRequest.objects.filter(claim=OuterRef("pk"), answered_at__isnull=True)))


def _conditions(rules: Iterable[Rule]) -> dict[str, Q]:
    """The conditions that apply, cheapest first: PostgreSQL evaluates an OR's AND-list in the order written, so a
    claim failing a column check never runs the proof-of-use subqueries."""
    order = (ESTIMATE, FLAGS, REQUESTS, POWER_OF_ATTORNEY, RETAINER, IDENTITY, PROOF_OF_USE)
    builders = {
        IDENTITY: _identity,
        POWER_OF_ATTORNEY: lambda: Q(_power_of_attorney()),
        PROOF_OF_USE: _proof_of_use,
        ESTIMATE: lambda: Q(status=Claim.Status.ACCEPTED, estimate_total__isnull=False),
        RETAINER: lambda: Q(_retainer()),
        FLAGS: _no_open_flags,
        REQUESTS: _no_open_requests,
    }
    keys = {rule.key for rule in rules}
    return {key: builders[key]() for key in order if key in keys}


def override_in_force() -> Exists:
    return Exists(ReadinessOverride.objects.filter(claim_id=OuterRef("pk"), revoked_at__isnull=True))


def claims_ready(*, rules: Iterable[Rule] | None = None) -> Q:
    """Ready for filing: every condition that applies met. A filter on `Claim`."""
    condition = Q()
    for part in _conditions(readiness_rules() if rules is None else rules).values():
        condition &= part
    return condition


def claims_ready_or_overridden(*, rules: Iterable[Rule] | None = None) -> Q:
    """What a wave takes: ready claims, and claims a Lawyer let through with a reason."""
    return claims_ready(rules=rules) | Q(override_in_force())


def claims_missing(key: str) -> Q:
    """Claims failing one condition (the list filter's "missing X")."""
    return ~_conditions([RULES_BY_KEY[key]])[key]


def readiness_annotate(queryset: QuerySet[Claim], *, rules: Iterable[Rule] | None = None) -> QuerySet[Claim]:
    """`r_<key>` for every condition that applies, `r_ready`, `r_overridden`, `r_missing_services` (names of the
    claimed services without proof of use) and `r_power_of_attorney_pdf_pending` (signed, PDF not rendered yet),
    computed in the same SELECT."""
    rules = readiness_rules() if rules is None else tuple(rules)
    conditions = _conditions(rules)
    ready = Q()
    for part in conditions.values():
        ready &= part
    annotations = {f"r_{key}": _boolean(part) for key, part in conditions.items()}
    if POWER_OF_ATTORNEY in conditions:
        annotations["r_power_of_attorney_pdf_pending"] = _power_of_attorney_pdf_pending()
    return queryset.annotate(
        **annotations,
        r_ready=_boolean(ready),
        r_overridden=override_in_force(),
        r_missing_services=_services_missing_proof(),
        r_accepted=_boolean(Q(status=Claim.Status.ACCEPTED)),
        r_estimated=_boolean(Q(estimate_total__isnull=False)),
    )


# --- the answer, in words -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    met: bool
    reason: str  # why it is unmet, in plain words (empty when met)
    claimant_todo: str  # what the claimant can do (empty when met)


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    overridden: bool

    @property
    def ready(self) -> bool:
        return all(check.met for check in self.checks)

    @property
    def takes_part(self) -> bool:
        """Whether a wave frozen now would take the claim (ready, or overridden)."""
        return self.ready or self.overridden

    @property
    def unmet(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.met)


def _reason(key: str, claim: Claim) -> str:
    if key == IDENTITY:
        return _("신청인의 본인인증(간편인증)이나 인증서 서명이 없습니다.")
    if key == POWER_OF_ATTORNEY:
        if getattr(claim, "r_power_of_attorney_pdf_pending", False):
            return _("소송위임장에 서명했지만 서명된 PDF를 아직 만들고 있습니다.")
        return _("최신 소송위임장에 서명하지 않았거나 위임을 철회했습니다.")
    if key == PROOF_OF_USE:
        missing = getattr(claim, "r_missing_services", None)
        if missing:
            return _("이용 증빙이 없는 서비스: %(services)s") % {"services": ", ".join(missing)}
        return _("피해 서비스가 없거나 이용 증빙이 없습니다.")
    if key == ESTIMATE:
        if not claim.r_estimated:
            return _("아직 산정되지 않았습니다.")
        return _("변호사가 아직 승인하지 않았습니다.")
    if key == RETAINER:
        return _("착수금이 결제되거나 면제되지 않았습니다.")
    if key == FLAGS:
        return _("검토하지 않은 확인 필요 플래그가 있습니다.")
    return _("신청인이 답하지 않은 자료 요청이 있습니다.")


def _claimant_todo(rule: Rule, claim: Claim) -> str:
    if rule.key == POWER_OF_ATTORNEY and getattr(claim, "r_power_of_attorney_pdf_pending", False):
        return _("서명한 위임장 PDF를 만들고 있습니다. 따로 하실 일은 없습니다.")
    return str(rule.claimant_todo)


def readiness_of(claim: Claim, *, rules: Iterable[Rule]) -> Readiness:
    """The checklist of a claim that went through `readiness_annotate` with the same `rules`."""
    checks = []
    for rule in rules:
        met = bool(getattr(claim, f"r_{rule.key}"))
        checks.append(
            Check(
                key=rule.key,
                label=str(rule.label),
                met=met,
                reason="" if met else _reason(rule.key, claim),
                claimant_todo="" if met else _claimant_todo(rule, claim),
            )
        )
    return Readiness(checks=tuple(checks), overridden=bool(claim.r_overridden))


def claim_readiness(*, claim: Claim) -> Readiness:
    """One claim's checklist (two queries: the fee terms, then the claim with every condition)."""
    rules = readiness_rules()
    annotated = readiness_annotate(Claim.objects.filter(pk=claim.pk), rules=rules).only("pk", "status").get()
    return readiness_of(annotated, rules=rules)


def claims_readiness(*, queryset: QuerySet[Claim]) -> list[tuple[Claim, Readiness]]:
    """Each claim of `queryset` with its checklist, in one query for the claims whatever their number."""
    rules = readiness_rules()
    return [(claim, readiness_of(claim, rules=rules)) for claim in readiness_annotate(queryset, rules=rules)]


# --- a wave before its freeze ---------------------------------------------------------------------------------

BLOCKED_SHOWN = 200  # plaintiffs listed with what blocks them on the freeze page; the counts cover every one


@dataclass(frozen=True)
class WaveReadiness:
    """What a freeze now would take and leave out, for the freeze page (one aggregate and one list query)."""

    candidates: int
    taken: int
    overridden: int  # taken only because of an override
    unmet: tuple[tuple[Rule, int], ...]  # each condition with how many candidates fail it
    zero_amount: int  # taken with an estimate of 0 won
    missing_proof: int  # taken without proof of use (overridden)
    open_requests: int  # taken with an unanswered information request (overridden)
    blocked: tuple[tuple[Claim, Readiness], ...]  # the first BLOCKED_SHOWN left out, with what blocks them

    @property
    def left_out(self) -> int:
        return self.candidates - self.taken

    @property
    def warnings(self) -> bool:
        return bool(self.zero_amount or self.missing_proof or self.open_requests)


def _wave_counts(candidates: QuerySet[Claim], conditions: dict[str, Q]) -> dict[str, int]:
    """The freeze page's counts in one statement that evaluates each condition once per claim: the conditions as
    columns of the candidates' SELECT, counted by an outer SELECT (names are ours, values bound)."""
    inner = candidates.order_by().annotate(
        **{f"r_{key}": _boolean(part) for key, part in conditions.items()},
        r_overridden=override_in_force(),
        r_zero=_boolean(Q(estimate_total=0)),
    )
    columns = [f"r_{key}" for key in conditions]
    source, params = inner.values("pk", *columns, "r_overridden", "r_zero").query.sql_with_params()
    ready = " AND ".join(columns) or "TRUE"
    taken = f"(({ready}) OR r_overridden)"
    proof = f"r_{PROOF_OF_USE}" if PROOF_OF_USE in conditions else "TRUE"
    requests = f"r_{REQUESTS}" if REQUESTS in conditions else "TRUE"
    counted = {
        "candidates": "TRUE",
        "taken": taken,
        "overridden": f"NOT ({ready}) AND r_overridden",
        "zero_amount": f"{taken} AND r_zero",
        "missing_proof": f"{taken} AND NOT {proof}",
        "open_requests": f"{taken} AND NOT {requests}",
        **{f"unmet_{key}": f"NOT r_{key}" for key in conditions},
    }
    select = ", ".join(f"COUNT(*) FILTER (WHERE {condition})" for condition in counted.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM ({source}) candidates", params)  # noqa: S608 (our names, bound values)
        row = cursor.fetchone()
    return dict(zip(counted, row, strict=True))


def wave_readiness(*, candidates: QuerySet[Claim], limit: int = BLOCKED_SHOWN) -> WaveReadiness:
    """Readiness over a wave's candidates (filing.selectors.cohorts.wave_candidates): counts over all of them, and
    the first `limit` left out by submission time with their unmet conditions."""
    with jit_off():
        rules = readiness_rules()
        conditions = _conditions(rules)
        counts = _wave_counts(candidates, conditions)
        ready = Q()
        for part in conditions.values():
            ready &= part
        left_out = (
            readiness_annotate(candidates.exclude(ready | Q(override_in_force())), rules=rules)
            .only("pk", "reference_code", "status", "estimate_total")
            .order_by("submitted_at", "pk")[:limit]
        )
        blocked = tuple((claim, readiness_of(claim, rules=rules)) for claim in left_out)
    return WaveReadiness(
        candidates=counts["candidates"],
        taken=counts["taken"],
        overridden=counts["overridden"],
        unmet=tuple((rule, counts[f"unmet_{rule.key}"]) for rule in rules),
        zero_amount=counts["zero_amount"],
        missing_proof=counts["missing_proof"],
        open_requests=counts["open_requests"],
        blocked=blocked,
    )


# --- what claims' pages show (registered in filing/apps.py) -----------------------------------------------------


def readiness_review_panel(*, claim: Claim, user) -> dict | None:
    """The checklist on the staff's review page, with the override in force and whether this user may override."""
    override = (
        ReadinessOverride.objects.filter(claim_id=claim.pk, revoked_at__isnull=True)
        .select_related("created_by")
        .first()
    )
    return {
        "readiness": claim_readiness(claim=claim),
        "override": override,
        "can_override": user.has_perm("filing.add_readinessoverride"),
        "claim": claim,
    }


# A claim in these statuses is still on its way to a wave: the claimant sees what is still missing.
CLAIMANT_SHOWN_STATUSES = (
    Claim.Status.SUBMITTED,
    Claim.Status.IN_REVIEW,
    Claim.Status.INFO_REQUESTED,
    Claim.Status.ACCEPTED,
)


def readiness_portal_panel(*, claim: Claim, user) -> dict | None:
    """The claimant's "아직 필요한 것" on their claim page: what is missing before the claim can be filed, in plain
    words; nothing for drafts, closed claims and claims already in a wave."""
    if claim.status not in CLAIMANT_SHOWN_STATUSES or WaveMember.objects.filter(claim_id=claim.pk).exists():
        return None
    readiness = claim_readiness(claim=claim)
    todo = list(dict.fromkeys(check.claimant_todo for check in readiness.unmet))
    return {"ready": readiness.ready, "todo": todo}
