"""Reference data: incidents, services, and per-service outage windows with their revisions."""

from django.conf import settings
from django.db import models
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
