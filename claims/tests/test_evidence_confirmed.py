"""The "clean claims" queue (claims.selectors.evidence_findings.claims_evidence_confirmed): every amount matched by a
file read, every claimed service's use proven inside its window, nothing open; its list filter, and the bulk accept
a lawyer applies after seeing the list (claims.services.review.claims_accept_evidence_confirmed)."""

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.roles import Role
from claims.models import Claim, ClaimEvent, EvidenceFinding, Flag, InformationRequest
from claims.selectors.evidence_findings import ACCEPTABLE_STATUSES, claims_evidence_confirmed
from claims.services.review import TRANSITIONS
from claims.tests.factories import EvidenceFactory, LossItemFactory, SubmittedClaimFactory, service_by_slug
from claims.tests.staff import admin_login, staff_member
from core.models import AuditEntry

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:claims_claim_changelist")
READ = EvidenceFinding.Status.DONE


def read_file(claim, *, loss_item=None, status=READ, proof="yes", amount="equal", services=()):
    evidence = EvidenceFactory(claim=claim, loss_item=loss_item)
    EvidenceFinding.objects.create(
        evidence=evidence, status=status, proof_of_use=proof, amount_match=amount, services=list(services)
    )
    return evidence


def confirmed_claim() -> Claim:
    """A Kakao T subscription claim whose receipt was read: its amount equal, its time inside the window."""
    claim = SubmittedClaimFactory()
    claim.services.set([service_by_slug("kakao-t")])
    read_file(claim, loss_item=LossItemFactory(claim=claim))
    return claim


def confirmed_ids() -> set[int]:
    return set(Claim.objects.filter(claims_evidence_confirmed()).values_list("pk", flat=True))


def test_the_queue_takes_the_claims_a_lawyer_may_accept():
    assert TRANSITIONS["accept"].sources == ACCEPTABLE_STATUSES


def test_a_claim_whose_amount_and_use_are_read_and_nothing_is_open_is_confirmed():
    claim = confirmed_claim()
    assert confirmed_ids() == {claim.pk}


@pytest.mark.parametrize(
    "finding",
    [
        {"amount": "different"},
        {"amount": "not_found"},
        {"proof": "no"},
        {"proof": "unknown"},
        {"status": EvidenceFinding.Status.PENDING},
        {"status": EvidenceFinding.Status.FAILED},
    ],
)
def test_an_amount_or_a_use_not_read_as_claimed_is_not_confirmed(finding):
    claim = SubmittedClaimFactory()
    claim.services.set([service_by_slug("kakao-t")])
    read_file(claim, loss_item=LossItemFactory(claim=claim), **finding)
    assert confirmed_ids() == set()


def test_every_loss_item_needs_its_own_receipt():
    claim = confirmed_claim()
    LossItemFactory(claim=claim, monthly_fee=22_000)
    assert confirmed_ids() == set()


def test_every_claimed_service_needs_its_proof_of_use():
    claim = confirmed_claim()
    claim.services.add(service_by_slug("melon"))
    assert confirmed_ids() == set()
    read_file(claim, amount="no_loss_item", services=["kakao-t"])  # a file naming another service proves nothing
    assert confirmed_ids() == set()
    read_file(claim, amount="no_loss_item", services=["melon"])
    assert confirmed_ids() == {claim.pk}


def test_a_claim_naming_no_service_proves_nothing():
    read_file(SubmittedClaimFactory(), amount="no_loss_item", services=["kakao-t"])
    assert confirmed_ids() == set()


def test_an_open_flag_or_an_unanswered_information_request_keeps_a_claim_out():
    flagged, asked = confirmed_claim(), confirmed_claim()
    flag = Flag.objects.create(claim=flagged, code=Flag.Code.SIMILAR_IMAGE, severity=Flag.Severity.MEDIUM)
    request = InformationRequest.objects.create(
        claim=asked, requested_by=staff_member(), message="영수증", due_date=dt.date(2030, 1, 1)
    )
    assert confirmed_ids() == set()
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.CLEARED)
    InformationRequest.objects.filter(pk=request.pk).update(answered_at=request.created_at)
    assert confirmed_ids() == {flagged.pk, asked.pk}


def test_a_claim_already_decided_is_not_in_the_queue():
    claim = confirmed_claim()
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.ACCEPTED)
    assert confirmed_ids() == set()


# --- the admin: the list filter and the bulk accept ----------------------------------------------------------------


def post_action(client, claims, **extra):
    data = {"action": "accept_evidence_confirmed", ACTION_CHECKBOX_NAME: [claim.pk for claim in claims], **extra}
    return client.post(LIST_URL, data)


def versions(claims) -> dict[str, int]:
    return {f"version-{claim.pk}": claim.version for claim in claims}


def test_the_list_filter_shows_only_the_confirmed_claims(client):
    admin_login(client, staff_member(Role.PARALEGAL))
    confirmed, other = confirmed_claim(), SubmittedClaimFactory()
    html = client.get(LIST_URL, {"evidence_confirmed": "yes"}).content.decode()
    assert "증빙 확인 완료" in html
    assert confirmed.reference_code in html and other.reference_code not in html


def test_a_lawyer_sees_the_list_then_accepts_the_confirmed_claims(client, django_capture_on_commit_callbacks):
    lawyer = staff_member(Role.LAWYER)
    admin_login(client, lawyer)
    confirmed, unconfirmed = confirmed_claim(), SubmittedClaimFactory()
    page = post_action(client, [confirmed, unconfirmed])
    assert page.status_code == 200
    html = page.content.decode()
    assert confirmed.reference_code in html and unconfirmed.reference_code in html
    assert "금액·이용 증빙이 모두 확인되지 않았거나" in html
    assert f'name="version-{confirmed.pk}" value="{confirmed.version}"' in html
    assert Claim.objects.get(pk=confirmed.pk).status == Claim.Status.SUBMITTED  # nothing done before the apply
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_action(client, [confirmed, unconfirmed], apply="1", **versions([confirmed, unconfirmed]))
    assert response.status_code == 302
    confirmed.refresh_from_db()
    unconfirmed.refresh_from_db()
    assert (confirmed.status, unconfirmed.status) == (Claim.Status.ACCEPTED, Claim.Status.SUBMITTED)
    assert ClaimEvent.objects.get(kind=ClaimEvent.Kind.ACCEPTED).claim == confirmed
    audit = AuditEntry.objects.get(action=AuditEntry.Action.TRANSITION, actor=lawyer)
    assert audit.object_id == str(confirmed.pk)
    assert callbacks  # the claimant's status email is queued
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any(unconfirmed.reference_code in message for message in messages)


def test_a_claim_changed_after_the_list_was_shown_is_skipped(client):
    admin_login(client, staff_member(Role.LAWYER))
    claim = confirmed_claim()
    shown = versions([claim])
    Claim.objects.filter(pk=claim.pk).update(version=claim.version + 1)
    assert post_action(client, [claim], apply="1", **shown).status_code == 302
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.SUBMITTED
    assert post_action(client, [claim], apply="1").status_code == 302  # no version shown: skipped too
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.SUBMITTED


def test_a_paralegal_cannot_accept_in_bulk(client):
    admin_login(client, staff_member(Role.PARALEGAL))
    claim = confirmed_claim()
    assert "accept_evidence_confirmed" not in client.get(LIST_URL).content.decode()
    post_action(client, [claim], apply="1", **versions([claim]))
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.SUBMITTED
