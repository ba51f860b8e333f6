"""The staff claim list stays fast on a large table: the queries behind its filters and searches are answered from
indexes. A few thousand synthetic claims are written (devtools/generator.py) and analysed, each list page is requested
as a Lawyer, and every query it sends that reads claims or accounts is run through EXPLAIN (FORMAT JSON): none
may read claims_claim or accounts_user with a sequential scan. The planner is left to its own choices
(enable_seqscan stays on), so a missing index shows up as a Seq Scan."""

import json
import shutil

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ConsentRecord, PowerOfAttorney, User
from accounts.roles import Role
from accounts.validators import mobile_phone_format
from claims.models import Claim
from claims.selectors.review import reviewers_eligible
from claims.tests.staff import admin_login, staff_member
from devtools.generator import claims_generate
from payments.models import PaymentEntry, RetainerOrder

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(600)]
CLAIMS = 6000
SEED = 31
WATCHED_TABLES = {"claims_claim", "accounts_user"}
LIST_URL = "/admin/claims/claim/"


@pytest.fixture(scope="module")
def large_table(django_db_setup, django_db_blocker):
    """Written once for the module and committed (the planner must see it), then removed with its files."""
    with django_db_blocker.unblock():
        claims_generate(count=CLAIMS, seed=SEED)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        claim = Claim.objects.exclude(reference_code=None).exclude(business_registration_number="").order_by("pk")[9]
        values = {
            "reviewer": Claim.objects.exclude(reviewer=None).values_list("reviewer_id", flat=True).first(),
            "code": claim.reference_code,
            "phone": mobile_phone_format(claim.claimant.phone),
            "business_number": claim.business_registration_number,
        }
    yield values
    with django_db_blocker.unblock():
        claimants = list(Claim.objects.values_list("claimant_id", flat=True))
        Claim.objects.all().delete()
        ConsentRecord.objects.filter(user__in=claimants).delete()
        PowerOfAttorney.objects.filter(user__in=claimants).delete()
        PaymentEntry.objects.filter(order__claimant__in=claimants).delete()  # their retainers (payments)
        RetainerOrder.objects.filter(claimant__in=claimants).delete()
        User.objects.filter(pk__in=claimants).delete()
        User.objects.filter(email__startswith="synthetic.reviewer").delete()
    shutil.rmtree(default_storage.path(f"evidence/synthetic/{SEED}"), ignore_errors=True)
    shutil.rmtree(default_storage.path("power-of-attorney/synthetic"), ignore_errors=True)


def sequential_scans(plan: dict) -> set[str]:
    """The tables an EXPLAIN (FORMAT JSON) plan node, or any node below it, reads with a Seq Scan."""
    found = {plan["Relation Name"]} if plan.get("Node Type") == "Seq Scan" else set()
    for child in plan.get("Plans", []):
        found |= sequential_scans(child)
    return found


def explain(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        result = cursor.fetchone()[0]
    return (json.loads(result) if isinstance(result, str) else result)[0]["Plan"]


def _is_reviewer_choices(sql: str) -> bool:
    """The reviewer filter's list of staff, checked on its own below."""
    return sql.startswith('SELECT DISTINCT "accounts_user"."id"') and '"accounts_user"."is_staff"' in sql


def test_sequential_scans_are_found_in_a_plan():
    plan = {"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "claims_claim"}]}
    assert sequential_scans(plan) == {"claims_claim"}
    assert sequential_scans({"Node Type": "Index Scan", "Relation Name": "claims_claim"}) == set()


@pytest.mark.parametrize(
    ("case", "query"),
    [
        ("status", "status=info_requested"),
        ("reviewer", "reviewer={reviewer}"),
        ("claimant type", "claimant_type__exact=company"),
        (
            "submitted range",
            "submitted_at__gte=2022-10-25+00:00:00%2B09:00&submitted_at__lt=2022-10-26+00:00:00%2B09:00",
        ),
        ("reference code search", "q={code}"),
        ("phone search", "q={phone}"),
        ("business number search", "q={business_number}"),
    ],
)
def test_staff_list_filters_and_searches_use_indexes(client, large_table, case, query):
    admin_login(client, staff_member(Role.LAWYER))
    url = f"{LIST_URL}?{query.format(**large_table)}"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    if case.endswith("search"):
        assert response.context["cl"].result_count >= 1  # the search found the claim it was given
    plans = {}
    for query_info in captured.captured_queries:
        sql = query_info["sql"]
        if not sql.startswith("SELECT") or _is_reviewer_choices(sql):
            continue
        if any(f'"{table}"' in sql for table in WATCHED_TABLES):
            plans[sql] = sequential_scans(explain(sql)) & WATCHED_TABLES
    assert plans, "the list page sent no query about claims"
    scanned = {sql: tables for sql, tables in plans.items() if tables}
    assert not scanned, f"{case}: sequential scan of {sorted(set().union(*scanned.values()))} in: {list(scanned)}"


def test_reviewer_choices_do_not_scan_every_account(large_table):
    """The reviewer filter lists the staff who may review on every page of the list: with 200,000 claimants in
    accounts_user it must not read them all to find a dozen staff."""
    staff_member(Role.PARALEGAL)
    queryset = reviewers_eligible()
    assert queryset.exists()
    assert User.objects.filter(is_staff=False).count() >= CLAIMS
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        result = cursor.fetchone()[0]
    plan = (json.loads(result) if isinstance(result, str) else result)[0]["Plan"]
    assert "accounts_user" not in sequential_scans(plan)


def test_sign_up_finds_a_taken_address_from_an_index(client, large_table):
    """A sign-up asks twice whether the address is taken, whatever its case (email__iexact): among thousands of
    accounts neither question may read them all (each did, 55 ms of the database at 200,000 accounts)."""
    data = {
        "email": "Someone.New@Example.com",
        "date_of_birth": "1985-03-02",
        "password1": "a-long-Korean-passphrase-2022",
        "password2": "a-long-Korean-passphrase-2022",
    }
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 302
    lookups = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT") and 'UPPER("accounts_user"."email"' in query["sql"]
    ]
    assert len(lookups) == 2  # the form's check and the service's, in its transaction
    scanned = [sql for sql in lookups if "accounts_user" in sequential_scans(explain(sql))]
    assert not scanned, f"sequential scan of accounts_user in: {scanned}"
    User.objects.filter(email="someone.new@example.com").delete()
