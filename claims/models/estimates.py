"""Damage-model versions, estimates, and recompute jobs with their chunks."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models.claims import Claim
from claims.models.reference import Incident, OutageWindow


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
