"""Reference data (incidents, services, outage windows), claims with their loss items and evidence,
the claim timeline, damage-model versions and estimates."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Incident(models.Model):
    slug = models.SlugField(_("식별자"), max_length=64, unique=True)
    name_ko = models.CharField(_("이름 (한국어)"), max_length=200)
    name_en = models.CharField(_("이름 (영어)"), max_length=200, blank=True)
    outage_started = models.DateTimeField(_("장애 시작"))
    outage_ended = models.DateTimeField(_("장애 종료"))
    fire_started = models.DateTimeField(_("화재 발생"), null=True, blank=True)
    fire_extinguished = models.DateTimeField(_("화재 진압"), null=True, blank=True)
    power_restore_began = models.DateTimeField(_("전력 복구 시작"), null=True, blank=True)
    power_fully_restored = models.DateTimeField(_("전력 완전 복구"), null=True, blank=True)
    confidence = models.CharField(_("신뢰도"), max_length=10, blank=True)
    sources = models.JSONField(_("출처"), default=list, blank=True)
    damage_reports_received = models.PositiveIntegerField(_("운영사 접수 피해 신고 수"), null=True, blank=True)
    is_default = models.BooleanField(_("기본 사고"), default=False)
    accepting_claims = models.BooleanField(_("참여 접수 중"), default=True)

    class Meta:
        verbose_name = _("사고")
        verbose_name_plural = _("사고")
        ordering = ["-outage_started"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name_ko


class Service(models.Model):
    slug = models.SlugField(_("식별자"), max_length=64, unique=True)
    name_ko = models.CharField(_("이름 (한국어)"), max_length=200)
    name_en = models.CharField(_("이름 (영어)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("서비스")
        verbose_name_plural = _("서비스")
        ordering = ["name_ko"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name_ko


class OutageWindow(models.Model):
    """One service's outage in one incident: [start, end), where end is the full restoration."""

    class EndKind(models.TextChoices):
        EXACT = "exact", _("정확한 복구 시각")
        AS_OF = "as_of", _("이 시각까지 복구 확인")
        UPPER_BOUND = "upper_bound", _("복구 시각 미상 (전체 장애 종료 시각 적용)")
        APPROX = "approx", _("언론 보도상 대략적 시각")

    class Confidence(models.TextChoices):
        HIGH = "high", _("높음")
        MEDIUM = "medium", _("보통")
        LOW = "low", _("낮음")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="outage_windows")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="outage_windows")
    start = models.DateTimeField(_("시작"), null=True, blank=True, help_text=_("비워 두면 사고의 장애 시작 시각"))
    partial_end = models.DateTimeField(_("부분 복구"), null=True, blank=True)
    end = models.DateTimeField(_("완전 복구"))
    end_kind = models.CharField(_("복구 시각의 근거"), max_length=16, choices=EndKind.choices)
    confidence = models.CharField(_("신뢰도"), max_length=10, choices=Confidence.choices)
    note = models.TextField(_("비고"), blank=True)
    source_url = models.URLField(_("출처"), max_length=500)
    # The number of the window's latest revision (OutageWindowRevision); 0 only before its history starts.
    revision = models.PositiveIntegerField(_("개정 번호"), default=0)

    class Meta:
        verbose_name = _("서비스별 장애 시간")
        verbose_name_plural = _("서비스별 장애 시간")
        ordering = ["incident", "end", "service__slug"]
        constraints = [models.UniqueConstraint(fields=["incident", "service"], name="outage_window_incident_service")]

    def __str__(self) -> str:
        return f"{self.service} ({self.incident.slug})"

    @property
    def effective_start(self):
        return self.start or self.incident.outage_started

    @property
    def hours(self) -> float:
        return round((self.end - self.effective_start).total_seconds() / 3600, 1)


class OutageWindowRevision(models.Model):
    """One version of an outage window, as written by a change: what the window said, who changed it, when, why and
    from where. Written by `claims.services.reference` with the change (and an audit entry); never edited."""

    class Source(models.TextChoices):
        INITIAL = "initial", _("이력 기록 시작 시점의 값")
        ADMIN = "admin", _("관리자 화면")
        REFERENCE_FILE = "reference_file", _("참조 데이터 파일")
        COMMAND = "command", _("관리 명령")

    # The window's fields a revision keeps (the incident and the service never change).
    FIELDS = ("start", "partial_end", "end", "end_kind", "confidence", "note", "source_url")

    window = models.ForeignKey(
        OutageWindow, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("서비스별 장애 시간")
    )
    number = models.PositiveIntegerField(_("개정 번호"))
    start = models.DateTimeField(_("시작"), null=True, blank=True)
    partial_end = models.DateTimeField(_("부분 복구"), null=True, blank=True)
    end = models.DateTimeField(_("완전 복구"))
    end_kind = models.CharField(_("복구 시각의 근거"), max_length=16, choices=OutageWindow.EndKind.choices)
    confidence = models.CharField(_("신뢰도"), max_length=10, choices=OutageWindow.Confidence.choices)
    note = models.TextField(_("비고"), blank=True)
    source_url = models.URLField(_("출처"), max_length=500)
    changed = models.JSONField(_("바뀐 항목"), default=list, blank=True)
    source = models.CharField(_("변경 경로"), max_length=16, choices=Source.choices)
    source_detail = models.CharField(_("변경 경로 세부"), max_length=200, blank=True)
    reason = models.TextField(_("정정 사유"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("변경한 사람"),
    )
    actor_label = models.CharField(_("변경 주체"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("변경 시각"), default=timezone.now)

    class Meta:
        verbose_name = _("장애 시간 개정 이력")
        verbose_name_plural = _("장애 시간 개정 이력")
        ordering = ["window", "-number"]
        constraints = [models.UniqueConstraint(fields=["window", "number"], name="outage_window_revision_number")]

    def __str__(self) -> str:
        return f"{self.window_id} r{self.number}"


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

    class Meta:
        verbose_name = _("손해 항목")
        verbose_name_plural = _("손해 항목")
        ordering = ["claim", "id"]

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
        indexes = [models.Index(fields=["claim", "tag"], name="evidence_claim_tag")]

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


class DamageModelVersion(models.Model):
    """A named set of damage-model parameters. Never edited once active: lawyers create a new version."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="damage_models", verbose_name=_("사고")
    )
    version = models.PositiveIntegerField(_("버전"))
    parameters = models.JSONField(_("매개변수"))
    note = models.TextField(_("메모"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("작성자"),
    )
    created_at = models.DateTimeField(_("작성 시각"), default=timezone.now)
    activated_at = models.DateTimeField(_("적용 시각"), null=True, blank=True)
    is_active = models.BooleanField(_("적용 중"), default=False)

    class Meta:
        verbose_name = _("손해 산정 모델")
        verbose_name_plural = _("손해 산정 모델")
        ordering = ["incident", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "version"], name="damage_model_incident_version"),
            models.UniqueConstraint(
                fields=["incident"], condition=Q(is_active=True), name="one_active_damage_model_per_incident"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident.slug} v{self.version}"


class Estimate(models.Model):
    """One computation of a claim's estimate: enough to explain and reproduce the figure later."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="estimates", verbose_name=_("참여 신청"))
    model_version = models.ForeignKey(
        DamageModelVersion, on_delete=models.PROTECT, related_name="estimates", verbose_name=_("손해 산정 모델")
    )
    total = models.PositiveBigIntegerField(_("산정액 (원)"))
    breakdown = models.JSONField(_("산정 내역"))
    inputs = models.JSONField(_("입력값"))
    inputs_sha256 = models.CharField(_("입력값 SHA-256"), max_length=64)
    flags = models.JSONField(_("플래그"), default=list)
    computed_at = models.DateTimeField(_("산정 시각"), default=timezone.now)
    is_current = models.BooleanField(_("현재 산정"), default=True)
    # The revision of each outage window the estimate used, by service slug: {"kakao-t": 2}. An estimate made
    # before windows kept a history has 0 for a window that changed since (see migration 0014).
    window_revisions = models.JSONField(_("사용한 장애 시간 개정"), default=dict, blank=True)

    class Meta:
        verbose_name = _("산정 결과")
        verbose_name_plural = _("산정 결과")
        ordering = ["-computed_at"]
        constraints = [
            models.UniqueConstraint(fields=["claim"], condition=Q(is_current=True), name="one_current_estimate"),
        ]
        # The sweep asks which claims' current estimate is not from the active version: answered from this index.
        indexes = [
            models.Index(
                fields=["claim", "model_version"], condition=Q(is_current=True), name="estimate_current_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.claim} {self.total:,}"


class RecomputeJob(models.Model):
    """Progress of recomputing every affected claim after a damage-model version is activated."""

    class Status(models.TextChoices):
        PENDING = "pending", _("대기")
        RUNNING = "running", _("진행 중")
        DONE = "done", _("완료")
        FAILED = "failed", _("실패")

    model_version = models.ForeignKey(
        DamageModelVersion, on_delete=models.PROTECT, related_name="recompute_jobs", verbose_name=_("손해 산정 모델")
    )
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("전체"), default=0)
    done = models.PositiveIntegerField(_("완료"), default=0)
    failures = models.PositiveIntegerField(_("실패"), default=0)
    error = models.TextField(_("오류"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("요청자"),
    )
    created_at = models.DateTimeField(_("요청 시각"), default=timezone.now)
    finished_at = models.DateTimeField(_("완료 시각"), null=True, blank=True)
    # Set when the job recomputes only the claims estimated with an older revision of this window.
    outage_window = models.ForeignKey(
        OutageWindow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recompute_jobs",
        verbose_name=_("정정된 장애 시간"),
    )
    # A worker's sign of life: set when a chunk starts and when it commits. A running job whose heartbeat is older
    # than JOB_HEARTBEAT_TIMEOUT_SECONDS has its unfinished chunks queued again (claims/services/recovery.py).
    heartbeat_at = models.DateTimeField(_("마지막 작업 신호"), null=True, blank=True)
    requeues = models.PositiveIntegerField(_("다시 보낸 횟수"), default=0)

    class Meta:
        verbose_name = _("재산정 작업")
        verbose_name_plural = _("재산정 작업")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.model_version} {self.done}/{self.total}"


class RecomputeChunk(models.Model):
    """One batch of a recompute job: the claims with ids in [first_claim_id, last_claim_id]. Marked finished in
    the same transaction as its estimates, so a redelivered chunk writes once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("대기")
        DONE = "done", _("완료")
        FAILED = "failed", _("실패")

    job = models.ForeignKey(
        RecomputeJob, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("재산정 작업")
    )
    index = models.PositiveIntegerField(_("순번"))
    first_claim_id = models.BigIntegerField(_("첫 신청 ID"))
    last_claim_id = models.BigIntegerField(_("마지막 신청 ID"))
    size = models.PositiveIntegerField(_("신청 수"))
    status = models.CharField(_("상태"), max_length=10, choices=Status.choices, default=Status.PENDING)
    written = models.PositiveIntegerField(_("새로 산정"), default=0)
    unchanged = models.PositiveIntegerField(_("변동 없음"), default=0)
    failures = models.PositiveIntegerField(_("실패"), default=0)
    error = models.TextField(_("오류"), blank=True)
    finished_at = models.DateTimeField(_("완료 시각"), null=True, blank=True)

    class Meta:
        verbose_name = _("재산정 묶음")
        verbose_name_plural = _("재산정 묶음")
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="recompute_chunk_job_index")]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.index}"


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
        DUPLICATE_EVIDENCE = "duplicate_evidence", _("다른 신청과 같은 증빙 파일")
        SIMILAR_IMAGE = "similar_image", _("다른 신청과 거의 같은 사진")
        SIGNUP_BURST = "signup_burst", _("같은 IP에서 짧은 시간에 여러 계정 가입")
        AMOUNT_OUTLIER = "amount_outlier", _("같은 유형의 신청보다 매우 큰 청구액")
        HOURS_BEYOND_WINDOW = "hours_beyond_window", _("공식 장애 시간보다 긴 피해 시간")

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


# --- cohorts, filing waves and exports ----------------------------------------------------------------------------


class Cohort(models.Model):
    """A saved filter over one incident's claims (see `claims.selectors.cohorts.CohortCriteria` for the criteria
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
        verbose_name = _("차수 원고")
        verbose_name_plural = _("차수 원고")
        ordering = ["wave", "number"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "number"], name="wave_member_number"),
            models.UniqueConstraint(fields=["wave", "claim"], name="wave_member_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.wave} {self.number}. {self.name}"


def export_path(instance: "ExportJob", filename: str) -> str:
    """Random names under exports/: the name people see is kept in `file_name`."""
    return f"exports/{secrets.token_hex(16)}"


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
