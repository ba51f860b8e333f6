"""Staff roles: one auth group per role, with the permissions below.

`staff_groups_sync` is idempotent and takes the model classes, so the data migration can run it with
historical models and `manage.py sync_staff_groups` can re-run it after new models (and permissions) appear.

- Lawyer: everything in the claims, filing, accounts and payments apps (deciding claims, cohorts, waves and exports,
  the damage model, confirming account deletions, staff roles, retainer refunds and waivers), the audit log (core),
  unlocking logins, resetting a colleague's authenticator, the list of messages sent (notifications, read only) and
  the message templates, the firm's profile (core.FirmProfile).
- Paralegal: view and edit claims, loss items, evidence and information requests; review claims and see
  personal data. No decisions, no exports of personal data, no damage-model changes.
- Viewer: the aggregate dashboard and the reference data. No personal data.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LAWYER = "Lawyer", _("변호사")
    PARALEGAL = "Paralegal", _("사무직원")
    VIEWER = "Viewer", _("열람자")


REFERENCE_MODELS = ("incident", "service", "outagewindow")
REFERENCE_VIEW = [f"claims.view_{model}" for model in REFERENCE_MODELS]
CASE_MODELS = ("claim", "lossitem", "evidence")

ROLE_PERMISSIONS: dict[str, dict] = {
    Role.LAWYER: {
        "apps": ("claims", "filing", "accounts", "payments"),
        "permissions": [
            "admin.view_logentry",
            "auth.view_group",
            "axes.view_accessattempt",
            "axes.delete_accessattempt",
            "axes.view_accesslog",
            "otp_totp.view_totpdevice",
            "otp_totp.delete_totpdevice",
            "notifications.view_notification",
            # the SMS and 알림톡 texts (versions are added and published, never deleted once published)
            *(f"notifications.{action}_messagetemplate" for action in ("view", "add", "change")),
            "notifications.view_bulkmessage",
            "notifications.add_bulkmessage",
            # the audit log (moved from claims to core with its permissions)
            *(f"core.{action}_auditentry" for action in ("view", "add", "change", "delete")),
            # the firm's profile shown on every claimant page, in the emails and the power of attorney
            *(f"core.{action}_firmprofile" for action in ("view", "add", "change")),
        ],
    },
    Role.PARALEGAL: {
        "apps": (),
        "permissions": [
            *REFERENCE_VIEW,
            *(f"claims.{action}_{model}" for model in CASE_MODELS for action in ("view", "change")),
            "claims.view_informationrequest",
            "claims.add_informationrequest",
            "claims.change_informationrequest",
            "claims.view_claimevent",
            "claims.view_estimate",
            "claims.view_damagemodelversion",
            "claims.review_claim",
            "claims.view_personal_data",
        ],
    },
    Role.VIEWER: {"apps": (), "permissions": [*REFERENCE_VIEW, "claims.view_dashboard"]},
}


def role_permission_filter(role: str) -> Q:
    """The permissions of a role, as a filter on `auth.Permission`."""
    spec = ROLE_PERMISSIONS[role]
    query = Q(content_type__app_label__in=spec["apps"])
    for dotted in spec["permissions"]:
        app_label, codename = dotted.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def staff_groups_sync(*, group_model, permission_model) -> None:
    """Create the role groups and set each one's permissions to exactly its spec (missing ones are skipped)."""
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role.value)
        group.permissions.set(permission_model.objects.filter(role_permission_filter(role)))
