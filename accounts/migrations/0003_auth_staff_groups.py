"""The staff role groups (Lawyer, Paralegal, Viewer) with their permissions; see accounts/roles.py."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import staff_groups_sync


def sync(apps, schema_editor):
    # Permissions are normally created after all migrations ran: create them now so the groups can get them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    staff_groups_sync(
        group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_auth_deletion_request"),
        ("claims", "0004_claim_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("axes", "0010_accessattemptexpiration"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
