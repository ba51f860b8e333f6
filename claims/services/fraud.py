"""Duplicate and fraud signals, stored as flags on claims with the matching claims linked.

Signals (each a grouping query over the table, never a loop of queries per claim):
- the same mobile number, email address (ignoring case and a `+tag`), business registration number, payout
  bank account (by its keyed digest: the number is stored encrypted) or certified identity (the CI's keyed digest,
  accounts.IdentityVerification) on claims of different accounts;
- the same evidence file (SHA-256) on claims of different accounts, or a near-identical picture (perceptual hashes
  at most SIMILAR_IMAGE_MAX_DISTANCE bits apart);
- many sign-ups from one IP address within a short time;
- a burst of sign-ups from one referral source or referral code, well above its usual rate (REFERRAL_BURST_*
  settings): brokers selling claimant lists. Raising or reopening this flag is audited (FLAG_RAISED, no actor);
- the estimator's own flags: an estimate above its cohort's 99th percentile, hours beyond the official window.
  These describe the claim's current estimate, so an open one whose signal the estimate no longer carries (the
  claimant corrected the hours, the cohort grew past the claim) is cleared by the next check, with a timeline
  event and an audit entry, and opens again if the signal comes back. A flag staff reviewed is left as it is.

`claim_fraud_check` looks at one claim (after it is submitted) and `fraud_sweep` at the whole table (periodically,
for late matches, changed estimates and sign-up bursts). Both write flags for every claim in a matching group, so a
new claim that copies an old one flags both. A reviewed flag that gains new matching claims opens again.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Concat, Lower, StrIndex, Substr
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from accounts.models import User
from claims.damages import FLAG_HOURS_EXCEED_WINDOW
from claims.models import Claim, ClaimEvent, Evidence, Flag
from claims.selectors.estimates import ESTIMABLE_STATUSES, FLAG_COHORT_OUTLIER
from config.hashing import sha256_hex
from core.audit import audit_entry
from core.models import AuditEntry

# Drafts are the claimant's work in progress and withdrawn claims are out of the suit: neither is checked.
CHECKED_STATUSES = ESTIMABLE_STATUSES
SIMILAR_IMAGE_MAX_DISTANCE = 6  # of the 64 bits of a perceptual hash
PERCEPTUAL_HASH_HEX_LENGTH = 16
SIGNUP_BURST_ACCOUNTS = 5
SIGNUP_BURST_WINDOW = dt.timedelta(hours=1)
# The sweep compares pictures uploaded this recently with all others; older pairs were compared back then.
SWEEP_IMAGE_LOOKBACK = dt.timedelta(days=2)
SAVE_BATCH = 1000

SEVERITY = {
    Flag.Code.DUPLICATE_PHONE: Flag.Severity.MEDIUM,
    Flag.Code.DUPLICATE_EMAIL: Flag.Severity.HIGH,
    Flag.Code.DUPLICATE_BUSINESS_NUMBER: Flag.Severity.MEDIUM,
    Flag.Code.DUPLICATE_BANK_ACCOUNT: Flag.Severity.HIGH,  # one payee for two plaintiffs
    Flag.Code.DUPLICATE_IDENTITY: Flag.Severity.HIGH,  # one certified person, two claims
    Flag.Code.DUPLICATE_EVIDENCE: Flag.Severity.HIGH,
    Flag.Code.SIMILAR_IMAGE: Flag.Severity.MEDIUM,
    Flag.Code.SIGNUP_BURST: Flag.Severity.LOW,  # mobile carriers put many people behind one address
    Flag.Code.REFERRAL_BURST: Flag.Severity.MEDIUM,  # a partner's own campaign can burst too: staff look
    Flag.Code.AMOUNT_OUTLIER: Flag.Severity.LOW,
    Flag.Code.HOURS_BEYOND_WINDOW: Flag.Severity.LOW,
}
# Flags whose raising is written to the audit log (the others are found by the table's own values and shown on the
# claim; a referral burst is a judgement about a partner, so who-knew-what-when matters).
AUDITED_CODES = {Flag.Code.REFERRAL_BURST}
ESTIMATE_FLAG_CODES = {
    FLAG_COHORT_OUTLIER: Flag.Code.AMOUNT_OUTLIER,
    FLAG_HOURS_EXCEED_WINDOW: Flag.Code.HOURS_BEYOND_WINDOW,
}


@dataclass
class Finding:
    claim_id: int
    code: str
    fingerprint: str
    related: set[int] = field(default_factory=set)
    details: dict = field(default_factory=dict)


def email_key(path: str) -> Case:
    """The email address in lower case without a `+tag` in the mailbox name: kim+2@x.com and Kim@x.com match."""
    text = CharField()
    email = Lower(path, output_field=text)
    plus, at = StrIndex(email, Value("+")), StrIndex(email, Value("@"))
    without_tag = Concat(Substr(email, 1, plus - 1), Substr(email, at), output_field=text)
    return Case(When(GreaterThan(plus, 0) & LessThan(plus, at), then=without_tag), default=email, output_field=text)


# --- values shared by different accounts ------------------------------------------------------------------------


def _shared_value_findings(
    rows: QuerySet,
    *,
    code: str,
    key,
    claim_path: str,
    person_path: str,
    scope: Sequence[int] | None,
    fingerprint_of=sha256_hex,
) -> list[Finding]:
    """Group `rows` by `key`; every claim in a group with more than one account gets a finding linking the claims
    of the other accounts. With a scope, only the groups of the scope's claims are looked at."""
    rows = rows.annotate(key=key).exclude(key="").exclude(key__isnull=True)
    shared = rows.values("key").annotate(people=Count(person_path, distinct=True)).filter(people__gt=1)
    if scope is not None:
        shared = shared.filter(key__in=rows.filter(**{f"{claim_path}__in": scope}).values("key"))
    members: dict[str, dict[int, tuple[int, set[int]]]] = defaultdict(dict)
    values = rows.filter(key__in=shared.values("key")).values_list("key", claim_path, person_path, "pk")
    for value, claim_id, person_id, row_id in values.iterator(chunk_size=5000):
        members[value].setdefault(claim_id, (person_id, set()))[1].add(row_id)
    findings = []
    for value, claims in members.items():
        for claim_id, (person_id, row_ids) in claims.items():
            related = {other for other, (other_person, _rows) in claims.items() if other_person != person_id}
            details = {"evidence": sorted(row_ids)} if rows.model is Evidence else {}
            findings.append(Finding(claim_id, code, fingerprint_of(value), related, details))
    return findings


def _claims_checked() -> QuerySet[Claim]:
    return Claim.objects.filter(status__in=CHECKED_STATUSES)


def _evidence_checked() -> QuerySet[Evidence]:
    return Evidence.objects.filter(claim__status__in=CHECKED_STATUSES)


def _duplicate_findings(scope: Sequence[int] | None) -> list[Finding]:
    claims = {"claim_path": "pk", "person_path": "claimant_id", "scope": scope}
    return [
        *_shared_value_findings(_claims_checked(), code=Flag.Code.DUPLICATE_PHONE, key=F("claimant__phone"), **claims),
        *_shared_value_findings(
            _claims_checked(), code=Flag.Code.DUPLICATE_EMAIL, key=email_key("claimant__email"), **claims
        ),
        *_shared_value_findings(
            _claims_checked(),
            code=Flag.Code.DUPLICATE_BUSINESS_NUMBER,
            key=F("business_registration_number"),
            **claims,
        ),
        *_shared_value_findings(
            _claims_checked(),
            code=Flag.Code.DUPLICATE_BANK_ACCOUNT,
            key=F("claimant__bank_account_digest"),
            fingerprint_of=str,  # already a keyed digest of the number
            **claims,
        ),
        *_shared_value_findings(
            _claims_checked(),
            code=Flag.Code.DUPLICATE_IDENTITY,
            key=F("claimant__identity_verifications__ci_digest"),  # one person (CI) verified on two accounts
            fingerprint_of=str,  # already a keyed digest of the CI
            **claims,
        ),
        *_shared_value_findings(
            _evidence_checked(),
            code=Flag.Code.DUPLICATE_EVIDENCE,
            key=F("sha256"),
            claim_path="claim_id",
            person_path="claim__claimant_id",
            scope=scope,
            fingerprint_of=str,  # a file hash is no personal value
        ),
    ]


# --- near-identical pictures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRow:
    evidence_id: int
    claim_id: int
    person_id: int
    sha256: str
    perceptual_hash: str


def hamming_distance(first: str, second: str) -> int:
    return (int(first, 16) ^ int(second, 16)).bit_count()


def _image_rows(evidence: QuerySet[Evidence]) -> QuerySet:
    return (
        evidence.filter(perceptual_hash__regex=rf"^[0-9a-f]{{{PERCEPTUAL_HASH_HEX_LENGTH}}}$")
        .values_list("pk", "claim_id", "claim__claimant_id", "sha256", "perceptual_hash")
        .order_by()
    )


SIMILAR_IMAGES_SQL = """
SELECT a.id, a.claim_id, b.id, b.claim_id,
       bit_count(('x' || a.perceptual_hash)::bit(64) # ('x' || b.perceptual_hash)::bit(64)) AS distance
FROM ({probes}) AS a
JOIN ({candidates}) AS b
  ON b.claimant_id <> a.claimant_id AND b.sha256 <> a.sha256
WHERE bit_count(('x' || a.perceptual_hash)::bit(64) # ('x' || b.perceptual_hash)::bit(64)) <= %s
"""


def _similar_pairs_postgresql(probes: QuerySet, candidates: QuerySet, max_distance: int) -> list[tuple]:
    """Compare in the database: bit_count over the XOR of the hashes, one statement for all probes."""
    columns = ("id", "claim_id", "claimant_id", "sha256", "perceptual_hash")

    def select(rows: QuerySet) -> tuple[str, tuple]:
        sql, params = rows.query.sql_with_params()
        # Django's own SQL for the queryset, with its parameters kept apart: nothing user-typed is interpolated.
        return f"SELECT * FROM ({sql}) AS r ({', '.join(columns)})", params  # noqa: S608

    probe_sql, probe_params = select(probes)
    candidate_sql, candidate_params = select(candidates)
    with connection.cursor() as cursor:
        cursor.execute(
            SIMILAR_IMAGES_SQL.format(probes=probe_sql, candidates=candidate_sql),
            [*probe_params, *candidate_params, max_distance],
        )
        return cursor.fetchall()


def similar_pairs_python(probes: Iterable[tuple], candidates: Iterable[tuple], max_distance: int) -> list[tuple]:
    """The same comparison in Python, for databases without bit_count (the local SQLite default)."""
    probe_rows = [ImageRow(*row) for row in probes]
    pairs = []
    for row in candidates:
        other = ImageRow(*row)
        for probe in probe_rows:
            if other.person_id == probe.person_id or other.sha256 == probe.sha256:
                continue
            distance = hamming_distance(probe.perceptual_hash, other.perceptual_hash)
            if distance <= max_distance:
                pairs.append((probe.evidence_id, probe.claim_id, other.evidence_id, other.claim_id, distance))
    return pairs


def _similar_image_findings(probe_evidence: QuerySet[Evidence]) -> list[Finding]:
    """Each probe picture against every other checked picture of another account. Both sides are flagged."""
    probes, candidates = _image_rows(probe_evidence), _image_rows(_evidence_checked())
    if connection.vendor == "postgresql":
        pairs = _similar_pairs_postgresql(probes, candidates, SIMILAR_IMAGE_MAX_DISTANCE)
    else:
        pairs = similar_pairs_python(probes, candidates.iterator(chunk_size=5000), SIMILAR_IMAGE_MAX_DISTANCE)
    findings: dict[tuple[int, int], Finding] = {}
    for evidence_id, claim_id, other_evidence_id, other_claim_id, distance in pairs:
        for own, own_claim, match, match_claim in (
            (evidence_id, claim_id, other_evidence_id, other_claim_id),
            (other_evidence_id, other_claim_id, evidence_id, claim_id),
        ):
            finding = findings.setdefault(
                (own_claim, own),
                Finding(
                    own_claim, Flag.Code.SIMILAR_IMAGE, f"evidence:{own}", details={"evidence": [own], "matches": []}
                ),
            )
            finding.related.add(match_claim)
            if all(existing["evidence"] != match for existing in finding.details["matches"]):
                finding.details["matches"].append({"evidence": match, "claim": match_claim, "distance": distance})
    return list(findings.values())


# --- sign-up bursts ---------------------------------------------------------------------------------------------


def burst_members(signups: Sequence[tuple[int, dt.datetime]], *, accounts: int, window: dt.timedelta) -> set[int]:
    """The user ids that signed up within `window` of at least `accounts - 1` others (signups sorted by time)."""
    members: set[int] = set()
    start = 0
    for end in range(len(signups)):
        while signups[end][1] - signups[start][1] > window:
            start += 1
        if end - start + 1 >= accounts:
            members.update(user_id for user_id, _joined in signups[start : end + 1])
    return members


def _signup_burst_findings(scope: Sequence[int] | None) -> list[Finding]:
    users = User.objects.filter(signup_ip__isnull=False)
    busy = users.values("signup_ip").annotate(accounts=Count("pk")).filter(accounts__gte=SIGNUP_BURST_ACCOUNTS)
    if scope is not None:
        busy = busy.filter(signup_ip__in=users.filter(claims__in=scope).values("signup_ip"))
    signups: dict[str, list[tuple[int, dt.datetime]]] = defaultdict(list)
    rows = users.filter(signup_ip__in=busy.values("signup_ip")).order_by("signup_ip", "date_joined", "pk")
    for ip, user_id, joined in rows.values_list("signup_ip", "pk", "date_joined").iterator(chunk_size=5000):
        signups[ip].append((user_id, joined))
    ip_of_user = {}
    for ip, joined in signups.items():
        for user_id in burst_members(joined, accounts=SIGNUP_BURST_ACCOUNTS, window=SIGNUP_BURST_WINDOW):
            ip_of_user[user_id] = ip
    claims_by_ip: dict[str, dict[int, int]] = defaultdict(dict)
    for claim_id, person_id in _claims_checked().filter(claimant_id__in=ip_of_user).values_list("pk", "claimant_id"):
        claims_by_ip[ip_of_user[person_id]][claim_id] = person_id
    details = {"accounts": SIGNUP_BURST_ACCOUNTS, "window_minutes": int(SIGNUP_BURST_WINDOW.total_seconds() // 60)}
    return [
        Finding(
            claim_id,
            Flag.Code.SIGNUP_BURST,
            sha256_hex(ip),  # flags name a shared personal value by its hash, not the value itself
            {other for other, other_person in claims.items() if other_person != person_id},
            dict(details),
        )
        for ip, claims in claims_by_ip.items()
        for claim_id, person_id in claims.items()
    ]


# --- sign-up bursts from one referral source or code ------------------------------------------------------------


@dataclass(frozen=True)
class ReferralBurstRule:
    """At least `accounts` sign-ups within `window`, and at least `factor` times the source's usual number per
    window over the `baseline` before the window (none before: the count alone decides)."""

    accounts: int
    window: dt.timedelta
    factor: int
    baseline: dt.timedelta

    @classmethod
    def from_settings(cls) -> "ReferralBurstRule":
        return cls(
            accounts=settings.REFERRAL_BURST_ACCOUNTS,
            window=dt.timedelta(minutes=settings.REFERRAL_BURST_WINDOW_MINUTES),
            factor=settings.REFERRAL_BURST_FACTOR,
            baseline=dt.timedelta(days=settings.REFERRAL_BURST_BASELINE_DAYS),
        )


def referral_burst_episodes(signups: Sequence[tuple[int, dt.datetime]], *, rule: ReferralBurstRule) -> list[list[int]]:
    """The bursts of one source (signups sorted by time): the user ids of each run of overlapping windows of
    `rule.window` that hold a burst. Linear in the number of sign-ups."""
    episodes: list[list[int]] = []
    start = baseline_start = 0
    added = -1  # the last index put in an episode
    for end in range(len(signups)):
        while signups[end][1] - signups[start][1] > rule.window:
            start += 1
        while signups[baseline_start][1] < signups[start][1] - rule.baseline:
            baseline_start += 1
        count = end - start + 1
        usual = (start - baseline_start) * (rule.window / rule.baseline)
        if count >= rule.accounts and count >= rule.factor * usual:
            if start > added or not episodes:
                episodes.append([])
            episodes[-1].extend(user_id for user_id, _joined in signups[max(start, added + 1) : end + 1])
            added = end
    return episodes


def referral_burst_members(signups: Sequence[tuple[int, dt.datetime]], *, rule: ReferralBurstRule) -> set[int]:
    """Every user id in a burst of one source (signups sorted by time)."""
    return {user_id for episode in referral_burst_episodes(signups, rule=rule) for user_id in episode}


REFERRAL_KEYS = {"source": "referral_source", "code": "referral_code"}
REFERRAL_RELATED_MAX = 50  # claims linked on each flag (the burst's size is in its details)


def _referral_burst_findings(scope: Sequence[int] | None) -> list[Finding]:
    """Brokers selling claimant lists sign many people up through one link: per source (utm_source) and per
    referral code, the accounts in each burst, and their checked claims flagged with the burst's other claims
    linked (up to REFERRAL_RELATED_MAX). With a scope, only the bursts holding the scope's accounts."""
    rule = ReferralBurstRule.from_settings()
    ignored = set(settings.REFERRAL_BURST_IGNORED_SOURCES)
    scope_users = set(User.objects.filter(claims__in=scope).values_list("pk", flat=True)) if scope is not None else None
    findings = []
    for kind, field_name in REFERRAL_KEYS.items():
        users = User.objects.exclude(**{field_name: ""})
        if kind == "source" and ignored:
            users = users.exclude(**{f"{field_name}__in": ignored})
        busy = users.values(field_name).annotate(accounts=Count("pk")).filter(accounts__gte=rule.accounts)
        if scope is not None:
            busy = busy.filter(**{f"{field_name}__in": users.filter(pk__in=scope_users).values(field_name)})
        signups: dict[str, list[tuple[int, dt.datetime]]] = defaultdict(list)
        rows = users.filter(**{f"{field_name}__in": busy.values(field_name)})
        if scope_users is not None:
            # only the sign-ups that can share a window with the scope's, and their baselines (the sweep looks at all)
            around = Q(pk__in=[])
            for value, joined in users.filter(pk__in=scope_users).values_list(field_name, "date_joined"):
                since, until = joined - rule.baseline - 2 * rule.window, joined + rule.window
                around |= Q(**{field_name: value, "date_joined__range": (since, until)})
            rows = rows.filter(around)
        rows = rows.order_by(field_name, "date_joined", "pk")
        for value, user_id, joined in rows.values_list(field_name, "pk", "date_joined").iterator(chunk_size=5000):
            signups[value].append((user_id, joined))
        bursts: list[tuple[str, list[int]]] = [
            (value, episode)
            for value, joined in signups.items()
            for episode in referral_burst_episodes(joined, rule=rule)
            if scope_users is None or scope_users.intersection(episode)
        ]
        if not bursts:
            continue
        claims_of: dict[int, list[int]] = defaultdict(list)
        people = [user_id for _value, episode in bursts for user_id in episode]
        for start in range(0, len(people), 5000):
            checked = _claims_checked().filter(claimant_id__in=people[start : start + 5000])
            for claim_id, person_id in checked.values_list("pk", "claimant_id").order_by("pk"):
                claims_of[person_id].append(claim_id)
        details = {
            "kind": kind,
            "accounts": rule.accounts,
            "window_minutes": int(rule.window.total_seconds() // 60),
            "factor": rule.factor,
        }
        for value, episode in bursts:
            claims = [(claim_id, person_id) for person_id in episode for claim_id in claims_of.get(person_id, ())]
            sample = [claim_id for claim_id, _person in claims[: REFERRAL_RELATED_MAX + 1]]
            for claim_id, person_id in claims:
                related = {other for other in sample if other != claim_id and other not in claims_of[person_id]}
                findings.append(
                    Finding(
                        claim_id,
                        Flag.Code.REFERRAL_BURST,
                        sha256_hex(f"{kind}:{value}"),
                        set(sorted(related)[:REFERRAL_RELATED_MAX]),
                        # a campaign or partner name, no personal value
                        {**details, "value": value, "burst_accounts": len(episode)},
                    )
                )
    return findings


# --- the estimator's flags --------------------------------------------------------------------------------------


def _estimate_flag_findings(scope: Sequence[int] | None) -> list[Finding]:
    claims = _claims_checked().exclude(estimate_flags=[])
    if scope is not None:
        claims = claims.filter(pk__in=scope)
    findings = []
    for claim_id, flags, total in claims.values_list("pk", "estimate_flags", "estimate_total").iterator(
        chunk_size=5000
    ):
        for estimate_flag in flags or []:
            if estimate_flag in ESTIMATE_FLAG_CODES:
                code = ESTIMATE_FLAG_CODES[estimate_flag]
                findings.append(Finding(claim_id, code, "", details={"estimate_total": total}))
    return findings


def _estimate_flags_clear(scope: Sequence[int] | None) -> int:
    """Clear the open estimator flags whose claim's current estimate no longer carries their signal. Returns how
    many were cleared."""
    signal_of = {code: estimate_flag for estimate_flag, code in ESTIMATE_FLAG_CODES.items()}
    open_flags = Flag.objects.filter(status=Flag.Status.OPEN, code__in=signal_of)
    if scope is not None:
        open_flags = open_flags.filter(claim_id__in=scope)
    gone = [
        pk
        for pk, code, estimate_flags in open_flags.values_list("pk", "code", "claim__estimate_flags").iterator(
            chunk_size=SAVE_BATCH
        )
        if signal_of[code] not in (estimate_flags or [])
    ]
    now, cleared = timezone.now(), 0
    for start in range(0, len(gone), SAVE_BATCH):
        with transaction.atomic():
            locked = (
                Flag.objects.select_for_update(of=("self",))
                .filter(pk__in=gone[start : start + SAVE_BATCH], status=Flag.Status.OPEN)
                .select_related("claim")
            )
            flags = [flag for flag in locked if signal_of[flag.code] not in (flag.claim.estimate_flags or [])]
            events, entries = [], []
            for flag in flags:
                flag.status, flag.updated_at = Flag.Status.CLEARED, now
                data = {"flag": flag.pk, "code": flag.code, "signal": signal_of[flag.code]}
                events.append(ClaimEvent(claim=flag.claim, kind=ClaimEvent.Kind.FLAG_CLEARED, data=data))
                entries.append(
                    audit_entry(
                        actor=None, action=AuditEntry.Action.FLAG_CLEARED, target=flag, claim=flag.claim, data=data
                    )
                )
            Flag.objects.bulk_update(flags, ["status", "updated_at"])
            ClaimEvent.objects.bulk_create(events)
            AuditEntry.objects.bulk_create(entries)
            cleared += len(flags)
    return cleared


# --- saving -----------------------------------------------------------------------------------------------------


def _flags_save(findings: Sequence[Finding]) -> int:
    """Create new flags, extend existing ones with new matching claims (opening reviewed ones again), open
    cleared ones whose signal is back, and leave the rest alone. Returns how many flags were created or opened
    again."""
    now = timezone.now()
    changed = 0
    for start in range(0, len(findings), SAVE_BATCH):
        batch = {(f.claim_id, f.code, f.fingerprint): f for f in findings[start : start + SAVE_BATCH]}
        with transaction.atomic():
            existing = {
                (flag.claim_id, flag.code, flag.fingerprint): flag
                for flag in Flag.objects.select_for_update().filter(
                    claim_id__in={key[0] for key in batch}, code__in={key[1] for key in batch}
                )
            }
            created, updated = [], []
            raised: set[tuple[int, str, str]] = set()  # audited codes created or opened again
            for key, finding in batch.items():
                flag = existing.get(key)
                if flag is None:
                    if finding.code in AUDITED_CODES:
                        raised.add(key)
                    created.append(
                        Flag(
                            claim_id=finding.claim_id,
                            code=finding.code,
                            fingerprint=finding.fingerprint,
                            severity=SEVERITY[finding.code],
                            related_claim_ids=sorted(finding.related),
                            details=finding.details,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    continue
                new_related = finding.related - set(flag.related_claim_ids)
                returned = flag.status == Flag.Status.CLEARED
                if not new_related and not returned and flag.details == finding.details:
                    continue
                flag.related_claim_ids = sorted(new_related.union(flag.related_claim_ids))
                flag.details, flag.updated_at = finding.details, now
                if returned or (new_related and flag.status == Flag.Status.REVIEWED):
                    flag.status, flag.reviewed_by, flag.reviewed_at = Flag.Status.OPEN, None, None
                    changed += 1
                    if finding.code in AUDITED_CODES:
                        raised.add(key)
                updated.append(flag)
            Flag.objects.bulk_create(created, ignore_conflicts=True)
            fields = ["related_claim_ids", "details", "updated_at", "status", "reviewed_by", "reviewed_at"]
            Flag.objects.bulk_update(updated, fields)
            changed += len(created)
            if raised:
                _flags_raised_audit(raised)
    return changed


def _flags_raised_audit(keys: set[tuple[int, str, str]]) -> None:
    """An audit entry (no actor: the sweep found it) for each flag of AUDITED_CODES just raised or opened again."""
    flags = Flag.objects.filter(
        claim_id__in={key[0] for key in keys}, code__in={key[1] for key in keys}, status=Flag.Status.OPEN
    ).select_related("claim")
    AuditEntry.objects.bulk_create(
        audit_entry(
            actor=None,
            action=AuditEntry.Action.FLAG_RAISED,
            target=flag,
            claim=flag.claim,
            data={"flag": flag.pk, "code": flag.code, "related": flag.related_claim_ids, **flag.details},
        )
        for flag in flags
        if (flag.claim_id, flag.code, flag.fingerprint) in keys
    )


def _findings(scope: Sequence[int] | None, probe_evidence: QuerySet[Evidence]) -> list[Finding]:
    return [
        *_duplicate_findings(scope),
        *_similar_image_findings(probe_evidence),
        *_signup_burst_findings(scope),
        *_referral_burst_findings(scope),
        *_estimate_flag_findings(scope),
    ]


def claim_fraud_check(*, claim_id: int) -> int:
    """Check one submitted claim against all others; flags both sides of every match. Returns the flags created
    or opened again (0 for a draft or withdrawn claim)."""
    if not _claims_checked().filter(pk=claim_id).exists():
        return 0
    scope = [claim_id]
    _estimate_flags_clear(scope)
    return _flags_save(_findings(scope, _evidence_checked().filter(claim_id=claim_id)))


def fraud_sweep(*, now: dt.datetime | None = None) -> int:
    """Check the whole table: every shared value, burst and estimator flag, and the pictures uploaded since
    SWEEP_IMAGE_LOOKBACK against all others. Returns the flags created or opened again."""
    since = (now or timezone.now()) - SWEEP_IMAGE_LOOKBACK
    _estimate_flags_clear(None)
    return _flags_save(_findings(None, _evidence_checked().filter(uploaded_at__gte=since)))
