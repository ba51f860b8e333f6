from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("계정과 동의")


class StaffAdminConfig(admin_apps.AdminConfig):
    """The Django admin, served by the two-factor site: `admin.site` and `@admin.register` keep working."""

    default = False
    default_site = "accounts.admin_site.StaffAdminSite"
