# Cohorts, filing waves with their members and export jobs moved to the filing app (filing migration 0001 takes
# them over): removed from this app's state only; their tables (claims_cohort, claims_filingwave, claims_wavemember,
# claims_exportjob) stay as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0016_auditentry_moved_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ExportJob"),
                migrations.DeleteModel(name="WaveMember"),
                migrations.DeleteModel(name="FilingWave"),
                migrations.DeleteModel(name="Cohort"),
            ],
            database_operations=[],
        ),
    ]
