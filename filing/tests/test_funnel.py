"""The staff funnel (filing/selectors/funnel.py, /admin/funnel/): exact counts on a small known dataset, the
conversion and drop-out between steps, the median time to ready, information requests answered in time, by day and
by referral source, a number of queries independent of the table size, the cache, and the page per role."""

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import ClaimantFactory, identity_verified
from claims.models import Claim, EligibilityCheck, Evidence, InformationRequest, OutageWindow
from claims.tests.factories import (
    EvidenceFactory,
    LossItemFactory,
    SubmittedClaimFactory,
    claimant_ready,
    default_incident,
)
from claims.tests.staff import admin_login, staff_member
from filing.models import Cohort, FilingWave, WaveMember
from filing.selectors import funnel as funnel_selectors
from filing.selectors.funnel import (
    ACCOUNT,
    ELIGIBILITY_STARTED,
    ELIGIBLE,
    STEPS,
    FunnelFilter,
    chain_counts,
    funnel,
    funnel_cached,
)
from filing.tasks.funnel import funnel_refresh_task
from payments.models import RetainerOrder, RetainerTerms

pytestmark = pytest.mark.django_db
_receipts = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_cached_funnel():
    cache.clear()


@pytest.fixture(autouse=True)
def _every_step_applies(monkeypatch):
    """Identity checks and payments configured (as in production once the providers are): every step counts."""
    monkeypatch.setattr(funnel_selectors, "steps_applying", lambda: dict.fromkeys(STEPS, True))


TODAY = timezone.localdate()


def joined(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def identity(user: User) -> None:
    identity_verified(user)


def paid(user: User, status=RetainerOrder.Status.PAID) -> None:
    RetainerOrder.objects.create(
        claimant=user,
        terms=RetainerTerms.objects.first(),
        payment_id=f"funnel-order-{user.pk}",
        amount=50_000,
        status=status,
    )


def claim_of(user: User, *, proof: bool, status=Claim.Status.SUBMITTED, decided_after_days: float | None = None):
    """A submitted claim for one service; accepted ones are estimated (the readiness rule's "accepted estimate")."""
    claim = SubmittedClaimFactory(claimant=user, status=status)
    if decided_after_days is not None:
        claim.decided_at = user.date_joined + dt.timedelta(days=decided_after_days)
        claim.estimate_total = 39_000
        claim.save(update_fields=["decided_at", "estimate_total"])
    item = LossItemFactory(claim=claim)
    claim.services.add(item.service)
    if proof:
        EvidenceFactory(claim=claim, loss_item=item, tag=Evidence.Tag.PROOF_OF_USE)
    return claim


def person(source: str, days_ago: int, *, ready: bool = False) -> User:
    """A claimant with the consents and power of attorney (claimant_ready) and the retainer left unpaid."""
    if not ready:
        return ClaimantFactory(referral_source=source, date_joined=joined(days_ago))
    return claimant_ready(retainer_paid=False, referral_source=source, date_joined=joined(days_ago))


def request_on(claim: Claim, *, due_in_days: int, answered_after_due_days: int | None = None) -> None:
    due = TODAY + dt.timedelta(days=due_in_days)
    answered = None
    if answered_after_due_days is not None:
        answered_on = due + dt.timedelta(days=answered_after_due_days)
        answered = timezone.make_aware(dt.datetime.combine(answered_on, dt.time(12)))
    InformationRequest.objects.create(
        claim=claim,
        requested_by=staff_member(Role.LAWYER),
        message="영수증",
        due_date=due,
        answered_at=answered,
    )


def filed(claim: Claim) -> None:
    lawyer = staff_member(Role.LAWYER)
    cohort = Cohort.objects.create(name=f"c{claim.pk}", incident=claim.incident, created_by=lawyer)
    wave = FilingWave.objects.create(
        cohort=cohort, name=f"w{claim.pk}", court="서울중앙지방법원", created_by=lawyer, status=FilingWave.Status.FILED
    )
    WaveMember.objects.create(wave=wave, number=1, claim=claim, name="김민수", address="서울", amount_claimed=1)


def eligibility(source: str, *, eligible: bool, days_ago: int = 1) -> None:
    started = joined(days_ago)
    EligibilityCheck.objects.create(
        incident=default_incident(),
        started_at=started,
        eligible_at=started if eligible else None,
        referral_source=source,
    )


@pytest.fixture
def known():
    """Six accounts, and six eligibility checks:
    A naver (2 days ago): every step to filed, ready 3 days after sign-up, one request answered in time
    B naver (2 days ago): identity, consents, signed, submitted without proof of use, one request overdue
    C direct (2 days ago): identity only
    D direct (1 day ago): nothing
    E kakao (1 day ago): to paid (waived), accepted but with an open request (not ready)
    F naver (1 day ago): to ready 5 days after sign-up, not filed, one request answered late
    """
    a = person("naver", 2, ready=True)
    identity(a)
    claim_a = claim_of(a, proof=True, status=Claim.Status.ACCEPTED, decided_after_days=3)
    paid(a)
    request_on(claim_a, due_in_days=-3, answered_after_due_days=-1)
    filed(claim_a)

    b = person("naver", 2, ready=True)
    identity(b)
    request_on(claim_of(b, proof=False), due_in_days=-1)

    identity(person("", 2))
    person("", 1)

    e = person("kakao", 1, ready=True)
    identity(e)
    request_on(claim_of(e, proof=True, status=Claim.Status.ACCEPTED, decided_after_days=1), due_in_days=5)
    paid(e, RetainerOrder.Status.WAIVED)

    f = person("naver", 1, ready=True)
    identity(f)
    request_on(
        claim_of(f, proof=True, status=Claim.Status.ACCEPTED, decided_after_days=5),
        due_in_days=-4,
        answered_after_due_days=2,
    )
    paid(f)

    for source, eligible in (("naver", True), ("naver", True), ("naver", False), ("", True), ("", False)):
        eligibility(source, eligible=eligible)
    eligibility("kakao", eligible=True, days_ago=2)


EXPECTED_TOTALS = {
    "eligibility_started": 6,
    "eligible": 4,
    "account": 6,
    "identity": 5,
    "consents": 4,
    "signed": 4,
    "submitted": 4,
    "evidence_complete": 3,
    "paid": 3,
    "ready": 2,
    "filed": 1,
}


def counts(result) -> dict[str, int]:
    return {step.key: step.count for step in result.steps}


def test_each_step_counts_the_people_who_reached_it_with_every_earlier_step(known):
    result = funnel()
    assert counts(result) == EXPECTED_TOTALS
    assert [step.key for step in result.steps] == list(STEPS)


def test_conversion_and_drop_out_are_from_the_previous_step(known):
    steps = {step.key: step for step in funnel().steps}
    assert steps[ELIGIBILITY_STARTED].conversion is None and steps[ELIGIBILITY_STARTED].dropped is None
    assert steps[ELIGIBLE].conversion == pytest.approx(4 / 6) and steps[ELIGIBLE].dropped == 2
    assert steps[ACCOUNT].conversion == pytest.approx(6 / 4) and steps[ACCOUNT].dropped == 0
    assert steps["identity"].dropped == 1  # D
    assert steps["evidence_complete"].conversion == pytest.approx(3 / 4)  # B has no proof of use
    assert steps["ready"].dropped == 1  # E: an open request
    assert steps["filed"].conversion == pytest.approx(1 / 2)


def test_median_time_to_ready_and_requests_answered_in_time(known):
    result = funnel()
    assert result.median_to_ready == dt.timedelta(days=4)  # A after 3 days, F after 5
    assert (result.requests_due, result.requests_in_time) == (3, 1)  # E's is not due yet
    assert result.requests_in_time_share == pytest.approx(1 / 3)


def test_by_source_and_by_day(known):
    result = funnel()
    by_source = {row.key: row.counts for row in result.by_source}
    assert by_source["naver"] == {
        "eligibility_started": 3,
        "eligible": 2,
        "account": 3,
        "identity": 3,
        "consents": 3,
        "signed": 3,
        "submitted": 3,
        "evidence_complete": 2,
        "paid": 2,
        "ready": 2,
        "filed": 1,
    }
    assert by_source["kakao"]["paid"] == 1 and by_source["kakao"]["ready"] == 0
    assert by_source[""][ACCOUNT] == 2 and by_source[""]["identity"] == 1 and by_source[""][ELIGIBLE] == 1
    assert [row.key for row in result.by_source][0] == "naver"  # most sign-ups first
    assert result.sources == ["kakao", "naver"]

    by_day = {row.key: row.counts for row in result.by_day}
    two_days_ago, yesterday = (timezone.localdate(joined(days)).isoformat() for days in (2, 1))
    assert by_day[two_days_ago][ACCOUNT] == 3 and by_day[two_days_ago]["filed"] == 1
    assert by_day[two_days_ago][ELIGIBILITY_STARTED] == 1
    assert by_day[yesterday][ACCOUNT] == 3 and by_day[yesterday]["ready"] == 1
    assert by_day[yesterday][ELIGIBILITY_STARTED] == 5


def test_filters_by_source_and_by_sign_up_date(known):
    naver = funnel(filters=FunnelFilter(source="naver"))
    assert counts(naver)["account"] == 3 and counts(naver)["eligibility_started"] == 3
    assert naver.median_to_ready == dt.timedelta(days=4)
    direct = funnel(filters=FunnelFilter(source=""))
    assert counts(direct)["account"] == 2 and counts(direct)["ready"] == 0 and direct.median_to_ready is None
    yesterday = timezone.localdate(joined(1))
    recent = funnel(filters=FunnelFilter(since=yesterday, until=yesterday))
    assert counts(recent)["account"] == 3  # D, E, F
    assert counts(recent)["ready"] == 1  # F
    assert (recent.requests_due, recent.requests_in_time) == (1, 0)  # F answered late


def test_a_step_that_does_not_apply_stays_out_of_the_chain():
    applies = dict.fromkeys(STEPS, True) | {"identity": False}
    steps = ("identity", "consents", "signed", "submitted", "evidence_complete", "paid", "ready", "filed")
    # one account with everything but identity, one with identity only
    result = chain_counts(
        [
            (tuple(step != "identity" for step in steps), 1),
            (tuple(step == "identity" for step in steps), 1),
        ],
        applies,
    )
    assert result == {"account": 2, "identity": 1, **dict.fromkeys(steps[1:], 1)}


def test_a_power_of_attorney_signed_before_identity_checks_counts_for_the_identity_step_as_in_the_journey():
    person("", 1, ready=True)  # consents and a power of attorney, no identity check
    assert {key: count for key, count in counts(funnel()).items() if key in ("identity", "consents", "signed")} == {
        "identity": 1,
        "consents": 1,
        "signed": 1,
    }


def test_referral_codes_are_counted_with_the_last_day():
    ClaimantFactory(referral_code="friend1", date_joined=joined(3))
    ClaimantFactory(referral_code="friend1")
    ClaimantFactory(referral_code="other")
    rows = [(row.code, row.signups, row.last_day) for row in funnel().referral_codes]
    assert rows == [("friend1", 2, 1), ("other", 1, 1)]


def funnel_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        funnel()
    return len(queries)


def grow(size: int) -> None:
    for n in range(size):
        source = ("naver", "kakao", "")[n % 3]
        user = person(source, n % 5, ready=n % 2 == 0)
        if n % 3 == 0:
            identity(user)
        if n % 2 == 0:
            claim = claim_of(user, proof=n % 4 == 0, status=Claim.Status.ACCEPTED, decided_after_days=n % 7)
            request_on(claim, due_in_days=n % 5 - 2, answered_after_due_days=(n % 3) - 1)
        eligibility(source, eligible=n % 2 == 0, days_ago=n % 4)


def test_the_number_of_queries_does_not_depend_on_the_table_size():
    grow(3)
    few = funnel_queries()
    grow(30)
    assert funnel_queries() == few <= 8  # six, and the readiness rule reading the current fee terms twice


def test_the_page_reads_a_cached_copy_until_it_expires(known):
    first = funnel_cached()
    ClaimantFactory()
    with CaptureQueriesContext(connection) as queries:
        again = funnel_cached()
    assert len(queries) == 0 and counts(again) == counts(first)
    cache.clear()
    assert counts(funnel_cached())[ACCOUNT] == 7
    assert counts(funnel_cached(filters=FunnelFilter(source="kakao")))[ACCOUNT] == 1  # one copy per filter


def test_beat_refreshes_the_unfiltered_copy_so_that_opening_the_funnel_computes_nothing(known, settings):
    first = funnel_cached()  # a copy computed by a request
    funnel_refresh_task()  # as beat runs it: the copy is replaced
    with CaptureQueriesContext(connection) as queries:
        refreshed = funnel_cached()
    assert len(queries) == 0 and refreshed.computed_at > first.computed_at
    assert counts(refreshed) == counts(funnel()) == counts(first)
    entry = settings.CELERY_BEAT_SCHEDULE["filing-funnel-refresh"]
    assert entry["task"] == funnel_refresh_task.name
    assert entry["schedule"] == settings.FUNNEL_REFRESH_SECONDS < settings.FUNNEL_CACHE_SECONDS


def test_the_eligibility_check_leaves_one_row_per_session_with_the_referral(client):
    window = OutageWindow.objects.get(incident=default_incident(), service__slug="kakao-t").pk
    client.get("/?utm_source=Naver")
    client.post(reverse("claims:eligibility_check"), {"windows": [window], "was_using": "no"})
    check = EligibilityCheck.objects.get()
    assert check.eligible_at is None and check.referral_source == "naver"
    client.post(reverse("claims:eligibility_check"), {"windows": [window], "was_using": "yes"})
    check = EligibilityCheck.objects.get()
    assert check.eligible_at is not None
    client.post(reverse("claims:eligibility_check"), {"windows": [window], "was_using": "no"})
    assert EligibilityCheck.objects.get().eligible_at == check.eligible_at  # once eligible, stays so


@pytest.mark.parametrize(("role", "status"), [(Role.VIEWER, 200), (Role.LAWYER, 200), (Role.PARALEGAL, 403)])
def test_the_page_per_role(client, known, role, status):
    admin_login(client, staff_member(role))
    response = client.get(reverse("staff_funnel"))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert 'data-testid="funnel"' in html and "<script" not in html.split('data-testid="funnel"')[1]
        assert 'data-step="filed"' in html and "naver" in html
        assert "@example.com" not in html  # aggregates only


def test_the_page_filters_and_refuses_a_bad_source(client, known):
    admin_login(client, staff_member(Role.VIEWER))
    response = client.get(reverse("staff_funnel"), {"source": "naver", "since": "", "until": ""})
    assert response.context["funnel"].filters == FunnelFilter(source="naver")
    response = client.get(reverse("staff_funnel"), {"source": "-"})
    assert response.context["funnel"].filters == FunnelFilter(source="")
    response = client.get(reverse("staff_funnel"), {"source": "<x>"})
    assert response.context["form"].errors and response.context["funnel"].filters == FunnelFilter()


def test_the_dashboard_links_to_the_funnel(client):
    admin_login(client, staff_member(Role.VIEWER))
    assert reverse("staff_funnel") in client.get(reverse("admin:index")).content.decode()
