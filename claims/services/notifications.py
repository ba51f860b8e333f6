"""Which claim messages to send, to whom, and how they read. The messages go through the outbox (notifications/):
one Notification per event and claimant ("claim-status:<event id>:<user id>"), so each event is sent once, as an
email or, for a claimant who chose SMS/알림톡 and verified their phone, as the matching message template (claim
received, information requested, status changed); the tasks in claims/tasks/notifications.py only take ids and
call these."""

import datetime as dt
from collections import defaultdict

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.models import Claim, ClaimEvent, InformationRequest
from claims.selectors.review import information_requests_to_remind
from core.links import absolute_url
from notifications.backends import RenderedMessage
from notifications.messages import case_message_queue, case_news_channel
from notifications.models import MessageTemplate, Notification
from notifications.renderers import renderer
from notifications.services import notification_queue

STATUS_TEMPLATE = "claims/email/status"
ANSWERED_TEMPLATE = "claims/email/information_answered"

# Subjects of the emails claimants get, by ClaimEvent kind; other kinds send nothing.
STATUS_SUBJECTS = {
    ClaimEvent.Kind.SUBMITTED: gettext_lazy("참여 신청이 접수되었습니다 (접수번호 %(code)s)"),
    ClaimEvent.Kind.REVIEW_STARTED: gettext_lazy("참여 신청 검토를 시작했습니다 (%(code)s)"),
    ClaimEvent.Kind.INFO_REQUESTED: gettext_lazy("추가 자료를 보내 주세요 (%(code)s)"),
    ClaimEvent.Kind.INFO_PROVIDED: gettext_lazy("보내 주신 추가 자료를 받았습니다 (%(code)s)"),
    ClaimEvent.Kind.ACCEPTED: gettext_lazy("참여 신청이 승인되었습니다 (%(code)s)"),
    ClaimEvent.Kind.REJECTED: gettext_lazy("참여 신청 검토 결과를 알려 드립니다 (%(code)s)"),
    ClaimEvent.Kind.WITHDRAWN: gettext_lazy("공동소송 참여를 철회했습니다 (%(code)s)"),
    ClaimEvent.Kind.REJOINED: gettext_lazy("공동소송에 다시 참여하셨습니다 (%(code)s)"),
}
EMAILED_KINDS = frozenset(STATUS_SUBJECTS)
# The message template sent instead of the email to claimants who chose SMS/알림톡, and the status line of the
# "status changed" template (#{status}) by event kind.
MESSAGE_KINDS = {
    ClaimEvent.Kind.SUBMITTED: MessageTemplate.Kind.CLAIM_RECEIVED,
    ClaimEvent.Kind.INFO_REQUESTED: MessageTemplate.Kind.INFORMATION_REQUESTED,
}
STATUS_LINES = {
    ClaimEvent.Kind.REVIEW_STARTED: gettext_lazy("검토를 시작했습니다."),
    ClaimEvent.Kind.INFO_PROVIDED: gettext_lazy("보내 주신 추가 자료를 받았습니다."),
    ClaimEvent.Kind.ACCEPTED: gettext_lazy("참여 신청이 승인되었습니다."),
    ClaimEvent.Kind.REJECTED: gettext_lazy("검토 결과가 나왔습니다. 링크에서 확인해 주세요."),
    ClaimEvent.Kind.WITHDRAWN: gettext_lazy("공동소송 참여를 철회했습니다."),
    ClaimEvent.Kind.REJOINED: gettext_lazy("공동소송에 다시 참여하셨습니다."),
}


def status_notification_key(*, event_id: int, user_id: int) -> str:
    return f"claim-status:{event_id}:{user_id}"


def claim_status_notify(*, claim_id: int, event_id: int) -> bool:
    """Queue the claimant's message about one event of their claim, once per event, on their chosen channel;
    returns whether it was queued now (False for kinds that send nothing and for events already sent). Events
    emailed before the outbox carry `emailed_at` in their data and are not sent again."""
    event = ClaimEvent.objects.select_related("claim__claimant").get(pk=event_id, claim_id=claim_id)
    if event.kind not in EMAILED_KINDS or event.data.get("emailed_at"):
        return False
    claimant = event.claim.claimant
    kind = MESSAGE_KINDS.get(event.kind, MessageTemplate.Kind.STATUS_CHANGED)
    if case_news_channel(user=claimant, kind=kind) != Notification.Channel.EMAIL:
        _notification, created = case_message_queue(
            kind=kind,
            user=claimant,
            variables=_message_variables(event=event, language=claimant.language),
            idempotency_key=status_notification_key(event_id=event_id, user_id=claimant.pk),
        )
        return created
    _notification, created = notification_queue(
        channel=Notification.Channel.EMAIL,
        template=STATUS_TEMPLATE,
        user=claimant,
        language=claimant.language,
        context={"claim_id": claim_id, "event_id": event_id},
        idempotency_key=status_notification_key(event_id=event_id, user_id=claimant.pk),
    )
    return created


def _message_variables(*, event: ClaimEvent, language: str) -> dict[str, str]:
    """The values of the claim templates' #{variables}: the reference code, the claim's page, and the due date or
    the status line (written in the claimant's language)."""
    claim = event.claim
    variables = {
        "reference": claim.reference_code or "-",
        "url": absolute_url(reverse("claims:detail", args=[claim.pk])),
    }
    if event.kind == ClaimEvent.Kind.INFO_REQUESTED:
        variables["due"] = event.data.get("due_date", "")
    elif event.kind in STATUS_LINES:
        with translation.override(language):
            variables["status"] = str(STATUS_LINES[event.kind])
    return variables


@renderer(STATUS_TEMPLATE)
def claim_status_render(notification: Notification) -> RenderedMessage:
    event = ClaimEvent.objects.select_related("claim__claimant", "claim__incident").get(
        pk=notification.context["event_id"], claim_id=notification.context["claim_id"]
    )
    claim = event.claim
    request = None
    if event.kind == ClaimEvent.Kind.INFO_REQUESTED:
        request = InformationRequest.objects.filter(claim=claim, answered_at__isnull=True).first()
    context = {
        "claim": claim,
        "event": event,
        "information_request": request,
        "claim_url": absolute_url(reverse("claims:detail", args=[claim.pk])),
    }
    subject = str(STATUS_SUBJECTS[event.kind]) % {"code": claim.reference_code or "-"}
    return RenderedMessage(subject=subject, body=render_to_string("claims/email/status.txt", context))


def information_answered_notify(*, claim_id: int, information_request_id: int) -> bool:
    """Tell the staff member who asked (and the claim's reviewer) that the claimant answered: one email per language
    among them (usually one email in all), each in that language. Returns whether an email was queued now."""
    request = InformationRequest.objects.select_related("claim__reviewer", "requested_by").get(
        pk=information_request_id, claim_id=claim_id
    )
    claim: Claim = request.claim
    by_language: dict[str, dict[int, str]] = defaultdict(dict)
    for user in (request.requested_by, claim.reviewer):
        if user and user.is_active:
            by_language[user.language][user.pk] = user.email
    if not by_language or not request.answered_at:
        return False
    queued = False
    for language, recipients in sorted(by_language.items()):
        user_ids = "-".join(str(pk) for pk in sorted(recipients))
        _notification, created = notification_queue(
            channel=Notification.Channel.EMAIL,
            template=ANSWERED_TEMPLATE,
            address=", ".join(sorted(recipients.values())),
            language=language,
            context={"claim_id": claim_id, "information_request_id": information_request_id},
            idempotency_key=f"information-answered:{information_request_id}:{language}:{user_ids}",
        )
        queued = queued or created
    return queued


@renderer(ANSWERED_TEMPLATE)
def information_answered_render(notification: Notification) -> RenderedMessage:
    request = InformationRequest.objects.select_related("claim").get(
        pk=notification.context["information_request_id"], claim_id=notification.context["claim_id"]
    )
    claim = request.claim
    context = {
        "claim": claim,
        "information_request": request,
        "files": request.evidence.count(),
        "admin_url": absolute_url(reverse("admin:index")),
    }
    subject = _("신청인이 추가 자료 요청에 답변했습니다 (%(code)s)") % {"code": claim.reference_code}
    return RenderedMessage(subject=subject, body=render_to_string("claims/email/information_answered.txt", context))


# Reminders of an open information request: one before its due date (within REMINDER_BEFORE_DAYS) and one after it.
REMINDER_BEFORE_DAYS = 2
REMINDER_KINDS = {"before": MessageTemplate.Kind.REMINDER_BEFORE_DUE, "after": MessageTemplate.Kind.REMINDER_AFTER_DUE}


def information_reminders_send(*, today: dt.date | None = None) -> int:
    """Queue the reminders due today (run daily by beat): each open request gets its "before" reminder once when
    it is due within REMINDER_BEFORE_DAYS days and its "after" reminder once when overdue, on the claimant's
    channel ("information-reminder:<when>:<request id>"). Returns how many were queued now."""
    queued = 0
    for when, requests in information_requests_to_remind(before_days=REMINDER_BEFORE_DAYS, today=today).items():
        for request in requests.iterator(chunk_size=500):
            claim = request.claim
            _notification, created = case_message_queue(
                kind=REMINDER_KINDS[when],
                user=claim.claimant,
                variables={
                    "reference": claim.reference_code or "-",
                    "due": request.due_date.isoformat(),
                    "url": absolute_url(reverse("claims:information_request", args=[claim.pk, request.pk])),
                },
                idempotency_key=f"information-reminder:{when}:{request.pk}",
            )
            queued += created
    return queued
