"""Emails to claimants and staff about a claim (queue "email"). Tasks take ids, never addresses or names.

`claim_status_email_task(claim_id, event_id)` tells the claimant about one timeline event (submission with the
reference code, review started, information requested, answer received, accepted, rejected, withdrawn,
re-joined). Staff-side services call it too, after writing their ClaimEvent:
`claim_status_email_task.delay_on_commit(claim.pk, event.pk)`. Each event is emailed at most once.
"""

import logging
from collections import defaultdict
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.models import Claim, ClaimEvent, InformationRequest

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 6,
    "acks_late": True,
}

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


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@shared_task(**RETRY)
def claim_status_email_task(claim_id: int, event_id: int) -> bool:
    """Email the claimant about one event of their claim; returns whether an email was sent."""
    with transaction.atomic():
        event = (
            ClaimEvent.objects.select_for_update(of=("self",))
            .select_related("claim__claimant", "claim__incident")
            .get(pk=event_id, claim_id=claim_id)
        )
        if event.kind not in EMAILED_KINDS or event.data.get("emailed_at"):
            return False
        claim = event.claim
        request = None
        if event.kind == ClaimEvent.Kind.INFO_REQUESTED:
            request = InformationRequest.objects.filter(claim=claim, answered_at__isnull=True).first()
        with translation.override(claim.claimant.language):
            context = {
                "claim": claim,
                "event": event,
                "information_request": request,
                "claim_url": _absolute(reverse("claims:detail", args=[claim.pk])),
            }
            subject = str(STATUS_SUBJECTS[event.kind]) % {"code": claim.reference_code or "-"}
            body = render_to_string("claims/email/status.txt", context)
        send_mail(subject, body, None, [claim.claimant.email])
        event.data = {**event.data, "emailed_at": timezone.now().isoformat()}
        event.save(update_fields=["data"])
    logger.info("Status email sent for claim %s event %s (%s)", claim_id, event_id, event.kind)
    return True


@shared_task(**RETRY)
def information_answered_staff_email_task(claim_id: int, information_request_id: int) -> bool:
    """Tell the staff member who asked (and the claim's reviewer) that the claimant answered: one email per
    language among them (usually one email in all), each in that language."""
    request = InformationRequest.objects.select_related("claim__reviewer", "requested_by").get(
        pk=information_request_id, claim_id=claim_id
    )
    claim: Claim = request.claim
    by_language: dict[str, set[str]] = defaultdict(set)
    for user in (request.requested_by, claim.reviewer):
        if user and user.is_active:
            by_language[user.language].add(user.email)
    if not by_language or not request.answered_at:
        return False
    context = {
        "claim": claim,
        "information_request": request,
        "files": request.evidence.count(),
        "admin_url": _absolute(reverse("admin:index")),
    }
    for language, addresses in sorted(by_language.items()):
        with translation.override(language):
            subject = _("신청인이 추가 자료 요청에 답변했습니다 (%(code)s)") % {"code": claim.reference_code}
            body = render_to_string("claims/email/information_answered.txt", context)
        send_mail(subject, body, None, sorted(addresses))
    return True
