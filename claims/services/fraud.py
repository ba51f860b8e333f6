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
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from psycopg import ClientCursor

from accounts.models import User, email_key
from claims.damages import FLAG_HOURS_EXCEED_WINDOW
from claims.models import Claim, ClaimEvent, Evidence, Flag
from claims.models.claims import PERCEPTUAL_HASH_BAND_BITS, PERCEPTUAL_HASH_BANDS
from claims.selectors.estimates import ESTIMABLE_STATUSES, FLAG_COHORT_OUTLIER
from config.hashing import sha256_hex
from core.audit import audit_entry
from core.models import AuditEntry

# Drafts are the claimant's work in progress and withdrawn claims are out of the suit: neither is checked.
CHECKED_STATUSES = ESTIMABLE_STATUSES
SIMILAR_IMAGE_MAX_DISTANCE = 6  # of the 64 bits of a perceptual hash
PERCEPTUAL_HASH_HEX_LENGTH = 16
PERCEPTUAL_HASH_PATTERN = rf"^[0-9a-f]{{{PERCEPTUAL_HASH_HEX_LENGTH}}}$"
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


# --- values shared by different accounts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A value that must not be shared by different accounts: the rows holding it and how to reach the claim and
    the account from a row."""

    code: str
    rows: Callable[[], QuerySet]
    key: Any
    claim_path: str = "pk"
    person_path: str = "claimant_id"
    fingerprint_of: Callable[[str], str] = sha256_hex
    many: bool = False  # a claim can hold several values (read as an array in the check's first statement)

    def keyed_rows(self) -> QuerySet:
        return self.rows().annotate(key=self.key).exclude(key="").exclude(key__isnull=True).order_by()


def _claims_checked() -> QuerySet[Claim]:
    return Claim.objects.filter(status__in=CHECKED_STATUSES)


def _evidence_checked() -> QuerySet[Evidence]:
    return Evidence.objects.filter(claim__status__in=CHECKED_STATUSES)


SIGNALS = (
    Signal(Flag.Code.DUPLICATE_PHONE, _claims_checked, F("claimant__phone")),
    Signal(Flag.Code.DUPLICATE_EMAIL, _claims_checked, email_key("claimant__email")),
    Signal(Flag.Code.DUPLICATE_BUSINESS_NUMBER, _claims_checked, F("business_registration_number")),
    # already keyed digests of the number and of the CI (one person verified on two accounts)
    Signal(Flag.Code.DUPLICATE_BANK_ACCOUNT, _claims_checked, F("claimant__bank_account_digest"), fingerprint_of=str),
    Signal(
        Flag.Code.DUPLICATE_IDENTITY,
        _claims_checked,
        F("claimant__identity_verifications__ci_digest"),
        fingerprint_of=str,
        many=True,
    ),
    Signal(
        Flag.Code.DUPLICATE_EVIDENCE,
        _evidence_checked,
        F("sha256"),
        claim_path="claim_id",
        person_path="claim__claimant_id",
        fingerprint_of=str,  # a file hash is no personal value
        many=True,
    ),
)


def _shared_value_findings(signal: Signal, rows: Iterable[tuple]) -> list[Finding]:
    """From the rows (key, claim, person, row) of the groups looked at: every claim in a group with more than one
    account gets a finding linking the claims of the other accounts."""
    members: dict[str, dict[int, tuple[int, set[int]]]] = defaultdict(dict)
    for value, claim_id, person_id, row_id in rows:
        members[value].setdefault(claim_id, (person_id, set()))[1].add(row_id)
    findings = []
    evidence = signal.claim_path != "pk"
    for value, claims in members.items():
        if len({person_id for person_id, _rows in claims.values()}) < 2:
            continue  # one account's own claims or files: no shared value
        for claim_id, (person_id, row_ids) in claims.items():
            related = {other for other, (other_person, _rows) in claims.items() if other_person != person_id}
            details = {"evidence": sorted(row_ids)} if evidence else {}
            findings.append(Finding(claim_id, signal.code, signal.fingerprint_of(value), related, details))
    return findings


def _duplicate_findings_everywhere() -> list[Finding]:
    """The sweep: per signal, the values held by more than one account, grouped over the whole table."""
    findings = []
    for signal in SIGNALS:
        rows = signal.keyed_rows()
        shared = rows.values("key").annotate(people=Count(signal.person_path, distinct=True)).filter(people__gt=1)
        matching = rows.filter(key__in=shared.values("key"))
        values = matching.values_list("key", signal.claim_path, signal.person_path, "pk")
        findings += _shared_value_findings(signal, values.iterator(chunk_size=5000))
    return findings


# A check runs the same few statements for every claim: each is compiled by the ORM once per process, with stand-in
# values that are swapped for the real ones (Django's compiler cost more than the database for one claim).
_STATEMENTS: dict[tuple, tuple[str, tuple]] = {}
_STAND_IN_CLAIM = -1_999_999_999
STATEMENT_CACHE_KEYS = 8  # statements for up to this many values of one signal are kept; more are compiled each time


def _stand_in(position: int) -> str:
    return f"\u241f fraud-check stand-in {position}"


def _statement(key: tuple, build: Callable[[], QuerySet], values: dict) -> tuple[str, list]:
    if key not in _STATEMENTS:
        _STATEMENTS[key] = build().query.sql_with_params()
    sql, params = _STATEMENTS[key]
    bound = []
    for param in params:
        try:
            bound.append(values.get(param, param))
        except TypeError:  # an unhashable parameter is never a stand-in
            bound.append(param)
    return sql, bound


def _union_rows(statements: Sequence[tuple[str, list]]) -> list[tuple]:
    sql = " UNION ALL ".join(part for part, _params in statements)
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for _part, params in statements for param in params])
        return cursor.fetchall()


def _own_values(index: int, scope: Sequence[int]) -> QuerySet:
    signal = SIGNALS[index]
    return (
        signal.keyed_rows()
        .filter(**{f"{signal.claim_path}__in": scope})
        .values_list(Value(index, output_field=IntegerField()), "key")
    )


def _matching_rows(index: int, keys: Sequence[str]) -> QuerySet:
    signal = SIGNALS[index]
    return (
        signal.keyed_rows()
        .filter(key__in=keys)
        .values_list(Value(index, output_field=IntegerField()), "key", signal.claim_path, signal.person_path, "pk")
    )


def _duplicate_findings_of(scope: Sequence[int], own_values: dict[int, set[str]] | None = None) -> list[Finding]:
    """One check: the scope's own values of every signal in one query (or as read with the claim, `own_values`:
    signal index -> values), then every row holding one of them in a second, each signal's rows found through its
    key's index (every key compared here is indexed), so checking one claim costs the same whatever the size of
    the table."""
    values = (
        _own_values_of(scope) if own_values is None else {index: keys for index, keys in own_values.items() if keys}
    )
    if not values:
        return []
    return _matching_findings(values)


def _own_values_of(scope: Sequence[int]) -> dict[int, set[str]]:
    if len(scope) == 1:
        stand_in = {_STAND_IN_CLAIM: scope[0]}
        own = [
            _statement(("own", index), lambda index=index: _own_values(index, [_STAND_IN_CLAIM]), stand_in)
            for index in range(len(SIGNALS))
        ]
    else:
        own = [_own_values(index, scope).query.sql_with_params() for index in range(len(SIGNALS))]
    values: dict[int, set[str]] = defaultdict(set)
    for index, value in _union_rows(own):
        values[index].add(value)
    return values


def _matching_findings(values: dict[int, set[str]]) -> list[Finding]:
    sql, params = _matching_statement(values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _matching_findings_from(cursor.fetchall())


def _matching_statement(values: dict[int, set[str]]) -> tuple[str, list]:
    """Every row holding one of the values (signal index -> values), all signals in one statement."""
    matching = []
    for index, keys in sorted(values.items()):
        keys = sorted(keys)
        if len(keys) > STATEMENT_CACHE_KEYS:
            matching.append(_matching_rows(index, keys).query.sql_with_params())
            continue
        stand_ins = [_stand_in(position) for position in range(len(keys))]
        matching.append(
            _statement(
                ("match", index, len(keys)),
                lambda index=index, stand_ins=stand_ins: _matching_rows(index, stand_ins),
                dict(zip(stand_ins, keys, strict=True)),
            )
        )
    sql = " UNION ALL ".join(part for part, _params in matching)
    return sql, [param for _part, params in matching for param in params]


def _matching_findings_from(matched: Iterable[tuple]) -> list[Finding]:
    rows: dict[int, list[tuple]] = defaultdict(list)
    for index, *row in matched:
        rows[index].append(tuple(row))
    return [
        finding for index, found in sorted(rows.items()) for finding in _shared_value_findings(SIGNALS[index], found)
    ]


def _duplicate_findings(scope: Sequence[int] | None) -> list[Finding]:
    return _duplicate_findings_everywhere() if scope is None else _duplicate_findings_of(scope)


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
        evidence.filter(perceptual_hash__regex=PERCEPTUAL_HASH_PATTERN)
        .values_list("pk", "claim_id", "claim__claimant_id", "sha256", "perceptual_hash")
        .order_by()
    )


# Two hashes at most SIMILAR_IMAGE_MAX_DISTANCE bits apart differ by at most this many bits in one of the bands.
BAND_RADIUS = SIMILAR_IMAGE_MAX_DISTANCE // PERCEPTUAL_HASH_BANDS
PROBE_BATCH = 20
_BAND_MASK = (1 << PERCEPTUAL_HASH_BAND_BITS) - 1


def hash_bands(perceptual_hash: str) -> list[int]:
    """The hash's bands as Evidence stores them (phash_band_0 holds the first 16 bits, in the hex digits' order)."""
    value = int(perceptual_hash, 16)
    return [
        (value >> (PERCEPTUAL_HASH_BAND_BITS * (PERCEPTUAL_HASH_BANDS - 1 - band))) & _BAND_MASK
        for band in range(PERCEPTUAL_HASH_BANDS)
    ]


def band_neighbours(value: int, radius: int) -> list[int]:
    """Every band value at most `radius` bits from `value` (itself included)."""
    found = [value]
    for flipped in range(1, radius + 1):
        for bits in combinations(range(PERCEPTUAL_HASH_BAND_BITS), flipped):
            found.append(value ^ sum(1 << bit for bit in bits))
    return found


# The candidates come from the band indexes alone (index-only scans of evidence_phash_near_*, which hold the whole
# hash as a 64-bit integer, `phash_bits`, and the id of every picture with a valid hash): per band, the rows whose
# band is one of the wanted values and whose hash is within the distance of a probe; then those few rows and their
# claims by primary key, in the order of the ids (a flag's matches are listed in it). No regular expression is run
# per row (`phash_bits` is NULL for anything but 16 lower-case hex digits) nor planned against the indexes.
_BRANCH_SQL = "SELECT id FROM {evidence} WHERE phash_band_{band} = ANY(%s) AND phash_bits IS NOT NULL AND ({near})"
_DISTANCE_SQL = "bit_count((phash_bits # %s)::bit(64)) <= %s"
_CANDIDATES_SQL = """
SELECT e.id, e.claim_id, e.sha256, e.perceptual_hash, c.claimant_id
FROM {evidence} e JOIN {claims} c ON c.id = e.claim_id
WHERE c.status = ANY(%s) AND e.id IN ({branches})
ORDER BY e.id
"""


def _signed_64(perceptual_hash: str) -> int:
    """The hash's 64 bits as PostgreSQL's bigint holds them (two's complement)."""
    value = int(perceptual_hash, 16)
    return value - (1 << 64) if value >> 63 else value


def _candidates_statement(batch: Sequence[ImageRow], wanted: list[dict], max_distance: int) -> tuple[str, list]:
    """The checked pictures sharing a wanted band value with the batch and within `max_distance` of a probe, with
    their claims' accounts: one statement written out (table names from the models, values as parameters)."""
    quote = connection.ops.quote_name
    evidence = quote(Evidence._meta.db_table)
    near = " OR ".join([_DISTANCE_SQL] * len(batch))
    branches = " UNION ALL ".join(
        _BRANCH_SQL.format(evidence=evidence, band=band, near=near) for band in range(PERCEPTUAL_HASH_BANDS)
    )
    params: list = [list(CHECKED_STATUSES)]
    for values in wanted:
        params.append(sorted(values))
        for probe in batch:
            params += [_signed_64(probe.perceptual_hash), max_distance]
    return _CANDIDATES_SQL.format(evidence=evidence, claims=quote(Claim._meta.db_table), branches=branches), params


def _candidates(batch: Sequence[ImageRow], wanted: list[dict[int, list[ImageRow]]], max_distance: int) -> list:
    """The checked pictures sharing a band (within the radius) with a probe of the batch, read from the band
    indexes of claims_evidence alone (on PostgreSQL only those within `max_distance` of a probe leave the
    database), then their claims' accounts, for those few, by primary key."""
    if connection.vendor == "postgresql":
        sql, params = _candidates_statement(batch, wanted, max_distance)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
    else:
        condition = Q()
        for band, values in enumerate(wanted):
            condition |= Q(**{f"phash_band_{band}__in": sorted(values)})
        rows = Evidence.objects.filter(condition, perceptual_hash__regex=PERCEPTUAL_HASH_PATTERN).order_by()
        candidates = list(rows.values_list("pk", "claim_id", "sha256", "perceptual_hash"))
        people = dict(_claims_checked().filter(pk__in={row[1] for row in candidates}).values_list("pk", "claimant_id"))
        found = [(*row, people[row[1]]) for row in candidates if row[1] in people]
    return _candidate_image_rows(found)


def _candidate_image_rows(found: Iterable[tuple]) -> list[ImageRow]:
    return [
        ImageRow(pk, claim_id, person_id, sha256, perceptual_hash)
        for pk, claim_id, sha256, perceptual_hash, person_id in found
    ]


def _probe_batches(probes: Iterable[tuple], max_distance: int) -> list[tuple[list[ImageRow], list[dict]]]:
    """The probes in batches of PROBE_BATCH, each with its wanted band values: band -> value -> the probes whose
    band is within the radius of that value."""
    radius = max_distance // PERCEPTUAL_HASH_BANDS
    probe_rows = [ImageRow(*row) for row in probes]
    batches = []
    for start in range(0, len(probe_rows), PROBE_BATCH):
        batch = probe_rows[start : start + PROBE_BATCH]
        wanted: list[dict[int, list[ImageRow]]] = [defaultdict(list) for _band in range(PERCEPTUAL_HASH_BANDS)]
        for probe in batch:
            for band, value in enumerate(hash_bands(probe.perceptual_hash)):
                for neighbour in band_neighbours(value, radius):
                    wanted[band][neighbour].append(probe)
        batches.append((batch, wanted))
    return batches


def _batch_pairs(wanted: list[dict], candidates: Iterable[ImageRow], max_distance: int) -> list[tuple]:
    """The (probe, candidate) pairs of other accounts and other content within `max_distance`."""
    pairs = []
    for other in candidates:
        seen = set()
        for band, value in enumerate(hash_bands(other.perceptual_hash)):
            for probe in wanted[band].get(value, ()):
                if probe.evidence_id in seen:
                    continue
                seen.add(probe.evidence_id)
                if pair := _near_pair(probe, other, max_distance):
                    pairs.append(pair)
    return pairs


def _near_pair(probe: ImageRow, other: ImageRow, max_distance: int) -> tuple | None:
    """(probe evidence, probe claim, other evidence, other claim, distance) when the two pictures belong to different
    accounts, differ in content and are within `max_distance` bits; else None."""
    if other.person_id == probe.person_id or other.sha256 == probe.sha256:
        return None
    distance = hamming_distance(probe.perceptual_hash, other.perceptual_hash)
    if distance > max_distance:
        return None
    return (probe.evidence_id, probe.claim_id, other.evidence_id, other.claim_id, distance)


def similar_pairs_banded(probes: Iterable[tuple], max_distance: int) -> list[tuple]:
    """Each probe against every checked picture of another account and other content, through the band indexes:
    a picture within `max_distance` bits shares a band with the probe up to `max_distance // bands` bits
    (pigeonhole), so only those candidates are read, and each is verified by its real distance. Two queries per
    PROBE_BATCH probes; the rows read grow with the near matches, not with the table."""
    pairs = []
    for batch, wanted in _probe_batches(probes, max_distance):
        pairs += _batch_pairs(wanted, _candidates(batch, wanted, max_distance), max_distance)
    return pairs


def similar_pairs_python(probes: Iterable[tuple], candidates: Iterable[tuple], max_distance: int) -> list[tuple]:
    """Every probe against every candidate: the plain comparison the banded search must agree with (tests)."""
    probe_rows = [ImageRow(*row) for row in probes]
    pairs = []
    for row in candidates:
        other = ImageRow(*row)
        pairs += [pair for probe in probe_rows if (pair := _near_pair(probe, other, max_distance))]
    return pairs


def _similar_image_findings(probe_evidence: QuerySet[Evidence] | list[tuple]) -> list[Finding]:
    """Each probe picture (evidence, or its rows as _image_rows gives them) against every other checked picture of
    another account. Both sides are flagged."""
    probes = _image_rows(probe_evidence) if isinstance(probe_evidence, QuerySet) else probe_evidence
    if not probes:
        return []
    return similar_image_findings_from_pairs(similar_pairs_banded(probes, SIMILAR_IMAGE_MAX_DISTANCE))


def similar_image_findings_from_pairs(pairs: Iterable[tuple[int, int, int, int, int]]) -> list[Finding]:
    """A finding per picture of each (evidence, claim, other evidence, other claim, distance) pair, on both sides."""
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


def _rows(queryset: QuerySet, scope: Sequence[int] | None):
    """The sweep streams its rows (a server-side cursor, three round trips); a check's few rows come in one."""
    return queryset.iterator(chunk_size=5000) if scope is None else list(queryset)


def _signup_burst_findings(
    scope: Sequence[int] | None, signups: dict[str, list[tuple[int, dt.datetime]]] | None = None
) -> list[Finding]:
    """With `signups` (address -> (user, joined) sorted by time, as read for one claim from `_signups_statement`),
    nothing is read but the claims of the accounts in a burst."""
    if signups is None:
        signups = defaultdict(list)
        users = User.objects.filter(signup_ip__isnull=False)
        if scope is None:
            busy = users.values("signup_ip").annotate(accounts=Count("pk")).filter(accounts__gte=SIGNUP_BURST_ACCOUNTS)
            addresses = busy.values("signup_ip")
        else:  # the scope's addresses, through the (signup_ip, date_joined) index; burst_members needs enough accounts
            addresses = users.filter(claims__in=scope).values("signup_ip")
        rows = users.filter(signup_ip__in=addresses).order_by("signup_ip", "date_joined", "pk")
        for ip, user_id, joined in _rows(rows.values_list("signup_ip", "pk", "date_joined"), scope):
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


Signups = dict[str, dict[str, list[tuple[int, dt.datetime]]]]  # kind -> value -> (user, joined) sorted by time


def _referral_signups(
    scope: Sequence[int] | None, *, rule: ReferralBurstRule, ignored: set[str]
) -> tuple[set[int] | None, Signups]:
    """Per kind and value with at least `rule.accounts` sign-ups, the sign-ups (all of them for the sweep; with a
    scope, only the scope's accounts' values and the sign-ups that can share a window with theirs)."""
    scope_users = set(User.objects.filter(claims__in=scope).values_list("pk", flat=True)) if scope is not None else None
    found: Signups = {}
    for kind, field_name in REFERRAL_KEYS.items():
        users = User.objects.exclude(**{field_name: ""})
        if kind == "source" and ignored:
            users = users.exclude(**{f"{field_name}__in": ignored})
        busy = users.values(field_name).annotate(accounts=Count("pk")).filter(accounts__gte=rule.accounts)
        if scope is not None:
            busy = busy.filter(**{f"{field_name}__in": users.filter(pk__in=scope_users).values(field_name)})
        signups: dict[str, list[tuple[int, dt.datetime]]] = found.setdefault(kind, defaultdict(list))
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
    return scope_users, found


# One claim's account and the sign-ups sharing its sign-up address or, per referral kind, its value around its
# sign-up: what `_signup_burst_findings` and `_referral_signups` read for a scope of one claim, in one statement
# (the check runs it on every submission). The address comes back as Django reads it (its own column: inet).
_ADDRESS_SQL = """
SELECT 'ip', me.id, NULL, o.signup_ip, o.id, o.date_joined
FROM me JOIN {users} o ON o.signup_ip = me.signup_ip
"""
_REFERRAL_KIND_SQL = """
SELECT %s, me.id, o.{field}, NULL, o.id, o.date_joined
FROM me JOIN {users} o ON o.{field} = me.{field} AND o.{field} <> ''
  AND o.date_joined BETWEEN me.date_joined - %s AND me.date_joined + %s
WHERE me.{field} <> '' AND NOT (me.{field} = ANY(%s))
  AND (SELECT count(*) FROM {users} b WHERE b.{field} = me.{field}) >= %s
"""
_SIGNUPS_SQL = """
WITH me AS (SELECT u.* FROM {users} u JOIN {claims} c ON c.claimant_id = u.id WHERE c.id = %s)
SELECT '', me.id, NULL, NULL::inet, NULL::bigint, NULL::timestamptz FROM me
UNION ALL {address} UNION ALL {kinds}
ORDER BY 1, 3, 4, 6, 5
"""


def _signups_statement(claim_id: int, *, rule: ReferralBurstRule, ignored: set[str]) -> tuple[str, list]:
    """One claim's account and the sign-ups from its address and its referral values (PostgreSQL)."""
    quote = connection.ops.quote_name
    users, claims = quote(User._meta.db_table), quote(Claim._meta.db_table)
    kinds = " UNION ALL ".join(
        _REFERRAL_KIND_SQL.format(field=quote(field_name), users=users) for field_name in REFERRAL_KEYS.values()
    )
    params: list = [claim_id]
    for kind in REFERRAL_KEYS:
        params += [kind, rule.baseline + 2 * rule.window, rule.window]
        params += [sorted(ignored) if kind == "source" else [], rule.accounts]
    sql = _SIGNUPS_SQL.format(users=users, claims=claims, address=_ADDRESS_SQL.format(users=users), kinds=kinds)
    return sql, params


def _signups_from(
    rows: Iterable[tuple],
) -> tuple[dict[str, list[tuple[int, dt.datetime]]], tuple[set[int], Signups]]:
    """(the sign-ups from the claim's address, (its account, the referral sign-ups)) from `_signups_statement`."""
    scope_users: set[int] = set()
    addresses: dict[str, list[tuple[int, dt.datetime]]] = defaultdict(list)
    found: Signups = {}
    for kind, me, value, ip, user_id, joined in rows:
        scope_users.add(me)
        if kind == "ip":
            addresses[ip].append((user_id, joined))
        elif kind:
            found.setdefault(kind, defaultdict(list))[value].append((user_id, joined))
    return addresses, (scope_users, found)


def _referral_burst_findings(
    scope: Sequence[int] | None, read: tuple[set[int], Signups] | None = None
) -> list[Finding]:
    """Brokers selling claimant lists sign many people up through one link: per source (utm_source) and per
    referral code, the accounts in each burst, and their checked claims flagged with the burst's other claims
    linked (up to REFERRAL_RELATED_MAX). With a scope, only the bursts holding the scope's accounts."""
    rule = ReferralBurstRule.from_settings()
    ignored = set(settings.REFERRAL_BURST_IGNORED_SOURCES)
    scope_users, signups_by_kind = _referral_signups(scope, rule=rule, ignored=ignored) if read is None else read
    findings = []
    for kind in REFERRAL_KEYS:
        signups = signups_by_kind.get(kind, {})
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
    for claim_id, flags, total in _rows(claims.values_list("pk", "estimate_flags", "estimate_total"), scope):
        findings += _estimate_findings_of(claim_id, flags, total)
    return findings


def _estimate_findings_of(claim_id: int, flags: list | None, total: int | None) -> list[Finding]:
    return [
        Finding(claim_id, ESTIMATE_FLAG_CODES[estimate_flag], "", details={"estimate_total": total})
        for estimate_flag in flags or []
        if estimate_flag in ESTIMATE_FLAG_CODES
    ]


def _estimate_flags_clear(scope: Sequence[int] | None) -> int:
    """Clear the open estimator flags whose claim's current estimate no longer carries their signal. Returns how
    many were cleared."""
    signal_of = {code: estimate_flag for estimate_flag, code in ESTIMATE_FLAG_CODES.items()}
    open_flags = Flag.objects.filter(status=Flag.Status.OPEN, code__in=signal_of)
    if scope is not None:
        open_flags = open_flags.filter(claim_id__in=scope)
    gone = [
        pk
        for pk, code, estimate_flags in _rows(open_flags.values_list("pk", "code", "claim__estimate_flags"), scope)
        if signal_of[code] not in (estimate_flags or [])
    ]
    return _estimate_flags_cleared(gone)


def _estimate_flags_cleared(gone: Sequence[int]) -> int:
    """Clear these open estimator flags (locked and checked again), with a timeline event and an audit entry each."""
    signal_of = {code: estimate_flag for estimate_flag, code in ESTIMATE_FLAG_CODES.items()}
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


@dataclass
class ClaimState:
    """What the check reads about the claim itself before comparing it with others."""

    estimate_flags: list
    estimate_total: int | None
    open_estimate_flags: list[tuple[int, str]]  # (flag id, code) of the open estimator flags
    own_values: dict[int, set[str]] | None  # signal index -> the claim's values (None: read by the check)
    pictures: list[tuple] | None  # the claim's pictures as _image_rows gives them (None: read by the check)


def _claim_state_query() -> QuerySet:
    """The claim (the stand-in id), if checked: its estimate, its open estimator flags and its own value of every
    shared-value signal, in one row (several values as an array). PostgreSQL only (arrays)."""
    from django.contrib.postgres.expressions import ArraySubquery

    open_flags = Flag.objects.filter(
        claim_id=OuterRef("pk"), status=Flag.Status.OPEN, code__in=sorted(ESTIMATE_FLAG_CODES.values())
    ).order_by("pk")
    # the pictures with a valid hash (phash_bits is NULL otherwise), as _image_rows reads them
    pictures = Evidence.objects.filter(claim_id=OuterRef("pk"), phash_bits__isnull=False).order_by("pk")
    keys = [
        ArraySubquery(signal.keyed_rows().filter(**{signal.claim_path: OuterRef("pk")}).values("key"))
        if signal.many
        else signal.key
        for signal in SIGNALS
    ]
    return (
        _claims_checked()
        .filter(pk=_STAND_IN_CLAIM)
        .values_list(
            "estimate_flags",
            "estimate_total",
            ArraySubquery(open_flags.values("pk")),
            ArraySubquery(open_flags.values("code")),
            "claimant_id",
            *(ArraySubquery(pictures.values(column)) for column in ("pk", "sha256", "perceptual_hash")),
            *keys,
        )
    )


def _claim_state(claim_id: int) -> ClaimState | None:
    """The claim's state if it is checked, else None: one statement on PostgreSQL (compiled once per process)."""
    if connection.vendor != "postgresql":
        row = _claims_checked().filter(pk=claim_id).values_list("estimate_flags", "estimate_total").first()
        if row is None:
            return None
        codes = sorted(ESTIMATE_FLAG_CODES.values())
        open_flags = Flag.objects.filter(claim_id=claim_id, status=Flag.Status.OPEN, code__in=codes).order_by("pk")
        return ClaimState(row[0] or [], row[1], list(open_flags.values_list("pk", "code")), None, None)
    sql, params = _statement(("state",), _claim_state_query, {_STAND_IN_CLAIM: claim_id})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    flags, total, ids, codes, claimant_id, picture_ids, sha256s, hashes, *keys = row
    pictures = [
        (pk, claim_id, claimant_id, sha256, perceptual_hash)
        for pk, sha256, perceptual_hash in zip(picture_ids, sha256s, hashes, strict=True)
    ]
    if isinstance(flags, str):  # Django reads jsonb as text and decodes it in the field
        flags = json.loads(flags)
    own_values = {
        index: {value for value in (key if signal.many else [key]) if value not in ("", None)}
        for index, (signal, key) in enumerate(zip(SIGNALS, keys, strict=True))
    }
    return ClaimState(flags or [], total, list(zip(ids, codes, strict=True)), own_values, pictures)


def _read_together(statements: Sequence[tuple[str, list]]) -> list[list[tuple]]:
    """The rows of each of these independent reads, in one round trip: PostgreSQL runs the statements of one query
    string in one implicit transaction and psycopg reads each result in turn (its client-side binding cursor,
    Django's default). The statements are planned without parallel workers and without JIT compilation: each reads
    a few hundred index entries, and starting workers for that costs more than the reads (on tables whose
    visibility map is not set, PostgreSQL plans the picture candidates in parallel: 15-20 ms instead of 3-5), as
    does compiling it: at 1,000,000 accounts the planner's cost of the sign-up burst branches that never run passes
    jit_above_cost, and compiling took 50 ms of a check whose reads take 3."""
    with connection.cursor() as cursor:
        if not isinstance(cursor.cursor, ClientCursor):  # server-side binding takes one statement at a time
            results = []
            for setting in _SMALL_READ_PLANS:
                cursor.execute(setting)
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
            for setting in _SMALL_READ_PLANS_END:
                cursor.execute(setting)
            return results
        parts = [*_SMALL_READ_PLANS, *(sql for sql, _params in statements), *_SMALL_READ_PLANS_END]
        cursor.execute("; ".join(parts), [param for _sql, params in statements for param in params])
        results = []
        while True:
            if cursor.description is not None:
                results.append(cursor.fetchall())
            if not cursor.nextset():
                return results


_SMALL_READ_PLANS = ("SET LOCAL max_parallel_workers_per_gather = 0", "SET LOCAL jit = off")
# Back to the defaults, inside a caller's transaction.
_SMALL_READ_PLANS_END = ("SET LOCAL max_parallel_workers_per_gather TO DEFAULT", "SET LOCAL jit TO DEFAULT")


def claim_fraud_check(*, claim_id: int) -> int:
    """Check one submitted claim against all others; flags both sides of every match. Returns the flags created
    or opened again (0 for a draft or withdrawn claim). On PostgreSQL: the claim with its values and pictures in
    one statement, then every read that compares them with other claims in one round trip."""
    state = _claim_state(claim_id)
    if state is None:
        return 0
    signal_of = {code: estimate_flag for estimate_flag, code in ESTIMATE_FLAG_CODES.items()}
    if gone := [pk for pk, code in state.open_estimate_flags if signal_of[code] not in state.estimate_flags]:
        _estimate_flags_cleared(gone)
    scope = [claim_id]
    estimate = _estimate_findings_of(claim_id, state.estimate_flags, state.estimate_total)
    if state.own_values is None or state.pictures is None:  # other databases: one read after the other
        findings = [
            *_duplicate_findings_of(scope),
            *_similar_image_findings(_evidence_checked().filter(claim_id=claim_id)),
            *_signup_burst_findings(scope),
            *_referral_burst_findings(scope),
            *estimate,
        ]
        return _flags_save(findings)
    rule = ReferralBurstRule.from_settings()
    ignored = set(settings.REFERRAL_BURST_IGNORED_SOURCES)
    values = {index: keys for index, keys in state.own_values.items() if keys}
    batches = _probe_batches(state.pictures, SIMILAR_IMAGE_MAX_DISTANCE)
    statements = [_signups_statement(claim_id, rule=rule, ignored=ignored)]
    if values:
        statements.append(_matching_statement(values))
    statements += [_candidates_statement(batch, wanted, SIMILAR_IMAGE_MAX_DISTANCE) for batch, wanted in batches]
    signups, *results = _read_together(statements)
    matched = results.pop(0) if values else []
    pairs = [
        pair
        for (_batch, wanted), found in zip(batches, results, strict=True)
        for pair in _batch_pairs(wanted, _candidate_image_rows(found), SIMILAR_IMAGE_MAX_DISTANCE)
    ]
    addresses, referrals = _signups_from(signups)
    findings = [
        *_matching_findings_from(matched),
        *similar_image_findings_from_pairs(pairs),
        *_signup_burst_findings(scope, addresses),
        *_referral_burst_findings(scope, referrals),
        *estimate,
    ]
    return _flags_save(findings)


def fraud_sweep(*, now: dt.datetime | None = None) -> int:
    """Check the whole table: every shared value, burst and estimator flag, and the pictures uploaded since
    SWEEP_IMAGE_LOOKBACK against all others. Returns the flags created or opened again."""
    since = (now or timezone.now()) - SWEEP_IMAGE_LOOKBACK
    _estimate_flags_clear(None)
    return _flags_save(_findings(None, _evidence_checked().filter(uploaded_at__gte=since)))
