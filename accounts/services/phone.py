"""Proving a phone number with a one-time code by SMS, and signing in with phone + code instead of the password.

A code is 6 random digits, good for PHONE_CODE_LIFETIME and PHONE_CODE_TRIES wrong guesses, once; a new code
replaces the earlier ones. The database keeps only a keyed hash (HMAC with the site's secret, over a random salt
and the code: a leaked table cannot be brute-forced without the key); the code itself waits in the cache for the
SMS to be rendered, under the code's id, for the same 5 minutes. The views limit how often codes are asked for per
number and per IP (accounts/views/phone.py); wrong codes at sign-in count towards the site's login lockout (axes).

Verifying sets User.phone_verified_at (accounts/services/profile.py clears it when the number changes); a verified
number belongs to one account. Phone sign-in is only for a verified number."""

import datetime as dt
import secrets

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.exceptions import AccountError
from accounts.models import PhoneCode, User
from notifications.messages import message_template_current, message_template_render
from notifications.models import MessageTemplate, Notification
from notifications.renderers import renderer
from notifications.services import notification_queue

PHONE_CODE_LIFETIME = dt.timedelta(minutes=5)
PHONE_CODE_TRIES = 3
PHONE_CODE_TEMPLATE = "accounts/sms/phone_code"
_HASH_SALT = "accounts.phone-code"


def _code_hash(*, salt: str, code: str) -> str:
    return salted_hmac(_HASH_SALT, f"{salt}:{code}", algorithm="sha256").hexdigest()


def _cache_key(phone_code_id: int) -> str:
    return f"phone-code:{phone_code_id}"


@transaction.atomic
def phone_code_send(*, user: User, phone: str, purpose: str) -> PhoneCode:
    """A new code for `user` and `phone`, sent by SMS (the earlier unused codes of this purpose stop working)."""
    now = timezone.now()
    PhoneCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    phone_code = PhoneCode.objects.create(
        user=user,
        phone=phone,
        purpose=purpose,
        salt=salt,
        code_hash=_code_hash(salt=salt, code=code),
        created_at=now,
        expires_at=now + PHONE_CODE_LIFETIME,
    )
    cache.set(_cache_key(phone_code.pk), code, timeout=int(PHONE_CODE_LIFETIME.total_seconds()))
    notification_queue(
        channel=Notification.Channel.SMS,
        template=PHONE_CODE_TEMPLATE,
        language=user.language,
        user=user,
        address=phone,
        context={"phone_code_id": phone_code.pk},
        idempotency_key=f"phone-code:{phone_code.pk}",
    )
    return phone_code


@renderer(PHONE_CODE_TEMPLATE)
def phone_code_render(notification: Notification):
    code = cache.get(_cache_key(notification.context["phone_code_id"]))
    if code is None:
        raise LookupError("The code expired before its SMS could be sent.")
    template = message_template_current(kind=MessageTemplate.Kind.PHONE_CODE)
    minutes = int(PHONE_CODE_LIFETIME.total_seconds() // 60)
    return message_template_render(
        template=template,
        channel=notification.channel,
        language=notification.language,
        variables={"code": code, "minutes": str(minutes)},
    )


def phone_verification_send(*, user: User) -> PhoneCode:
    """Send a code to the number on the profile (refused without one, or when it is already verified)."""
    if not user.phone:
        raise AccountError(_("먼저 프로필에 휴대전화 번호를 입력해 주세요."), code="no_phone")
    if user.phone_verified_at:
        raise AccountError(_("이미 인증된 휴대전화 번호입니다."), code="already_verified")
    return phone_code_send(user=user, phone=user.phone, purpose=PhoneCode.Purpose.VERIFY)


def _code_check(*, phone_code: PhoneCode | None, code: str, now: dt.datetime) -> bool:
    """Count one try at the code (the row is locked by the caller) and say whether it matched."""
    if phone_code is None or phone_code.expires_at <= now or phone_code.attempts >= PHONE_CODE_TRIES:
        return False
    if constant_time_compare(phone_code.code_hash, _code_hash(salt=phone_code.salt, code=code.strip())):
        phone_code.used_at = now
        phone_code.save(update_fields=["used_at"])
        return True
    phone_code.attempts += 1
    phone_code.save(update_fields=["attempts"])
    return False


def _latest_code(**filters) -> PhoneCode | None:
    return (
        PhoneCode.objects.select_for_update()
        .filter(used_at__isnull=True, **filters)
        .order_by("-created_at", "-pk")
        .first()
    )


WRONG_CODE = gettext_lazy("인증번호가 맞지 않거나 유효 시간(5분)이 지났습니다. 인증번호를 다시 받아 주세요.")


def phone_verify(*, user: User, code: str) -> User:
    """Check the code sent to the profile's number and mark the number verified. A wrong code counts as a try (kept
    even though the error is raised); a number verified on another account is refused."""
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        matched = _code_check(
            phone_code=_latest_code(user=user, phone=user.phone, purpose=PhoneCode.Purpose.VERIFY),
            code=code,
            now=now,
        )
    if not matched:
        raise AccountError(str(WRONG_CODE), code="wrong_code")
    try:
        with transaction.atomic():
            user.phone_verified_at = now
            user.save(update_fields=["phone_verified_at"])
    except IntegrityError as error:
        raise AccountError(_("이 휴대전화 번호는 다른 계정에서 이미 인증되었습니다."), code="phone_taken") from error
    return user


def phone_sign_in_send(*, phone: str) -> PhoneCode | None:
    """Send a sign-in code to `phone` if an active account has it verified; None otherwise (the page says the same
    either way, so it does not tell who has an account)."""
    user = User.objects.filter(phone=phone, phone_verified_at__isnull=False, is_active=True).first()
    if user is None:
        return None
    return phone_code_send(user=user, phone=phone, purpose=PhoneCode.Purpose.SIGN_IN)


def phone_sign_in_user(*, phone: str, code: str) -> User | None:
    """The active account whose verified number is `phone`, if `code` is its current sign-in code (a wrong code
    counts as a try); None otherwise."""
    now = timezone.now()
    with transaction.atomic():
        phone_code = _latest_code(phone=phone, purpose=PhoneCode.Purpose.SIGN_IN)
        if not _code_check(phone_code=phone_code, code=code, now=now):
            return None
        user = phone_code.user
    if not user.is_active or user.phone != phone or user.phone_verified_at is None:
        return None
    return user
