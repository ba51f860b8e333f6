# The audit log, moved here from claims (claims migration 0016): created in the state only, over the existing
# table claims_auditentry. Its content type moves to this app, so its permissions, and the roles and staff
# granted them, come along.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _content_type_move(apps, *, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    old = ContentType.objects.filter(app_label=old_label, model="auditentry").first()
    if old is None:  # a fresh database: permissions are created after the migrations
        return
    new = ContentType.objects.filter(app_label=new_label, model="auditentry").first()
    if new is None:
        old.app_label = new_label
        old.save(update_fields=["app_label"])
        return
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


def content_type_to_core(apps, schema_editor):
    _content_type_move(apps, old_label="claims", new_label="core")


def content_type_to_claims(apps, schema_editor):
    _content_type_move(apps, old_label="core", new_label="claims")


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0016_auditentry_moved_to_core"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
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
                        ("object_type", models.CharField(max_length=100, verbose_name="대상 종류")),
                        ("object_id", models.CharField(blank=True, max_length=64, verbose_name="대상 ID")),
                        ("data", models.JSONField(blank=True, default=dict, verbose_name="세부 정보")),
                        ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="IP")),
                        ("user_agent", models.CharField(blank=True, max_length=500, verbose_name="사용자 에이전트")),
                        (
                            "at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="시각"),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="직원",
                            ),
                        ),
                        (
                            "claim",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_entries",
                                to="claims.claim",
                                verbose_name="신청",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "감사 기록",
                        "verbose_name_plural": "감사 기록",
                        "db_table": "claims_auditentry",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["claim", "-at"], name="audit_claim_at"),
                            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
                            models.Index(fields=["action", "-at"], name="audit_action_at"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_core, content_type_to_claims),
    ]
