"""Marking a wave filed tells its plaintiffs, with the court and the case number, once each, on each one's channel;
withdrawn claims are skipped, and the messages are queued in chunks."""

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from claims.models import Claim
from claims.tests.factories import default_incident
from filing.models import Cohort
from filing.selectors.cohorts import CohortCriteria
from filing.services import notifications as wave_notifications
from filing.services.cohorts import cohort_freeze_wave, cohort_save, filing_wave_mark_filed
from filing.services.notifications import filing_wave_filed_notify
from filing.tests.readiness import claim_ready
from notifications.messages import contact_preference_update
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_filing_a_wave_tells_each_plaintiff_the_court_and_case_number_once(
    message_outbox, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(wave_notifications, "WAVE_NOTIFY_CHUNK", 2)  # three plaintiffs: two chunks
    lawyer = StaffFactory(role=Role.LAWYER)
    claims = [claim_ready() for _ in range(3)]
    by_phone = claims[0].claimant
    by_phone.phone_verified_at = timezone.now()
    by_phone.save(update_fields=["phone_verified_at"])
    contact_preference_update(user=by_phone, case_news="phone", marketing=False)
    cohort = cohort_save(
        cohort=Cohort(name="승인", incident=default_incident()), criteria=CohortCriteria(), actor=lawyer
    )
    wave = cohort_freeze_wave(cohort=cohort, name="1차", court="서울중앙지방법원", actor=lawyer)
    Claim.objects.filter(pk=claims[2].pk).update(status=Claim.Status.WITHDRAWN)

    with django_capture_on_commit_callbacks(execute=True):
        filing_wave_mark_filed(wave=wave, case_number="2024가합123456", filed_on=timezone.localdate(), actor=lawyer)

    assert Notification.objects.filter(idempotency_key__startswith=f"wave-filed:{wave.pk}:").count() == 2
    assert len(message_outbox) == 1
    assert "서울중앙지방법원" in message_outbox[0].text and "사건번호: 2024가합123456" in message_outbox[0].text
    email = next(message for message in mailoutbox if message.to == [claims[1].claimant.email])
    assert "2024가합123456" in email.body

    assert filing_wave_filed_notify(wave_id=wave.pk) == 2  # run again: nothing new queued
    assert Notification.objects.filter(idempotency_key__startswith=f"wave-filed:{wave.pk}:").count() == 2
