"""The claimant's rights over their data: download everything as a ZIP, and ask for the account to be deleted.

Deleting, once staff confirm it, keeps what the law firm must keep to run and prove the suit (claims that were
filed with their evidence, the consent ledger, signed powers of attorney with their hashes and amounts) but
replaces the person's name, email, phone, address and date of birth by placeholders there; it removes the rest
(the profile, claims never submitted and their files, the authenticator, login records) and deactivates the
account. The DeletionRequest row records who confirmed it, when, and what was done.
"""

import json
import logging
import shutil
import zipfile
from collections.abc import Callable
from typing import IO, Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.exceptions import AccountError
from accounts.models import ConsentRecord, DeletionRequest, IdentityVerification, PhoneCode, PowerOfAttorney, User
from accounts.selectors import signed_document_pdf_ready
from accounts.services.mail import templated_mail_queue, templated_mail_render
from accounts.validators import mobile_phone_format
from config.files import stored_files_delete
from core.personal_data import personal_data_contributors, row_export
from notifications.backends import RenderedMessage
from notifications.models import Notification
from notifications.renderers import renderer

logger = logging.getLogger(__name__)

PLACEHOLDER = "(삭제됨)"
PLACEHOLDER_NAME = "삭제된 사용자"
DELETION_CONFIRMED_TEMPLATE = "accounts/email/deletion_confirmed"
PERSONAL_KEYS = {
    "name",
    "legal_name",
    "typed_name",
    "email",
    "phone",
    "address",
    "address_detail",
    "postal_code",
    "date_of_birth",
}
PROFILE_EXPORT_FIELDS = (
    "email",
    "email_verified_at",
    "legal_name",
    "date_of_birth",
    "phone",
    "postal_code",
    "address",
    "address_detail",
    "bank_name",
    "bank_account",
    "date_joined",
    "last_login",
    "signup_ip",
    # where they came from at their first visit (accounts/referrals.py): kept after deletion, it names a campaign
    "referral_source",
    "referral_medium",
    "referral_campaign",
    "referral_code",
    "referral_first_visit_at",
)


# Download ------------------------------------------------------------------------------------------------------


def _archive_name(*parts: str) -> str:
    return "/".join(get_valid_filename(part) for part in parts)


class _ArchiveFiles:
    """The stored files a download takes along, each under its name in the ZIP."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str, Callable[[], IO[bytes]] | None]] = []

    def attach(self, field: FieldFile, *arcname: str, opener: Callable[[], IO[bytes]] | None = None) -> str | None:
        """Take the file along; its name in the ZIP, or None when there is no file (or it is missing). With
        `opener`, what it opens goes in the ZIP instead of the stored file (core.personal_data.Attach)."""
        if not field or not default_storage.exists(field.name):
            return None
        name = _archive_name("files", *arcname)
        self.files.append((field.name, name, opener))
        return name


def user_data_export(*, user: User, out: IO[bytes]) -> None:
    """Write the person's data as a ZIP into `out`: data.json plus their evidence files and signed documents."""
    files = _ArchiveFiles()
    contributed = {
        contributor.key: contributor.export(user=user, attach=files.attach)
        for contributor in personal_data_contributors()
    }
    powers = _powers_of_attorney_export(user=user, files=files)
    consents = _consent_records_export(user=user)
    identity_checks = [  # the CI (연계정보) and its digest are never exported
        row_export(check, exclude={"user", "ci", "ci_digest"})
        for check in IdentityVerification.objects.filter(user=user).order_by("requested_at")
    ]
    data = {
        "exported_at": timezone.now(),
        "profile": {name: getattr(user, name) for name in PROFILE_EXPORT_FIELDS},
        "consent_records": consents,
        "powers_of_attorney": powers,
        "identity_checks": identity_checks,
        **contributed,  # the claims (claims.services.personal_data)
        "deletion_requests": [
            row_export(request, exclude={"user", "decided_by"})
            for request in user.deletion_requests.order_by("requested_at")
        ],
    }
    _archive_write(out=out, user=user, data=data, files=files)


def _powers_of_attorney_export(*, user: User, files: _ArchiveFiles) -> list[dict[str, Any]]:
    """Each signed power of attorney, its PDF and signature image taken along."""
    powers = []
    for power in PowerOfAttorney.objects.filter(user=user).select_related("document").order_by("signed_at"):
        row = row_export(power, exclude={"pdf", "signature_image", "user"})
        row.update(
            document=str(power.document),
            pdf_in_zip=files.attach(power.pdf, "power-of-attorney", f"{power.pk}-signed.pdf"),
            pdf_being_rendered=not signed_document_pdf_ready(power),
            signature_image_in_zip=files.attach(
                power.signature_image, "power-of-attorney", f"{power.pk}-signature.png"
            ),
        )
        powers.append(row)
    return powers


def _consent_records_export(*, user: User) -> list[dict[str, Any]]:
    """Each consent given or withdrawn, with the document it was about."""
    return [
        {
            **row_export(record, exclude={"user"}),
            "document_kind": record.document.kind,
            "document_title": record.document.title,
            "document_version": record.document.version,
        }
        for record in ConsentRecord.objects.filter(user=user).select_related("document").order_by("at", "pk")
    ]


def _archive_write(*, out: IO[bytes], user: User, data: dict[str, Any], files: _ArchiveFiles) -> None:
    """The ZIP: data.json, a README and the files taken along, copied a megabyte at a time."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        archive.writestr("README.txt", render_to_string("accounts/data_export_readme.txt", {"user": user}))
        for stored_name, archive_name, opener in files.files:
            source_open = opener or (lambda name=stored_name: default_storage.open(name, "rb"))
            with source_open() as source, archive.open(archive_name, "w") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)


# Deletion ------------------------------------------------------------------------------------------------------


@transaction.atomic
def deletion_request_create(*, user: User, reason: str = "") -> DeletionRequest:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_staff:
        raise AccountError(_("직원 계정은 관리자에게 삭제를 요청해 주세요."), code="staff")
    if user.deletion_requests.filter(status=DeletionRequest.Status.REQUESTED).exists():
        raise AccountError(_("이미 접수된 삭제 요청이 있습니다."), code="already_requested")
    deletion_request = DeletionRequest(user=user, reason=reason.strip())
    deletion_request.full_clean()
    deletion_request.save()
    from accounts import tasks  # here, not at the top: the task module imports this one

    tasks.deletion_request_notice_send.delay_on_commit(deletion_request.pk)
    return deletion_request


@transaction.atomic
def deletion_request_cancel(*, deletion_request: DeletionRequest, user: User) -> DeletionRequest:
    deletion_request = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk, user=user)
    if deletion_request.status != DeletionRequest.Status.REQUESTED:
        raise AccountError(_("이미 처리된 요청은 취소할 수 없습니다."), code="decided")
    deletion_request.status = DeletionRequest.Status.CANCELLED
    deletion_request.decided_at = timezone.now()
    deletion_request.save(update_fields=["status", "decided_at"])
    return deletion_request


def _open_request(deletion_request: DeletionRequest) -> DeletionRequest:
    deletion_request = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if deletion_request.status != DeletionRequest.Status.REQUESTED:
        raise AccountError(_("이미 처리된 요청입니다."), code="decided")
    return deletion_request


@transaction.atomic
def deletion_request_reject(*, deletion_request: DeletionRequest, actor: User, note: str) -> DeletionRequest:
    deletion_request = _open_request(deletion_request)
    if not note.strip():
        raise AccountError(_("거절 사유를 처리 메모에 적어 주세요."), code="note_required")
    deletion_request.status = DeletionRequest.Status.REJECTED
    deletion_request.decided_by, deletion_request.decided_at = actor, timezone.now()
    deletion_request.decision_note = note.strip()
    deletion_request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    from accounts import tasks

    tasks.deletion_request_notice_send.delay_on_commit(deletion_request.pk)
    return deletion_request


def deletion_request_notice_send(*, deletion_request: DeletionRequest) -> None:
    """Tell the person their request was received or rejected (run by the task), once per request and status."""
    user = deletion_request.user
    if not user.is_active or deletion_request.status not in (
        DeletionRequest.Status.REQUESTED,
        DeletionRequest.Status.REJECTED,
    ):
        return
    templated_mail_queue(
        template=f"accounts/email/deletion_{deletion_request.status}",
        user=user,
        language=user.language,
        context={"deletion_request_id": deletion_request.pk},
        idempotency_key=f"deletion-{deletion_request.status}:{deletion_request.pk}",
    )


@renderer("accounts/email/deletion_requested", "accounts/email/deletion_rejected")
def deletion_request_notice_render(notification: Notification) -> RenderedMessage:
    deletion_request = DeletionRequest.objects.get(pk=notification.context["deletion_request_id"])
    return templated_mail_render(template=notification.template, context={"deletion_request": deletion_request})


@renderer(DELETION_CONFIRMED_TEMPLATE)
def deletion_confirmed_render(notification: Notification) -> RenderedMessage:
    return templated_mail_render(template=DELETION_CONFIRMED_TEMPLATE, context={})


def _scrub(value: Any, personal: set[str]) -> Any:
    """Replace personal values (by key, or by matching one of the person's values) with the placeholder."""
    if isinstance(value, dict):
        return {
            key: PLACEHOLDER if key in PERSONAL_KEYS and item not in (None, "") else _scrub(item, personal)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item, personal) for item in value]
    if isinstance(value, str) and value.strip() in personal:
        return PLACEHOLDER
    return value


def signature_evidence_scrub(records: QuerySet, *, personal: set[str]) -> list:
    """Signed documents (accounts.SignatureEvidence: powers of attorney, 선정서) are kept when an account is deleted,
    without the person's details in their evidence (the PDF and its hashes stay). `personal`: the person's values,
    `personal_values(user)`. Returns the records."""
    kept = list(records.select_for_update())
    for record in kept:
        record.signer_snapshot = _scrub(record.signer_snapshot, personal)
        record.authentication = _scrub(record.authentication, personal)
        record.typed_name = PLACEHOLDER if record.typed_name else ""
    records.model.objects.bulk_update(kept, ["signer_snapshot", "authentication", "typed_name"])
    return kept


def personal_values(user: User) -> set[str]:
    values = {
        user.email,
        user.legal_name,
        user.phone,
        mobile_phone_format(user.phone),
        user.postal_code,
        user.address,
        user.address_detail,
        user.date_of_birth.isoformat() if user.date_of_birth else "",
    }
    return {value.strip() for value in values if value and value.strip()}


def _login_records_delete(*, email: str) -> None:
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=email).delete()


@transaction.atomic
def deletion_request_confirm(*, deletion_request: DeletionRequest, actor: User | None) -> DeletionRequest:
    """`actor` is the staff member who confirmed, or None when the retention task anonymises the account."""
    deletion_request = _open_request(deletion_request)
    user = User.objects.select_for_update().get(pk=deletion_request.user_id)
    address, language, personal = user.email, user.language, personal_values(user)

    # Claims never submitted go with their files; filed claims stay, noted (claims.services.personal_data); the
    # outbox forgets the person's addresses (notifications.personal_data).
    erasures = [contributor.erase(user=user, actor=actor) for contributor in personal_data_contributors()]
    files = [name for erasure in erasures for name in erasure.files]
    powers = signature_evidence_scrub(PowerOfAttorney.objects.filter(user=user), personal=personal)
    # Identity checks stay as the record of how a kept power of attorney was signed (receipt, signature value, when),
    # without the person's details or CI.
    identity_checks = list(IdentityVerification.objects.select_for_update().filter(user=user))
    for check in identity_checks:
        check.requested_name = check.verified_name = PLACEHOLDER_NAME
        check.requested_phone = check.verified_phone = check.ci = ""
        check.requested_birth_date = check.verified_birth_date = None
        check.ci_digest = ""
    IdentityVerification.objects.bulk_update(
        identity_checks,
        [
            "requested_name",
            "verified_name",
            "requested_phone",
            "verified_phone",
            "ci",
            "ci_digest",
            "requested_birth_date",
            "verified_birth_date",
        ],
    )

    TOTPDevice.objects.filter(user=user).delete()
    PhoneCode.objects.filter(user=user).delete()
    _login_records_delete(email=address)

    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.legal_name = PLACEHOLDER_NAME
    user.date_of_birth = None
    user.phone = user.postal_code = user.address = user.address_detail = ""
    user.phone_verified_at = None
    user.bank_name = user.bank_account = ""
    user.signup_ip = None
    user.is_active = user.is_staff = user.is_superuser = False
    user.anonymised_at = timezone.now()
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()

    deletion_request.status = DeletionRequest.Status.CONFIRMED
    deletion_request.decided_by, deletion_request.decided_at = actor, timezone.now()
    deletion_request.outcome = {
        **{key: value for erasure in erasures for key, value in erasure.outcome.items()},
        "powers_of_attorney_kept": len(powers),
        "identity_checks_kept": len(identity_checks),
        "consent_records_kept": ConsentRecord.objects.filter(user=user).count(),
    }
    deletion_request.save(update_fields=["status", "decided_by", "decided_at", "outcome"])
    transaction.on_commit(lambda: stored_files_delete(files))
    # The outbox's addresses of the person were cleared with the other apps' data above (notifications.
    # personal_data); the confirmation goes to the address they had (cleared in its turn once sent).
    templated_mail_queue(
        template=DELETION_CONFIRMED_TEMPLATE,
        user=user,
        address=address,
        language=language,
        idempotency_key=f"deletion-confirmed:{deletion_request.pk}",
    )
    logger.info("Deletion request %s confirmed by %s", deletion_request.pk, actor.pk if actor else "the retention task")
    return deletion_request


def deletion_request_open(*, user: User) -> DeletionRequest | None:
    """The person's deletion request still waiting for staff, if any."""
    return user.deletion_requests.filter(status=DeletionRequest.Status.REQUESTED).first()
