from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_delete, post_migrate, post_save
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


def _claimant_consents_changed(sender, instance, **kwargs) -> None:
    """A ledger entry or a signed power of attorney was written or deleted, by a service, the admin or a script:
    the claimant's cached readiness must not be used any more (accounts.selectors.claimant_readiness_cached)."""
    from accounts.selectors import claimant_readiness_forget

    holds_user = instance._meta.get_field("user").is_cached(instance)
    claimant_readiness_forget(user_id=instance.user_id, user=instance.user if holds_user else None)


def _consent_documents_changed(sender, **kwargs) -> None:
    from accounts.selectors import claimant_readiness_forget_all

    claimant_readiness_forget_all()


class AccountsConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("계정과 동의")

    def ready(self) -> None:
        from accounts.services import auth, data_rights, phone  # noqa: F401 - register the account messages' renderers

        post_migrate.connect(_staff_groups_after_migrate, dispatch_uid="accounts.staff_groups_after_migrate")
        for signal in (post_save, post_delete):
            for model in ("ConsentRecord", "PowerOfAttorney"):
                signal.connect(
                    _claimant_consents_changed, sender=f"accounts.{model}", dispatch_uid=f"accounts.readiness.{model}"
                )
            signal.connect(
                _consent_documents_changed, sender="accounts.ConsentDocument", dispatch_uid="accounts.readiness.docs"
            )


class StaffAdminConfig(admin_apps.AdminConfig):
    """The Django admin, served by the two-factor site: `admin.site` and `@admin.register` keep working."""

    default = False
    default_site = "accounts.admin_site.StaffAdminSite"
