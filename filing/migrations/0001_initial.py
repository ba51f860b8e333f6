# Cohorts, filing waves with their members and export jobs, moved here from claims (claims migration 0017):
# created in the state only, over the existing tables (claims_cohort, claims_filingwave, claims_wavemember,
# claims_exportjob). Their content types move to this app, so their permissions, and the roles and staff granted
# them, come along. The export files' upload_to stays claims.models.export_path (claims migration 0008 names it).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import claims.models

MOVED_MODELS = ("cohort", "filingwave", "wavemember", "exportjob")


def _content_types_move(apps, *, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MOVED_MODELS:
        old = ContentType.objects.filter(app_label=old_label, model=model).first()
        if old is None:  # a fresh database: permissions are created after the migrations
            continue
        new = ContentType.objects.filter(app_label=new_label, model=model).first()
        if new is None:
            old.app_label = new_label
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.filter(content_type=old):
            target = Permission.objects.filter(content_type=new, codename=permission.codename).first()
            if target is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
                continue
            for group in permission.group_set.all():
                group.permissions.add(target)
            for user in permission.user_set.all():
                user.user_permissions.add(target)
            permission.delete()
        old.delete()


def content_types_to_filing(apps, schema_editor):
    _content_types_move(apps, old_label="claims", new_label="filing")


def content_types_to_claims(apps, schema_editor):
    _content_types_move(apps, old_label="filing", new_label="claims")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("claims", "0017_filing_models_moved_to_filing"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Cohort",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="이름")),
                        ("criteria", models.JSONField(blank=True, default=dict, verbose_name="조건")),
                        ("note", models.TextField(blank=True, verbose_name="메모")),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="작성 시각"),
                        ),
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
                        "db_table": "claims_cohort",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="FilingWave",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
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
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="작성 시각"),
                        ),
                        (
                            "cohort",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="waves",
                                to="filing.cohort",
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
                        "db_table": "claims_filingwave",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="ExportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
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
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="요청 시각"),
                        ),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="완료 시각")),
                        (
                            "expires_at",
                            models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="만료 시각"),
                        ),
                        ("error", models.TextField(blank=True, verbose_name="오류")),
                        ("lease", models.UUIDField(blank=True, editable=False, null=True, verbose_name="작업 토큰")),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True, verbose_name="마지막 작업 신호")),
                        ("requeues", models.PositiveIntegerField(default=0, verbose_name="다시 보낸 횟수")),
                        (
                            "cohort",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="exports",
                                to="filing.cohort",
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
                                to="filing.filingwave",
                                verbose_name="차수",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "내보내기 작업",
                        "verbose_name_plural": "내보내기 작업",
                        "db_table": "claims_exportjob",
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
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.PositiveIntegerField(verbose_name="원고 번호")),
                        ("name", models.CharField(max_length=100, verbose_name="성명")),
                        ("postal_code", models.CharField(blank=True, max_length=5, verbose_name="우편번호")),
                        ("address", models.CharField(max_length=401, verbose_name="주소")),
                        (
                            "claimant_type",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("individual", "개인"),
                                    ("sole_proprietor", "개인사업자"),
                                    ("company", "법인"),
                                ],
                                max_length=20,
                                verbose_name="신청인 유형",
                            ),
                        ),
                        ("business_name", models.CharField(blank=True, max_length=200, verbose_name="상호")),
                        ("business_number", models.CharField(blank=True, max_length=10, verbose_name="사업자등록번호")),
                        ("amount_claimed", models.PositiveBigIntegerField(verbose_name="청구금액 (원)")),
                        ("claimed_by_kind", models.JSONField(default=dict, verbose_name="손해 종류별 신청 금액")),
                        ("estimated_by_rule", models.JSONField(default=dict, verbose_name="산정 항목별 금액")),
                        (
                            "model_version",
                            models.PositiveIntegerField(blank=True, null=True, verbose_name="산정 모델 버전"),
                        ),
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
                                to="filing.filingwave",
                                verbose_name="차수",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "차수 원고",
                        "verbose_name_plural": "차수 원고",
                        "db_table": "claims_wavemember",
                        "ordering": ["wave", "number"],
                        "constraints": [
                            models.UniqueConstraint(fields=("wave", "number"), name="wave_member_number"),
                            models.UniqueConstraint(fields=("wave", "claim"), name="wave_member_claim"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_filing, content_types_to_claims),
    ]
