# The audit log moved to the core app (core migration 0002 takes it over): removed from this app's state only;
# its table, claims_auditentry, stays as it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0015_evidence_pdf_previews"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
