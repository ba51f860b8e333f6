"""The claim sheet (the CSV and XLSX of a cohort or a wave) as one set-based SELECT that gives the finished cells.

PostgreSQL makes one pass over each table the sheet reads, restricted to the claims in scope and joined by hash
joins: the services joined with ', ' per claim, the claimed amounts by loss kind (conditional sums), the current
estimate's amounts by rule, the open flags per claim and the proof level per claimant (one grouped pass over the
certified powers of attorney and one over the identity checks). The labels (claimant types, statuses, flags, proof
levels) are this process's translations, passed in as parameters, and text cells are neutralised against formula
injection as `filing.exports.spreadsheet_safe` does, so the CSV is written by PostgreSQL itself (`COPY ... TO
STDOUT`) and the XLSX gets the same cells with their types (numbers, local date-times). See docs/filing.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from django.db import connection
from django.db.models import BigIntegerField, F, QuerySet, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.models import IdentityVerification, PowerOfAttorney
from accounts.proof import ProofLevel, proof_level_label
from claims.models import Claim, Estimate, Flag, LossItem, Service
from claims.selectors.estimates import ESTIMATE_FLAG_LABELS
from filing.exports import FORMULA_TRIGGERS
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors.cohorts import CLAIM_RULES, KST, LOSS_KINDS, STREAM_CHUNK_SIZE, cohort_claims, full_address

MOMENTS = ("submitted_at", "decided_at", "withdrawn_at")  # shown in Seoul time, to the second
# The scope's columns, the same for a cohort and a wave (a wave's are partly the frozen copy).
SCOPE_COLUMNS = (
    "claim_id",
    "claimant_id",
    "number",
    "reference_code",
    "name",
    "business_name",
    "phone",
    "email",
    "postal_code",
    "address",
    "claimant_type",
    "business_number",
    "claimed_total",
    "amount",
    "estimate_flags",
    "status",
    "submitted_at",
    "decided_at",
    "withdrawn_at",
    "phone_verified",
)
# The rules of an estimate's components, in the sheet's order: one per loss kind, then the claim-level ones.
ESTIMATE_RULES = (*LOSS_KINDS, *CLAIM_RULES)
# Only a wave's scope: the frozen amounts by kind and by rule, and the frozen model version.
WAVE_COLUMNS = ("claimed_by_kind", "estimated_by_rule", "model_version")


def _live_columns(claimant: str) -> dict[str, Any]:
    """The columns read live from the claim and its claimant (`claimant` is the path to the user)."""
    claim = "" if claimant == "claimant__" else "claim__"
    return {
        "reference_code": F(f"{claim}reference_code"),
        "phone": F(f"{claimant}phone"),
        "email": F(f"{claimant}email"),
        "estimate_flags": F(f"{claim}estimate_flags"),
        "status": F(f"{claim}status"),
        "submitted_at": F(f"{claim}submitted_at"),
        "decided_at": F(f"{claim}decided_at"),
        "withdrawn_at": F(f"{claim}withdrawn_at"),
        "phone_verified": F(f"{claimant}phone_verified_at"),
    }


def _cohort_scope(cohort: Cohort) -> QuerySet:
    """The cohort's live claims, without plaintiff numbers."""
    columns = {
        "claim_id": F("pk"),
        "claimant_id": F("claimant_id"),
        "number": Value(None, output_field=BigIntegerField()),
        "name": F("claimant__legal_name"),
        "business_name": F("business_name"),
        "postal_code": F("claimant__postal_code"),
        "address": full_address("claimant__"),
        "claimant_type": F("claimant_type"),
        "business_number": F("business_registration_number"),
        "claimed_total": F("claimed_total"),
        "amount": F("estimate_total"),
        **_live_columns("claimant__"),
    }
    return cohort_claims(cohort=cohort).order_by().values_list(*(columns[name] for name in SCOPE_COLUMNS))


def _wave_scope(wave: FilingWave) -> QuerySet:
    """The wave's plaintiffs: the names, addresses and amounts frozen at the freeze, the rest live."""
    columns = {
        "claim_id": F("claim_id"),
        "claimant_id": F("claim__claimant_id"),
        "number": Cast("number", BigIntegerField()),
        "name": F("name"),
        "business_name": F("business_name"),
        "postal_code": F("postal_code"),
        "address": F("address"),
        "claimant_type": F("claimant_type"),
        "business_number": F("business_number"),
        "claimed_total": Value(None, output_field=BigIntegerField()),  # the sum of the frozen amounts, below
        "amount": F("amount_claimed"),
        **_live_columns("claim__claimant__"),
    }
    values = [columns[name] for name in SCOPE_COLUMNS] + [F(name) for name in WAVE_COLUMNS]
    return WaveMember.objects.filter(wave=wave).order_by().values_list(*values)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Text(str):
    """A cell's expression whose value is text: emptied to NULL and neutralised in the outer SELECT."""

    __slots__ = ()


def _neutralised(column: str) -> str:
    """A text cell: NULL when empty (so the CSV writes nothing, not ""), with a leading quote when it starts like
    a formula, as `filing.exports.spreadsheet_safe` (the code points of its triggers are the parameter `triggers`:
    comparing `ascii()` of the first character with integers allocates nothing, for every text cell of every row)."""
    return f"NULLIF(CASE WHEN ascii({column}) = ANY(%(triggers)s) THEN '''' || {column} ELSE {column} END, '')"


def _literal(query: QuerySet) -> str:
    """The queryset's SQL with its parameters in it (quoted by the driver), to be placed in a larger statement
    that has named parameters of its own."""
    return connection.ops.compose_sql(*query.query.sql_with_params()).replace("%", "%%")


def _json_object(column: str) -> str:
    return f"CASE WHEN jsonb_typeof({column}) = 'object' THEN {column} END"


def _amount_cells(claimed: Callable[[int], str], estimated: Callable[[int], str]) -> list[str]:
    """Claimed and estimated amounts by loss kind, then the estimate's claim-level rules (the sheet's order);
    `claimed(i)` and `estimated(i)` give the cell of the i-th kind and of the i-th rule (kinds first)."""
    cells = []
    for index in range(len(LOSS_KINDS)):
        cells += [claimed(index), estimated(index)]
    return cells + [estimated(index) for index in range(len(LOSS_KINDS), len(ESTIMATE_RULES))]


def _cohort_amounts(claim_ids: str) -> tuple[str, str, list[str]]:
    """The CTEs and joins for a cohort's amounts by kind and rule and its model version, and their cells
    (`claim_ids`: the SELECT of the cohort's claim ids)."""
    # What the claimant entered (filing.selectors.cohorts.claimed_amount): the fee, the lost revenue or the amount.
    claimed_amount = (
        "CASE li.kind WHEN %(subscription)s THEN li.monthly_fee "
        "WHEN %(business_revenue)s THEN GREATEST(li.comparison_revenue - li.outage_revenue, 0) ELSE li.amount END"
    )
    claimed = ", ".join(
        f"SUM({claimed_amount}) FILTER (WHERE li.kind = %(kind_{index})s)::bigint AS k{index}"
        for index in range(len(LOSS_KINDS))
    )
    estimated = ", ".join(
        f"SUM(x.amount) FILTER (WHERE x.rule = %(rule_{index})s)::bigint AS r{index}"
        for index in range(len(ESTIMATE_RULES))
    )
    version_table = _table(Estimate._meta.get_field("model_version").related_model)
    # Only table names and fixed fragments are formatted in; every value is a parameter.
    ctes = f"""
claimed AS (
    SELECT li.claim_id, {claimed} FROM {_table(LossItem)} li
    WHERE li.claim_id IN ({claim_ids}) GROUP BY li.claim_id
),
estimated AS (
    SELECT e.claim_id, v.version AS model_version, r.*
    FROM {_table(Estimate)} e LEFT JOIN {version_table} v ON v.id = e.model_version_id
    CROSS JOIN LATERAL (
        SELECT count(*) AS components, {estimated}
        FROM jsonb_to_recordset(e.breakdown -> 'components') x(rule text, amount bigint)
    ) r
    WHERE e.is_current AND e.claim_id IN ({claim_ids})
),"""  # noqa: S608
    joins = "LEFT JOIN claimed ON claimed.claim_id = s.claim_id LEFT JOIN estimated ON estimated.claim_id = s.claim_id"
    cells = _amount_cells(
        lambda index: f"COALESCE(claimed.k{index}, 0)",
        lambda index: f"CASE WHEN estimated.components > 0 THEN COALESCE(estimated.r{index}, 0) END",
    )
    return ctes, joins, [*cells, "s.claimed_total", "s.amount", "estimated.model_version"]


def _wave_amounts() -> tuple[str, str, list[str]]:
    """A wave's amounts by kind and rule and its model version: the copies frozen in its members."""
    claimed, estimated = _json_object("s.claimed_by_kind"), _json_object("s.estimated_by_rule")
    cells = _amount_cells(
        lambda index: f"COALESCE(({claimed} ->> %(kind_{index})s)::bigint, 0)",
        lambda index: (
            f"CASE WHEN {estimated} IS NOT NULL "
            f"THEN COALESCE((s.estimated_by_rule ->> %(rule_{index})s)::bigint, 0) END"
        ),
    )
    claimed_total = f"(SELECT COALESCE(SUM(k.value::bigint), 0)::bigint FROM jsonb_each_text({claimed}) k)"  # noqa: S608
    return "", "", [*cells, claimed_total, "s.amount", "s.model_version::bigint"]


def _labels() -> dict[str, Any]:
    """The display labels of the codes, in the active language (the export runs in Korean), as parameters."""
    proof = {
        f"{level}{'t' if sandbox else 'f'}": proof_level_label(level, sandbox=sandbox)
        for level in ProofLevel.values
        for sandbox in (False, True)
    }
    return {
        "types": json.dumps({value: str(label) for value, label in Claim.ClaimantType.choices}),
        "statuses": json.dumps({value: str(label) for value, label in Claim.Status.choices}),
        "flags": json.dumps({code: str(label) for code, label in Flag.Code.choices}),
        "estimate_flags": json.dumps({code: str(label) for code, label in ESTIMATE_FLAG_LABELS.items()}),
        "proof": json.dumps(proof),
        "mark": _("철회"),
    }


def claim_sheet_sql(*, cohort: Cohort | None = None, wave: FilingWave | None = None) -> tuple[str, dict[str, Any]]:
    """The claim sheet's SELECT for a cohort (its live claims, oldest submission first, no plaintiff numbers) or a
    wave (its plaintiffs by number, with the frozen names, addresses and amounts and the live rest): one row per
    claim, the cells in the order of `filing.services.exports.sheets.claim_sheet_header`."""
    if wave is not None:
        scope = _wave_scope(wave)
        ids = WaveMember.objects.filter(wave=wave).order_by()
        claim_ids, claimant_ids = ids.values("claim_id"), ids.values("claim__claimant_id")
    else:
        scope = _cohort_scope(cohort)
        ids = cohort_claims(cohort=cohort).order_by()
        claim_ids, claimant_ids = ids.values("pk"), ids.values("claimant_id")
    scope_sql, claim_ids, claimant_ids = (_literal(query) for query in (scope, claim_ids, claimant_ids))
    columns = SCOPE_COLUMNS + (WAVE_COLUMNS if wave is not None else ())
    amounts_ctes, amounts_joins, amount_cells = _wave_amounts() if wave is not None else _cohort_amounts(claim_ids)
    order = ("s.number", "s.claim_id") if wave is not None else ("s.submitted_at", "s.claim_id")
    phone = "s.phone"
    number = "s.business_number"
    cells = [
        "s.number",
        Text("s.reference_code"),
        Text("s.name"),
        Text("s.business_name"),
        Text(
            f"CASE WHEN {phone} ~ '^010[0-9]{{8}}$' THEN "
            f"substr({phone}, 1, 3) || '-' || substr({phone}, 4, 4) || '-' || substr({phone}, 8) ELSE {phone} END"
        ),
        Text("s.email"),
        Text("s.postal_code"),
        Text("s.address"),
        Text("COALESCE(%(types)s::jsonb ->> s.claimant_type, s.claimant_type)"),
        Text(
            f"CASE WHEN {number} ~ '^[0-9]{{10}}$' THEN "
            f"substr({number}, 1, 3) || '-' || substr({number}, 4, 2) || '-' || substr({number}, 6) ELSE {number} END"
        ),
        Text("services.names"),
        *amount_cells,
        Text(
            "(SELECT string_agg(COALESCE(%(estimate_flags)s::jsonb ->> f.code, f.code), '; ' ORDER BY f.position) "
            "FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.estimate_flags) = 'array' "
            "THEN s.estimate_flags END) WITH ORDINALITY f(code, position))"
        ),
        Text("flags.labels"),
        Text(
            "%(proof)s::jsonb ->> ((CASE WHEN certified.user_id IS NOT NULL THEN %(certified_level)s "
            "WHEN identity.user_id IS NOT NULL THEN %(identity_level)s "
            "WHEN s.phone_verified IS NOT NULL THEN %(phone_level)s ELSE %(email_level)s END)::text "
            "|| CASE WHEN COALESCE(certified.sandbox, false) OR COALESCE(identity.sandbox, false) "
            "THEN 't' ELSE 'f' END)"
        ),
        Text("COALESCE(%(statuses)s::jsonb ->> s.status, s.status)"),
        *(f"date_trunc('second', s.{moment} AT TIME ZONE %(time_zone)s)" for moment in MOMENTS),
        Text(f"CASE WHEN s.status = %(withdrawn)s AND {'true' if wave is not None else 'false'} THEN %(mark)s END"),
    ]
    inner = ", ".join(f"{cell} AS c{index}" for index, cell in enumerate(cells))
    outer = ", ".join(
        f"{_neutralised(f't.c{index}') if isinstance(cell, Text) else f't.c{index}'} AS c{index}"
        for index, cell in enumerate(cells)
    )
    sql = f"""
WITH {amounts_ctes}
services AS (
    SELECT cs.claim_id, string_agg(sv.name_ko, ', ' ORDER BY sv.name_ko) AS names
    FROM {_table(Claim.services.through)} cs JOIN {_table(Service)} sv ON sv.id = cs.service_id
    WHERE cs.claim_id IN ({claim_ids}) GROUP BY cs.claim_id
),
flags AS (
    SELECT fl.claim_id, string_agg(COALESCE(%(flags)s::jsonb ->> fl.code, fl.code), '; ' ORDER BY fl.code) AS labels
    FROM {_table(Flag)} fl
    WHERE fl.status = %(open)s AND fl.claim_id IN ({claim_ids}) GROUP BY fl.claim_id
),
certified AS (
    SELECT pa.user_id, bool_or(iv.sandbox) AS sandbox
    FROM {_table(PowerOfAttorney)} pa JOIN {_table(IdentityVerification)} iv ON iv.id = pa.certified_signature_id
    WHERE pa.withdrawn_at IS NULL AND pa.signature_method = %(certified)s
      AND pa.user_id IN ({claimant_ids})
    GROUP BY pa.user_id
),
identity AS (
    SELECT iv.user_id, bool_or(iv.sandbox) AS sandbox FROM {_table(IdentityVerification)} iv
    WHERE iv.kind = %(identity_kind)s AND iv.status = %(verified)s AND iv.profile_mismatch = '[]'::jsonb
      AND iv.user_id IN ({claimant_ids})
    GROUP BY iv.user_id
)
SELECT {outer}
FROM (
SELECT {inner}, {order[0]} AS order_1, {order[1]} AS order_2
FROM ({scope_sql}) s({", ".join(columns)}) {amounts_joins}
LEFT JOIN services ON services.claim_id = s.claim_id
LEFT JOIN flags ON flags.claim_id = s.claim_id
LEFT JOIN certified ON certified.user_id = s.claimant_id
LEFT JOIN identity ON identity.user_id = s.claimant_id
OFFSET 0
) t
ORDER BY t.order_1, t.order_2"""  # noqa: S608 (table names and fixed fragments; every value is a parameter)
    params: dict[str, Any] = {
        **_labels(),
        "triggers": [ord(trigger) for trigger in FORMULA_TRIGGERS],
        "time_zone": str(KST),
        "certified_level": int(ProofLevel.CERTIFIED),
        "identity_level": int(ProofLevel.IDENTITY),
        "phone_level": int(ProofLevel.PHONE),
        "email_level": int(ProofLevel.EMAIL),
        "open": Flag.Status.OPEN,
        "subscription": LossItem.Kind.SUBSCRIPTION,
        "business_revenue": LossItem.Kind.BUSINESS_REVENUE,
        "withdrawn": Claim.Status.WITHDRAWN,
        "certified": PowerOfAttorney.SignatureMethod.CERTIFIED,
        "identity_kind": IdentityVerification.Kind.IDENTITY,
        "verified": IdentityVerification.Status.VERIFIED,
        **{f"kind_{index}": kind for index, kind in enumerate(LOSS_KINDS)},
        **{f"rule_{index}": rule for index, rule in enumerate(ESTIMATE_RULES)},
    }
    return sql, params


# For the sheet's statement only: no JIT compilation (PostgreSQL costs the statement high enough to compile it,
# which takes longer than running it), and memory enough for its hash tables and the sort by submission time to
# stay out of temporary files at 200,000 claims (the default, 4 MB, spilled them to disk).
SHEET_SETTINGS = {"jit": "off", "work_mem": "64MB"}


@contextmanager
def _sheet_settings() -> Iterator[None]:
    """SHEET_SETTINGS for this connection while the block runs, then their defaults again (the connection is
    reused): one statement each way."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(name, value, false) FROM jsonb_each_text(%s::jsonb) AS s(name, value)",
            [json.dumps(SHEET_SETTINGS)],
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(name, reset_val, false) FROM pg_settings WHERE name = ANY(%s)",
                [list(SHEET_SETTINGS)],
            )


def claim_sheet_in_sql() -> bool:
    """Whether this database writes the claim sheet itself (PostgreSQL); elsewhere (the SQLite of `make run`) the
    export builds it row by row (filing/selectors/claim_sheet_portable.py)."""
    return connection.vendor == "postgresql"


def claim_sheet_csv_copy(*, out: BinaryIO, cohort: Cohort | None = None, wave: FilingWave | None = None) -> int:
    """Write the claim sheet's rows as CSV into `out`, as PostgreSQL writes them (`COPY ... TO STDOUT`, one
    statement), with the CRLF line ends of Python's csv module; returns the number of rows. Nothing else can use
    the connection until the COPY ends (no progress marks in between)."""
    sql, params = claim_sheet_sql(cohort=cohort, wave=wave)
    statement = connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)
    rows = 0
    with _sheet_settings(), connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in copy:  # one message per row, ending with "\n"
            out.write(bytes(row[:-1]))
            out.write(b"\r\n")
            rows += 1
    return rows


def claim_sheet_rows(*, cohort: Cohort | None = None, wave: FilingWave | None = None) -> Iterator[tuple]:
    """The claim sheet's rows with their types (numbers, Seoul date-times without a time zone, text), streamed
    through a server-side cursor in chunks of STREAM_CHUNK_SIZE."""
    sql, params = claim_sheet_sql(cohort=cohort, wave=wave)
    with _sheet_settings(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(STREAM_CHUNK_SIZE):
            yield from rows
