"""Load the outage reference data into every new database (idempotent: update or create by slug)."""

from django.db import migrations

from claims.reference import reference_data_load


def load(apps, schema_editor):
    reference_data_load(
        incident_model=apps.get_model("claims", "Incident"),
        service_model=apps.get_model("claims", "Service"),
        window_model=apps.get_model("claims", "OutageWindow"),
    )


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
