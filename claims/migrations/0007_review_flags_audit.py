"""Staff review: rejection reasons (seeded), duplicate/fraud flags, the audit log, and the indexes behind the claim
list's filters and search. PostgreSQL also gets a trigram index for searching claimants by name and a partial
index of staff accounts. (The role groups get the new models' permissions from accounts' post_migrate sync.)"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

REJECTION_REASONS = [
    (
        "no_proof_of_use",
        "장애 당시 서비스를 이용했다는 증빙이 없음",
        "No proof of using the service during the outage",
        True,
        10,
    ),
    ("outside_outage", "피해가 장애 시간과 관련 없음", "The loss is unrelated to the outage window", False, 20),
    (
        "insufficient_loss_evidence",
        "손해를 뒷받침하는 자료가 부족함",
        "Not enough evidence of the loss claimed",
        False,
        30,
    ),
    ("duplicate_claim", "같은 사람의 중복 신청", "A duplicate claim by the same person", False, 40),
    ("not_eligible", "공동소송 참여 대상이 아님", "Not eligible to join the suit", True, 50),
    (
        "no_answer",
        "추가 자료 요청에 기한까지 답하지 않음",
        "No answer to the information request by the due date",
        False,
        60,
    ),
    ("false_information", "사실과 다른 내용이나 자료를 제출함", "False statements or documents", True, 70),
    ("other", "기타", "Other", True, 100),
]

# Only on PostgreSQL: name search (`legal_name__icontains` is `UPPER(legal_name) LIKE UPPER('%q%')`).
TRIGRAM_SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS accounts_user_legal_name_trgm ON accounts_user USING gin (UPPER("legal_name"::text) gin_trgm_ops)',
]
TRIGRAM_REVERSE_SQL = ["DROP INDEX IF EXISTS accounts_user_legal_name_trgm"]
# Only on PostgreSQL: the few staff among many claimants (reviewer choices and filters) without reading every account.
STAFF_SQL = [
    "CREATE INDEX IF NOT EXISTS accounts_user_staff ON accounts_user (legal_name, email) WHERE is_staff",
]
STAFF_REVERSE_SQL = ["DROP INDEX IF EXISTS accounts_user_staff"]


def rejection_reasons_seed(apps, schema_editor):
    RejectionReason = apps.get_model("claims", "RejectionReason")
    for code, label_ko, label_en, requires_note, order in REJECTION_REASONS:
        RejectionReason.objects.get_or_create(
            code=code,
            defaults={"label_ko": label_ko, "label_en": label_en, "requires_note": requires_note, "order": order},
        )


def _run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_claim_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RejectionReason",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(max_length=64, unique=True, verbose_name="식별자")),
                ("label_ko", models.CharField(max_length=200, verbose_name="사유 (한국어)")),
                ("label_en", models.CharField(blank=True, max_length=200, verbose_name="사유 (영어)")),
                ("requires_note", models.BooleanField(default=False, verbose_name="설명 필수")),
                ("is_active", models.BooleanField(default=True, verbose_name="사용 중")),
                ("order", models.PositiveSmallIntegerField(default=100, verbose_name="순서")),
            ],
            options={
                "verbose_name": "반려 사유",
                "verbose_name_plural": "반려 사유",
                "ordering": ["order", "code"],
            },
        ),
        migrations.CreateModel(
            name="Flag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "code",
                    models.CharField(
                        choices=[
                            ("duplicate_phone", "다른 계정과 같은 휴대전화 번호"),
                            ("duplicate_email", "다른 계정과 같은 이메일 주소"),
                            ("duplicate_business_number", "다른 계정과 같은 사업자등록번호"),
                            ("duplicate_evidence", "다른 신청과 같은 증빙 파일"),
                            ("similar_image", "다른 신청과 거의 같은 사진"),
                            ("signup_burst", "같은 IP에서 짧은 시간에 여러 계정 가입"),
                            ("amount_outlier", "같은 유형의 신청보다 매우 큰 청구액"),
                            ("hours_beyond_window", "공식 장애 시간보다 긴 피해 시간"),
                        ],
                        max_length=32,
                        verbose_name="종류",
                    ),
                ),
                (
                    "severity",
                    models.PositiveSmallIntegerField(
                        choices=[(1, "낮음"), (2, "보통"), (3, "높음")], verbose_name="중요도"
                    ),
                ),
                ("fingerprint", models.CharField(blank=True, max_length=64, verbose_name="일치 기준")),
                ("details", models.JSONField(blank=True, default=dict, verbose_name="세부 정보")),
                ("related_claim_ids", models.JSONField(blank=True, default=list, verbose_name="일치하는 신청")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "확인 필요"), ("reviewed", "검토 완료")],
                        default="open",
                        max_length=10,
                        verbose_name="상태",
                    ),
                ),
                ("reviewed_at", models.DateTimeField(blank=True, null=True, verbose_name="검토 시각")),
                ("note", models.TextField(blank=True, verbose_name="검토 메모")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="발견 시각")),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="갱신 시각")),
                (
                    "claim",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="flags", to="claims.claim"
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="검토자",
                    ),
                ),
            ],
            options={
                "verbose_name": "의심 플래그",
                "verbose_name_plural": "의심 플래그",
                "ordering": ["-severity", "code", "id"],
                "indexes": [
                    models.Index(fields=["claim", "status"], name="flag_claim_status"),
                    models.Index(fields=["status", "code"], name="flag_status_code"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("claim", "code", "fingerprint"), name="flag_claim_code_fingerprint")
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["claim", "-at"], name="audit_claim_at"),
                    models.Index(fields=["actor", "-at"], name="audit_actor_at"),
                    models.Index(fields=["action", "-at"], name="audit_action_at"),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["reviewer", "status", "-submitted_at"], name="claim_reviewer_status"),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["claimant_type", "-submitted_at"], name="claim_type_submitted"),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["estimate_total"], name="claim_estimate_total"),
        ),
        migrations.AddIndex(
            model_name="evidence",
            index=models.Index(fields=["claim", "tag"], name="evidence_claim_tag"),
        ),
        migrations.RunPython(rejection_reasons_seed, migrations.RunPython.noop),
        migrations.RunPython(_run_on_postgresql(TRIGRAM_SQL), _run_on_postgresql(TRIGRAM_REVERSE_SQL)),
        migrations.RunPython(_run_on_postgresql(STAFF_SQL), _run_on_postgresql(STAFF_REVERSE_SQL)),
    ]
