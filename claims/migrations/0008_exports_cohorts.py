"""Cohorts (saved filters over claims), filing waves with their frozen plaintiffs, and export jobs; the Lawyer
role gets the new models' permissions (see accounts/roles.py).

Depends on the ops migration only to keep one leaf in the graph while the areas are built side by side."""

from importlib import import_module

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import claims.models

staff_groups_sync = import_module("accounts.migrations.0003_auth_staff_groups").sync


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_claim_permissions"),
        ("claims", "0009_ops_claim_anonymised_at"),
        ("accounts", "0003_auth_staff_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Cohort",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="이름")),
                ("criteria", models.JSONField(blank=True, default=dict, verbose_name="조건")),
                ("note", models.TextField(blank=True, verbose_name="메모")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="작성 시각")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="수정 시각")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="작성자",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cohorts",
                        to="claims.incident",
                        verbose_name="사고",
                    ),
                ),
            ],
            options={
                "verbose_name": "원고 집단",
                "verbose_name_plural": "원고 집단",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="FilingWave",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True, verbose_name="차수 이름")),
                ("court", models.CharField(max_length=100, verbose_name="법원")),
                ("case_name", models.CharField(default="손해배상(기)", max_length=200, verbose_name="사건명")),
                ("defendant", models.CharField(default="주식회사 카카오", max_length=200, verbose_name="피고")),
                ("case_number", models.CharField(blank=True, max_length=50, verbose_name="사건번호")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "준비 중"), ("frozen", "원고 확정"), ("filed", "소 제기 완료")],
                        default="draft",
                        max_length=10,
                        verbose_name="상태",
                    ),
                ),
                ("frozen_at", models.DateTimeField(blank=True, null=True, verbose_name="확정 시각")),
                ("filed_on", models.DateField(blank=True, null=True, verbose_name="소 제기일")),
                ("member_count", models.PositiveIntegerField(default=0, verbose_name="원고 수")),
                ("claimed_total", models.PositiveBigIntegerField(default=0, verbose_name="청구금액 합계 (원)")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="작성 시각")),
                (
                    "cohort",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="waves",
                        to="claims.cohort",
                        verbose_name="원고 집단",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="작성자",
                    ),
                ),
                (
                    "frozen_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="확정한 직원",
                    ),
                ),
            ],
            options={
                "verbose_name": "소 제기 차수",
                "verbose_name_plural": "소 제기 차수",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="ExportJob",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("claims_csv", "신청 목록 (CSV)"),
                            ("claims_xlsx", "신청 목록 (엑셀)"),
                            ("annex_pdf", "원고 목록 (PDF)"),
                            ("annex_xlsx", "원고 목록 (엑셀)"),
                            ("amounts_pdf", "청구금액 내역 (PDF)"),
                            ("amounts_xlsx", "청구금액 내역 (엑셀)"),
                            ("standing_pack", "원고 적격 자료 (ZIP)"),
                            ("evidence_bundle", "증빙 묶음 (ZIP)"),
                        ],
                        max_length=20,
                        verbose_name="종류",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "대기"),
                            ("running", "만드는 중"),
                            ("done", "완료"),
                            ("failed", "실패"),
                            ("expired", "만료되어 삭제됨"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="상태",
                    ),
                ),
                ("done", models.PositiveIntegerField(default=0, verbose_name="처리")),
                ("total", models.PositiveIntegerField(default=0, verbose_name="전체")),
                (
                    "file",
                    models.FileField(
                        blank=True, max_length=300, upload_to=claims.models.export_path, verbose_name="파일"
                    ),
                ),
                ("file_name", models.CharField(blank=True, max_length=200, verbose_name="내려받을 파일명")),
                ("sha256", models.CharField(blank=True, max_length=64, verbose_name="SHA-256")),
                ("size", models.PositiveBigIntegerField(blank=True, null=True, verbose_name="크기 (바이트)")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="요청 시각")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="완료 시각")),
                ("expires_at", models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="만료 시각")),
                ("error", models.TextField(blank=True, verbose_name="오류")),
                (
                    "cohort",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="exports",
                        to="claims.cohort",
                        verbose_name="원고 집단",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="요청한 직원",
                    ),
                ),
                (
                    "wave",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="exports",
                        to="claims.filingwave",
                        verbose_name="차수",
                    ),
                ),
            ],
            options={
                "verbose_name": "내보내기 작업",
                "verbose_name_plural": "내보내기 작업",
                "ordering": ["-created_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("cohort__isnull", False), ("wave__isnull", True)),
                            models.Q(("cohort__isnull", True), ("wave__isnull", False)),
                            _connector="OR",
                        ),
                        name="export_job_one_scope",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="WaveMember",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(verbose_name="원고 번호")),
                ("name", models.CharField(max_length=100, verbose_name="성명")),
                ("postal_code", models.CharField(blank=True, max_length=5, verbose_name="우편번호")),
                ("address", models.CharField(max_length=401, verbose_name="주소")),
                (
                    "claimant_type",
                    models.CharField(
                        blank=True,
                        choices=[("individual", "개인"), ("sole_proprietor", "개인사업자"), ("company", "법인")],
                        max_length=20,
                        verbose_name="신청인 유형",
                    ),
                ),
                ("business_name", models.CharField(blank=True, max_length=200, verbose_name="상호")),
                ("business_number", models.CharField(blank=True, max_length=10, verbose_name="사업자등록번호")),
                ("amount_claimed", models.PositiveBigIntegerField(verbose_name="청구금액 (원)")),
                ("claimed_by_kind", models.JSONField(default=dict, verbose_name="손해 종류별 신청 금액")),
                ("estimated_by_rule", models.JSONField(default=dict, verbose_name="산정 항목별 금액")),
                ("model_version", models.PositiveIntegerField(blank=True, null=True, verbose_name="산정 모델 버전")),
                (
                    "claim",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="wave_memberships",
                        to="claims.claim",
                        verbose_name="신청",
                    ),
                ),
                (
                    "wave",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="members",
                        to="claims.filingwave",
                        verbose_name="차수",
                    ),
                ),
            ],
            options={
                "verbose_name": "차수 원고",
                "verbose_name_plural": "차수 원고",
                "ordering": ["wave", "number"],
                "constraints": [
                    models.UniqueConstraint(fields=("wave", "number"), name="wave_member_number"),
                    models.UniqueConstraint(fields=("wave", "claim"), name="wave_member_claim"),
                ],
            },
        ),
        migrations.RunPython(staff_groups_sync, migrations.RunPython.noop),
    ]
