"""Re-apply the staff role permissions (accounts/roles.py), e.g. after migrations added models."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from accounts.roles import Role, staff_groups_sync


class Command(BaseCommand):
    help = "Create the Lawyer, Paralegal and Viewer groups and set their permissions (idempotent)."

    def handle(self, *args, **options) -> None:
        staff_groups_sync(group_model=Group, permission_model=Permission)
        for role in Role:
            count = Group.objects.get(name=role.value).permissions.count()
            self.stdout.write(f"{role.value}: {count} permissions")
