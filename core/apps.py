from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app uses: the error family, the base task, the outgoing HTTP session and the webhook base."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("공통 기반")

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the provider-backend check)
