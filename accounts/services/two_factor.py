"""Staff two-factor authentication: enrolling one TOTP authenticator app and confirming it with a first code.

A staff member without a confirmed device enrols once, after signing in with their password; replacing a lost
device is done by a Lawyer, who deletes the old one in the admin so its owner can enrol again.
"""

from base64 import b32encode

import segno
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.exceptions import AccountError
from accounts.models import User


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


@transaction.atomic
def totp_device_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed device this staff member is enrolling (the same one until they confirm it)."""
    if not user.is_staff:
        raise AccountError(_("직원 계정만 2단계 인증을 등록합니다."), code="not_staff")
    if totp_device_confirmed(user=user):
        raise AccountError(_("이미 인증 앱을 등록했습니다."), code="already_enrolled")
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=_("인증 앱"), confirmed=False)


def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm the device with its first code (the view then marks the session as verified).

    A wrong code is committed as a failure so django-otp's throttling slows down guessing.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
        allowed, _details = device.verify_is_allowed()
        verified = allowed and device.verify_token(token)
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    if not allowed:
        raise AccountError(_("코드를 여러 번 잘못 입력했습니다. 잠시 후 다시 시도해 주세요."), code="throttled")
    if not verified:
        raise AccountError(_("인증 코드가 맞지 않습니다. 인증 앱에 지금 표시된 코드를 입력해 주세요."), code="invalid")
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator app by hand."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code, made here (never by an outside service)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", title=_("인증 앱 등록용 QR 코드"), svgclass="totp-qr", lineclass=None
    )
