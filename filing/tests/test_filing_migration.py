"""Cohorts, waves, wave members and export jobs moved from claims to filing over their own tables (claims migration
0017, filing migration 0001): the rows stay, their links to claims keep working, and staff keep their grants."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from claims.models import Claim
from claims.tests.factories import SubmittedClaimFactory, default_incident
from core.tests.migrations import migrate_to, migrate_to_latest
from filing.models import Cohort, ExportJob, FilingWave, WaveMember

BEFORE = [("claims", "0016_auditentry_moved_to_core"), ("filing", None)]
# The filing migrations after the move are applied too, so that the models (which have their later fields) can read
# the rows back.
AFTER = [("claims", "0017_filing_models_moved_to_filing"), ("filing", "0002_filingwave_defendant_count")]
MOVED = ("cohort", "filingwave", "wavemember", "exportjob")


def migration_state(targets) -> ProjectState:
    return MigrationExecutor(connection).loader.project_state(targets)


def _role_permissions() -> dict[str, set[tuple[str, str]]]:
    return {
        role.value: set(
            Group.objects.get(name=role.value).permissions.values_list("content_type__app_label", "codename")
        )
        for role in Role
    }


def _relabelled(permissions: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The same permissions with the moved models' ones under the filing label."""
    return {
        ("filing", codename) if app == "claims" and codename.rsplit("_", 1)[-1] in MOVED else (app, codename)
        for app, codename in permissions
    }


@pytest.mark.django_db(transaction=True)
def test_moving_the_filing_models_keeps_their_rows_links_permissions_and_grants(django_user_model):
    assert [model._meta.db_table for model in (Cohort, FilingWave, WaveMember, ExportJob)] == [
        "claims_cohort",
        "claims_filingwave",
        "claims_wavemember",
        "claims_exportjob",
    ]
    try:
        migrate_to(BEFORE)
        old_types = {model: ContentType.objects.get(app_label="claims", model=model) for model in MOVED}
        # (content types of filing models added later stay after migrating back: only the moved ones count)
        assert not ContentType.objects.filter(app_label="filing", model__in=MOVED).exists()
        lawyer = StaffFactory(role=Role.LAWYER)
        claim = SubmittedClaimFactory()
        cohort = Cohort.objects.create(name="1차", incident=default_incident(), created_by=lawyer)
        # the wave as its table was then (the model has fields added since)
        wave_then = migration_state(BEFORE[:1]).apps.get_model("claims", "FilingWave")
        wave = wave_then.objects.create(cohort_id=cohort.pk, name="1차 소송", court="서울중앙지방법원")
        WaveMember.objects.create(
            wave_id=wave.pk, number=1, claim=claim, name="김철수", address="서울", amount_claimed=1000
        )
        job = ExportJob.objects.create(kind=ExportJob.Kind.ANNEX_PDF, wave_id=wave.pk, requested_by=lawyer)
        change_wave = Permission.objects.get(content_type=old_types["filingwave"], codename="change_filingwave")
        auditors = Group.objects.create(name="Filing auditors")
        auditors.permissions.add(change_wave)
        reader = django_user_model.objects.create_user(email="filing-reader@example.com", password="x" * 16)
        reader.user_permissions.add(Permission.objects.get(content_type=old_types["cohort"], codename="view_cohort"))
        roles_before = _role_permissions()
        assert ("claims", "add_filingwave") in roles_before[Role.LAWYER]

        migrate_to(AFTER)

        for model, content_type in old_types.items():
            content_type.refresh_from_db()
            assert (content_type.app_label, content_type.model) == ("filing", model)
            assert not ContentType.objects.filter(app_label="claims", model=model).exists()
        change_wave.refresh_from_db()
        assert change_wave.content_type_id == old_types["filingwave"].pk
        assert auditors.permissions.filter(pk=change_wave.pk).exists()
        assert django_user_model.objects.get(pk=reader.pk).has_perm("filing.view_cohort")
        assert django_user_model.objects.get(pk=lawyer.pk).has_perm("filing.add_filingwave")
        assert _role_permissions() == {role: _relabelled(perms) for role, perms in roles_before.items()}
        # the same rows, through the same tables, with their links to claims and between themselves
        member = WaveMember.objects.select_related("wave__cohort__incident", "claim").get()
        assert (member.claim, member.wave.pk, member.wave.cohort) == (claim, wave.pk, cohort)
        assert list(Claim.objects.get(pk=claim.pk).wave_memberships.all()) == [member]
        assert list(cohort.incident.cohorts.all()) == [cohort]
        assert ExportJob.objects.get(pk=job.pk).wave == FilingWave.objects.get(pk=wave.pk)
    finally:
        migrate_to_latest()
