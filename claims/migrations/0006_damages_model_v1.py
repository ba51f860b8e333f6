"""Damage estimates: when each claim's estimate was last checked and why it failed, recompute-job chunks, Korean
labels for the estimate models' relations, and version 1 of the damage model (the defaults of
docs/domain/damage-model.md), active for every incident."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

# Copied literally (not imported) so this migration never changes when the code's defaults do.
VERSION_1_PARAMETERS = {
    "subscription_multiplier": "3",
    "revenue_loss_ratio": "1.0",
    "documented_expense_ratio": "1.0",
    "undocumented_expense_ratio": "0.0",
    "other_ratio": "0.0",
    "solatium_per_claimant": 100000,
    "rounding_unit": 10,
    "per_claim_cap": None,
}
VERSION_1_NOTE = "기본 모델 (DAMAGE_MODEL.md v1)"


def seed_version_1(apps, schema_editor):
    incident_model = apps.get_model("claims", "Incident")
    version_model = apps.get_model("claims", "DamageModelVersion")
    now = timezone.now()
    for incident in incident_model.objects.all():
        if version_model.objects.filter(incident=incident).exists():
            continue
        version_model.objects.create(
            incident=incident,
            version=1,
            parameters=VERSION_1_PARAMETERS,
            note=VERSION_1_NOTE,
            created_at=now,
            activated_at=now,
            is_active=True,
        )


def remove_version_1(apps, schema_editor):
    version_model = apps.get_model("claims", "DamageModelVersion")
    version_model.objects.filter(version=1, note=VERSION_1_NOTE, author__isnull=True, estimates__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_claim_permissions"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="estimated_at",
            field=models.DateTimeField(
                blank=True,
                help_text="현재 입력값과 적용 중인 모델로 마지막으로 산정·확인한 시각",
                null=True,
                verbose_name="산정 확인 시각",
            ),
        ),
        migrations.AddField(
            model_name="claim",
            name="estimate_error",
            field=models.TextField(blank=True, verbose_name="산정 오류"),
        ),
        migrations.CreateModel(
            name="RecomputeChunk",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("index", models.PositiveIntegerField(verbose_name="순번")),
                ("first_claim_id", models.BigIntegerField(verbose_name="첫 신청 ID")),
                ("last_claim_id", models.BigIntegerField(verbose_name="마지막 신청 ID")),
                ("size", models.PositiveIntegerField(verbose_name="신청 수")),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "대기"), ("done", "완료"), ("failed", "실패")],
                        default="pending",
                        max_length=10,
                        verbose_name="상태",
                    ),
                ),
                ("written", models.PositiveIntegerField(default=0, verbose_name="새로 산정")),
                ("unchanged", models.PositiveIntegerField(default=0, verbose_name="변동 없음")),
                ("failures", models.PositiveIntegerField(default=0, verbose_name="실패")),
                ("error", models.TextField(blank=True, verbose_name="오류")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="완료 시각")),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunks",
                        to="claims.recomputejob",
                        verbose_name="재산정 작업",
                    ),
                ),
            ],
            options={
                "verbose_name": "재산정 묶음",
                "verbose_name_plural": "재산정 묶음",
                "ordering": ["job", "index"],
                "constraints": [models.UniqueConstraint(fields=("job", "index"), name="recompute_chunk_job_index")],
            },
        ),
        migrations.AlterField(
            model_name="damagemodelversion",
            name="incident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="damage_models",
                to="claims.incident",
                verbose_name="사고",
            ),
        ),
        migrations.AlterField(
            model_name="damagemodelversion",
            name="author",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="작성자",
            ),
        ),
        migrations.AlterField(
            model_name="estimate",
            name="claim",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="estimates",
                to="claims.claim",
                verbose_name="참여 신청",
            ),
        ),
        migrations.AlterField(
            model_name="estimate",
            name="model_version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="estimates",
                to="claims.damagemodelversion",
                verbose_name="손해 산정 모델",
            ),
        ),
        migrations.AlterField(
            model_name="recomputejob",
            name="model_version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="recompute_jobs",
                to="claims.damagemodelversion",
                verbose_name="손해 산정 모델",
            ),
        ),
        migrations.AlterField(
            model_name="recomputejob",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="요청자",
            ),
        ),
        migrations.AddIndex(
            model_name="estimate",
            index=models.Index(
                condition=models.Q(("is_current", True)),
                fields=["claim", "model_version"],
                name="estimate_current_version",
            ),
        ),
        migrations.RunPython(seed_version_1, remove_version_1),
    ]
