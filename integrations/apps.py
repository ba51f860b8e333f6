from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """The outside providers' seams and their local backends; imports `core` only, never an app above it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = _("외부 서비스 연동")
