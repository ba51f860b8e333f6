"""Cohorts, filing waves with their members, and export jobs.

Moved from claims with state-only migrations (claims 0017, filing 0001): each keeps its table (`claims_cohort`,
`claims_filingwave`, `claims_wavemember`, `claims_exportjob`), so no row moved.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import IdentityVerification, SignatureEvidence
from claims.models import Claim, Incident, export_path


class Cohort(models.Model):
    """A saved filter over one incident's claims (see `filing.selectors.cohorts.CohortCriteria` for the criteria
    keys). Its count and totals are live; a filing wave freezes its members at one moment."""

    name = models.CharField(_("이름"), max_length=200)
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="cohorts", verbose_name=_("사고"))
    criteria = models.JSONField(_("조건"), default=dict, blank=True)
    note = models.TextField(_("메모"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("작성자"),
    )
    created_at = models.DateTimeField(_("작성 시각"), default=timezone.now)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)

    class Meta:
        db_table = "claims_cohort"
        verbose_name = _("원고 집단")
        verbose_name_plural = _("원고 집단")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class FilingWave(models.Model):
    """One filing of the suit: the plaintiffs of a cohort frozen at one moment, numbered 1..N for the annex."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("준비 중")
        FROZEN = "frozen", _("원고 확정")
        FILED = "filed", _("소 제기 완료")

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="waves", verbose_name=_("원고 집단"))
    name = models.CharField(_("차수 이름"), max_length=200, unique=True)
    court = models.CharField(_("법원"), max_length=100)
    case_name = models.CharField(_("사건명"), max_length=200, default="손해배상(기)")
    defendant = models.CharField(_("피고"), max_length=200, default="주식회사 카카오")
    defendant_count = models.PositiveSmallIntegerField(
        _("피고 수"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("송달료 계산에 쓰입니다. 카카오만 피고이면 1, SK C&C도 피고로 하면 2."),
    )
    case_number = models.CharField(_("사건번호"), max_length=50, blank=True)
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    frozen_at = models.DateTimeField(_("확정 시각"), null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("확정한 직원"),
    )
    filed_on = models.DateField(_("소 제기일"), null=True, blank=True)
    member_count = models.PositiveIntegerField(_("원고 수"), default=0)
    claimed_total = models.PositiveBigIntegerField(_("청구금액 합계 (원)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("작성자"),
    )
    created_at = models.DateTimeField(_("작성 시각"), default=timezone.now)

    class Meta:
        db_table = "claims_filingwave"
        verbose_name = _("소 제기 차수")
        verbose_name_plural = _("소 제기 차수")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class WaveMember(models.Model):
    """A plaintiff of a frozen wave, with what the annex shows copied at the freeze. Later edits to the claim do
    not change it; a withdrawal after the freeze is shown by joining the claim's live status."""

    wave = models.ForeignKey(FilingWave, on_delete=models.CASCADE, related_name="members", verbose_name=_("차수"))
    number = models.PositiveIntegerField(_("원고 번호"))
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="wave_memberships", verbose_name=_("신청"))
    name = models.CharField(_("성명"), max_length=100)
    postal_code = models.CharField(_("우편번호"), max_length=5, blank=True)
    address = models.CharField(_("주소"), max_length=401)
    claimant_type = models.CharField(_("신청인 유형"), max_length=20, choices=Claim.ClaimantType.choices, blank=True)
    business_name = models.CharField(_("상호"), max_length=200, blank=True)
    business_number = models.CharField(_("사업자등록번호"), max_length=10, blank=True)
    amount_claimed = models.PositiveBigIntegerField(_("청구금액 (원)"))
    claimed_by_kind = models.JSONField(_("손해 종류별 신청 금액"), default=dict)
    estimated_by_rule = models.JSONField(_("산정 항목별 금액"), default=dict)
    model_version = models.PositiveIntegerField(_("산정 모델 버전"), null=True, blank=True)

    class Meta:
        db_table = "claims_wavemember"
        verbose_name = _("차수 원고")
        verbose_name_plural = _("차수 원고")
        ordering = ["wave", "number"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "number"], name="wave_member_number"),
            models.UniqueConstraint(fields=["wave", "claim"], name="wave_member_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.wave} {self.number}. {self.name}"


class SelectedParty(models.Model):
    """A plaintiff of a frozen wave chosen by a Lawyer as a selected party (선정당사자, Civil Procedure Act art. 53):
    one of the plaintiffs who sues for all the wave's plaintiffs once each has designated them in a signed 선정서."""

    wave = models.ForeignKey(
        FilingWave, on_delete=models.CASCADE, related_name="selected_parties", verbose_name=_("차수")
    )
    member = models.OneToOneField(
        WaveMember, on_delete=models.CASCADE, related_name="selected_party", verbose_name=_("차수 원고")
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("선정한 직원"),
    )
    chosen_at = models.DateTimeField(_("선정 시각"), default=timezone.now)

    class Meta:
        verbose_name = _("선정당사자")
        verbose_name_plural = _("선정당사자")
        ordering = ["wave", "member__number"]

    def __str__(self) -> str:
        return str(self.member)


class DesignationRequest(models.Model):
    """A wave's plaintiff asked to sign a 선정서 designating the wave's selected parties: one per plaintiff, written
    when the message asking them goes out. `pending_signature` is their certified signature request while it is
    open."""

    wave = models.ForeignKey(
        FilingWave, on_delete=models.CASCADE, related_name="designation_requests", verbose_name=_("차수")
    )
    member = models.OneToOneField(
        WaveMember, on_delete=models.CASCADE, related_name="designation_request", verbose_name=_("차수 원고")
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="designation_requests")
    requested_at = models.DateTimeField(_("요청 시각"), default=timezone.now)
    pending_signature = models.OneToOneField(
        IdentityVerification,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="designation_request",
        verbose_name=_("진행 중인 인증서 전자서명"),
    )

    class Meta:
        verbose_name = _("선정서 서명 요청")
        verbose_name_plural = _("선정서 서명 요청")
        ordering = ["wave", "member__number"]

    def __str__(self) -> str:
        return f"{self.wave} {self.member.number}"


def designation_path(instance: "Designation", filename: str) -> str:
    return f"designations/{instance.user_id}/{filename}"


class Designation(SignatureEvidence):
    """A signed 선정서: the plaintiff designates the wave's selected parties to sue for them, with the evidence of
    the signing (the same as a power of attorney's: accounts.SignatureEvidence)."""

    request = models.OneToOneField(
        DesignationRequest, on_delete=models.PROTECT, related_name="designation", verbose_name=_("서명 요청")
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="designations")
    selected_numbers = models.JSONField(_("선정당사자 원고 번호"), default=list)
    signature_image = models.FileField(_("서명 이미지"), upload_to=designation_path, blank=True)
    pdf = models.FileField(_("서명된 PDF"), upload_to=designation_path, blank=True)
    certified_signature = models.OneToOneField(
        IdentityVerification,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="designation",
        verbose_name=_("인증서 전자서명"),
    )

    class Meta:
        verbose_name = _("선정서")
        verbose_name_plural = _("선정서")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.document_number} {self.user}"

    @property
    def document_number(self) -> str:
        """The number printed on the PDF and its audit certificate."""
        return f"SEL-{self.pk:07d}"


class ExportJob(models.Model):
    """A file built in the background from a cohort or a wave, kept privately until it expires."""

    class Kind(models.TextChoices):
        CLAIMS_CSV = "claims_csv", _("신청 목록 (CSV)")
        CLAIMS_XLSX = "claims_xlsx", _("신청 목록 (엑셀)")
        ANNEX_PDF = "annex_pdf", _("원고 목록 (PDF)")
        ANNEX_XLSX = "annex_xlsx", _("원고 목록 (엑셀)")
        AMOUNTS_PDF = "amounts_pdf", _("청구금액 내역 (PDF)")
        AMOUNTS_XLSX = "amounts_xlsx", _("청구금액 내역 (엑셀)")
        STANDING_PACK = "standing_pack", _("원고 적격 자료 (ZIP)")
        EVIDENCE_BUNDLE = "evidence_bundle", _("증빙 묶음 (ZIP)")
        DESIGNATION_BUNDLE = "designation_bundle", _("선정서 묶음 (ZIP)")
        SELECTED_PARTIES_XLSX = "selected_xlsx", _("선정당사자 목록 (엑셀)")
        SELECTORS_ANNEX_XLSX = "selectors_xlsx", _("선정자 목록 (엑셀)")

    class Status(models.TextChoices):
        PENDING = "pending", _("대기")
        RUNNING = "running", _("만드는 중")
        DONE = "done", _("완료")
        FAILED = "failed", _("실패")
        EXPIRED = "expired", _("만료되어 삭제됨")

    kind = models.CharField(_("종류"), max_length=20, choices=Kind.choices)
    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="exports", verbose_name=_("원고 집단")
    )
    wave = models.ForeignKey(
        FilingWave, on_delete=models.CASCADE, null=True, blank=True, related_name="exports", verbose_name=_("차수")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("요청한 직원")
    )
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(_("처리"), default=0)
    total = models.PositiveIntegerField(_("전체"), default=0)
    file = models.FileField(_("파일"), upload_to=export_path, max_length=300, blank=True)
    file_name = models.CharField(_("내려받을 파일명"), max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("크기 (바이트)"), null=True, blank=True)
    created_at = models.DateTimeField(_("요청 시각"), default=timezone.now)
    finished_at = models.DateTimeField(_("완료 시각"), null=True, blank=True)
    expires_at = models.DateTimeField(_("만료 시각"), null=True, blank=True, db_index=True)
    error = models.TextField(_("오류"), blank=True)
    # The build that holds the job (one token per run of the task) and its sign of life, refreshed with the progress
    # every few thousand rows. Only the holder may record progress or the file (compare-and-set on `lease`).
    lease = models.UUIDField(_("작업 토큰"), null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("마지막 작업 신호"), null=True, blank=True)
    requeues = models.PositiveIntegerField(_("다시 보낸 횟수"), default=0)

    class Meta:
        db_table = "claims_exportjob"
        verbose_name = _("내보내기 작업")
        verbose_name_plural = _("내보내기 작업")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cohort__isnull=False, wave__isnull=True) | Q(cohort__isnull=True, wave__isnull=False),
                name="export_job_one_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class ReadinessOverride(models.Model):
    """A Lawyer's decision that one claim may join a wave although it is not ready for filing
    (filing/selectors/readiness.py), with the reason. Revocable: a revoked override is kept, with who revoked it and
    when; at most one is in force per claim."""

    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="readiness_overrides", verbose_name=_("신청")
    )
    reason = models.TextField(_("사유"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("결정한 변호사")
    )
    created_at = models.DateTimeField(_("결정 시각"), default=timezone.now)
    revoked_at = models.DateTimeField(_("취소 시각"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("취소한 직원"),
    )
    revoke_reason = models.TextField(_("취소 사유"), blank=True)

    class Meta:
        verbose_name = _("소 제기 준비 예외")
        verbose_name_plural = _("소 제기 준비 예외")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"], condition=Q(revoked_at__isnull=True), name="readiness_override_one_in_force"
            )
        ]

    def __str__(self) -> str:
        return f"{self.claim} ({self.created_at:%Y-%m-%d})"
