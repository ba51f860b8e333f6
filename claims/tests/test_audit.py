"""The audit log: every view of a claim's personal data or evidence writes an entry (who, when, what, from where),
lawyers read the log, and nobody can add, change or delete an entry through the admin."""

import pytest
from django.contrib.admin.sites import site
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from claims.models import Claim
from claims.tests.factories import EvidenceFactory, SubmittedClaimFactory
from claims.tests.staff import admin_login, staff_member
from core.audit import RequestMeta, audit_record
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

AUDIT_LIST = reverse("admin:core_auditentry_changelist")


def test_opening_a_claim_records_who_viewed_it_when_and_from_where(client):
    paralegal = staff_member(Role.PARALEGAL)
    admin_login(client, paralegal)
    claim = SubmittedClaimFactory()
    response = client.get(
        reverse("admin:claims_claim_change", args=[claim.pk]), HTTP_USER_AGENT="Mozilla/5.0 (사무실 PC)"
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.claim) == (paralegal, AuditEntry.Action.VIEWED_CLAIM, claim)
    assert (entry.object_type, entry.object_id) == ("claims.claim", str(claim.pk))
    assert (entry.ip, entry.user_agent) == ("127.0.0.1", "Mozilla/5.0 (사무실 PC)")
    assert entry.at is not None
    client.get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEWED_CLAIM).count() == 2


def test_every_evidence_view_is_recorded_with_the_file(client):
    """A picture is shown inline only as its display copy; the upload itself, before its copy exists or asked for
    with `?download=1`, is only ever a download. Each is audited with the variant served."""
    admin_login(client, staff_member(Role.LAWYER))
    claim = SubmittedClaimFactory()
    evidence = EvidenceFactory(claim=claim)  # its display copy not made yet
    url = reverse("admin:claims_claim_evidence", args=[claim.pk, evidence.pk])
    client.get(url)
    evidence.display_file.save("display", ContentFile(b"\x89PNG\r\n\x1a\n" + b"\0" * 32))
    client.get(url)
    client.get(f"{url}?download=1")
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.VIEWED_EVIDENCE).order_by("at", "id")
    assert [(e.object_type, e.object_id, e.claim_id) for e in entries] == [
        ("claims.evidence", str(evidence.pk), claim.pk)
    ] * 3
    assert [(e.data["variant"], e.data["inline"]) for e in entries] == [
        ("original", False),
        ("display", True),
        ("original", False),
    ]


def test_a_refused_view_writes_nothing(client):
    admin_login(client, staff_member(Role.VIEWER))
    claim = SubmittedClaimFactory()
    assert client.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code == 403
    assert not AuditEntry.objects.exists()


def test_lawyers_read_the_audit_log_filtered_by_claim_actor_and_action(client):
    lawyer = staff_member(Role.LAWYER)
    paralegal = staff_member(Role.PARALEGAL)
    mine, other = SubmittedClaimFactory(), SubmittedClaimFactory()
    audit_record(actor=paralegal, action=AuditEntry.Action.VIEWED_CLAIM, target=mine, meta=RequestMeta(ip="10.0.0.1"))
    audit_record(actor=lawyer, action=AuditEntry.Action.EXPORTED, target=other)
    admin_login(client, lawyer)
    html = client.get(f"{AUDIT_LIST}?claim__id__exact={mine.pk}").content.decode()
    assert str(mine) in html and str(other) not in html and "10.0.0.1" in html
    html = client.get(f"{AUDIT_LIST}?actor={lawyer.pk}").content.decode()
    assert str(other) in html and str(mine) not in html
    html = client.get(f"{AUDIT_LIST}?action=exported").content.decode()
    assert str(other) in html and str(mine) not in html
    html = client.get(f"{AUDIT_LIST}?q={mine.reference_code}").content.decode()
    assert str(mine) in html and str(other) not in html


def test_paralegals_do_not_see_the_audit_log(client):
    admin_login(client, staff_member(Role.PARALEGAL))
    assert client.get(AUDIT_LIST).status_code == 403


@pytest.mark.parametrize("user_kind", ["lawyer", "superuser"])
def test_audit_entries_cannot_be_added_changed_or_deleted_through_the_admin(client, user_kind):
    user = staff_member(Role.LAWYER) if user_kind == "lawyer" else UserFactory(is_staff=True, is_superuser=True)
    if user_kind == "superuser":
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    admin_login(client, user)
    claim = SubmittedClaimFactory()
    entry = audit_record(actor=user, action=AuditEntry.Action.VIEWED_CLAIM, target=claim)
    change = reverse("admin:core_auditentry_change", args=[entry.pk])
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert client.get(change).status_code == 200  # read-only view
    response = client.post(change, {"action": "exported", "ip": "1.2.3.4"})
    assert response.status_code == 403
    assert client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    response = client.post(AUDIT_LIST, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert (entry.action, entry.ip) == (AuditEntry.Action.VIEWED_CLAIM, None)

    admin = site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = user
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, entry)
    assert not admin.has_delete_permission(request, entry)


def test_audit_record_names_the_target_and_its_claim():
    claim = SubmittedClaimFactory()
    evidence = EvidenceFactory(claim=claim)
    entry = audit_record(
        actor=None,
        action=AuditEntry.Action.VIEWED_EVIDENCE,
        target=evidence,
        claim=claim,
        meta=RequestMeta(ip="2001:db8::1", user_agent="Safari"),
    )
    assert (entry.object_type, entry.object_id, entry.claim) == ("claims.evidence", str(evidence.pk), claim)
    entry = audit_record(actor=None, action=AuditEntry.Action.EDITED, target=claim)
    assert entry.claim == claim and isinstance(entry.claim, Claim)


def test_request_meta_keeps_the_address_and_a_bounded_user_agent():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.3", HTTP_USER_AGENT="a" * 900)
    meta = RequestMeta.from_request(request)
    assert meta.ip == "198.51.100.3"
    assert len(meta.user_agent) == 500
