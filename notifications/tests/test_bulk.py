"""Bulk messages to a cohort or a wave: the preview (recipients per channel, estimated cost, the text in Korean and
English), sending from the admin (the request only records it; a task writes the rows in batches and sends them
in rate-limited chunks, each message once), marketing only to those who consented and never at night, and the
progress shown in the list."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from claims.models import Claim
from claims.tests.factories import SubmittedClaimFactory, claimant_ready, default_incident
from claims.tests.staff import admin_login, staff_member
from core.exceptions import InvalidInputError
from filing.models import Cohort
from filing.selectors.cohorts import CohortCriteria
from filing.services.cohorts import cohort_save
from notifications import bulk as bulk_module
from notifications.bulk import bulk_message_create, bulk_message_plan, bulk_message_preview, bulk_message_progress
from notifications.messages import contact_preference_update
from notifications.models import BulkMessage, Notification

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def cohort():
    lawyer = staff_member(Role.LAWYER)
    return cohort_save(
        cohort=Cohort(name="검토 중 전체", incident=default_incident()),
        criteria=CohortCriteria(statuses=(Claim.Status.SUBMITTED,)),
        actor=lawyer,
    )


@pytest.fixture
def claimants():
    """Three claimants with a submitted claim: one by email, one by phone who consented to marketing, one by
    email who consented to marketing."""
    people = [claimant_ready() for _ in range(3)]
    for person in people:
        SubmittedClaimFactory(claimant=person)
    people[1].phone_verified_at = timezone.now()
    people[1].save(update_fields=["phone_verified_at"])
    contact_preference_update(user=people[1], case_news="phone", marketing=True)
    contact_preference_update(user=people[2], case_news="email", marketing=True)
    return people


def test_the_preview_counts_recipients_per_channel_estimates_the_cost_and_shows_both_languages(cohort, claimants):
    preview = bulk_message_preview(
        audience_name="filing.cohort", audience_id=cohort.pk, kind="notice", message="변론기일이 잡혔습니다."
    )
    assert preview.total == 3 and preview.skipped == 0
    assert dict(preview.by_channel) == {"email": 2, "sms": 1}
    assert preview.estimated_cost == 20  # one SMS at 20 won, emails free
    assert preview.samples == {
        "ko": "[카카오 장애 공동소송] 변론기일이 잡혔습니다.",
        "en": "[Kakao outage suit] 변론기일이 잡혔습니다.",
    }
    assert preview.label == "원고 집단: 검토 중 전체"


@pytest.fixture
def opt_out_number(settings):
    settings.MARKETING_OPT_OUT_NUMBER = "080-123-4567"


def test_marketing_goes_by_sms_only_to_those_who_consented(cohort, claimants, opt_out_number):
    preview = bulk_message_preview(
        audience_name="filing.cohort", audience_id=cohort.pk, kind="marketing", message="새 소송 안내"
    )
    assert (preview.total, preview.skipped, dict(preview.by_channel)) == (2, 1, {"sms": 2})
    assert preview.samples["ko"] == "(광고)[카카오 장애 공동소송]\n새 소송 안내\n무료수신거부 080-123-4567"


def test_no_marketing_message_without_the_free_opt_out_number(client, cohort, claimants, settings):
    settings.MARKETING_OPT_OUT_NUMBER = ""
    with pytest.raises(InvalidInputError):
        bulk_message_preview(audience_name="filing.cohort", audience_id=cohort.pk, kind="marketing", message="안내")
    admin_login(client, staff_member(Role.LAWYER))
    form = {"audience": f"filing.cohort:{cohort.pk}", "kind": "marketing", "message": "안내", "send": "1"}
    page = client.post(reverse("admin:notifications_bulkmessage_add"), form).content.decode()
    assert "무료 수신거부 번호(MARKETING_OPT_OUT_NUMBER)가 설정되지 않았습니다" in page
    assert not BulkMessage.objects.exists()


def test_sending_writes_each_message_once_and_sends_them_in_chunks(
    cohort, claimants, mailoutbox, message_outbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(bulk_module, "SEND_CHUNK", 2)
    monkeypatch.setattr(bulk_module, "BULK_BATCH", 2)
    actor = staff_member(Role.LAWYER)
    with django_capture_on_commit_callbacks(execute=True):
        bulk = bulk_message_create(
            audience_name="filing.cohort", audience_id=cohort.pk, kind="notice", message="안내드립니다.", actor=actor
        )
    bulk.refresh_from_db()
    assert (bulk.status, bulk.total, bulk.estimated_cost) == (BulkMessage.Status.QUEUED, 3, 20)
    assert Notification.objects.filter(bulk=bulk, status=Notification.Status.SENT).count() == 3
    assert len(mailoutbox) == 2 and len(message_outbox) == 1
    assert bulk_message_progress(bulk=bulk) == {"queued": 0, "sent": 3, "failed": 0}

    assert bulk_message_plan(bulk_id=bulk.pk) == 0  # planned again: nothing new, nothing sent twice
    assert Notification.objects.filter(bulk=bulk).count() == 3
    assert len(mailoutbox) == 2 and len(message_outbox) == 1


def test_marketing_planned_at_night_is_held_until_8(cohort, claimants, message_outbox, monkeypatch, opt_out_number):
    night = dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(23), tzinfo=SEOUL)
    monkeypatch.setattr(bulk_module.timezone, "now", lambda: night)
    bulk = BulkMessage.objects.create(
        audience="filing.cohort", audience_id=cohort.pk, audience_label="x", kind="marketing", message="안내"
    )
    assert bulk_message_plan(bulk_id=bulk.pk) == 0
    held = Notification.objects.filter(bulk=bulk)
    assert held.count() == 2 and message_outbox == []
    assert set(held.values_list("not_before", flat=True)) == {night.replace(hour=8) + dt.timedelta(days=1)}


def test_staff_preview_then_send_from_the_admin(client, cohort, claimants, django_capture_on_commit_callbacks):
    admin_login(client, staff_member(Role.LAWYER))
    url = reverse("admin:notifications_bulkmessage_add")
    form = {"audience": f"filing.cohort:{cohort.pk}", "kind": "notice", "message": "변론기일 안내"}
    preview = client.post(url, {**form, "preview": "1"}).content.decode()
    assert "검토 중 전체: 3명에게 보냅니다." in preview
    assert "예상 비용: 20원" in preview
    assert not BulkMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "send": "1"})
    assert response.status_code == 302
    bulk = BulkMessage.objects.get()
    listing = client.get(reverse("admin:notifications_bulkmessage_changelist")).content.decode()
    assert '<progress max="3" value="3"></progress> 3 / 3' in listing
    assert bulk.created_by is not None


def test_paralegals_cannot_send_bulk_messages(client, cohort):
    admin_login(client, staff_member(Role.PARALEGAL))
    assert client.get(reverse("admin:notifications_bulkmessage_add")).status_code == 403
