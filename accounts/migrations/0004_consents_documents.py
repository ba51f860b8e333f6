"""Drafts have no text hash yet; a signed power of attorney keeps the hash of its signed content; publish version 1 of the consent documents and the power of attorney."""

from django.db import migrations, models

from accounts.consent_texts import consent_documents_seed


def seed(apps, schema_editor):
    consent_documents_seed(document_model=apps.get_model("accounts", "ConsentDocument"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="consentdocument",
            name="text_sha256",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="본문 SHA-256"),
        ),
        migrations.AddField(
            model_name="powerofattorney",
            name="content_sha256",
            field=models.CharField(blank=True, max_length=64, verbose_name="서명 내용 SHA-256"),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
