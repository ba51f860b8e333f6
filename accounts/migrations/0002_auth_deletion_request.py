import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="DeletionRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="요청 시각")),
                ("reason", models.TextField(blank=True, verbose_name="삭제 사유")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "요청됨"),
                            ("confirmed", "삭제 완료"),
                            ("rejected", "거절"),
                            ("cancelled", "요청 취소"),
                        ],
                        default="requested",
                        max_length=16,
                        verbose_name="상태",
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="처리 시각")),
                (
                    "decision_note",
                    models.TextField(blank=True, help_text="거절할 때는 사유를 적어 주세요.", verbose_name="처리 메모"),
                ),
                ("outcome", models.JSONField(blank=True, default=dict, verbose_name="처리 결과")),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="처리한 직원",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deletion_requests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "계정 삭제 요청",
                "verbose_name_plural": "계정 삭제 요청",
                "ordering": ["-requested_at"],
                "permissions": [("decide_deletionrequest", "계정 삭제 요청 확정·거절")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "requested")),
                        fields=("user",),
                        name="one_open_deletion_request_per_user",
                    )
                ],
            },
        ),
    ]
