from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0005_intake_evidence_information_request"),
        ("claims", "0006_damages_model_v1"),
        ("claims", "0007_review_flags_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="anonymised_at",
            field=models.DateTimeField(
                blank=True,
                help_text="보관 기간이 끝나 개인정보와 증빙 파일을 지운 시각",
                null=True,
                verbose_name="익명화 시각",
            ),
        ),
    ]
