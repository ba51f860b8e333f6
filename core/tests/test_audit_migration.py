"""The audit log moved from claims to core over its own table: staff keep their grants on it (migration 0002)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.roles import Role
from core.models import AuditEntry
from core.tests.migrations import migrate_to, migrate_to_latest

BEFORE = [("claims", "0015_evidence_pdf_previews"), ("core", "0001_initial")]
AFTER = [("claims", "0016_auditentry_moved_to_core"), ("core", "0002_auditentry")]


@pytest.mark.django_db(transaction=True)
def test_moving_the_audit_log_keeps_its_table_permissions_and_grants(django_user_model):
    assert AuditEntry._meta.db_table == "claims_auditentry"
    try:
        migrate_to(BEFORE)
        content_type = ContentType.objects.get(app_label="claims", model="auditentry")
        view = Permission.objects.get(content_type=content_type, codename="view_auditentry")
        lawyers = Group.objects.get(name=Role.LAWYER)
        lawyers.permissions.add(view)
        user = django_user_model.objects.create_user(email="audit-reader@example.com", password="x" * 16)
        user.user_permissions.add(view)

        migrate_to(AFTER)

        content_type.refresh_from_db()
        assert (content_type.app_label, content_type.model) == ("core", "auditentry")
        assert not ContentType.objects.filter(app_label="claims", model="auditentry").exists()
        view.refresh_from_db()
        assert view.content_type_id == content_type.pk
        assert lawyers.permissions.filter(pk=view.pk).exists()
        assert django_user_model.objects.get(pk=user.pk).has_perm("core.view_auditentry")
        AuditEntry.objects.create(action=AuditEntry.Action.EDITED, object_type="claims.claim")  # same table
    finally:
        migrate_to_latest()
