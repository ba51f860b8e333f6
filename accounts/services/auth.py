"""Sign-up, email verification, the password-reset email, staff accounts and their roles.

A new account is active at once (the person is logged in after signing up) but `email_verified_at` stays empty
until they open the link we email them; `claimant_required` keeps unverified people out of the claim pages.
The link is a signed, timestamped token (3 days) over the account id and a hash of its email and verification
state, so it works once: verifying changes the state and every earlier link stops working.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.exceptions import AccountError
from accounts.models import User
from accounts.referrals import Referral, referral_clean
from accounts.roles import Role
from accounts.services.mail import templated_mail_queue, templated_mail_render
from accounts.validators import date_of_birth_validate
from core.links import absolute_url
from notifications.backends import RenderedMessage
from notifications.models import Notification
from notifications.renderers import renderer

logger = logging.getLogger(__name__)

EMAIL_VERIFICATION_SALT = "accounts.email-verification"
EMAIL_VERIFICATION_MAX_AGE = dt.timedelta(days=3)
EMAIL_TAKEN = gettext_lazy("이미 가입된 이메일입니다. 로그인하거나 비밀번호 찾기를 이용해 주세요.")
INVALID_LINK = gettext_lazy("올바르지 않은 인증 링크입니다. 메일의 링크를 다시 확인해 주세요.")


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The email a login attempt was for, as axes should count it (case and spaces do not matter)."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if username else None


@transaction.atomic
def user_signup(
    *,
    email: str,
    password: str,
    date_of_birth: dt.date,
    ip: str | None,
    language: str = settings.LANGUAGE_CODE,
    referral: Referral | None = None,
) -> User:
    """A new claimant account; `language` is the one the page was shown in (see user_language_choose), `referral`
    where the person came from at their first visit (accounts/referrals.py; values checked again here)."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(str(EMAIL_TAKEN), code="email_taken")
    date_of_birth_validate(date_of_birth)
    user = User(
        email=email,
        date_of_birth=date_of_birth,
        signup_ip=ip,
        language=_site_language(language) or settings.LANGUAGE_CODE,
    )
    referral = referral_clean(referral) if referral else None
    if referral:
        user.referral_source, user.referral_medium = referral.source, referral.medium
        user.referral_campaign, user.referral_code = referral.campaign, referral.code
        user.referral_first_visit_at = referral.first_visit_at
    user.set_password(password)
    user.full_clean()
    user.save()
    from accounts import tasks  # here, not at the top: the task module imports this one

    tasks.email_verification_send.delay_on_commit(user.pk)
    return user


def _site_language(language: str | None) -> str | None:
    """The site language `language` names (a variant such as en-us counts as en), or None."""
    base = (language or "").split("-")[0].lower()
    return base if base in dict(settings.LANGUAGES) else None


def user_language_choose(*, user: User, language: str) -> bool:
    """Remember the language the person chose on the site: their emails are written in it and a sign-in on
    another device shows the site in it. Returns whether it changed; an unknown language changes nothing."""
    base = _site_language(language)
    if base is None or base == user.language:
        return False
    user.language = base
    user.save(update_fields=["language"])
    return True


def _verification_state(user: User) -> str:
    value = f"{user.pk}:{user.email}:{user.email_verified_at}"
    return salted_hmac(EMAIL_VERIFICATION_SALT, value).hexdigest()[:32]


def email_verification_token(*, user: User) -> str:
    return signing.dumps([user.pk, _verification_state(user)], salt=EMAIL_VERIFICATION_SALT)


VERIFY_EMAIL_TEMPLATE = "accounts/email/verify_email"
PASSWORD_RESET_TEMPLATE = "accounts/email/password_reset"  # noqa: S105 - a template name


def email_verification_send(*, user: User, idempotency_key: str | None = None) -> None:
    """Email the verification link (run by the task; the link is made when the outbox sends it). Nothing to do
    once verified or deactivated."""
    if user.is_email_verified or not user.is_active:
        return
    templated_mail_queue(
        template=VERIFY_EMAIL_TEMPLATE,
        user=user,
        language=user.language,
        context={"user_id": user.pk},
        idempotency_key=idempotency_key and f"verify-email:{user.pk}:{idempotency_key}",
    )


@renderer(VERIFY_EMAIL_TEMPLATE)
def email_verification_render(notification: Notification) -> RenderedMessage:
    user = User.objects.get(pk=notification.context["user_id"])
    path = reverse("accounts:verify_email", args=[email_verification_token(user=user)])
    return templated_mail_render(
        template=VERIFY_EMAIL_TEMPLATE,
        context={"url": absolute_url(path), "days": EMAIL_VERIFICATION_MAX_AGE.days},
    )


def email_verification_resend(*, user: User) -> None:
    if user.is_email_verified:
        raise AccountError(_("이미 인증된 이메일입니다."), code="already_verified")
    from accounts import tasks

    tasks.email_verification_send.delay_on_commit(user.pk)


def email_verification_token_user_id(*, token: str) -> int | None:
    """The id of the account a still-valid verification link was made for (None for a bad or expired link),
    without using it: the link page verifies at once when it is opened in that account's own session."""
    try:
        user_id, _state = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=EMAIL_VERIFICATION_MAX_AGE.total_seconds()
        )
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return user_id if isinstance(user_id, int) else None


@transaction.atomic
def email_verify(*, token: str) -> User:
    try:
        user_id, state = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=EMAIL_VERIFICATION_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired as error:
        raise AccountError(
            _("인증 링크의 유효 기간(3일)이 지났습니다. 로그인한 뒤 인증 메일을 다시 받아 주세요."), code="expired"
        ) from error
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise AccountError(str(INVALID_LINK), code="invalid") from error
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None:
        raise AccountError(str(INVALID_LINK), code="invalid")
    if not constant_time_compare(state, _verification_state(user)):
        if user.is_email_verified:
            raise AccountError(_("이미 인증된 이메일입니다. 이 링크는 한 번만 쓸 수 있습니다."), code="used")
        raise AccountError(
            _("더 이상 쓸 수 없는 인증 링크입니다. 가장 최근에 받은 메일의 링크를 눌러 주세요."), code="stale"
        )
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


def password_reset_email_send(*, user: User, idempotency_key: str | None = None) -> None:
    """Email a password-reset link (run by the task; the link is made when the outbox sends it). Only active
    accounts with a password get one."""
    if not user.is_active or not user.has_usable_password():
        return
    templated_mail_queue(
        template=PASSWORD_RESET_TEMPLATE,
        user=user,
        language=user.language,
        context={"user_id": user.pk},
        idempotency_key=idempotency_key and f"password-reset:{user.pk}:{idempotency_key}",
    )


@renderer(PASSWORD_RESET_TEMPLATE)
def password_reset_render(notification: Notification) -> RenderedMessage:
    user = User.objects.get(pk=notification.context["user_id"])
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    return templated_mail_render(
        template=PASSWORD_RESET_TEMPLATE,
        context={"url": absolute_url(path), "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )


@transaction.atomic
def staff_user_create(*, email: str, password: str, role: Role | str, legal_name: str = "") -> User:
    """A staff account in one role. They enrol their authenticator app at first sign-in."""
    role = Role(role)
    user = User(email=email.strip().lower(), legal_name=legal_name, is_staff=True, email_verified_at=timezone.now())
    user.set_password(password)
    try:
        user.full_clean()
    except ValidationError as error:
        raise AccountError(" ".join(error.messages), code="invalid") from error
    user.save()
    user.groups.set([Group.objects.get(name=role.value)])
    return user


def staff_roles_record(*, user: User, actor: User, before: set[str], after: set[str]) -> None:
    """An admin log entry naming the roles a staff member had and now has."""
    if before == after:
        return

    def names(groups: set[str]) -> str:
        return ", ".join(sorted(str(Role(name).label) if name in Role.values else name for name in groups)) or "-"

    message = _("직원 역할 변경: %(before)s → %(after)s") % {"before": names(before), "after": names(after)}
    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[user], action_flag=CHANGE, change_message=message, single_object=True
    )
    logger.info("Staff roles changed for user %s by user %s", user.pk, actor.pk)
