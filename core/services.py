"""Writes of core's own records: the firm's profile."""

import io
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image

from config.files import stored_files_delete
from core.audit import NO_REQUEST, RequestMeta, audit_record
from core.exceptions import InvalidInputError
from core.models import AuditEntry, FirmProfile
from core.selectors import firm_profile_cache_key

FIRM_LOGO_MAX_BYTES = 1024 * 1024
FIRM_LOGO_MAX_PIXELS = 4000 * 4000
# The stored logo is re-drawn as a PNG no larger than this (the header shows it at 40 px, the PDF a little larger).
FIRM_LOGO_STORED_SIZE = (512, 512)
FIRM_LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}
FIRM_PROFILE_FIELDS = (
    "name",
    "address",
    "phone",
    "email",
    "kakao_channel_url",
    "hours",
    "privacy_officer_name",
    "privacy_officer_contact",
)


class FirmProfileError(InvalidInputError):
    pass


def firm_logo_prepare(*, upload: UploadedFile) -> ContentFile:
    """Check an uploaded logo by its content (a PNG, JPEG or WebP image that opens, at most 1 MB and 16
    megapixels; never SVG, which can carry scripts) and re-draw it as a small PNG without its metadata, so what is
    stored and served is an image this code made."""
    if (upload.size or 0) > FIRM_LOGO_MAX_BYTES:
        raise FirmProfileError(_("로고 파일은 1MB 이하여야 합니다."), code="logo_too_large")
    refused = FirmProfileError(_("로고는 PNG, JPEG 또는 WebP 이미지여야 합니다."), code="logo_format")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:
                if probe.format not in FIRM_LOGO_FORMATS:
                    raise refused
                if probe.width * probe.height > FIRM_LOGO_MAX_PIXELS:
                    raise refused
                probe.verify()
            upload.seek(0)
            with Image.open(upload) as source:
                image = source.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise refused from None
    finally:
        upload.seek(0)
    image.thumbnail(FIRM_LOGO_STORED_SIZE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return ContentFile(buffer.getvalue(), name=f"logo-{uuid.uuid4().hex}.png")


def firm_profile_cache_clear() -> None:
    from django.core.cache import cache

    cache.delete(firm_profile_cache_key())


@transaction.atomic
def firm_profile_update(
    *,
    actor,
    values: dict,
    logo: UploadedFile | None = None,
    logo_remove: bool = False,
    meta: RequestMeta = NO_REQUEST,
) -> FirmProfile:
    """Save the firm's profile (created on first save), with an audit entry naming the fields that changed; a new
    logo is checked and re-drawn (firm_logo_prepare), the old file deleted after commit. The cached profile is
    dropped on commit, so the next page shows the change."""
    profile, _created = FirmProfile.objects.select_for_update().get_or_create(pk=FirmProfile.SINGLETON_PK)
    changed = []
    for field in FIRM_PROFILE_FIELDS:
        if field in values and getattr(profile, field) != values[field]:
            setattr(profile, field, values[field])
            changed.append(field)
    old_logo = profile.logo.name if profile.logo else ""
    prepared = firm_logo_prepare(upload=logo) if logo is not None else None
    if prepared is not None or (logo_remove and old_logo):
        changed.append("logo")
    try:
        profile.full_clean(exclude=["logo"])
    except ValidationError as error:
        raise FirmProfileError(
            " ".join(message for messages in error.message_dict.values() for message in messages),
            code="invalid",
        ) from error
    if prepared is not None:
        profile.logo.save(prepared.name, prepared, save=False)
    elif logo_remove and old_logo:
        profile.logo = ""
    profile.save()
    if "logo" in changed and old_logo:
        transaction.on_commit(lambda: stored_files_delete([old_logo]))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        target=profile,
        meta=meta,
        data={"firm_profile_fields": changed},
    )
    transaction.on_commit(firm_profile_cache_clear)
    return profile
