"""Messages written from the versioned templates (MessageTemplate): which channel a claimant gets them on, what
they read like on each channel, and when a marketing message may go.

Case news goes on the claimant's chosen channel (ContactPreference): email, or for a verified phone a 알림톡 when
the template has a code Kakao approved in the claimant's language, otherwise an SMS. A marketing message needs the
separate consent and is held from 21:00 to 08:00 KST."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import InvalidInputError
from core.selectors import firm_profile
from notifications.backends import AlimtalkMessage, Message, RenderedMessage, TextMessage
from notifications.models import ContactPreference, MessageTemplate, Notification
from notifications.renderers import renderer
from notifications.services import notification_queue

MESSAGE_TEMPLATE = "notifications/message"
SEOUL = ZoneInfo("Asia/Seoul")
QUIET_FROM, QUIET_UNTIL = dt.time(21), dt.time(8)
_VARIABLE = re.compile(r"#\{(\w+)\}")


def message_template_current(*, kind: str) -> MessageTemplate:
    """The latest published version of the template of this kind (MessageTemplate.DoesNotExist if none)."""
    template = MessageTemplate.objects.filter(kind=kind, published_at__isnull=False).order_by("-version").first()
    if template is None:
        raise MessageTemplate.DoesNotExist(f"No published message template of kind {kind!r}.")
    return template


def message_text_fill(text: str, variables: dict[str, str]) -> str:
    """`text` with each #{name} replaced by its value; a variable without a value is an error (KeyError)."""
    return _VARIABLE.sub(lambda match: str(variables[match.group(1)]), text)


def firm_variables() -> dict[str, str]:
    """#{firm_name}, #{firm_phone}, #{firm_email} and #{firm_kakao_channel}: the firm's profile (core.FirmProfile),
    usable in every message template without the caller passing them."""
    firm = firm_profile()
    return {
        "firm_name": firm.display_name,
        "firm_phone": firm.phone,
        "firm_email": firm.email,
        "firm_kakao_channel": firm.kakao_channel_url,
    }


def message_template_render(
    *, template: MessageTemplate, channel: str, language: str, variables: dict[str, str]
) -> Message:
    """The template as `channel` sends it: a 알림톡 (its code, variables and the SMS sent instead), an SMS, or an
    email of the text with its first line as the subject. The firm's details (firm_variables) fill the #{firm_...}
    names the caller did not give; a 알림톡 gets those its text uses."""
    firm = firm_variables()
    used = set(_VARIABLE.findall(template.text(language))) | set(_VARIABLE.findall(template.sms_text(language)))
    variables = {**{name: value for name, value in firm.items() if name in used}, **variables}
    sms = TextMessage(text=message_text_fill(template.sms_text(language), variables))
    if channel == Notification.Channel.ALIMTALK:
        return AlimtalkMessage(template_code=template.alimtalk_code(language), variables=variables, fallback=sms)
    if channel == Notification.Channel.SMS:
        return sms
    text = message_text_fill(template.text(language), variables)
    return RenderedMessage(subject=text.partition("\n")[0].strip(), body=text)


def case_news_channel(*, user: AbstractBaseUser, kind: str) -> str:
    """Email, unless the claimant chose SMS/알림톡 and their phone is verified: then a 알림톡 when the current
    template of `kind` has an approved code in their language, else an SMS. (The template is looked up only for
    them: email needs none.)"""
    preference = ContactPreference.objects.filter(user=user).first()
    if preference is None or preference.case_news != ContactPreference.CaseNews.PHONE:
        return Notification.Channel.EMAIL
    if not (getattr(user, "phone", "") and getattr(user, "phone_verified_at", None)):
        return Notification.Channel.EMAIL
    if message_template_current(kind=kind).alimtalk_code(user.language):
        return Notification.Channel.ALIMTALK
    return Notification.Channel.SMS


def marketing_send_after(now: dt.datetime) -> dt.datetime | None:
    """When a marketing message asked for at `now` may go: None in the daytime, else the next 08:00 KST."""
    local = now.astimezone(SEOUL)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() + dt.timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return dt.datetime.combine(day, QUIET_UNTIL, tzinfo=SEOUL).astimezone(dt.UTC)


def case_message_queue(
    *,
    kind: str,
    user: AbstractBaseUser,
    variables: dict[str, str],
    idempotency_key: str,
    channel: str | None = None,
) -> tuple[Notification, bool]:
    """Queue the current version of the `kind` template for `user`, once per `idempotency_key`, on their chosen
    channel (or on `channel`). `variables` fill the template's #{names}: reference codes, dates, links; never
    personal data (they are kept in the message's context). Returns (notification, created)."""
    template = message_template_current(kind=kind)
    channel = channel or case_news_channel(user=user, kind=kind)
    return notification_queue(
        channel=channel,
        template=MESSAGE_TEMPLATE,
        language=user.language,
        user=user,
        context={"message_template_id": template.pk, "variables": {k: str(v) for k, v in variables.items()}},
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def marketing_message_queue(
    *, user: AbstractBaseUser, message: str, opt_out: str, idempotency_key: str, now: dt.datetime | None = None
) -> tuple[Notification, bool]:
    """A marketing SMS to a claimant who consented to marketing messages (InvalidInputError otherwise); asked for at
    night, it is held until 08:00 KST (Notification.not_before)."""
    preference = ContactPreference.objects.filter(user=user).first()
    if preference is None or preference.marketing_consented_at is None:
        raise InvalidInputError(_("광고성 정보 수신에 동의하지 않은 사람입니다."), code="marketing_not_consented")
    notification, created = case_message_queue(
        kind=MessageTemplate.Kind.MARKETING,
        user=user,
        variables={"message": message, "opt_out": opt_out},
        idempotency_key=idempotency_key,
        channel=Notification.Channel.SMS,
    )
    hold_until = marketing_send_after(now or timezone.now())
    if created and hold_until is not None:
        Notification.objects.filter(pk=notification.pk).update(not_before=hold_until)
        notification.not_before = hold_until
    return notification, created


@renderer(MESSAGE_TEMPLATE)
def case_message_render(notification: Notification) -> Message:
    template = MessageTemplate.objects.get(pk=notification.context["message_template_id"])
    return message_template_render(
        template=template,
        channel=notification.channel,
        language=notification.language,
        variables=notification.context["variables"],
    )


@transaction.atomic
def contact_preference_update(
    *, user: AbstractBaseUser, case_news: str, marketing: bool, now: dt.datetime | None = None
) -> ContactPreference:
    """Save how the claimant gets case news (SMS/알림톡 only to a verified phone: InvalidInputError otherwise) and
    their marketing consent (the time it was given is kept while it stands; withdrawing clears it)."""
    if case_news not in ContactPreference.CaseNews.values:
        raise InvalidInputError(_("알림 받는 방법을 골라 주세요."), code="case_news_invalid")
    if case_news == ContactPreference.CaseNews.PHONE and not getattr(user, "phone_verified_at", None):
        raise InvalidInputError(
            _("문자·알림톡으로 받으려면 먼저 휴대전화 번호를 인증해 주세요."), code="phone_not_verified"
        )
    preference, _created = ContactPreference.objects.select_for_update().get_or_create(user=user)
    preference.case_news = case_news
    if not marketing:
        preference.marketing_consented_at = None
    elif preference.marketing_consented_at is None:
        preference.marketing_consented_at = now or timezone.now()
    preference.full_clean()
    preference.save()
    return preference
