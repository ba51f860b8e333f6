"""The claimant and staff account, consent documents and the ledger of their acceptance, and signed
powers of attorney.

No resident registration number is ever stored: no field here asks for one.
"""

import re
import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Concat, Lower, StrIndex, Substr, Upper
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.crypto import DigestField, EncryptedTextField, digits_only


def bank_account_number_validator(value: str) -> None:
    """10 to 16 digits, optionally grouped with hyphens or spaces, as banks print them."""
    digits = digits_only(value)
    if not re.fullmatch(r"[\d\s-]+", value) or not 10 <= len(digits) <= 16:
        raise ValidationError(
            _("계좌번호는 숫자 10~16자리로 입력해 주세요 (하이픈은 넣어도 됩니다)."), code="bank_account_number"
        )


def email_key(path: str) -> Case:
    """The email address in lower case without a `+tag` in the mailbox name: kim+2@x.com and Kim@x.com match.
    Indexed on `accounts_user` (`user_email_key`), so the fraud check finds an address's accounts without a scan."""
    text = CharField()
    email = Lower(path, output_field=text)
    plus, at = StrIndex(email, Value("+")), StrIndex(email, Value("@"))
    without_tag = Concat(Substr(email, 1, plus - 1), Substr(email, at), output_field=text)
    return Case(When(GreaterThan(plus, 0) & LessThan(plus, at), then=without_tag), default=email, output_field=text)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Logs in with an email address. Claimants fill in the profile fields; staff may leave them blank."""

    email = models.EmailField(_("이메일"), unique=True)
    email_verified_at = models.DateTimeField(_("이메일 인증 시각"), null=True, blank=True)
    legal_name = models.CharField(_("성명 (실명)"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("생년월일"), null=True, blank=True)
    phone = models.CharField(_("휴대전화"), max_length=20, blank=True, db_index=True)
    # When the person proved this phone number is theirs with a one-time code by SMS; cleared when the number changes.
    phone_verified_at = models.DateTimeField(_("휴대전화 인증 시각"), null=True, blank=True)
    postal_code = models.CharField(_("우편번호"), max_length=5, blank=True)
    address = models.CharField(_("주소"), max_length=200, blank=True)
    address_detail = models.CharField(_("상세주소"), max_length=200, blank=True)
    signup_ip = models.GenericIPAddressField(_("가입 IP"), null=True, blank=True)
    # Where the person came from at their first visit (accounts/referrals.py): utm_* parameters or a referral code.
    referral_source = models.CharField(_("유입 경로 (utm_source)"), max_length=64, blank=True)
    referral_medium = models.CharField(_("유입 매체 (utm_medium)"), max_length=64, blank=True)
    referral_campaign = models.CharField(_("유입 캠페인 (utm_campaign)"), max_length=64, blank=True)
    referral_code = models.CharField(_("추천 코드"), max_length=32, blank=True)
    referral_first_visit_at = models.DateTimeField(_("첫 방문 시각"), null=True, blank=True)
    is_staff = models.BooleanField(_("직원"), default=False)
    is_active = models.BooleanField(_("활성"), default=True)
    date_joined = models.DateTimeField(_("가입일"), default=timezone.now)
    anonymised_at = models.DateTimeField(_("익명화 시각"), null=True, blank=True)
    # The language the person signed up in or last chose on the site: their emails are written in it, and a
    # sign-in on a device without a choice of its own shows the site in it.
    language = models.CharField(_("언어"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # Where an award is paid: the number is encrypted at rest, its keyed digest finds one account on two users.
    bank_name = models.CharField(_("은행"), max_length=50, blank=True)
    bank_account = EncryptedTextField(
        _("계좌번호"), max_length=30, blank=True, validators=[bank_account_number_validator]
    )
    bank_account_digest = DigestField(_("계좌번호 지문"), source="bank_account", normalize=digits_only)
    # New whenever one of the person's consent ledger entries or signed powers of attorney is written or deleted, in
    # the same transaction: the page guards' cached readiness is used only while it is unchanged (accounts.selectors).
    # It lives on the user row, which every request loads, so checking it costs nothing and no Redis outage can lose it.
    readiness_stamp = models.UUIDField(_("동의 상태 표식"), default=uuid.uuid4, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("사용자")
        verbose_name_plural = _("사용자")
        constraints = [
            # A verified number belongs to one account: phone sign-in finds the account by it.
            models.UniqueConstraint(
                fields=["phone"], condition=models.Q(phone_verified_at__isnull=False), name="user_verified_phone_unique"
            )
        ]
        indexes = [
            # The fraud check of one claim looks up its claimant's address and sign-up IP among all accounts.
            models.Index(email_key("email"), name="user_email_key"),
            # Sign-up and the retainer waiver find an address whatever its case (email__iexact compares UPPER()):
            # without it each sign-up read every account twice, 55 ms of the database's CPU at 200,000 accounts.
            models.Index(Upper("email"), name="user_email_upper"),
            models.Index(fields=["signup_ip", "date_joined"], name="user_signup_ip_joined"),
            # The funnel and the referral-burst check count sign-ups per source and per code over time.
            models.Index(fields=["referral_source", "date_joined"], name="user_referral_source_joined"),
            models.Index(
                fields=["referral_code", "date_joined"],
                name="user_referral_code_joined",
                condition=~models.Q(referral_code=""),
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name or self.email

    def save(self, *args, **kwargs) -> None:
        # The readiness stamp is written by claimant_readiness_forget alone (an UPDATE of that column): saving a row
        # read before a consent changed must not put the older stamp back.
        if kwargs.get("update_fields") is None and not (args or kwargs.get("force_insert") or self._state.adding):
            deferred = self.get_deferred_fields()  # as Django does: a row loaded with .only() saves what it loaded
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "readiness_stamp" and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None


class ConsentDocument(models.Model):
    """One version of a consent text. A published version is never edited: staff publish a new one."""

    class Kind(models.TextChoices):
        PRIVACY_REQUIRED = "privacy_required", _("개인정보 수집·이용 동의 (필수)")
        PRIVACY_OPTIONAL = "privacy_optional", _("개인정보 수집·이용 동의 (선택)")
        POWER_OF_ATTORNEY = "power_of_attorney", _("소송위임장 및 보수 약정")

    kind = models.CharField(_("종류"), max_length=32, choices=Kind.choices)
    version = models.PositiveIntegerField(_("버전"))
    title = models.CharField(_("제목"), max_length=200)
    body = models.TextField(_("본문"))
    is_required = models.BooleanField(_("필수 여부"), default=True)
    text_sha256 = models.CharField(_("본문 SHA-256"), max_length=64, blank=True, editable=False)
    published_at = models.DateTimeField(_("게시 시각"), null=True, blank=True)
    created_at = models.DateTimeField(_("작성 시각"), auto_now_add=True)

    class Meta:
        verbose_name = _("동의서")
        verbose_name_plural = _("동의서")
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="consent_document_kind_version")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ConsentRecord(models.Model):
    """An entry in the consent ledger: one acceptance or withdrawal, never edited."""

    class Action(models.TextChoices):
        ACCEPTED = "accepted", _("동의")
        WITHDRAWN = "withdrawn", _("철회")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_records")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="records")
    action = models.CharField(_("행위"), max_length=16, choices=Action.choices)
    text_sha256 = models.CharField(_("동의한 본문 SHA-256"), max_length=64)
    signed_document_sha256 = models.CharField(_("서명 문서 SHA-256"), max_length=64, blank=True)
    # For the power of attorney: the SHA-256 of what was signed (the filled-in text and the signature: the signed
    # record's content_sha256), written with the acceptance; the PDF is rendered after it (docs/claimants.md).
    signed_content_sha256 = models.CharField(_("서명 내용 SHA-256"), max_length=64, blank=True)
    at = models.DateTimeField(_("시각"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("사용자 에이전트"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("동의 기록")
        verbose_name_plural = _("동의 기록")
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "document", "-at"], name="consent_record_user_doc")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.document} ({self.at:%Y-%m-%d %H:%M})"


def power_of_attorney_path(instance: "PowerOfAttorney", filename: str) -> str:
    return f"power-of-attorney/{instance.user_id}/{filename}"


class IdentityVerification(models.Model):
    """One request to an identity provider (간편인증: Kakao, PASS, Naver, Toss), from the moment it is sent until it
    is verified, refused or expired: either a check of who the person is (`IDENTITY`) or their certified signature
    over a power of attorney's SHA-256 (`SIGNATURE`). A receipt is used once: its id is unique, so a replayed or
    reused receipt cannot be recorded twice. The CI (연계정보) is kept encrypted with a keyed digest beside it (to
    find one person on two accounts); it is never shown or exported. See docs/identity.md."""

    class Kind(models.TextChoices):
        IDENTITY = "identity", _("본인인증")
        SIGNATURE = "signature", _("인증서 전자서명")

    class Status(models.TextChoices):
        PENDING = "pending", _("휴대전화 승인 대기")
        VERIFIED = "verified", _("확인 완료")
        REFUSED = "refused", _("휴대전화에서 거절")
        EXPIRED = "expired", _("시간 초과")
        FAILED = "failed", _("확인 실패")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="identity_verifications")
    kind = models.CharField(_("종류"), max_length=10, choices=Kind.choices)
    provider = models.CharField(_("제공자"), max_length=30)
    method = models.CharField(_("인증 수단"), max_length=10)
    receipt_id = models.CharField(_("접수 번호"), max_length=64, unique=True)
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # What was sent: the provider checks these again when the result is verified.
    requested_name = models.CharField(_("요청한 이름"), max_length=100)
    requested_birth_date = models.DateField(_("요청한 생년월일"), null=True)  # None once the account is deleted
    requested_phone = models.CharField(_("요청한 휴대전화"), max_length=20)
    document_sha256 = models.CharField(_("서명할 문서 SHA-256"), max_length=64, blank=True)
    requested_at = models.DateTimeField(_("요청 시각"), default=timezone.now)
    expires_at = models.DateTimeField(_("만료 시각"))
    # What the provider returned.
    verified_name = models.CharField(_("확인된 이름"), max_length=100, blank=True)
    verified_birth_date = models.DateField(_("확인된 생년월일"), null=True, blank=True)
    verified_phone = models.CharField(_("확인된 휴대전화"), max_length=20, blank=True)
    ci = EncryptedTextField(_("연계정보(CI)"), blank=True, editable=False)
    ci_digest = DigestField(_("연계정보 지문"), source="ci")
    signature_value = models.TextField(_("전자서명 값"), blank=True, editable=False)
    verified_at = models.DateTimeField(_("확인 시각"), null=True, blank=True)
    profile_mismatch = models.JSONField(_("회원 정보와 다른 항목"), default=list, blank=True)
    failure = models.CharField(_("실패 사유"), max_length=200, blank=True)
    sandbox = models.BooleanField(_("샌드박스"), default=False)

    class Meta:
        verbose_name = _("본인인증 기록")
        verbose_name_plural = _("본인인증 기록")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "kind", "-requested_at"], name="identity_user_kind_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.method} {self.receipt_id} ({self.get_status_display()})"


class SignatureEvidence(models.Model):
    """What every signed document keeps of its signing (the power of attorney; filing's 선정서): how it was signed,
    the hashes of the signed content and of the PDF, who signed it with their details at that moment, when, from
    where and how they were logged in. Filled in by `accounts.services.signing.document_sign`; the PDF and its
    SHA-256 are empty until a worker has rendered it (`signed_document_pdf_render`)."""

    class SignatureMethod(models.TextChoices):
        CERTIFIED = "certified", _("인증서 전자서명")
        DRAWN = "drawn", _("손글씨 서명")
        TYPED = "typed", _("이름 입력")

    signature_method = models.CharField(_("서명 방식"), max_length=10, choices=SignatureMethod.choices)
    typed_name = models.CharField(_("입력한 이름"), max_length=100, blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, db_index=True, blank=True)
    content_sha256 = models.CharField(_("서명 내용 SHA-256"), max_length=64, blank=True)
    signer_snapshot = models.JSONField(_("서명자 정보"), default=dict)
    signed_at = models.DateTimeField(_("서명 시각"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("사용자 에이전트"), max_length=500, blank=True)
    authentication = models.JSONField(_("본인 확인 방법"), default=dict)

    class Meta:
        abstract = True


class PowerOfAttorney(SignatureEvidence):
    """A signed electronic power of attorney (소송위임장) with the evidence of its signing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="powers_of_attorney")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="powers_of_attorney")
    signature_image = models.FileField(_("서명 이미지"), upload_to=power_of_attorney_path, blank=True)
    pdf = models.FileField(_("서명된 PDF"), upload_to=power_of_attorney_path, blank=True)
    withdrawn_at = models.DateTimeField(_("철회 시각"), null=True, blank=True)
    # The provider's signed result over the filled-in text's SHA-256, when signed with a certificate.
    certified_signature = models.OneToOneField(
        IdentityVerification,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="power_of_attorney",
        verbose_name=_("인증서 전자서명"),
    )

    class Meta:
        verbose_name = _("소송위임장")
        verbose_name_plural = _("소송위임장")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.document_number} {self.user}"

    @property
    def document_number(self) -> str:
        """The number printed on the PDF and its audit certificate."""
        return f"POA-{self.pk:07d}"


class DeletionRequest(models.Model):
    """A claimant's request to delete their account. Staff confirm or reject it; confirming anonymises
    what the firm must keep (filed claims, the consent ledger, signed powers of attorney) and removes the rest."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("요청됨")
        CONFIRMED = "confirmed", _("삭제 완료")
        REJECTED = "rejected", _("거절")
        CANCELLED = "cancelled", _("요청 취소")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deletion_requests")
    requested_at = models.DateTimeField(_("요청 시각"), default=timezone.now)
    reason = models.TextField(_("삭제 사유"), blank=True)
    status = models.CharField(_("상태"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("처리한 직원"),
    )
    decided_at = models.DateTimeField(_("처리 시각"), null=True, blank=True)
    decision_note = models.TextField(_("처리 메모"), blank=True, help_text=_("거절할 때는 사유를 적어 주세요."))
    outcome = models.JSONField(_("처리 결과"), default=dict, blank=True)

    class Meta:
        verbose_name = _("계정 삭제 요청")
        verbose_name_plural = _("계정 삭제 요청")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="requested"), name="one_open_deletion_request_per_user"
            )
        ]
        permissions = [("decide_deletionrequest", _("계정 삭제 요청 확정·거절"))]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()}, {self.requested_at:%Y-%m-%d})"


class RateLimitCounter(models.Model):
    """A request rate-limit counter kept in the database while Redis is down (config.cache.RateLimitCache): the
    key names the limit, the client and the window; rows are deleted once their window has ended."""

    key = models.CharField(max_length=250, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("요청 횟수 제한 카운터")
        verbose_name_plural = _("요청 횟수 제한 카운터")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class UnsentTask(models.Model):
    """A background task queued after a commit whose message the broker did not take (Redis down). Published again,
    in order, by claims.tasks.recovery.unsent_tasks_publish_task once the broker answers (config.celery)."""

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("보내지 못한 작업")
        verbose_name_plural = _("보내지 못한 작업")

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)!r}"


class PhoneCode(models.Model):
    """A one-time code sent by SMS, to verify the account's phone number or to sign in with it. Only a keyed hash of
    the code is kept (the SMS reads the code from the cache for its 5 minutes); it works for PHONE_CODE_LIFETIME
    and PHONE_CODE_TRIES wrong guesses, once (accounts/services/phone.py)."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("휴대전화 인증")
        SIGN_IN = "sign_in", _("휴대전화 로그인")

    user = models.ForeignKey(User, verbose_name=_("사용자"), on_delete=models.CASCADE, related_name="phone_codes")
    phone = models.CharField(_("휴대전화"), max_length=20)
    purpose = models.CharField(_("용도"), max_length=10, choices=Purpose.choices)
    salt = models.CharField(_("솔트"), max_length=32)
    code_hash = models.CharField(_("인증번호 해시"), max_length=64)
    attempts = models.PositiveSmallIntegerField(_("틀린 횟수"), default=0)
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now)
    expires_at = models.DateTimeField(_("만료 시각"))
    used_at = models.DateTimeField(_("사용한 때"), null=True, blank=True)

    class Meta:
        verbose_name = _("휴대전화 인증번호")
        verbose_name_plural = _("휴대전화 인증번호")
        indexes = [models.Index(fields=["phone", "purpose", "created_at"], name="phone_code_lookup")]

    def __str__(self) -> str:
        return f"{self.purpose}#{self.pk}"
