"""Review: rejection reasons and flags on claims."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from claims.models.claims import Claim


class RejectionReason(models.Model):
    """A reason a lawyer may give when rejecting a claim. Lawyers edit the list; retired reasons are hidden."""

    code = models.SlugField(_("식별자"), max_length=64, unique=True)
    label_ko = models.CharField(_("사유 (한국어)"), max_length=200)
    label_en = models.CharField(_("사유 (영어)"), max_length=200, blank=True)
    requires_note = models.BooleanField(_("설명 필수"), default=False)
    is_active = models.BooleanField(_("사용 중"), default=True)
    order = models.PositiveSmallIntegerField(_("순서"), default=100)

    class Meta:
        verbose_name = _("반려 사유")
        verbose_name_plural = _("반려 사유")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_en if get_language() == "en" and self.label_en else self.label_ko


class Flag(models.Model):
    """A duplicate or fraud signal on a claim, found in the background, with the claims it matches.

    One row per (claim, code, fingerprint): the fingerprint names what matched (a hash of the shared value, the
    evidence file), so a second detection updates the row instead of adding one."""

    class Code(models.TextChoices):
        DUPLICATE_PHONE = "duplicate_phone", _("다른 계정과 같은 휴대전화 번호")
        DUPLICATE_EMAIL = "duplicate_email", _("다른 계정과 같은 이메일 주소")
        DUPLICATE_BUSINESS_NUMBER = "duplicate_business_number", _("다른 계정과 같은 사업자등록번호")
        DUPLICATE_BANK_ACCOUNT = "duplicate_bank_account", _("다른 계정과 같은 계좌번호")
        DUPLICATE_IDENTITY = "duplicate_identity", _("다른 계정과 같은 본인인증 연계정보(CI)")
        DUPLICATE_EVIDENCE = "duplicate_evidence", _("다른 신청과 같은 증빙 파일")
        SIMILAR_IMAGE = "similar_image", _("다른 신청과 거의 같은 사진")
        SIGNUP_BURST = "signup_burst", _("같은 IP에서 짧은 시간에 여러 계정 가입")
        REFERRAL_BURST = "referral_burst", _("같은 유입 경로·추천 코드로 짧은 시간에 평소보다 많은 가입")
        AMOUNT_OUTLIER = "amount_outlier", _("같은 유형의 신청보다 매우 큰 청구액")
        HOURS_BEYOND_WINDOW = "hours_beyond_window", _("공식 장애 시간보다 긴 피해 시간")
        # Found by reading the evidence (claims/services/evidence_findings.py), one flag per file.
        EVIDENCE_OUTSIDE_WINDOW = "evidence_outside_window", _("이용 증빙의 시각이 장애 시간 밖")
        EVIDENCE_AMOUNT_MISMATCH = "evidence_amount_mismatch", _("증빙의 금액이 손해 항목과 다름")

    class Severity(models.IntegerChoices):
        LOW = 1, _("낮음")
        MEDIUM = 2, _("보통")
        HIGH = 3, _("높음")

    class Status(models.TextChoices):
        OPEN = "open", _("확인 필요")
        REVIEWED = "reviewed", _("검토 완료")
        CLEARED = "cleared", _("해당 없어져 자동 해제")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(_("종류"), max_length=32, choices=Code.choices)
    severity = models.PositiveSmallIntegerField(_("중요도"), choices=Severity.choices)
    fingerprint = models.CharField(_("일치 기준"), max_length=64, blank=True)
    details = models.JSONField(_("세부 정보"), default=dict, blank=True)
    related_claim_ids = models.JSONField(_("일치하는 신청"), default=list, blank=True)
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("검토자"),
    )
    reviewed_at = models.DateTimeField(_("검토 시각"), null=True, blank=True)
    note = models.TextField(_("검토 메모"), blank=True)
    created_at = models.DateTimeField(_("발견 시각"), default=timezone.now)
    updated_at = models.DateTimeField(_("갱신 시각"), default=timezone.now)

    class Meta:
        verbose_name = _("의심 플래그")
        verbose_name_plural = _("의심 플래그")
        ordering = ["-severity", "code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "code", "fingerprint"], name="flag_claim_code_fingerprint")
        ]
        indexes = [
            models.Index(fields=["claim", "status"], name="flag_claim_status"),
            models.Index(fields=["status", "code"], name="flag_status_code"),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} ({self.claim})"
