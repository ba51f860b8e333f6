"""The fraud check of one claim through indexes (issue 23): the same flags as the whole-table algorithm it
replaced, kept here as the reference (a GROUP BY over the table per signal, and every picture against every
other in SQL), on a generated set with duplicates of every kind and pictures at the edge distances; the generated
band columns; and a query count that does not grow with the table."""

import datetime as dt
import random
from collections import defaultdict

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import IdentityVerification, email_key
from accounts.tests.factories import ClaimantFactory
from claims.models import Claim, Evidence, Flag
from claims.services import fraud
from claims.services.fraud import (
    Finding,
    _image_rows,
    band_neighbours,
    claim_fraud_check,
    hamming_distance,
    hash_bands,
    similar_image_findings_from_pairs,
    similar_pairs_banded,
    similar_pairs_python,
)
from claims.tests.factories import ClaimFactory, EvidenceFactory, SubmittedClaimFactory
from config.hashing import sha256_hex

pytestmark = pytest.mark.django_db

# --- the algorithm before issue 23, verbatim in what it computes ----------------------------------------------------

OLD_SIMILAR_IMAGES_SQL = """
SELECT a.id, a.claim_id, b.id, b.claim_id,
       bit_count(('x' || a.perceptual_hash)::bit(64) # ('x' || b.perceptual_hash)::bit(64)) AS distance
FROM ({probes}) AS a
JOIN ({candidates}) AS b
  ON b.claimant_id <> a.claimant_id AND b.sha256 <> a.sha256
WHERE bit_count(('x' || a.perceptual_hash)::bit(64) # ('x' || b.perceptual_hash)::bit(64)) <= %s
"""


def old_similar_pairs(probes, candidates, max_distance: int) -> list[tuple]:
    columns = ("id", "claim_id", "claimant_id", "sha256", "perceptual_hash")

    def select(rows):
        sql, params = rows.query.sql_with_params()
        return f"SELECT * FROM ({sql}) AS r ({', '.join(columns)})", params  # noqa: S608

    probe_sql, probe_params = select(probes)
    candidate_sql, candidate_params = select(candidates)
    with connection.cursor() as cursor:
        cursor.execute(
            OLD_SIMILAR_IMAGES_SQL.format(probes=probe_sql, candidates=candidate_sql),
            [*probe_params, *candidate_params, max_distance],
        )
        return cursor.fetchall()


def old_shared_value_findings(rows, *, code, key, claim_path, person_path, scope, fingerprint_of=sha256_hex):
    rows = rows.annotate(key=key).exclude(key="").exclude(key__isnull=True)
    shared = rows.values("key").annotate(people=Count(person_path, distinct=True)).filter(people__gt=1)
    shared = shared.filter(key__in=rows.filter(**{f"{claim_path}__in": scope}).values("key"))
    members = defaultdict(dict)
    values = rows.filter(key__in=shared.values("key")).values_list("key", claim_path, person_path, "pk")
    for value, claim_id, person_id, row_id in values:
        members[value].setdefault(claim_id, (person_id, set()))[1].add(row_id)
    findings = []
    for value, claims in members.items():
        for claim_id, (person_id, row_ids) in claims.items():
            related = {other for other, (other_person, _rows) in claims.items() if other_person != person_id}
            details = {"evidence": sorted(row_ids)} if rows.model is Evidence else {}
            findings.append(Finding(claim_id, code, fingerprint_of(value), related, details))
    return findings


def old_findings(claim_id: int) -> list[Finding]:
    scope = [claim_id]
    claims = {"claim_path": "pk", "person_path": "claimant_id", "scope": scope}
    checked, evidence = fraud._claims_checked(), fraud._evidence_checked()
    findings = [
        *old_shared_value_findings(checked, code=Flag.Code.DUPLICATE_PHONE, key=F("claimant__phone"), **claims),
        *old_shared_value_findings(checked, code=Flag.Code.DUPLICATE_EMAIL, key=email_key("claimant__email"), **claims),
        *old_shared_value_findings(
            checked, code=Flag.Code.DUPLICATE_BUSINESS_NUMBER, key=F("business_registration_number"), **claims
        ),
        *old_shared_value_findings(
            checked,
            code=Flag.Code.DUPLICATE_BANK_ACCOUNT,
            key=F("claimant__bank_account_digest"),
            fingerprint_of=str,
            **claims,
        ),
        *old_shared_value_findings(
            evidence,
            code=Flag.Code.DUPLICATE_EVIDENCE,
            key=F("sha256"),
            claim_path="claim_id",
            person_path="claim__claimant_id",
            scope=scope,
            fingerprint_of=str,
        ),
    ]
    pairs = old_similar_pairs(_image_rows(evidence.filter(claim_id=claim_id)), _image_rows(evidence), 6)
    findings.extend(similar_image_findings_from_pairs(pairs))  # the assembly is shared; the pairs are not
    return findings


def comparable(findings) -> set[tuple]:
    """Findings as sets, the order of similar-picture matches aside (each query may return pairs in any order)."""
    out = set()
    for f in findings:
        details = dict(f.details)
        if "matches" in details:
            details["matches"] = sorted((m["evidence"], m["claim"], m["distance"]) for m in details["matches"])
        out.add((f.claim_id, f.code, f.fingerprint, frozenset(f.related), repr(sorted(details.items()))))
    return out


def new_findings(claim_id: int) -> list[Finding]:
    scope = [claim_id]
    codes = {code for code in Flag.Code if code not in (Flag.Code.DUPLICATE_IDENTITY,)}
    return [
        f
        for f in [
            *fraud._duplicate_findings(scope),
            *fraud._similar_image_findings(fraud._evidence_checked().filter(claim_id=claim_id)),
        ]
        if f.code in codes
    ]


# --- a generated set --------------------------------------------------------------------------------------------


def flipped(hex_hash: str, bits) -> str:
    value = int(hex_hash, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


def generated_set(rng: random.Random) -> list:
    """Claims with shared phones, emails (case, +tag), business and bank numbers, files, and pictures at distances
    0 to 8 from a few bases, the differing bits in one band or spread over all four."""
    bases = [f"{rng.getrandbits(64):016x}" for _ in range(4)]
    phones = ["01055550001", "01055550002"]
    claims = []
    for n in range(36):
        claimant = ClaimantFactory(
            phone=rng.choice([*phones, f"0106666{n:04d}"]),
            email=f"dup{n}@example.com"
            if n < 3
            else rng.choice([f"Dup{n % 3}+t{n}@example.com", f"own{n}@example.org"]),
            bank_account=rng.choice(["12345678901234", "", f"55500011{n:06d}"]),
        )
        factory = SubmittedClaimFactory if n % 9 else ClaimFactory  # every ninth is a draft: not checked
        claim = factory(claimant=claimant, business_registration_number=rng.choice(["", "1234567891", ""]))
        for _ in range(rng.randint(0, 3)):
            base = rng.choice(bases)
            distance = rng.choice([0, 1, 3, 5, 6, 6, 7, 8, 20])
            if rng.random() < 0.5:  # all in one band: the band itself differs by more than the radius
                band = rng.randrange(4)
                bits = rng.sample(range(16 * band, 16 * band + 16), distance) if distance <= 16 else range(distance)
            else:
                bits = rng.sample(range(64), distance)
            EvidenceFactory(
                claim=claim,
                perceptual_hash=flipped(base, bits),
                sha256=rng.choice(["ab" * 32, f"{rng.getrandbits(256):064x}"]),
            )
        if n % 7 == 0:
            EvidenceFactory(claim=claim, perceptual_hash="", content_type="application/pdf")
        if n % 11 == 0:
            EvidenceFactory(claim=claim, perceptual_hash="zz-not-a-hash")
        claims.append(claim)
    return claims


def test_checking_one_claim_finds_what_the_whole_table_algorithm_found():
    claims = generated_set(random.Random(23))
    found_any = set()
    for claim in claims:
        expected = comparable(old_findings(claim.pk))
        assert comparable(new_findings(claim.pk)) == expected, claim.pk
        found_any |= {code for _claim, code, *_rest in expected}
    assert {Flag.Code.DUPLICATE_PHONE, Flag.Code.DUPLICATE_EMAIL, Flag.Code.SIMILAR_IMAGE} <= found_any
    assert {Flag.Code.DUPLICATE_EVIDENCE, Flag.Code.DUPLICATE_BANK_ACCOUNT} <= found_any


def test_the_banded_search_agrees_with_comparing_every_pair_at_every_distance():
    rng = random.Random(7)
    base = f"{rng.getrandbits(64):016x}"
    claims = SubmittedClaimFactory.create_batch(3)
    layouts = []
    for distance in range(10):
        layouts.append(range(distance))  # consecutive bits: all in the first band (up to 9)
        layouts.append([16 * (k % 4) + k // 4 for k in range(distance)])  # spread evenly over the bands
        layouts.append(rng.sample(range(64), distance))
    for index, bits in enumerate(layouts):
        EvidenceFactory(claim=claims[index % 3], perceptual_hash=flipped(base, bits))
    EvidenceFactory(claim=claims[0], perceptual_hash=base.upper())  # not a hash the checks read
    rows = _image_rows(fraud._evidence_checked())
    expected = sorted(old_similar_pairs(rows, rows, 6))
    assert sorted(similar_pairs_banded(list(rows), 6)) == expected
    assert sorted(similar_pairs_python(list(rows), list(rows), 6)) == expected
    assert {pair[4] for pair in expected} >= {0, 1, 5, 6}
    assert all(pair[4] <= 6 for pair in expected)


def test_the_band_columns_hold_the_hashs_sixteen_bit_quarters():
    hashes = ["0123456789abcdef", "ffff0000a5a5c3c3", "0000000000000000"]
    for value in [*hashes, "", "zz-not-a-hash"]:
        EvidenceFactory(perceptual_hash=value)
    stored = {
        e.perceptual_hash: [e.phash_band_0, e.phash_band_1, e.phash_band_2, e.phash_band_3]
        for e in Evidence.objects.all()
    }
    assert stored["0123456789abcdef"] == [0x0123, 0x4567, 0x89AB, 0xCDEF]
    for value in hashes:
        assert stored[value] == hash_bands(value)
    assert stored[""] == stored["zz-not-a-hash"] == [None] * 4
    assert len(band_neighbours(0x0123, 1)) == 17 and hamming_distance("0123", "0122") == 1


def test_the_bits_column_holds_the_whole_hash_only_for_sixteen_lower_case_hex_digits():
    valid = ["0123456789abcdef", "ffff0000a5a5c3c3", "0000000000000000", "8000000000000000", "7fffffffffffffff"]
    invalid = ["", "zz-not-a-hash", "0123456789ABCDEF", "0123456789abcdeg", "fffffffffffffffg", "0123456789abcde"]
    for value in [*valid, *invalid, "0123456789abcdef0"]:
        EvidenceFactory(perceptual_hash=value)
    stored = dict(Evidence.objects.values_list("perceptual_hash", "phash_bits"))
    for value in valid:
        bits = int(value, 16)
        assert stored[value] == (bits - (1 << 64) if bits >> 63 else bits), value
        assert stored[value] == fraud._signed_64(value)
    assert all(stored[value] is None for value in [*invalid, "0123456789abcdef0"])
    with connection.cursor() as cursor:  # what the regular expression it replaces in the candidates' query says
        cursor.execute(
            "SELECT count(*) FROM claims_evidence WHERE (phash_bits IS NOT NULL) <> (perceptual_hash ~ %s)",
            [fraud.PERCEPTUAL_HASH_PATTERN],
        )
        assert cursor.fetchone()[0] == 0


def test_the_claims_own_values_and_pictures_read_in_one_statement_are_the_signals_own():
    """The check reads the claim's values of every signal and its pictures with the claim itself: the same values
    as the signals' own query and the same pictures as _image_rows, for every claim of the generated set."""
    claims = generated_set(random.Random(5))
    for user, ci in [(claims[1].claimant, "CI-ONE"), (claims[1].claimant, "CI-TWO"), (claims[2].claimant, "")]:
        IdentityVerification.objects.create(
            user=user,
            kind=IdentityVerification.Kind.IDENTITY,
            provider="sandbox",
            method="kakao",
            receipt_id=f"receipt-{user.pk}-{ci}",
            requested_name="홍길동",
            requested_phone=user.phone,
            expires_at=timezone.now(),
            ci=ci,
        )
    checked = 0
    for claim in claims:
        state = fraud._claim_state(claim.pk)
        if claim.status not in fraud.CHECKED_STATUSES:
            assert state is None
            continue
        checked += 1
        expected = {index: keys for index, keys in fraud._own_values_of([claim.pk]).items() if keys}
        assert {index: keys for index, keys in state.own_values.items() if keys} == expected, claim.pk
        pictures = _image_rows(fraud._evidence_checked().filter(claim_id=claim.pk))
        assert sorted(state.pictures) == sorted(pictures), claim.pk
    assert checked >= 30
    digests = set(IdentityVerification.objects.filter(user=claims[1].claimant).values_list("ci_digest", flat=True))
    assert len(digests) == 2 and fraud._claim_state(claims[1].pk).own_values[4] == digests


def check_queries(claim_id: int) -> int:
    """The statements a check sends (the savepoints that stand for its transactions inside the test's own aside)."""
    with CaptureQueriesContext(connection) as queries:
        claim_fraud_check(claim_id=claim_id)
    return len([query for query in queries if "SAVEPOINT" not in query["sql"]])


def add_claims(count: int, start: int) -> None:
    now = timezone.now()
    for n in range(start, start + count):
        claim = SubmittedClaimFactory(
            claimant=ClaimantFactory(
                phone="01077770000", signup_ip="198.51.100.9", date_joined=now - dt.timedelta(minutes=n)
            )
        )
        EvidenceFactory(claim=claim, perceptual_hash=flipped("00ff00ff00ff00ff", [n % 64]))


def new_claim_check_queries() -> tuple[int, Claim]:
    claim = SubmittedClaimFactory(claimant=ClaimantFactory(phone="01077770000"))
    EvidenceFactory(claim=claim, perceptual_hash="00ff00ff00ff00ff")
    Flag.objects.all().delete()
    return check_queries(claim.pk), claim


def test_checking_one_claim_runs_the_same_queries_whatever_the_table_size():
    add_claims(3, 0)
    small, _claim = new_claim_check_queries()
    add_claims(12, 3)
    large, claim = new_claim_check_queries()
    # the claim with its values and pictures; every read comparing them with other claims (the sign-ups from its
    # address and referral, the rows sharing a value, the pictures near its own) in one round trip; then the flags:
    # existing ones locked, new ones inserted
    assert large == small == 4
    assert claim.flags.filter(code=Flag.Code.SIMILAR_IMAGE).exists()
    assert claim.flags.filter(code=Flag.Code.DUPLICATE_PHONE).exists()


def test_checking_a_claim_with_nothing_to_flag_takes_two_round_trips():
    claim = SubmittedClaimFactory(claimant=ClaimantFactory(phone="01077770001"))
    EvidenceFactory(claim=claim, perceptual_hash="0f0f0f0f0f0f0f0f")
    EvidenceFactory(claim=claim, perceptual_hash="f0f0f0f0f0f0f0f0")
    assert check_queries(claim.pk) == 2
    assert not claim.flags.exists()


def test_checking_a_draft_reads_one_statement():
    claim = ClaimFactory()
    assert check_queries(claim.pk) == 1


def test_the_check_in_two_round_trips_finds_what_the_reads_one_by_one_find(monkeypatch):
    claims = generated_set(random.Random(11))
    now = timezone.now()
    for n, claim in enumerate(claims[:6]):  # a sign-up burst from one address
        claim.claimant.signup_ip, claim.claimant.date_joined = "203.0.113.7", now - dt.timedelta(minutes=n)
        claim.claimant.save(update_fields=["signup_ip", "date_joined"])
    saved = []
    monkeypatch.setattr(fraud, "_flags_save", lambda findings: saved.append(findings) or 0)
    found_any = set()
    for claim in claims:
        saved.clear()
        claim_fraud_check(claim_id=claim.pk)
        if claim.status not in fraud.CHECKED_STATUSES:
            assert saved == []
            continue
        scope = [claim.pk]
        expected = comparable(fraud._findings(scope, fraud._evidence_checked().filter(claim_id=claim.pk)))
        assert comparable(saved[0]) == expected, claim.pk
        found_any |= {code for _claim, code, *_rest in expected}
    assert {Flag.Code.DUPLICATE_PHONE, Flag.Code.SIMILAR_IMAGE, Flag.Code.SIGNUP_BURST} <= found_any


def test_the_reads_of_one_check_are_planned_serially_and_not_compiled_and_the_settings_come_back():
    """At 1,000,000 accounts the planner's cost of the sign-up branches passed jit_above_cost: compiling took 50 ms
    of a check whose reads take 3. The reads run with JIT and parallel workers off, in a caller's transaction too,
    which gets its own settings back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SET jit = on")
        cursor.execute("SET max_parallel_workers_per_gather = 2")
    shown = "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')"
    assert fraud._read_together([(shown, []), ("SELECT 1", [])]) == [[("off", "0")], [(1,)]]
    with connection.cursor() as cursor:
        cursor.execute(shown)
        assert cursor.fetchone() == ("on", "2")
