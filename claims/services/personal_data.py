"""The claimant's claims as part of their personal data (core.personal_data): in the data download, on account
deletion (drafts and their files removed, filed claims kept with a timeline entry) and on profile changes (filed
claims get a timeline entry naming what changed). Registered in ClaimsConfig.ready()."""

from collections.abc import Callable
from typing import IO, Any

from django.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from accounts.models import User
from claims.models import Claim, ClaimEvent, Evidence
from claims.services.evidence_findings import evidence_original_open
from core.personal_data import Attach, PersonalDataContributor, PersonalDataErasure, row_export

CLAIM_EXPORT_EXCLUDE = {"claimant", "reviewer", "estimate_total", "estimate_flags", "estimate_visible_to_claimant"}


def _claims_for_export(*, user: User) -> models.QuerySet[Claim]:
    return (
        Claim.objects.filter(claimant=user)
        .select_related("incident")
        .prefetch_related(
            "services",
            "loss_items__service",
            Prefetch("evidence", queryset=Evidence.objects.select_related("finding").order_by("uploaded_at", "pk")),
            Prefetch("events", queryset=ClaimEvent.objects.order_by("created_at", "pk")),
            "information_requests",
        )
        .order_by("created_at", "pk")
    )


def _original_opener(evidence: Evidence) -> Callable[[], IO[bytes]] | None:
    """For a file whose stored copy had resident numbers masked for staff: the claimant's own original, decrypted
    (the download is theirs); None for any other file (the stored one is the original)."""
    finding = getattr(evidence, "finding", None)
    if finding is None or not finding.sealed_original:
        return None
    return lambda: evidence_original_open(evidence)


def claims_personal_data_export(*, user: User, attach: Attach) -> list[dict[str, Any]]:
    """The person's claims for data.json, their evidence files attached to the ZIP."""
    claims = []
    for claim in _claims_for_export(user=user):
        row = row_export(claim, exclude=CLAIM_EXPORT_EXCLUDE)
        if claim.estimate_visible_to_claimant:
            row["estimate_total"] = claim.estimate_total
        folder = claim.reference_code or f"draft-{claim.pk}"
        row.update(
            incident=claim.incident.slug,
            status_label=claim.get_status_display(),
            services=[service.slug for service in claim.services.all()],
            loss_items=[
                {
                    **row_export(item, exclude={"claimed_amount_stored"}),  # the same figure as claimed_amount
                    "service": item.service.slug,
                    "claimed_amount": item.claimed_amount,
                }
                for item in claim.loss_items.all()
            ],
            evidence=[
                {
                    **row_export(
                        evidence, exclude={"file", "display_file", "uploaded_by", "preview_pages", "preview_attempts"}
                    ),
                    "uploaded_by_me": evidence.uploaded_by_id == user.pk,
                    "file_in_zip": attach(
                        evidence.file,
                        "evidence",
                        folder,
                        f"{evidence.pk}-{evidence.original_name}",
                        opener=_original_opener(evidence),
                    ),
                }
                for evidence in claim.evidence.all()
            ],
            events=[
                {
                    "at": event.created_at,
                    "kind": event.kind,
                    "kind_label": event.get_kind_display(),
                    "message": event.message,
                    "by": "me" if event.actor_id == user.pk else ("law_firm" if event.actor_id else None),
                }
                for event in claim.events.all()
            ],
            information_requests=[
                row_export(request, exclude={"requested_by"}) for request in claim.information_requests.all()
            ],
        )
        claims.append(row)
    return claims


def claims_personal_data_erase(*, user: User, actor: User | None) -> PersonalDataErasure:
    """Claims never submitted go with their files; filed claims stay (the suit needs them) with a timeline entry
    saying the claimant's personal data was anonymised."""
    drafts = Claim.objects.filter(claimant=user, submitted_at__isnull=True)
    draft_files = [
        name
        for row in Evidence.objects.filter(claim__in=drafts).values_list(
            "file", "display_file", "finding__sealed_original"
        )
        for name in row
        if name
    ]
    draft_files += [  # the page images of PDFs (claims/services/evidence_previews.py)
        page["name"]
        for pages in Evidence.objects.filter(claim__in=drafts).values_list("preview_pages", flat=True)
        for page in pages or []
    ]
    drafts_removed = drafts.count()
    drafts.delete()

    kept = list(Claim.objects.filter(claimant=user).order_by("pk"))
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            actor=actor,
            kind=ClaimEvent.Kind.UPDATED,
            message=_("신청인의 계정 삭제 요청에 따라 신청인 개인정보를 익명 처리했습니다."),
        )
        for claim in kept
    )
    outcome = {
        "draft_claims_removed": drafts_removed,
        "files_removed": len(draft_files),
        "claims_kept": [claim.reference_code or claim.pk for claim in kept],
    }
    return PersonalDataErasure(outcome=outcome, files=draft_files)


def claims_profile_changed(*, user: User, fields: list[str], labels: str) -> None:
    """Filed claims get a timeline entry naming what changed, so staff know the complaint's plaintiff details
    need updating; the values themselves stay out of the log."""
    filed = Claim.objects.filter(claimant=user, submitted_at__isnull=False).exclude(status=Claim.Status.WITHDRAWN)
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            actor=user,
            kind=ClaimEvent.Kind.UPDATED,
            message=_("신청인 정보 변경: %(fields)s") % {"fields": labels},
            data={"profile_fields": fields},
        )
        for claim in filed
    )


CLAIMS_PERSONAL_DATA = PersonalDataContributor(
    key="claims",
    export=claims_personal_data_export,
    erase=claims_personal_data_erase,
    profile_changed=claims_profile_changed,
)
