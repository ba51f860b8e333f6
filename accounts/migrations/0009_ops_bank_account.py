from django.db import migrations, models

import accounts.models
import config.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_auth_staff_groups"),
        ("accounts", "0004_consents_documents"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="bank_name",
            field=models.CharField(blank=True, max_length=50, verbose_name="은행"),
        ),
        migrations.AddField(
            model_name="user",
            name="bank_account",
            field=config.crypto.EncryptedTextField(
                blank=True,
                max_length=30,
                validators=[accounts.models.bank_account_number_validator],
                verbose_name="계좌번호",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="bank_account_digest",
            field=config.crypto.DigestField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=64,
                normalize=config.crypto.digits_only,
                source="bank_account",
                verbose_name="계좌번호 지문",
            ),
        ),
    ]
