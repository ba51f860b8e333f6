"""Evidence files: checked by content, stored under random names in private storage with their SHA-256; a
metadata-free display copy and a perceptual hash for images, and page images for PDFs, are made later by a task
(claims.services.evidence_previews; what a PDF was flagged for is kept on the row and in its timeline entry);
removals are audited with the file's hash."""

import logging
import re
import unicodedata
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts.models import User
from claims.models import Claim, ClaimEvent, Evidence, EvidenceFinding, InformationRequest, LossItem
from claims.services.evidence_findings import evidence_finding_start
from claims.services.evidence_previews import evidence_preview_files
from claims.services.intake import ClaimError, claim_addition_audit, claim_additions_problem
from claims.tasks.estimates import estimate_claim_task
from claims.tasks.evidence import evidence_preview_render_task
from claims.validators import EVIDENCE_KINDS, EvidenceKind, evidence_check
from config.files import stored_files_delete
from config.hashing import sha256_file
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.models import AuditEntry

logger = logging.getLogger(__name__)


def evidence_too_large_message() -> str:
    return _("파일이 너무 큽니다. 한 파일은 %(limit)s까지 올릴 수 있습니다.") % {
        "limit": filesizeformat(settings.EVIDENCE_MAX_BYTES)
    }


def _check_target(claim: Claim, loss_item: LossItem | None, information_request: InformationRequest | None) -> None:
    if loss_item is not None and loss_item.claim_id != claim.pk:
        raise ClaimError(_("이 신청의 손해 항목이 아닙니다."), claim=claim)
    if information_request is not None:
        if information_request.claim_id != claim.pk or information_request.answered_at:
            raise ClaimError(_("이미 답변했거나 없는 자료 요청입니다."), claim=claim)
        if claim.status != Claim.Status.INFO_REQUESTED:
            raise ClaimError(_("지금은 이 요청에 파일을 올릴 수 없습니다."), claim=claim)
    elif claim.status != Claim.Status.DRAFT and (problem := claim_additions_problem(claim=claim)):
        raise ClaimError(problem, claim=claim)


def evidence_attach(
    *,
    claim: Claim,
    actor: User,
    upload: UploadedFile,
    tag: str,
    loss_item: LossItem | None = None,
    information_request: InformationRequest | None = None,
    meta: RequestMeta = NO_REQUEST,
) -> Evidence:
    """Check and store one uploaded file. A refused file is refused here (size, content, the image's header and
    pixel count, the PDF's structure); hashing happens before the claim is locked; the row, its audit entry and the
    count check happen in one transaction. The picture is never decoded here: its display copy and perceptual hash
    are made by the preview task queued on commit (images and PDFs start PENDING)."""
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ClaimError(evidence_too_large_message(), claim=claim)
    if not upload.size:
        raise ClaimError(_("빈 파일입니다. 다른 파일을 골라 주세요."), claim=claim)
    try:
        check = evidence_check(upload)
    except ValidationError as error:
        raise ClaimError(" ".join(error.messages), claim=claim) from None
    kind = check.kind
    sha256 = sha256_file(upload).sha256
    evidence = Evidence(
        tag=tag,
        loss_item=loss_item,
        information_request=information_request,
        original_name=_clean_name(upload.name)[:255],
        content_type=kind.content_type,
        size=upload.size,
        sha256=sha256,
        uploaded_by=actor,
        pdf_findings=list(check.pdf_findings),
        preview_status=Evidence.PreviewStatus.PENDING,
    )
    try:
        with transaction.atomic():
            return _evidence_store(claim, actor, evidence, upload, meta)
    except BaseException:
        stored_files_delete(_stored_names(evidence))
        raise


def _stored_names(evidence: Evidence) -> list[str]:
    """The storage names of a row's files: the upload, its display copy and its preview pages."""
    names = [field.name for field in (evidence.file, evidence.display_file) if field.name]
    if evidence.pk is not None:  # the original kept encrypted when resident numbers were masked
        sealed = EvidenceFinding.objects.filter(evidence=evidence).exclude(sealed_original="")
        names += sealed.values_list("sealed_original", flat=True)
    return names + evidence_preview_files(evidence)


def _evidence_store(claim: Claim, actor: User, evidence: Evidence, upload: UploadedFile, meta: RequestMeta) -> Evidence:
    claim = Claim.objects.select_for_update().get(pk=claim.pk, claimant=actor)
    _check_target(claim, evidence.loss_item, evidence.information_request)
    if Evidence.objects.filter(claim=claim).count() >= settings.EVIDENCE_MAX_FILES:
        raise ClaimError(
            _("한 신청에는 파일을 %(count)d개까지 올릴 수 있습니다. 필요 없는 파일을 지운 뒤 올려 주세요.")
            % {"count": settings.EVIDENCE_MAX_FILES},
            claim=claim,
        )
    if evidence.tag not in Evidence.Tag.values:
        raise ClaimError(_("이 파일이 무엇을 보여 주는지 골라 주세요."), claim=claim)
    evidence.claim = claim
    try:
        evidence.file.save("original", upload, save=False)
    except OSError:  # disk full, object store unreachable: the claimant may try again, nothing else is lost
        logger.exception("Could not store an evidence file for claim %s", claim.pk)
        raise ClaimError(
            _("파일을 저장하지 못했습니다. 잠시 뒤 다시 올려 주세요. 지금까지 입력한 내용은 그대로 있습니다."),
            claim=claim,
        ) from None
    evidence.save()
    after_submission = claim.status != Claim.Status.DRAFT
    event = ClaimEvent.objects.create(
        claim=claim,
        actor=actor,
        kind=ClaimEvent.Kind.EVIDENCE_ADDED,
        ip=meta.ip,
        data={
            "evidence": evidence.pk,
            "sha256": evidence.sha256,
            "tag": evidence.tag,
            "size": evidence.size,
            "content_type": evidence.content_type,
            "information_request": evidence.information_request_id,
            "pdf_findings": evidence.pdf_findings,
            **({"after_submission": True} if after_submission else {}),
        },
    )
    if after_submission:  # new to staff until a reviewer marks it seen
        claim_addition_audit(claim=claim, actor=actor, event=event, meta=meta)
    if evidence.preview_status == Evidence.PreviewStatus.PENDING:
        evidence_preview_render_task.delay_on_commit(evidence.pk)
    evidence_finding_start(evidence=evidence)
    if claim.status != Claim.Status.DRAFT:
        estimate_claim_task.delay_on_commit(claim.pk)
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, actor: User, meta: RequestMeta = NO_REQUEST) -> None:
    """Remove a file from a draft claim. The audit row keeps its hash; the stored files go once committed."""
    claim = Claim.objects.select_for_update().get(pk=evidence.claim_id, claimant=actor)
    if claim.status != Claim.Status.DRAFT:
        raise ClaimError(
            _("제출한 신청의 파일은 지울 수 없습니다. 잘못 올린 파일이면 담당자에게 알려 주세요."), claim=claim
        )
    evidence = Evidence.objects.get(pk=evidence.pk, claim=claim)
    ClaimEvent.objects.create(
        claim=claim,
        actor=actor,
        kind=ClaimEvent.Kind.EVIDENCE_REMOVED,
        ip=meta.ip,
        data={"evidence": evidence.pk, "sha256": evidence.sha256, "tag": evidence.tag, "size": evidence.size},
    )
    names = _stored_names(evidence)  # before the row (and its finding, naming the sealed original) is deleted
    evidence.delete()
    transaction.on_commit(lambda: stored_files_delete(names))


@transaction.atomic
def evidence_access_record(*, evidence: Evidence, actor: User, meta: RequestMeta) -> ClaimEvent:
    """Keep a record of staff opening a claimant's file (who, when, from where, which file): on the claim's
    timeline and in the staff audit log."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.VIEWED_EVIDENCE,
        target=evidence,
        meta=meta,
        claim=evidence.claim,
        data={"sha256": evidence.sha256},
    )
    return ClaimEvent.objects.create(
        claim_id=evidence.claim_id,
        actor=actor,
        kind=ClaimEvent.Kind.VIEWED,
        ip=meta.ip,
        data={"evidence": evidence.pk, "sha256": evidence.sha256},
    )


def _clean_name(name: str) -> str:
    """The file name as the claimant's phone sent it, without any folder part or control characters."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(char for char in unicodedata.normalize("NFC", base) if unicodedata.category(char)[0] != "C")
    return base.strip() or "file"


def evidence_download_name(*, evidence: Evidence, display: bool = False) -> str:
    """A safe name for Content-Disposition: the original stem, no quotes or separators, and the extension of
    what the file really is."""
    kind: EvidenceKind = EVIDENCE_KINDS.get(evidence.content_type, EvidenceKind("", "bin", False))
    extension = kind.extension
    if display and kind.content_type != "image/png":
        extension = "jpg"
    stem = re.sub(r'[\\/:*?"<>|;\s]+', "_", PurePath(evidence.original_name).stem).strip("._")[:80]
    return f"{stem or 'evidence'}{'-display' if display else ''}.{extension}"
