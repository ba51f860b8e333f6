from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _reference_data_after_migrate(sender, apps=None, **kwargs) -> None:
    """After `migrate` (a no-op: the data migrations wrote it) and after `flush` (transactional tests empty every
    table), make sure the reference data and a damage model exist."""
    from django.apps import apps as global_apps

    from claims.reference import reference_data_ensure

    apps = apps or global_apps  # `flush` sends no migration state
    try:
        models = {name: apps.get_model("claims", name) for name in ("Incident", "Service", "OutageWindow")}
        version_model = apps.get_model("claims", "DamageModelVersion")
    except LookupError:  # migrating backwards past the models
        return
    try:
        revision_model = apps.get_model("claims", "OutageWindowRevision")
    except LookupError:  # a migration state before the windows' history (0014)
        revision_model = None
    reference_data_ensure(
        incident_model=models["Incident"],
        service_model=models["Service"],
        window_model=models["OutageWindow"],
        version_model=version_model,
        revision_model=revision_model,
    )
    _reference_data_changed()


def _reference_data_changed(sender=None, **kwargs) -> None:
    """An incident, service or outage window was written or deleted (by the admin, a migration or a script): pages
    cached from them are built again (claims.selectors.reference_data_stamp)."""
    from claims.selectors import reference_data_changed

    reference_data_changed()


class ClaimsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "claims"
    verbose_name = _("참여 신청")

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from claims.lookups import AnyOf
        from claims.services import notifications  # noqa: F401 - registers the claim emails' renderers
        from claims.services.personal_data import CLAIMS_PERSONAL_DATA
        from core.personal_data import personal_data_contributor_register

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # related fields keep a lookup table of their own
        personal_data_contributor_register(CLAIMS_PERSONAL_DATA)  # the download, deletion and profile changes
        post_migrate.connect(
            _reference_data_after_migrate, sender=self, dispatch_uid="claims.reference_data_after_migrate"
        )
        for signal in (post_save, post_delete):
            for model in ("Incident", "Service", "OutageWindow"):
                signal.connect(
                    _reference_data_changed, sender=f"claims.{model}", dispatch_uid=f"claims.reference.{model}"
                )
