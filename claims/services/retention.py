"""Retention: closed claims are anonymised once CLOSED_CLAIM_RETENTION_DAYS have passed since they closed.

A claim is closed when it was rejected (`decided_at`) or withdrawn (`withdrawn_at`). Anonymising one deletes its
evidence files and their records, blanks what the claimant wrote (business details, loss descriptions, answers to
information requests, their own timeline messages) and stamps `anonymised_at`; amounts, dates and statuses stay
for the firm's statistics. When the claimant then has no claim left that is not closed and anonymised, their
account is anonymised too, through the same service that handles a confirmed deletion request
(accounts.services.data_rights), which keeps the consent ledger and signed powers of attorney as the consent text
promises.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import DeletionRequest, User
from accounts.services.data_rights import deletion_request_confirm
from claims.models import Claim, ClaimEvent, Evidence
from config.files import stored_files_delete

logger = logging.getLogger(__name__)

CLOSED_STATUSES = (Claim.Status.REJECTED, Claim.Status.WITHDRAWN)


def retention_cutoff(*, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.CLOSED_CLAIM_RETENTION_DAYS)


def closed_claims_due(*, now: datetime | None = None) -> QuerySet[Claim]:
    """Closed claims past the retention period that still hold personal data, oldest first."""
    cutoff = retention_cutoff(now=now)
    return (
        Claim.objects.filter(anonymised_at__isnull=True)
        .filter(
            Q(status=Claim.Status.REJECTED, decided_at__lt=cutoff)
            | Q(status=Claim.Status.WITHDRAWN, withdrawn_at__lt=cutoff)
        )
        .order_by("pk")
    )


@transaction.atomic
def claim_anonymise(*, claim: Claim, now: datetime | None = None) -> bool:
    """Anonymise one closed claim past retention; returns False when it no longer qualifies (re-joined, done)."""
    claim = closed_claims_due(now=now).select_for_update().filter(pk=claim.pk).first()
    if claim is None:
        return False
    evidence = Evidence.objects.filter(claim=claim)
    names = [
        name for row in evidence.values_list("file", "display_file", "finding__sealed_original") for name in row if name
    ]
    names += [page["name"] for pages in evidence.values_list("preview_pages", flat=True) for page in pages or []]
    files_removed = evidence.count()
    evidence.delete()
    claim.loss_items.update(description="")
    claim.information_requests.update(answer="")
    claim.events.filter(actor_id=claim.claimant_id).update(message="", data={})
    claim.business_registration_number = claim.business_name = ""
    claim.anonymised_at = timezone.now()
    claim.save(update_fields=["business_registration_number", "business_name", "anonymised_at", "updated_at"])
    ClaimEvent.objects.create(
        claim=claim,
        kind=ClaimEvent.Kind.UPDATED,
        message=_("보관 기간이 지나 신청인이 적은 내용과 증빙 파일을 삭제했습니다."),
        data={"retention_days": settings.CLOSED_CLAIM_RETENTION_DAYS, "files_removed": files_removed},
    )
    transaction.on_commit(lambda: stored_files_delete(names))
    return True


def _claimant_fully_closed(user: User) -> bool:
    return (
        user.is_active
        and not user.is_staff
        and not Claim.objects.filter(claimant=user).filter(Q(anonymised_at__isnull=True)).exists()
    )


@transaction.atomic
def claimant_anonymise_if_done(*, user: User) -> bool:
    """Anonymise the account of a claimant whose every claim is closed and anonymised; True if it was done."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not _claimant_fully_closed(user):
        return False
    deletion_request = user.deletion_requests.filter(status=DeletionRequest.Status.REQUESTED).first()
    if deletion_request is None:
        deletion_request = DeletionRequest.objects.create(
            user=user, reason=_("보관 기간 만료에 따른 자동 익명화 (신청이 반려 또는 철회된 뒤 보관 기간이 지남)")
        )
    deletion_request_confirm(deletion_request=deletion_request, actor=None)
    return True


def closed_claims_anonymise(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Anonymise up to `limit` due claims, each in its own transaction, then their claimants where done."""
    claims = list(closed_claims_due(now=now).only("pk", "claimant_id")[:limit])
    anonymised = sum(claim_anonymise(claim=claim, now=now) for claim in claims)
    claimants = User.objects.filter(pk__in={claim.claimant_id for claim in claims}).order_by("pk")
    accounts = sum(claimant_anonymise_if_done(user=user) for user in claimants)
    if anonymised or accounts:
        logger.info("Retention: %s closed claims and %s accounts anonymised", anonymised, accounts)
    return {"claims": anonymised, "accounts": accounts, "remaining": closed_claims_due(now=now).count()}
