"""Messages from the versioned templates: the latest published version, filled in the claimant's language, on the
channel they chose (email; or for a verified phone a 알림톡 with its SMS, or an SMS when Kakao has not approved the
text); marketing messages only with the separate consent and held over the night (21:00-08:00 KST)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tests.factories import ClaimantFactory
from core.exceptions import InvalidInputError
from notifications.messages import (
    case_message_queue,
    contact_preference_update,
    marketing_message_queue,
    marketing_send_after,
    message_template_current,
    message_text_fill,
)
from notifications.models import ContactPreference, MessageTemplate, Notification
from notifications.selectors import notifications_unsent
from notifications.services import notification_held_release, notification_send

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")
VARIABLES = {"reference": "KC-2024-0001", "url": "https://claims.example.com/c/1"}


def _phone_claimant(**fields):
    claimant = ClaimantFactory(phone_verified_at=timezone.now(), **fields)
    contact_preference_update(user=claimant, case_news=ContactPreference.CaseNews.PHONE, marketing=False)
    return claimant


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """case_message_queue, with the send task it queues on commit run at once."""

    def queue_and_send(**arguments):
        with django_capture_on_commit_callbacks(execute=True):
            return case_message_queue(**arguments)

    return queue_and_send


def _approved_version(kind=MessageTemplate.Kind.CLAIM_RECEIVED, **fields):
    current = message_template_current(kind=kind)
    return MessageTemplate.objects.create(
        kind=kind,
        version=current.version + 1,
        alimtalk_code_ko="KA01TP-RECEIVED-KO",
        text_ko="접수번호 #{reference}\n진행 상황: #{url}",
        text_en="Reference #{reference}\nProgress: #{url}",
        sms_text_ko="[카카오 장애 공동소송] 접수번호 #{reference}",
        published_at=timezone.now(),
        **fields,
    )


def test_every_kind_has_a_published_first_version_in_korean_and_english():
    for kind in MessageTemplate.Kind.values:
        template = message_template_current(kind=kind)
        assert template.version == 1
        assert template.text_ko and template.text_en


def test_the_latest_published_version_is_the_one_sent_and_a_draft_is_not():
    approved = _approved_version()
    MessageTemplate.objects.create(kind=approved.kind, version=approved.version + 1, text_ko="초안", text_en="draft")
    assert message_template_current(kind=approved.kind) == approved


def test_a_variable_without_a_value_is_an_error():
    assert message_text_fill("번호 #{code}", {"code": "123456"}) == "번호 123456"
    with pytest.raises(KeyError):
        message_text_fill("번호 #{code}", {})


def test_case_news_goes_by_email_unless_the_claimant_chose_their_phone(mailoutbox, message_outbox, send):
    claimant = ClaimantFactory()
    notification, created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    assert created and notification.channel == Notification.Channel.EMAIL
    assert mailoutbox[-1].subject == "[카카오 장애 공동소송] 참여 신청이 접수되었습니다."
    assert "접수번호: KC-2024-0001" in mailoutbox[-1].body
    assert message_outbox == []


def test_a_phone_chooser_gets_an_sms_until_the_text_is_approved_then_a_alimtalk(message_outbox, send):
    claimant = _phone_claimant()
    sms, _created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    assert sms.channel == Notification.Channel.SMS
    assert message_outbox[-1].kind == "LMS" and "KC-2024-0001" in message_outbox[-1].text

    _approved_version()
    alimtalk, _created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:2"
    )
    assert alimtalk.channel == Notification.Channel.ALIMTALK
    delivered = message_outbox[-1]
    assert delivered.kind == "ALIMTALK" and delivered.template_code == "KA01TP-RECEIVED-KO"
    assert delivered.variables == VARIABLES
    assert delivered.to == (claimant.phone,)


def test_an_english_speaker_gets_an_sms_while_only_the_korean_text_is_approved(message_outbox, send):
    claimant = _phone_claimant(language="en")
    _approved_version()
    notification, _created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    assert notification.channel == Notification.Channel.SMS
    assert message_outbox[-1].text == "Reference KC-2024-0001\nProgress: https://claims.example.com/c/1"


def test_a_alimtalk_that_cannot_be_delivered_falls_back_to_its_sms_text(message_outbox, send):
    claimant = _phone_claimant(phone="01055550000")  # the local backend's phone without KakaoTalk
    _approved_version()
    notification, _created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    notification.refresh_from_db()
    assert notification.fell_back
    assert message_outbox[-1].text == "[카카오 장애 공동소송] 접수번호 KC-2024-0001"


def test_a_message_is_queued_once_per_event(send):
    claimant = ClaimantFactory()
    first, created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    again, created_again = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    assert created and not created_again and again == first


def test_case_news_by_phone_needs_a_verified_phone_and_falls_back_to_email_when_the_number_changes(send):
    claimant = ClaimantFactory()
    with pytest.raises(InvalidInputError):
        contact_preference_update(user=claimant, case_news=ContactPreference.CaseNews.PHONE, marketing=False)
    claimant = _phone_claimant()
    claimant.phone_verified_at = None  # the number changed (accounts.services.profile clears it)
    claimant.save(update_fields=["phone_verified_at"])
    notification, _created = send(
        kind=MessageTemplate.Kind.CLAIM_RECEIVED, user=claimant, variables=VARIABLES, idempotency_key="t:1"
    )
    assert notification.channel == Notification.Channel.EMAIL


@pytest.mark.parametrize(
    ("seoul_time", "held_until"),
    [
        (dt.datetime(2026, 3, 2, 20, 59), None),
        (dt.datetime(2026, 3, 2, 21, 0), dt.datetime(2026, 3, 3, 8, 0)),
        (dt.datetime(2026, 3, 2, 23, 30), dt.datetime(2026, 3, 3, 8, 0)),
        (dt.datetime(2026, 3, 3, 7, 59), dt.datetime(2026, 3, 3, 8, 0)),
        (dt.datetime(2026, 3, 3, 8, 0), None),
    ],
)
def test_marketing_is_never_sent_between_21_and_8_kst(seoul_time, held_until):
    expected = held_until and held_until.replace(tzinfo=SEOUL)
    assert marketing_send_after(seoul_time.replace(tzinfo=SEOUL)) == expected


def test_marketing_needs_the_separate_consent():
    claimant = ClaimantFactory()
    with pytest.raises(InvalidInputError):
        marketing_message_queue(user=claimant, message="새 소송 안내", opt_out="080-000-0000", idempotency_key="m:1")


def test_marketing_asked_for_at_night_is_held_until_8_and_then_sent_once(
    message_outbox, django_capture_on_commit_callbacks
):
    claimant = ClaimantFactory()
    contact_preference_update(user=claimant, case_news=ContactPreference.CaseNews.EMAIL, marketing=True)
    tomorrow = timezone.now().astimezone(SEOUL).date() + dt.timedelta(days=1)
    night = dt.datetime.combine(tomorrow, dt.time(22), tzinfo=SEOUL)  # asked for then: nothing may go before 08:00
    with django_capture_on_commit_callbacks(execute=True):
        notification, _created = marketing_message_queue(
            user=claimant, message="새 소송 안내", opt_out="080-000-0000", idempotency_key="m:1", now=night
        )
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED and message_outbox == []
    morning = dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(8), tzinfo=SEOUL)
    assert notification.not_before == morning
    assert notification.pk not in notifications_unsent(now=notification.created_at + dt.timedelta(hours=1))

    assert notification_held_release(now=morning - dt.timedelta(minutes=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_held_release(now=morning) == [notification.pk]
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert message_outbox[-1].text.startswith("(광고)[카카오 장애 공동소송]\n새 소송 안내")
    assert notification_held_release(now=morning) == []
    assert not notification_send(notification_id=notification.pk)
    assert len(message_outbox) == 1


def test_withdrawing_marketing_consent_clears_it():
    claimant = ClaimantFactory()
    preference = contact_preference_update(user=claimant, case_news="email", marketing=True)
    assert preference.marketing_consented_at is not None
    preference = contact_preference_update(user=claimant, case_news="email", marketing=False)
    assert preference.marketing_consented_at is None
