from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    """One delivery a provider sent us, kept as received (core.webhooks.WebhookView): a provider sends an event
    again until we answer 200, so its id is unique per provider and a repeat is answered without processing it
    twice. `processed_at` is set by the task that handled it."""

    provider = models.CharField(_("제공자"), max_length=50)
    event_id = models.CharField(_("이벤트 ID"), max_length=200)
    received_at = models.DateTimeField(_("받은 때"), default=timezone.now)
    payload = models.JSONField(_("내용"))
    signature_valid = models.BooleanField(_("서명 확인됨"))
    processed_at = models.DateTimeField(_("처리한 때"), null=True, blank=True)

    class Meta:
        verbose_name = _("웹훅 이벤트")
        verbose_name_plural = _("웹훅 이벤트")
        constraints = [
            # Only signed deliveries count: a forged one, if kept for investigation, never shadows the real event.
            models.UniqueConstraint(
                fields=["provider", "event_id"], condition=Q(signature_valid=True), name="webhook_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "received_at"], name="webhook_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class AuditEntry(models.Model):
    """Who did what to which record, when and from where: staff decisions, edits, exports and every view of
    personal data. Written by services in the same transaction as the change (core.audit); never edited or
    deleted."""

    class Action(models.TextChoices):
        VIEWED_CLAIM = "viewed_claim", _("신청 개인정보 열람")
        VIEWED_EVIDENCE = "viewed_evidence", _("증빙 파일 열람")
        TRANSITION = "transition", _("상태 변경")
        ASSIGNED = "assigned", _("담당자 지정")
        EDITED = "edited", _("내용 수정")
        FLAG_REVIEWED = "flag_reviewed", _("플래그 검토")
        FLAG_CLEARED = "flag_cleared", _("플래그 자동 해제")
        FLAG_RAISED = "flag_raised", _("플래그 발생")
        WINDOW_REVISED = "window_revised", _("장애 시간 정정")
        RECOMPUTE_REQUESTED = "recompute_requested", _("재산정 요청")
        EXPORTED = "exported", _("내보내기")
        IDENTITY_CHECKED = "identity_checked", _("본인인증·인증서 서명")
        CLAIMANT_ADDED = "claimant_added", _("제출 후 신청인 자료 추가")
        ADDITIONS_SEEN = "additions_seen", _("신청인 추가 자료 확인")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("직원"),
    )
    action = models.CharField(_("행위"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("대상 종류"), max_length=100)
    object_id = models.CharField(_("대상 ID"), max_length=64, blank=True)
    claim = models.ForeignKey(
        "claims.Claim",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("신청"),
    )
    data = models.JSONField(_("세부 정보"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("사용자 에이전트"), max_length=500, blank=True)
    at = models.DateTimeField(_("시각"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("감사 기록")
        verbose_name_plural = _("감사 기록")
        db_table = "claims_auditentry"  # moved from claims with its table (core migration 0002)
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["claim", "-at"], name="audit_claim_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["action", "-at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type}:{self.object_id} ({self.at:%Y-%m-%d %H:%M})"


def firm_logo_path(instance, filename: str) -> str:
    """Where the firm's logo is kept (private storage; served by core.views.firm_logo)."""
    return f"firm/{filename}"


class FirmProfile(models.Model):
    """The firm's own face: one row (pk 1), edited by Lawyers and superusers in the admin through
    core.services.firm_profile_update (audited) and read through core.selectors.firm_profile (cached). Shown in
    the header, footer and contact block of every claimant page, in the emails and in the power of attorney."""

    SINGLETON_PK = 1

    name = models.CharField(_("법무법인 이름"), max_length=100)
    logo = models.ImageField(_("로고"), upload_to=firm_logo_path, blank=True)
    address = models.CharField(_("주소"), max_length=200, blank=True)
    phone = models.CharField(_("대표 전화"), max_length=30, blank=True)
    email = models.EmailField(_("대표 이메일"), blank=True)
    kakao_channel_url = models.URLField(
        _("카카오톡 채널 주소"), blank=True, help_text=_("예: https://pf.kakao.com/_xxxxxx")
    )
    hours = models.CharField(_("상담 시간"), max_length=100, blank=True)
    privacy_officer_name = models.CharField(_("개인정보 보호책임자"), max_length=100, blank=True)
    privacy_officer_contact = models.CharField(_("개인정보 보호책임자 연락처"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("수정한 때"), auto_now=True)

    class Meta:
        verbose_name = _("법무법인 정보")
        verbose_name_plural = _("법무법인 정보")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="firm_profile_singleton")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The firm's name, or the site's name while staff have not entered it."""
        from django.utils.translation import gettext

        return self.name or gettext("카카오 장애 공동소송")

    @property
    def logo_url(self) -> str:
        """Where pages load the logo (core.views.firm_logo), versioned so browsers fetch a new one; "" without."""
        if not self.logo:
            return ""
        from django.urls import reverse

        return f"{reverse('firm_logo')}?v={int(self.updated_at.timestamp())}"

    @property
    def phone_link(self) -> str:
        """The phone number as a tel: target (digits and +)."""
        return "".join(character for character in self.phone if character.isdigit() or character == "+")
