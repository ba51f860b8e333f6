from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _staff_groups_after_migrate(sender, apps=None, **kwargs) -> None:
    """Keep the role groups' permissions complete when later migrations add models (and after a test flush).

    Django creates permissions in post_migrate too, app by app; syncing after each app's turn is idempotent,
    and after the last one every permission exists."""
    from django.apps import apps as global_apps

    from accounts.roles import staff_groups_sync

    apps = apps or global_apps  # `flush` (transactional tests) sends no migration state
    try:
        group_model, permission_model = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    except LookupError:  # migrating auth backwards: nothing to sync
        return
    staff_groups_sync(group_model=group_model, permission_model=permission_model)


class AccountsConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("계정과 동의")

    def ready(self) -> None:
        post_migrate.connect(_staff_groups_after_migrate, dispatch_uid="accounts.staff_groups_after_migrate")


class StaffAdminConfig(admin_apps.AdminConfig):
    """The Django admin, served by the two-factor site: `admin.site` and `@admin.register` keep working."""

    default = False
    default_site = "accounts.admin_site.StaffAdminSite"
