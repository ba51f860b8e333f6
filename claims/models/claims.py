"""Claims with their loss items and evidence, the claim timeline and requests for information."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.functions import Cast, Greatest, Length, StrIndex, Substr
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models.reference import Incident, Service

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L


def new_reference_code() -> str:
    """A short code people can read aloud and type: KC-XXXX-XXXX without ambiguous characters."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"KC-{body[:4]}-{body[4:]}"


class Claim(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("작성 중")
        SUBMITTED = "submitted", _("접수됨")
        IN_REVIEW = "in_review", _("검토 중")
        INFO_REQUESTED = "info_requested", _("추가 자료 요청")
        ACCEPTED = "accepted", _("승인")
        REJECTED = "rejected", _("반려")
        WITHDRAWN = "withdrawn", _("참여 철회")

    class ClaimantType(models.TextChoices):
        INDIVIDUAL = "individual", _("개인")
        SOLE_PROPRIETOR = "sole_proprietor", _("개인사업자")
        COMPANY = "company", _("법인")

    reference_code = models.CharField(_("접수번호"), max_length=16, unique=True, null=True, blank=True)
    claimant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(_("상태"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    services = models.ManyToManyField(Service, verbose_name=_("피해 서비스"), related_name="claims", blank=True)
    was_using_during_outage = models.BooleanField(_("장애 당시 이용 중"), null=True)
    claimant_type = models.CharField(_("신청인 유형"), max_length=20, choices=ClaimantType.choices, blank=True)
    business_registration_number = models.CharField(_("사업자등록번호"), max_length=10, blank=True, db_index=True)
    business_name = models.CharField(_("상호"), max_length=200, blank=True)
    business_sector = models.CharField(_("업종"), max_length=100, blank=True)
    already_compensated = models.PositiveBigIntegerField(_("운영사로부터 이미 받은 보상액 (원)"), default=0)
    wizard_step = models.CharField(_("작성 단계"), max_length=20, default="eligibility")
    claimed_total = models.PositiveBigIntegerField(_("청구액 합계 (원)"), default=0)
    estimate_total = models.PositiveBigIntegerField(_("산정액 (원)"), null=True, blank=True)
    estimate_flags = models.JSONField(_("산정 플래그"), default=list, blank=True)
    estimated_at = models.DateTimeField(
        _("산정 확인 시각"),
        null=True,
        blank=True,
        help_text=_("현재 입력값과 적용 중인 모델로 마지막으로 산정·확인한 시각"),
    )
    estimate_error = models.TextField(_("산정 오류"), blank=True)
    estimate_visible_to_claimant = models.BooleanField(_("신청인에게 산정액 공개"), default=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims_to_review",
        verbose_name=_("담당자"),
    )
    version = models.PositiveIntegerField(_("버전"), default=1)
    created_at = models.DateTimeField(_("작성 시각"), auto_now_add=True)
    updated_at = models.DateTimeField(_("수정 시각"), auto_now=True)
    submitted_at = models.DateTimeField(_("제출 시각"), null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(_("결정 시각"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("철회 시각"), null=True, blank=True)
    anonymised_at = models.DateTimeField(
        _("익명화 시각"), null=True, blank=True, help_text=_("보관 기간이 끝나 개인정보와 증빙 파일을 지운 시각")
    )
    # What the claimant added after submitting (files, notes) is NEW to staff until a reviewer marks it seen: the
    # id of the newest such timeline entry the reviewer saw (0: none yet).
    additions_seen_through = models.PositiveBigIntegerField(
        _("확인한 추가 자료 (기록 번호)"),
        default=0,
        help_text=_("제출 후 신청인이 추가한 자료 중 담당자가 확인한 마지막 기록의 번호"),
    )

    class Meta:
        verbose_name = _("참여 신청")
        verbose_name_plural = _("참여 신청")
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["claimant", "incident"],
                condition=~Q(status="withdrawn"),
                name="one_active_claim_per_claimant_incident",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-submitted_at"], name="claim_status_submitted"),
            models.Index(fields=["reviewer", "status", "-submitted_at"], name="claim_reviewer_status"),
            models.Index(fields=["claimant_type", "-submitted_at"], name="claim_type_submitted"),
            # The dashboard's pass over the claims and its list of the claims it leaves out (drafts, withdrawn) read
            # this narrow index alone (index-only scans) instead of the wide table (claims/selectors/dashboard.py).
            models.Index(
                fields=["status", "claimant_type"],
                include=["estimate_total", "claimed_total", "id"],
                name="claim_dashboard_totals",
            ),
        ]
        permissions = [
            ("review_claim", _("신청 검토 (상태 변경, 자료 요청, 담당 지정)")),
            ("decide_claim", _("신청 승인·반려")),
            ("view_personal_data", _("신청인 개인정보와 증빙 열람")),
            ("export_personal_data", _("개인정보가 담긴 자료 내보내기")),
            ("view_dashboard", _("집계 현황 보기")),
            ("manage_damage_model", _("손해 산정 모델 작성·적용")),
        ]

    def __str__(self) -> str:
        return self.reference_code or _("작성 중인 신청 #%(pk)s") % {"pk": self.pk}


class LossItem(models.Model):
    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", _("유료 서비스 이용료")
        BUSINESS_REVENUE = "business_revenue", _("영업 매출 손실")
        EXPENSE = "expense", _("장애로 인한 추가 지출")
        OTHER = "other", _("기타 손해")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="loss_items")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="loss_items")
    kind = models.CharField(_("손해 종류"), max_length=20, choices=Kind.choices)
    monthly_fee = models.PositiveBigIntegerField(_("월 이용료 (원)"), default=0)
    comparison_revenue = models.PositiveBigIntegerField(_("평상시 비교 기간 매출 (원)"), default=0)
    outage_revenue = models.PositiveBigIntegerField(_("장애 기간 매출 (원)"), default=0)
    amount = models.PositiveBigIntegerField(_("금액 (원)"), default=0)
    description = models.TextField(_("설명"), blank=True)
    affected_hours = models.DecimalField(_("피해 시간"), max_digits=6, decimal_places=1, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # claimed_amount (below) kept by PostgreSQL in a generated column, so that sums over many items read the narrow
    # index loss_item_service_claimed instead of the wide table (the dashboard's per-service totals).
    claimed_amount_stored = models.GeneratedField(
        expression=Case(
            When(kind=Kind.SUBSCRIPTION, then=F("monthly_fee")),
            When(kind=Kind.BUSINESS_REVENUE, then=Greatest(F("comparison_revenue") - F("outage_revenue"), Value(0))),
            default=F("amount"),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("손해 항목")
        verbose_name_plural = _("손해 항목")
        ordering = ["claim", "id"]
        indexes = [
            models.Index(
                fields=["service"], include=["claim", "claimed_amount_stored"], name="loss_item_service_claimed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.service})"

    @property
    def claimed_amount(self) -> int:
        if self.kind == self.Kind.SUBSCRIPTION:
            return self.monthly_fee
        if self.kind == self.Kind.BUSINESS_REVENUE:
            return max(0, self.comparison_revenue - self.outage_revenue)
        return self.amount


def evidence_path(instance: "Evidence", filename: str) -> str:
    """Random names under a per-claim folder: the original name is kept only in the database."""
    return f"evidence/{instance.claim_id}/{secrets.token_hex(16)}"


def export_path(instance: models.Model, filename: str) -> str:
    """Random names under exports/: the name people see is kept in the job's `file_name`. The upload_to of
    `filing.ExportJob`, kept here because claims migration 0008 (which created the model) names it."""
    return f"exports/{secrets.token_hex(16)}"


# A 64-bit perceptual hash (16 hex digits) cut into bands of 16 bits, each stored in an indexed generated column:
# two hashes at most k bits apart differ by at most k // 4 bits in one of the bands (pigeonhole), so the fraud check
# looks up the bands of a picture and the bands within k // 4 bits of them, then verifies the distance.
PERCEPTUAL_HASH_BANDS = 4
PERCEPTUAL_HASH_BAND_BITS = 16
_HEX_DIGITS = "0123456789abcdef"


def perceptual_hash_band(band: int, path: str = "perceptual_hash") -> Case:
    """The band's 16 bits as an integer, in SQL both databases can index (NULL unless the hash has 16 digits)."""
    digits = PERCEPTUAL_HASH_BAND_BITS // 4
    value = sum(
        (StrIndex(Value(_HEX_DIGITS), Substr(path, band * digits + position + 1, 1)) - 1)
        * 16 ** (digits - 1 - position)
        for position in range(digits)
    )
    return Case(
        When(Exact(Length(path), PERCEPTUAL_HASH_BANDS * digits), then=value),
        default=None,
        output_field=models.IntegerField(),
    )


def perceptual_hash_bits(path: str = "perceptual_hash") -> Case:
    """The whole hash's 64 bits as a signed 64-bit integer (two's complement, as PostgreSQL's bigint holds them),
    NULL unless the hash is 16 lower-case hex digits (what `^[0-9a-f]{16}$` matches, without a regular expression)."""
    digits = PERCEPTUAL_HASH_BANDS * PERCEPTUAL_HASH_BAND_BITS // 4
    values = [
        Cast(StrIndex(Value(_HEX_DIGITS), Substr(path, position + 1, 1)) - 1, models.BigIntegerField())
        for position in range(digits)
    ]
    top = values[0] - values[0] / 8 * 16  # the first digit carries the sign bit
    value = sum(
        (values[position] * 16 ** (digits - 1 - position) for position in range(1, digits)), top * 16 ** (digits - 1)
    )
    return Case(
        When(
            Exact(Length(path), digits) & Exact(Func(path, Value(_HEX_DIGITS), function="LTRIM"), Value("")),
            then=value,
        ),
        default=None,
        output_field=models.BigIntegerField(),
    )


class Evidence(models.Model):
    class PreviewStatus(models.TextChoices):
        NONE = "", _("해당 없음")
        PENDING = "pending", _("준비 중")
        READY = "ready", _("준비됨")
        FAILED = "failed", _("만들 수 없음")

    class Tag(models.TextChoices):
        PROOF_OF_USE = "proof_of_use", _("장애 당시 이용 증빙")
        REVENUE_RECORDS = "revenue_records", _("매출 자료")
        RECEIPT = "receipt", _("영수증·지출 증빙")
        SUBSCRIPTION_PAYMENT = "subscription_payment", _("유료 이용료 결제 내역")
        BUSINESS_REGISTRATION = "business_registration", _("사업자등록증")
        OTHER = "other", _("기타")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    loss_item = models.ForeignKey(LossItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence")
    tag = models.CharField(_("증빙 종류"), max_length=32, choices=Tag.choices)
    file = models.FileField(_("파일"), upload_to=evidence_path, max_length=300)
    display_file = models.FileField(_("표시용 사본"), upload_to=evidence_path, max_length=300, blank=True)
    original_name = models.CharField(_("원래 파일명"), max_length=255)
    content_type = models.CharField(_("파일 형식"), max_length=100)
    size = models.PositiveBigIntegerField(_("크기 (바이트)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    perceptual_hash = models.CharField(_("이미지 지문"), max_length=32, blank=True, db_index=True)
    phash_band_0 = models.GeneratedField(
        expression=perceptual_hash_band(0), output_field=models.IntegerField(), db_persist=True
    )
    phash_band_1 = models.GeneratedField(
        expression=perceptual_hash_band(1), output_field=models.IntegerField(), db_persist=True
    )
    phash_band_2 = models.GeneratedField(
        expression=perceptual_hash_band(2), output_field=models.IntegerField(), db_persist=True
    )
    phash_band_3 = models.GeneratedField(
        expression=perceptual_hash_band(3), output_field=models.IntegerField(), db_persist=True
    )
    phash_bits = models.GeneratedField(
        expression=perceptual_hash_bits(), output_field=models.BigIntegerField(), db_persist=True
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("업로드 시각"), default=timezone.now)
    information_request = models.ForeignKey(
        "InformationRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence",
        verbose_name=_("답변한 자료 요청"),
    )
    # PDFs: what the upload check (or, for files uploaded before it, the preview task) found inside, and page
    # images drawn on the server by claims.tasks.evidence; staff never get a PDF in their browser's viewer.
    pdf_findings = models.JSONField(_("PDF 안의 능동 콘텐츠"), default=list, blank=True)
    preview_status = models.CharField(
        _("미리보기 상태"), max_length=10, choices=PreviewStatus.choices, default=PreviewStatus.NONE, blank=True
    )
    preview_failure = models.CharField(_("미리보기를 만들지 못한 이유"), max_length=20, blank=True)
    preview_pages = models.JSONField(_("미리보기 페이지"), default=list, blank=True)
    preview_page_count = models.PositiveIntegerField(_("PDF 전체 페이지 수"), null=True, blank=True)
    preview_attempts = models.PositiveSmallIntegerField(_("미리보기 시도 횟수"), default=0)
    preview_started_at = models.DateTimeField(_("미리보기 시작 시각"), null=True, blank=True)

    class Meta:
        verbose_name = _("증빙 파일")
        verbose_name_plural = _("증빙 파일")
        ordering = ["claim", "uploaded_at"]
        indexes = [
            models.Index(fields=["claim", "tag"], name="evidence_claim_tag"),
            # Each band's index holds the whole hash and the id of the pictures with a valid hash: the fraud check
            # reads the candidates and their distance from the indexes alone (index-only scans), not the table.
            *(
                models.Index(
                    fields=[f"phash_band_{band}"],
                    name=f"evidence_phash_near_{band}",
                    include=["phash_bits", "id"],
                    condition=models.Q(phash_bits__isnull=False),
                )
                for band in range(PERCEPTUAL_HASH_BANDS)
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class ClaimEvent(models.Model):
    """The claim's timeline and audit trail: who did what, when and from where. Never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", _("작성 시작")
        UPDATED = "updated", _("내용 수정")
        SUBMITTED = "submitted", _("제출")
        REVIEW_STARTED = "review_started", _("검토 시작")
        INFO_REQUESTED = "info_requested", _("추가 자료 요청")
        INFO_PROVIDED = "info_provided", _("추가 자료 제출")
        ACCEPTED = "accepted", _("승인")
        REJECTED = "rejected", _("반려")
        WITHDRAWN = "withdrawn", _("참여 철회")
        REJOINED = "rejoined", _("재참여")
        ASSIGNED = "assigned", _("담당자 지정")
        EVIDENCE_ADDED = "evidence_added", _("증빙 추가")
        EVIDENCE_REMOVED = "evidence_removed", _("증빙 삭제")
        NOTE_ADDED = "note_added", _("신청인 메모")
        ADDITIONS_SEEN = "additions_seen", _("추가 자료 확인")
        ESTIMATED = "estimated", _("산정")
        FLAG_REVIEWED = "flag_reviewed", _("플래그 검토")
        FLAG_CLEARED = "flag_cleared", _("플래그 자동 해제")
        VIEWED = "viewed", _("개인정보 열람")
        EXPORTED = "exported", _("내보내기")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("종류"), max_length=20, choices=Kind.choices)
    message = models.TextField(_("내용"), blank=True)
    data = models.JSONField(_("세부 정보"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("시각"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("신청 기록")
        verbose_name_plural = _("신청 기록")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class InformationRequest(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="information_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("요청 내용"))
    items = models.JSONField(_("요청 항목"), default=list, blank=True)
    due_date = models.DateField(_("기한"))
    created_at = models.DateTimeField(_("요청 시각"), default=timezone.now)
    answered_at = models.DateTimeField(_("답변 시각"), null=True, blank=True)
    answer = models.TextField(_("답변"), blank=True)

    class Meta:
        verbose_name = _("추가 자료 요청")
        verbose_name_plural = _("추가 자료 요청")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.claim} {self.created_at:%Y-%m-%d}"


class EligibilityCheck(models.Model):
    """One visitor's answers to the public eligibility check (claims:eligibility_check), kept for the funnel: when
    they first answered, whether and when they were told they can join, and where they came from (the referral
    kept at their first visit). No personal data: one row per browser session, updated on later answers."""

    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("사고")
    )
    started_at = models.DateTimeField(_("처음 답한 시각"), default=timezone.now, db_index=True)
    eligible_at = models.DateTimeField(_("참여 가능 안내 시각"), null=True, blank=True)
    referral_source = models.CharField(_("유입 경로 (utm_source)"), max_length=64, blank=True)
    referral_code = models.CharField(_("추천 코드"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("참여 가능 여부 확인")
        verbose_name_plural = _("참여 가능 여부 확인")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"
