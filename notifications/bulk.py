"""Bulk messages: one text to everyone in an audience (a cohort, a filing wave), from the admin.

The app that owns an audience registers it (`@audience(...)` in its AppConfig.ready), so this app imports neither
claims nor filing: a function from the audience's id to the queryset of its people. Staff see a preview first (the
recipient count per channel, the estimated cost from MESSAGE_UNIT_COSTS, the text in Korean and English); sending
creates a BulkMessage row and returns at once. A task then writes the Notification rows with bulk_create,
BULK_BATCH at a time (the idempotency key "bulk:<bulk id>:<user id>" makes a second run add nothing), and queues one
send task per SEND_CHUNK messages, spaced so that at most MESSAGE_SEND_RATE_PER_SECOND go to the provider each
second. A message a chunk could not send stays queued and the outbox's sweep sends it later; sending checks each
message's status, so nothing goes twice. Marketing messages go only to people who consented, by SMS, held until
08:00 KST at night; notices go on each person's case-news channel."""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import InvalidInputError
from notifications.messages import firm_variables, marketing_send_after, message_template_current, message_text_fill
from notifications.models import BulkMessage, MessageTemplate, Notification
from notifications.sms import sms_kind

BULK_BATCH = 1000
SEND_CHUNK = 100
BULK_KINDS = (MessageTemplate.Kind.NOTICE, MessageTemplate.Kind.MARKETING)
RECIPIENT_FIELDS = (
    "pk",
    "language",
    "email",
    "phone",
    "phone_verified_at",
    "contact_preference__case_news",
    "contact_preference__marketing_consented_at",
)


@dataclass(frozen=True)
class Audience:
    name: str
    label: str
    choices: Callable[[], list[tuple[int, str]]]
    recipients: Callable[[int], QuerySet]


AUDIENCES: dict[str, Audience] = {}


def audience(name: str, *, label: str, choices: Callable[[], list[tuple[int, str]]]):
    """Register the decorated function (audience id -> queryset of users) as the audience `name`."""

    def register(recipients: Callable[[int], QuerySet]) -> Callable[[int], QuerySet]:
        AUDIENCES[name] = Audience(name=name, label=label, choices=choices, recipients=recipients)
        return recipients

    return register


@dataclass
class BulkPreview:
    label: str
    total: int = 0
    skipped: int = 0
    by_channel: Counter = field(default_factory=Counter)
    estimated_cost: int = 0
    samples: dict[str, str] = field(default_factory=dict)


def _recipients(*, audience_name: str, audience_id: int) -> Iterator[tuple]:
    users = AUDIENCES[audience_name].recipients(audience_id).filter(is_active=True).distinct()
    return users.values_list(*RECIPIENT_FIELDS).order_by("pk").iterator(chunk_size=2000)


def _channel(row: tuple, *, template: MessageTemplate, marketing: bool) -> str | None:
    """The channel one recipient gets the message on, or None when they get none (no consent, no address)."""
    _pk, language, email, phone, phone_verified_at, case_news, marketing_consented_at = row
    if marketing:
        return Notification.Channel.SMS if marketing_consented_at and phone else None
    if case_news == "phone" and phone and phone_verified_at:
        return Notification.Channel.ALIMTALK if template.alimtalk_code(language) else Notification.Channel.SMS
    return Notification.Channel.EMAIL if email else None


def _variables(*, kind: str, message: str) -> dict[str, str]:
    """The template's values; a marketing message must carry the free opt-out number, so without
    MARKETING_OPT_OUT_NUMBER none can be written (InvalidInputError)."""
    variables = {"message": message.strip()}
    if kind == MessageTemplate.Kind.MARKETING:
        if not settings.MARKETING_OPT_OUT_NUMBER:
            raise InvalidInputError(
                _("광고성 문자에 넣을 무료 수신거부 번호(MARKETING_OPT_OUT_NUMBER)가 설정되지 않았습니다."),
                code="opt_out_number_missing",
            )
        variables["opt_out"] = settings.MARKETING_OPT_OUT_NUMBER
    return variables


def _unit_cost(*, channel: str, template: MessageTemplate, variables: dict[str, str]) -> int:
    costs = settings.MESSAGE_UNIT_COSTS
    if channel == Notification.Channel.EMAIL:
        return 0
    if channel == Notification.Channel.ALIMTALK:
        return costs["alimtalk"]
    return costs[sms_kind(message_text_fill(template.sms_text("ko"), {**firm_variables(), **variables})).lower()]


def bulk_message_preview(*, audience_name: str, audience_id: int, kind: str, message: str) -> BulkPreview:
    """Who would get the message, on which channel, at what estimated cost, and how it reads."""
    template = message_template_current(kind=kind)
    variables = _variables(kind=kind, message=message)
    labels = dict(AUDIENCES[audience_name].choices())
    preview = BulkPreview(label=f"{AUDIENCES[audience_name].label}: {labels.get(audience_id, audience_id)}")
    for row in _recipients(audience_name=audience_name, audience_id=audience_id):
        channel = _channel(row, template=template, marketing=kind == MessageTemplate.Kind.MARKETING)
        if channel is None:
            preview.skipped += 1
        else:
            preview.total += 1
            preview.by_channel[channel] += 1
    preview.estimated_cost = sum(
        count * _unit_cost(channel=channel, template=template, variables=variables)
        for channel, count in preview.by_channel.items()
    )
    for language in ("ko", "en"):
        preview.samples[language] = message_text_fill(template.text(language), {**firm_variables(), **variables})
    return preview


@transaction.atomic
def bulk_message_create(*, audience_name: str, audience_id: int, kind: str, message: str, actor) -> BulkMessage:
    """Record the bulk message and queue its planning after commit; the web request does nothing more."""
    from notifications.tasks import bulk_message_plan_task

    preview = bulk_message_preview(audience_name=audience_name, audience_id=audience_id, kind=kind, message=message)
    bulk = BulkMessage(
        audience=audience_name,
        audience_id=audience_id,
        audience_label=preview.label[:250],
        kind=kind,
        message=message.strip(),
        total=preview.total,
        estimated_cost=preview.estimated_cost,
        created_by=actor,
    )
    bulk.full_clean()
    bulk.save()
    bulk_message_plan_task.delay_on_commit(bulk.pk)
    return bulk


def bulk_message_plan(*, bulk_id: int) -> int:
    """Write the bulk message's Notification rows (BULK_BATCH per INSERT, none twice) and queue their sending in
    chunks spaced to the provider's rate limit. Returns how many messages were queued for sending."""
    from notifications.tasks import notification_send_chunk_task

    bulk = BulkMessage.objects.get(pk=bulk_id)
    template = message_template_current(kind=bulk.kind)
    marketing = bulk.kind == MessageTemplate.Kind.MARKETING
    hold_until = marketing_send_after(timezone.now()) if marketing else None
    context = {"message_template_id": template.pk, "variables": _variables(kind=bulk.kind, message=bulk.message)}
    batch: list[Notification] = []
    for row in _recipients(audience_name=bulk.audience, audience_id=bulk.audience_id):
        channel = _channel(row, template=template, marketing=marketing)
        if channel is None:
            continue
        user_id, language, email, phone = row[:4]
        batch.append(
            Notification(
                channel=channel,
                template="notifications/message",
                language=language,
                user_id=user_id,
                address=email if channel == Notification.Channel.EMAIL else phone,
                context=context,
                idempotency_key=f"bulk:{bulk.pk}:{user_id}",
                not_before=hold_until,
                bulk=bulk,
            )
        )
        if len(batch) >= BULK_BATCH:
            Notification.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Notification.objects.bulk_create(batch, ignore_conflicts=True)
    BulkMessage.objects.filter(pk=bulk.pk).update(status=BulkMessage.Status.QUEUED, queued_at=timezone.now())
    if hold_until is not None:
        return 0  # held until 08:00: notification_held_release queues them then
    pending = list(
        Notification.objects.filter(bulk=bulk, status=Notification.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    spacing = SEND_CHUNK / settings.MESSAGE_SEND_RATE_PER_SECOND
    for index, start in enumerate(range(0, len(pending), SEND_CHUNK)):
        notification_send_chunk_task.apply_async((pending[start : start + SEND_CHUNK],), countdown=index * spacing)
    return len(pending)


def bulk_message_progress(*, bulk: BulkMessage) -> dict[str, int]:
    """How many of its messages are still queued, sent (delivered or fell back included) and failed."""
    sent = (Notification.Status.SENT, Notification.Status.DELIVERED, Notification.Status.FELL_BACK)
    return Notification.objects.filter(bulk=bulk).aggregate(
        queued=Count("pk", filter=Q(status__in=(Notification.Status.QUEUED, Notification.Status.SENDING))),
        sent=Count("pk", filter=Q(status__in=sent)),
        failed=Count("pk", filter=Q(status=Notification.Status.FAILED)),
    )
