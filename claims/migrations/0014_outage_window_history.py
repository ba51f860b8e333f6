"""Outage windows keep a history: revision 1 for every window, and each current estimate records the revision of
each window it used (1 where its stored input has the window's start and end, 0 where the window has changed since:
an earlier, unrecorded version, which counts as affected by the correction)."""

from datetime import datetime

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from claims.reference import window_history_start

BATCH = 2000


def history_start(apps, schema_editor):
    window_history_start(
        window_model=apps.get_model("claims", "OutageWindow"),
        revision_model=apps.get_model("claims", "OutageWindowRevision"),
    )


def estimates_record_revisions(apps, schema_editor):
    window_model = apps.get_model("claims", "OutageWindow")
    estimate_model = apps.get_model("claims", "Estimate")
    bounds = {
        (w.incident_id, w.service.slug): (w.start or w.incident.outage_started, w.end)
        for w in window_model.objects.select_related("incident", "service")
    }
    rows = (
        estimate_model.objects.filter(is_current=True)
        .values_list("pk", "claim__incident_id", "inputs")
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    )
    batch = []
    for pk, incident_id, inputs in rows:
        revisions = {}
        for slug, used in (inputs or {}).get("windows", {}).items():
            known = bounds.get((incident_id, slug))
            same = known is not None and known == (
                datetime.fromisoformat(used["start"]),
                datetime.fromisoformat(used["end"]),
            )
            revisions[slug] = 1 if same else 0
        batch.append(estimate_model(pk=pk, window_revisions=revisions))
        if len(batch) >= BATCH:
            estimate_model.objects.bulk_update(batch, ["window_revisions"])
            batch = []
    estimate_model.objects.bulk_update(batch, ["window_revisions"])


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0013_job_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="estimate",
            name="window_revisions",
            field=models.JSONField(blank=True, default=dict, verbose_name="사용한 장애 시간 개정"),
        ),
        migrations.AddField(
            model_name="outagewindow",
            name="revision",
            field=models.PositiveIntegerField(default=0, verbose_name="개정 번호"),
        ),
        migrations.AddField(
            model_name="recomputejob",
            name="outage_window",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="recompute_jobs",
                to="claims.outagewindow",
                verbose_name="정정된 장애 시간",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("viewed_claim", "신청 개인정보 열람"),
                    ("viewed_evidence", "증빙 파일 열람"),
                    ("transition", "상태 변경"),
                    ("assigned", "담당자 지정"),
                    ("edited", "내용 수정"),
                    ("flag_reviewed", "플래그 검토"),
                    ("flag_cleared", "플래그 자동 해제"),
                    ("window_revised", "장애 시간 정정"),
                    ("recompute_requested", "재산정 요청"),
                    ("exported", "내보내기"),
                ],
                max_length=32,
                verbose_name="행위",
            ),
        ),
        migrations.CreateModel(
            name="OutageWindowRevision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(verbose_name="개정 번호")),
                ("start", models.DateTimeField(blank=True, null=True, verbose_name="시작")),
                ("partial_end", models.DateTimeField(blank=True, null=True, verbose_name="부분 복구")),
                ("end", models.DateTimeField(verbose_name="완전 복구")),
                (
                    "end_kind",
                    models.CharField(
                        choices=[
                            ("exact", "정확한 복구 시각"),
                            ("as_of", "이 시각까지 복구 확인"),
                            ("upper_bound", "복구 시각 미상 (전체 장애 종료 시각 적용)"),
                            ("approx", "언론 보도상 대략적 시각"),
                        ],
                        max_length=16,
                        verbose_name="복구 시각의 근거",
                    ),
                ),
                (
                    "confidence",
                    models.CharField(
                        choices=[("high", "높음"), ("medium", "보통"), ("low", "낮음")],
                        max_length=10,
                        verbose_name="신뢰도",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="비고")),
                ("source_url", models.URLField(max_length=500, verbose_name="출처")),
                ("changed", models.JSONField(blank=True, default=list, verbose_name="바뀐 항목")),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("initial", "이력 기록 시작 시점의 값"),
                            ("admin", "관리자 화면"),
                            ("reference_file", "참조 데이터 파일"),
                            ("command", "관리 명령"),
                        ],
                        max_length=16,
                        verbose_name="변경 경로",
                    ),
                ),
                ("source_detail", models.CharField(blank=True, max_length=200, verbose_name="변경 경로 세부")),
                ("reason", models.TextField(blank=True, verbose_name="정정 사유")),
                ("actor_label", models.CharField(blank=True, max_length=200, verbose_name="변경 주체")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="변경 시각")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="변경한 사람",
                    ),
                ),
                (
                    "window",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="revisions",
                        to="claims.outagewindow",
                        verbose_name="서비스별 장애 시간",
                    ),
                ),
            ],
            options={
                "verbose_name": "장애 시간 개정 이력",
                "verbose_name_plural": "장애 시간 개정 이력",
                "ordering": ["window", "-number"],
                "constraints": [
                    models.UniqueConstraint(fields=("window", "number"), name="outage_window_revision_number")
                ],
            },
        ),
        migrations.RunPython(history_start, migrations.RunPython.noop),
        migrations.RunPython(estimates_record_revisions, migrations.RunPython.noop),
    ]
