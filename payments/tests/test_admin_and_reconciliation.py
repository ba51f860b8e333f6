"""Staff side: the order admin with its read-only ledger, the refund and waiver pages, and the reconciliation of the
ledger against the gateway (admin action and management command)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from claims.tests.factories import SubmittedClaimFactory, claimant_ready
from claims.tests.staff import admin_login, staff_member
from integrations.payments.models import SandboxPayment
from payments.models import PaymentEntry, RetainerOrder
from payments.reconciliation import orders_of_day, reconciliation_rows
from payments.tests.factories import retainer_paid_in_sandbox, retainer_terms_seeded

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid():
    retainer_terms_seeded()
    return retainer_paid_in_sandbox(claimant_ready(retainer_paid=False))


def test_a_lawyer_sees_the_ledger_and_refunds_part_with_a_reason(client, paid):
    lawyer_client = admin_login(client, staff_member(Role.LAWYER))
    page = lawyer_client.get(reverse("admin:payments_retainerorder_change", args=[paid.pk])).content.decode()
    assert paid.payment_id in page and reverse("admin:payments_retainerorder_refund", args=[paid.pk]) in page
    form = lawyer_client.get(reverse("admin:payments_retainerorder_refund", args=[paid.pk])).context["form"]
    data = {"amount": 5000, "reason": "일부 환불 요청", "request_id": form["request_id"].initial}
    url = reverse("admin:payments_retainerorder_refund", args=[paid.pk])
    assert lawyer_client.post(url, data).status_code == 302
    assert lawyer_client.post(url, data).status_code == 302  # the same form sent twice: one refund
    paid.refresh_from_db()
    assert paid.amount_refunded == 5000
    assert paid.entries.filter(kind=PaymentEntry.Kind.REFUND).count() == 1


def test_the_claim_review_page_shows_the_claimants_ledger_to_a_lawyer_only(client, paid):
    claim = SubmittedClaimFactory(claimant=paid.claimant)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    page = admin_login(client, staff_member(Role.LAWYER)).get(url).content.decode()
    assert 'data-testid="claim-retainer"' in page and paid.payment_id in page and "20,000원" in page
    client.logout()
    page = admin_login(client, staff_member(Role.PARALEGAL)).get(url).content.decode()
    assert 'data-testid="claim-retainer"' not in page


def test_a_paralegal_may_not_refund(client, paid):
    paralegal_client = admin_login(client, staff_member(Role.PARALEGAL))
    url = reverse("admin:payments_retainerorder_refund", args=[paid.pk])
    assert paralegal_client.post(url, {"reason": "x", "request_id": "r"}).status_code == 403


def test_a_lawyer_waives_a_claimants_retainer_from_the_admin(client):
    retainer_terms_seeded()
    claimant = claimant_ready(retainer_paid=False)
    lawyer_client = admin_login(client, staff_member(Role.LAWYER))
    response = lawyer_client.post(
        reverse("admin:payments_retainerorder_waive"), {"email": claimant.email, "reason": "기초생활수급자"}
    )
    assert response.status_code == 302
    assert RetainerOrder.objects.get(claimant=claimant).status == RetainerOrder.Status.WAIVED


def test_the_reconciliation_matches_the_ledger_and_the_gateway_and_shows_a_difference(paid):
    day = timezone.localdate()
    rows = list(reconciliation_rows(orders_of_day(day), day=day))
    assert [(row.payment_id, row.ledger_paid, row.gateway_paid, row.matches) for row in rows] == [
        (paid.payment_id, 20_000, 20_000, True)
    ]
    SandboxPayment.objects.filter(payment_id=paid.payment_id).update(amount_cancelled=1_000, status="partial_cancelled")
    [row] = reconciliation_rows(orders_of_day(day), day=day)
    assert (row.ledger_refunded, row.gateway_cancelled, row.matches) == (0, 1_000, False)


def test_a_gateway_payment_no_order_knows_is_listed(paid):
    SandboxPayment.objects.create(
        payment_id="retainer-unknown",
        order_name="x",
        amount=20_000,
        status="paid",
        webhook_url="http://t/",
        paid_at=timezone.now(),
    )
    day = timezone.localdate()
    unknown = [row for row in reconciliation_rows(orders_of_day(day), day=day) if row.payment_id == "retainer-unknown"]
    assert len(unknown) == 1 and not unknown[0].matches


def test_the_command_writes_the_days_csv_for_the_accountant(paid, tmp_path):
    output = tmp_path / "recon.csv"
    call_command("retainer_reconciliation", date=timezone.localdate().isoformat(), output=str(output))
    raw = output.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "주문번호" and rows[1][:4] == [paid.payment_id, "paid", "20000", "0"] and rows[1][7] == "일치"


def test_the_admin_action_downloads_the_reconciliation_of_the_selected_orders(client, paid):
    lawyer_client = admin_login(client, staff_member(Role.LAWYER))
    response = lawyer_client.post(
        reverse("admin:payments_retainerorder_changelist"),
        {"action": "reconciliation_export", "_selected_action": [paid.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert paid.payment_id in response.content.decode("utf-8-sig")
