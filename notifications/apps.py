from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("보낸 메시지")

    def ready(self) -> None:
        from core.personal_data import personal_data_contributor_register
        from notifications import messages  # noqa: F401 - registers the renderer of the template messages
        from notifications.personal_data import NOTIFICATIONS_PERSONAL_DATA

        personal_data_contributor_register(NOTIFICATIONS_PERSONAL_DATA)  # the download and account deletion
