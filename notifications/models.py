"""One row per message (email, SMS, 알림톡): what to render, for whom, and what became of it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.phones import phone_number_masked


class Notification(models.Model):
    """A message in the outbox. `idempotency_key` names the message ("claim-status:<event id>:<user id>"), so it is
    created once however often it is asked for; `context` holds ids only (claim, event...), never personal data:
    the message is rendered from them when it is sent. `address` is kept for delivery (masked in the admin and
    never logged): email addresses, or a mobile number 010XXXXXXXX for SMS and 알림톡."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("이메일")
        SMS = "sms", _("문자(SMS)")
        ALIMTALK = "alimtalk", _("알림톡")

    class Status(models.TextChoices):
        QUEUED = "queued", _("대기")
        SENDING = "sending", _("보내는 중")
        SENT = "sent", _("보냄")
        DELIVERED = "delivered", _("받음")
        FELL_BACK = "fell_back", _("문자로 받음")
        FAILED = "failed", _("실패")

    channel = models.CharField(_("채널"), max_length=20, choices=Channel.choices)
    template = models.CharField(_("템플릿"), max_length=200)
    language = models.CharField(_("언어"), max_length=10)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("받는 사람"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    address = models.TextField(_("주소"), blank=True)
    context = models.JSONField(_("관련 항목"), default=dict, blank=True)
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("시도 횟수"), default=0)
    provider_message_id = models.CharField(_("제공자 메시지 ID"), max_length=255, blank=True)
    cost = models.PositiveBigIntegerField(_("비용(원)"), default=0)
    error = models.TextField(_("오류"), blank=True)
    idempotency_key = models.CharField(_("중복 방지 키"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("보낸 때"), null=True, blank=True)
    fell_back = models.BooleanField(_("문자로 대체 발송"), default=False, help_text=_("알림톡 대신 문자로 보냄"))
    # A marketing message asked for at night is held until 08:00 KST (notifications.services.marketing_send_after):
    # nothing sends it before then; the release sweep clears this and queues its task.
    not_before = models.DateTimeField(_("보내기 시작할 때"), null=True, blank=True)
    # From the provider's delivery report (notifications.services.notification_reports_update): when it reached the
    # phone (or when it failed to), and the provider's status code.
    reported_at = models.DateTimeField(_("결과 보고 시각"), null=True, blank=True)
    report_code = models.CharField(_("결과 코드"), max_length=20, blank=True)
    bulk = models.ForeignKey(
        "BulkMessage",
        verbose_name=_("대량 발송"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        verbose_name = _("메시지")
        verbose_name_plural = _("메시지")
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_status_created"),
            models.Index(fields=["not_before"], name="notification_held", condition=models.Q(not_before__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.template}#{self.pk}"

    @property
    def addresses(self) -> list[str]:
        return [address.strip() for address in self.address.split(",") if address.strip()]


def address_masked(address: str) -> str:
    """`k***@example.com` for each email address and `010-****-5678` for each phone number, for the admin (never
    log an address at all)."""
    masked = []
    for item in address.split(","):
        local, at, domain = item.strip().partition("@")
        if local and at:
            masked.append(f"{local[0]}***{at}{domain}")
        elif local:
            masked.append(phone_number_masked(local))
    return ", ".join(masked)


class MessageTemplate(models.Model):
    """One version of the text of an SMS or 알림톡 (and of the email sent instead to people who chose email), in Korean
    and English. `#{name}` marks a variable, as in Kakao's 알림톡 templates. A 알림톡 needs the template code the
    provider gave when Kakao approved the exact text (one code per language: an unapproved language goes as SMS);
    `sms_text_*` is the SMS sent when the 알림톡 is not delivered, or instead of it (empty: the text itself).
    A published version is never edited: staff add the next version (docs/providers/messages.md)."""

    class Kind(models.TextChoices):
        PHONE_CODE = "phone_code", _("휴대전화 인증번호")
        CLAIM_RECEIVED = "claim_received", _("신청 접수")
        INFORMATION_REQUESTED = "information_requested", _("추가 자료 요청")
        REMINDER_BEFORE_DUE = "reminder_before_due", _("자료 제출 기한 전 알림")
        REMINDER_AFTER_DUE = "reminder_after_due", _("자료 제출 기한 경과 알림")
        STATUS_CHANGED = "status_changed", _("진행 상태 변경")
        WAVE_FILED = "wave_filed", _("소송 제기")
        DESIGNATION_REQUESTED = "designation_requested", _("선정서 서명 요청")
        PAYMENT_RECEIPT = "payment_receipt", _("결제 영수증")
        REFUND_RECEIPT = "refund_receipt", _("환불 영수증")
        NOTICE = "notice", _("공지 (대량 발송)")
        MARKETING = "marketing", _("안내·홍보 (광고성)")

    kind = models.CharField(_("종류"), max_length=32, choices=Kind.choices)
    version = models.PositiveIntegerField(_("버전"))
    alimtalk_code_ko = models.CharField(_("알림톡 템플릿 코드 (한국어)"), max_length=100, blank=True)
    alimtalk_code_en = models.CharField(_("알림톡 템플릿 코드 (영어)"), max_length=100, blank=True)
    text_ko = models.TextField(_("본문 (한국어)"))
    text_en = models.TextField(_("본문 (영어)"))
    sms_text_ko = models.TextField(_("대체 문자 (한국어)"), blank=True)
    sms_text_en = models.TextField(_("대체 문자 (영어)"), blank=True)
    published_at = models.DateTimeField(_("게시 시각"), null=True, blank=True)
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now)

    class Meta:
        verbose_name = _("메시지 템플릿")
        verbose_name_plural = _("메시지 템플릿")
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="message_template_kind_version")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_ko

    def sms_text(self, language: str) -> str:
        return (self.sms_text_en if language == "en" else self.sms_text_ko) or self.text(language)

    def alimtalk_code(self, language: str) -> str:
        return self.alimtalk_code_en if language == "en" else self.alimtalk_code_ko


class ContactPreference(models.Model):
    """How a claimant wants news of their case (email, or SMS/알림톡 to their verified phone), and their separate,
    optional consent to marketing messages (never sent at night). No row: email, no marketing."""

    class CaseNews(models.TextChoices):
        EMAIL = "email", _("이메일")
        PHONE = "phone", _("문자·알림톡")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("사용자"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="contact_preference",
    )
    case_news = models.CharField(_("사건 소식 받는 방법"), max_length=10, choices=CaseNews.choices, default="email")
    marketing_consented_at = models.DateTimeField(_("광고성 정보 수신 동의 시각"), null=True, blank=True)
    updated_at = models.DateTimeField(_("바꾼 때"), auto_now=True)

    class Meta:
        verbose_name = _("알림 설정")
        verbose_name_plural = _("알림 설정")

    def __str__(self) -> str:
        return f"#{self.user_id}: {self.case_news}"


class BulkMessage(models.Model):
    """One message to everyone in an audience (a cohort or a filing wave, registered by the app that owns it:
    notifications.bulk.audience), written by staff from the notice or marketing template. Its Notification rows are
    created in batches by a task and sent in chunks within the provider's rate limit (notifications/bulk.py)."""

    class Status(models.TextChoices):
        PLANNING = "planning", _("준비 중")
        QUEUED = "queued", _("보내는 중")

    audience = models.CharField(_("받는 사람들"), max_length=50)
    audience_id = models.PositiveBigIntegerField(_("받는 사람들 ID"))
    audience_label = models.CharField(_("받는 사람들 이름"), max_length=250)
    kind = models.CharField(_("템플릿"), max_length=32, choices=MessageTemplate.Kind.choices)
    message = models.TextField(_("내용"))
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.PLANNING)
    total = models.PositiveIntegerField(_("받는 사람 수"), default=0)
    estimated_cost = models.PositiveBigIntegerField(_("예상 비용(원)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("보낸 직원"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("만든 때"), default=timezone.now)
    queued_at = models.DateTimeField(_("대기열에 넣은 때"), null=True, blank=True)

    class Meta:
        verbose_name = _("대량 발송")
        verbose_name_plural = _("대량 발송")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.audience_label} ({self.get_kind_display()})"
