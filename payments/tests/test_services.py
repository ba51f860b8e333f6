"""The retainer's rules: the order and its amount, the server's confirmation, the webhook (replays), two
confirmations at once, refunds by staff and by the fee terms' rule, waivers (payments/services.py)."""

import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.journey import RETAINER, claimant_next_step
from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from claims.models import Claim
from claims.services.intake import claim_withdraw
from claims.tests.factories import ClaimFactory, claimant_ready
from claims.tests.staff import staff_member
from core.exceptions import PermissionDeniedError
from core.models import AuditEntry, WebhookEvent
from filing.models import Cohort, FilingWave, WaveMember
from integrations.payments import PAYMENT_WEBHOOK_PROVIDER
from integrations.payments.models import SandboxPayment
from integrations.payments.sandbox import SandboxPaymentGateway, sandbox_payment_open, sandbox_webhook_request
from notifications.messages import contact_preference_update
from notifications.models import Notification
from payments.models import PaymentEntry, RetainerOrder
from payments.selectors import retainer_orders_refundable_by_rule, retainer_step_done
from payments.services import (
    RetainerError,
    retainer_order_create,
    retainer_payment_confirm,
    retainer_refund,
    retainer_refund_by_rule,
    retainer_waive,
)
from payments.tests.factories import retainer_paid_in_sandbox, retainer_terms_seeded, sandbox_payment_made

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimant():
    """A claimant who signed the power of attorney and has not paid (the seeded terms: 20,000 won)."""
    retainer_terms_seeded()
    return claimant_ready(retainer_paid=False)


def kinds(order):
    return list(order.entries.values_list("kind", "amount"))


def test_the_step_applies_with_a_gateway_and_a_retainer_and_is_done_once_paid(claimant, settings):
    assert retainer_step_done(claimant) is False
    assert claimant_next_step(user=claimant).key == RETAINER
    retainer_paid_in_sandbox(claimant)
    assert retainer_step_done(claimant) is True
    assert claimant_next_step(user=claimant) is None
    assert claimant_next_step(user=claimant) is None  # the cached readiness agrees


def test_the_step_does_not_apply_without_a_gateway_or_without_a_retainer(claimant, settings):
    settings.PAYMENT_BACKEND = "integrations.payments.UnconfiguredPaymentGateway"
    assert retainer_step_done(claimant) is None
    assert claimant_next_step(user=claimant) is None
    settings.PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    retainer_terms_seeded(amount=0)
    assert retainer_step_done(claimant) is None


def test_the_amount_is_the_fee_terms_and_duplicate_clicks_get_the_same_order(claimant):
    first = retainer_order_create(claimant=claimant)
    second = retainer_order_create(claimant=claimant)
    assert first == second
    assert (first.amount, first.status) == (20_000, RetainerOrder.Status.PENDING)
    assert kinds(first) == [(PaymentEntry.Kind.ORDER, 20_000)]


def test_the_server_confirms_with_the_gateway_and_records_one_payment_and_a_receipt(claimant):
    order = retainer_order_create(claimant=claimant)
    sandbox_payment_made(order)
    retainer_payment_confirm(payment_id=order.payment_id)
    retainer_payment_confirm(payment_id=order.payment_id)  # the return page and the webhook both confirm
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PAID
    assert kinds(order) == [(PaymentEntry.Kind.ORDER, 20_000), (PaymentEntry.Kind.PAYMENT, 20_000)]
    payment = order.entries.get(kind=PaymentEntry.Kind.PAYMENT)
    assert (payment.method, payment.gateway, payment.sandbox) == ("card", "sandbox-payments", True)
    assert Notification.objects.filter(template="payments/email/receipt", user=claimant).count() == 1
    assert AuditEntry.objects.filter(action="retainer.paid").count() == 1


def test_a_claimant_who_chose_their_phone_gets_the_receipt_and_the_refund_by_sms(
    claimant, message_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    claimant.phone_verified_at = timezone.now()
    claimant.save(update_fields=["phone_verified_at"])
    contact_preference_update(user=claimant, case_news="phone", marketing=False)
    order = retainer_order_create(claimant=claimant)
    sandbox_payment_made(order)
    with django_capture_on_commit_callbacks(execute=True):
        retainer_payment_confirm(payment_id=order.payment_id)
    with django_capture_on_commit_callbacks(execute=True):
        retainer_refund(order=order, actor=staff_member(Role.LAWYER), reason="착오 결제", request_id="sms-refund")
    receipt_url = reverse("payments:receipt", args=[order.pk])
    assert len(message_outbox) == 2
    assert "20,000원 결제가 완료되었습니다" in message_outbox[0].text
    assert "20,000원을 환불했습니다" in message_outbox[1].text
    assert all(receipt_url in message.text for message in message_outbox)
    assert mailoutbox == []


def test_a_window_closed_without_paying_confirms_nothing(claimant):
    order = retainer_order_create(claimant=claimant)
    sandbox_payment_open(payment_id=order.payment_id, amount=order.amount, order_name="x", webhook_url="http://t/")
    with pytest.raises(RetainerError) as refused:
        retainer_payment_confirm(payment_id=order.payment_id)
    assert refused.value.code == "not_paid"
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PENDING


def test_a_payment_of_another_amount_is_refused(claimant):
    order = retainer_order_create(claimant=claimant)
    sandbox_payment_made(order, amount=100)
    with pytest.raises(RetainerError) as refused:
        retainer_payment_confirm(payment_id=order.payment_id)
    assert refused.value.code == "amount_mismatch"
    assert not order.entries.filter(kind=PaymentEntry.Kind.PAYMENT).exists()


def test_a_signed_webhook_confirms_the_payment_and_its_replay_changes_nothing(
    claimant, client, django_capture_on_commit_callbacks
):
    order = retainer_order_create(claimant=claimant)
    sandbox_payment_made(order)
    headers, body = sandbox_webhook_request(
        payment=SandboxPayment.objects.get(payment_id=order.payment_id), event_type="Transaction.Paid"
    )
    http_headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    for _delivery in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("payment_webhook"), data=body, content_type="application/json", **http_headers
            )
        assert response.status_code == 200
    assert WebhookEvent.objects.filter(provider=PAYMENT_WEBHOOK_PROVIDER).count() == 1
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PAID
    assert order.entries.filter(kind=PaymentEntry.Kind.PAYMENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_the_same_moment_record_one_payment():
    retainer_terms_seeded()
    order = retainer_order_create(claimant=claimant_ready(retainer_paid=False))
    sandbox_payment_made(order)
    barrier, outcomes = threading.Barrier(2), []

    def confirm():
        try:
            barrier.wait()
            outcomes.append(retainer_payment_confirm(payment_id=order.payment_id).status)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [RetainerOrder.Status.PAID, RetainerOrder.Status.PAID]
    assert order.entries.filter(kind=PaymentEntry.Kind.PAYMENT).count() == 1


def test_staff_refund_part_with_a_reason_and_a_repeated_request_refunds_once(claimant):
    order = retainer_paid_in_sandbox(claimant)
    lawyer = staff_member(Role.LAWYER)
    first = retainer_refund(order=order, actor=lawyer, reason="일부 환불", amount=5_000, request_id="staff:1")
    again = retainer_refund(order=order, actor=lawyer, reason="일부 환불", amount=5_000, request_id="staff:1")
    assert first == again
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (RetainerOrder.Status.PARTIALLY_REFUNDED, 5_000)
    assert SandboxPayment.objects.get(payment_id=order.payment_id).amount_cancelled == 5_000
    assert retainer_step_done(claimant) is True  # a partial refund leaves the retainer paid
    with pytest.raises(RetainerError):
        retainer_refund(order=order, actor=lawyer, reason="초과", amount=15_001, request_id="staff:2")
    retainer_refund(order=order, actor=lawyer, reason="나머지", request_id="staff:3")
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (RetainerOrder.Status.REFUNDED, 20_000)
    assert Notification.objects.filter(template="payments/email/refund", user=claimant).count() == 2
    assert AuditEntry.objects.filter(action="retainer.refund", actor=lawyer).count() == 2


def test_a_refund_needs_the_permission_and_a_reason(claimant):
    order = retainer_paid_in_sandbox(claimant)
    with pytest.raises(PermissionDeniedError):
        retainer_refund(order=order, actor=staff_member(Role.PARALEGAL), reason="x", request_id="r")
    with pytest.raises(RetainerError) as refused:
        retainer_refund(order=order, actor=staff_member(Role.LAWYER), reason="  ", request_id="r")
    assert refused.value.code == "reason_required"


def test_withdrawing_the_only_claim_before_filing_refunds_the_retainer_by_the_rule(
    claimant, django_capture_on_commit_callbacks
):
    order = retainer_paid_in_sandbox(claimant)
    claim = ClaimFactory(claimant=claimant)
    with django_capture_on_commit_callbacks(execute=True):
        claim_withdraw(claim=claim, actor=claimant, reason="생각이 바뀜")
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (RetainerOrder.Status.REFUNDED, 20_000)
    refund = order.entries.get(kind=PaymentEntry.Kind.REFUND)
    assert refund.actor is None and refund.request_id == f"rule:{order.pk}"
    assert retainer_step_done(claimant) is False  # to rejoin, the claimant pays again (a new order)
    assert retainer_order_create(claimant=claimant) != order


def test_withdrawing_after_the_claim_was_filed_is_not_refunded_by_the_rule(claimant):
    order = retainer_paid_in_sandbox(claimant)
    claim = ClaimFactory(claimant=claimant, status=Claim.Status.WITHDRAWN)
    lawyer = StaffFactory(role=Role.LAWYER)
    cohort = Cohort.objects.create(name="1차", incident=claim.incident, created_by=lawyer)
    wave = FilingWave.objects.create(cohort=cohort, name="1차 소송", court="서울중앙지방법원", created_by=lawyer)
    WaveMember.objects.create(wave=wave, claim=claim, number=1, name="김은서", address="서울", amount_claimed=100_000)
    wave.status = FilingWave.Status.FROZEN
    wave.save(update_fields=["status"])
    assert [o.pk for o in retainer_orders_refundable_by_rule(claimant_id=claimant.pk)] == [order.pk]  # not filed yet
    wave.status = FilingWave.Status.FILED
    wave.save(update_fields=["status"])
    assert retainer_refund_by_rule(claimant_id=claimant.pk) == []
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PAID


def test_a_claimant_with_another_claim_going_ahead_is_not_refunded(claimant):
    order = retainer_paid_in_sandbox(claimant)
    ClaimFactory(claimant=claimant, status=Claim.Status.WITHDRAWN)
    ClaimFactory(claimant=claimant)
    assert retainer_refund_by_rule(claimant_id=claimant.pk) == []
    order.refresh_from_db()
    assert order.status == RetainerOrder.Status.PAID


def test_a_payment_confirmed_after_the_claim_was_withdrawn_is_refunded(claimant, django_capture_on_commit_callbacks):
    order = retainer_order_create(claimant=claimant)
    claim = ClaimFactory(claimant=claimant)
    with django_capture_on_commit_callbacks(execute=True):
        claim_withdraw(claim=claim, actor=claimant)
    sandbox_payment_made(order)
    with django_capture_on_commit_callbacks(execute=True):
        retainer_payment_confirm(payment_id=order.payment_id)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (RetainerOrder.Status.REFUNDED, 20_000)
    assert kinds(order)[-2:] == [(PaymentEntry.Kind.PAYMENT, 20_000), (PaymentEntry.Kind.REFUND, 20_000)]


def test_a_lawyer_waives_the_retainer_with_a_reason_and_the_step_is_done(claimant):
    lawyer = staff_member(Role.LAWYER)
    pending = retainer_order_create(claimant=claimant)
    order = retainer_waive(claimant=claimant, actor=lawyer, reason="기초생활수급자 (수급자 증명서 확인)")
    assert order == pending and order.status == RetainerOrder.Status.WAIVED
    assert order.entries.get(kind=PaymentEntry.Kind.WAIVER).actor == lawyer
    assert retainer_step_done(claimant) is True
    assert claimant_next_step(user=claimant) is None
    with pytest.raises(PermissionDeniedError):
        retainer_waive(claimant=claimant, actor=staff_member(Role.PARALEGAL), reason="x")


def test_a_paid_retainer_is_refunded_not_waived(claimant):
    retainer_paid_in_sandbox(claimant)
    with pytest.raises(RetainerError) as refused:
        retainer_waive(claimant=claimant, actor=staff_member(Role.LAWYER), reason="수급자")
    assert refused.value.code == "already_paid"


def test_a_cancellation_made_at_the_gateway_is_recorded_in_the_ledger(claimant):
    order = retainer_paid_in_sandbox(claimant)
    SandboxPaymentGateway().payment_cancel(order.payment_id, amount=3_000, reason="console", request_id="console-1")
    retainer_payment_confirm(payment_id=order.payment_id)
    order.refresh_from_db()
    assert kinds(order)[-1] == (PaymentEntry.Kind.CANCELLATION, 3_000)
    assert (order.status, order.amount_refunded) == (RetainerOrder.Status.PARTIALLY_REFUNDED, 3_000)
