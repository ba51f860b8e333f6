"""The staff role groups created by migration, and staff accounts made in one role."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.roles import Role, staff_groups_sync
from accounts.services.auth import staff_user_create
from accounts.tests.factories import StaffFactory, staff_totp_code

pytestmark = pytest.mark.django_db


def perms(role: Role) -> set[str]:
    group = Group.objects.get(name=role.value)
    return {
        f"{app}.{codename}" for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_migration_created_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Lawyer", "Paralegal", "Viewer"}


def test_lawyers_have_every_claims_and_accounts_permission_including_the_custom_ones():
    lawyer = perms(Role.LAWYER)
    everything = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(content_type__app_label__in=["claims", "accounts"]).values_list(
            "content_type__app_label", "codename"
        )
    }
    assert everything <= lawyer
    for custom in (
        "claims.review_claim",
        "claims.decide_claim",
        "claims.view_personal_data",
        "claims.export_personal_data",
        "claims.view_dashboard",
        "claims.manage_damage_model",
        "accounts.decide_deletionrequest",
        "accounts.change_user",
    ):
        assert custom in lawyer
    assert "axes.delete_accessattempt" in lawyer  # unlock a locked-out login
    assert "otp_totp.delete_totpdevice" in lawyer  # reset a colleague's lost authenticator


def test_lawyers_alone_have_the_filing_permissions_cohorts_waves_and_exports():
    filing = {
        f"filing.{codename}"
        for codename in Permission.objects.filter(content_type__app_label="filing").values_list("codename", flat=True)
    }
    expected = {
        f"filing.{action}_{model}"
        for model in (
            "cohort",
            "filingwave",
            "wavemember",
            "exportjob",
            "readinessoverride",
            "selectedparty",
            "designation",
            "designationrequest",
        )
        for action in ("view", "add", "change", "delete")
    }
    assert filing == expected
    assert filing <= perms(Role.LAWYER)
    assert not any(perm.startswith("filing.") for perm in perms(Role.PARALEGAL) | perms(Role.VIEWER))


def test_paralegals_review_and_see_personal_data_but_never_decide_export_or_change_the_damage_model():
    paralegal = perms(Role.PARALEGAL)
    assert {"claims.review_claim", "claims.view_personal_data", "claims.change_claim", "claims.view_evidence"} <= (
        paralegal
    )
    assert "claims.add_informationrequest" in paralegal
    for missing in (
        "claims.decide_claim",
        "claims.export_personal_data",
        "claims.manage_damage_model",
        "claims.change_damagemodelversion",
        "claims.delete_claim",
        "accounts.view_user",
        "accounts.decide_deletionrequest",
    ):
        assert missing not in paralegal


def test_viewers_see_the_dashboard_and_reference_data_but_no_personal_data():
    viewer = perms(Role.VIEWER)
    assert viewer == {
        "claims.view_dashboard",
        "claims.view_incident",
        "claims.view_service",
        "claims.view_outagewindow",
    }
    assert "claims.view_personal_data" not in viewer
    assert "claims.view_claim" not in viewer


def test_syncing_again_changes_nothing_and_restores_a_tampered_group():
    viewer = Group.objects.get(name="Viewer")
    viewer.permissions.add(Permission.objects.get(codename="view_personal_data"))
    staff_groups_sync(group_model=Group, permission_model=Permission)
    staff_groups_sync(group_model=Group, permission_model=Permission)
    assert "claims.view_personal_data" not in perms(Role.VIEWER)
    assert Group.objects.filter(name__in=Role.values).count() == 3


def test_staff_user_create_makes_a_verified_staff_member_in_one_role():
    user = staff_user_create(email=" Lee@LawFirm.example ", password="a-long-staff-passphrase", role=Role.PARALEGAL)
    assert user.email == "lee@lawfirm.example"
    assert user.is_staff and not user.is_superuser and user.is_email_verified
    assert list(user.groups.values_list("name", flat=True)) == ["Paralegal"]
    assert user.has_perm("claims.review_claim")
    assert not user.has_perm("claims.export_personal_data")


def test_a_role_change_in_the_admin_is_logged_with_the_old_and_new_roles(client):
    lawyer = StaffFactory(role=Role.LAWYER, totp=True)
    paralegal = StaffFactory(role=Role.PARALEGAL)
    client.post(
        reverse("admin:login"),
        {"username": lawyer.email, "password": "staff-correct-horse-battery", "otp_token": staff_totp_code(lawyer)},
    )
    url = reverse("admin:accounts_user_change", args=[paralegal.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        groups=[Group.objects.get(name="Lawyer").pk],
        date_joined_0=paralegal.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=paralegal.date_joined.strftime("%H:%M:%S"),
        is_active="on",
        is_staff="on",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("user_permissions", None)
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(paralegal.groups.values_list("name", flat=True)) == ["Lawyer"]
    entries = LogEntry.objects.filter(object_id=str(paralegal.pk), user=lawyer)
    assert entries.filter(change_message="직원 역할 변경: 사무직원 → 변호사").count() == 1
