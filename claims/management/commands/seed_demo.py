"""Demo data for trying the site locally: reference data, a staff account and a claimant account.

Refuses to run unless DEBUG is on, so it can never create known passwords in production.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from claims.models import Incident, OutageWindow, Service
from claims.reference import reference_data_load

DEMO_STAFF_EMAIL = "staff@example.com"
DEMO_STAFF_PASSWORD = "demo-staff-2022!"  # noqa: S105 - local demo only, refused when DEBUG is off
DEMO_CLAIMANT_EMAIL = "claimant@example.com"
DEMO_CLAIMANT_PASSWORD = "demo-claimant-2022!"  # noqa: S105


class Command(BaseCommand):
    help = "Load demo data and print the demo logins (DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with known passwords.")
        reference_data_load(incident_model=Incident, service_model=Service, window_model=OutageWindow)
        staff, created = User.objects.get_or_create(
            email=DEMO_STAFF_EMAIL,
            defaults={
                "is_staff": True,
                "is_superuser": True,
                "legal_name": "데모 변호사",
                "email_verified_at": timezone.now(),
            },
        )
        if created:
            staff.set_password(DEMO_STAFF_PASSWORD)
            staff.save(update_fields=["password"])
        claimant, created = User.objects.get_or_create(
            email=DEMO_CLAIMANT_EMAIL,
            defaults={"legal_name": "김데모", "email_verified_at": timezone.now()},
        )
        if created:
            claimant.set_password(DEMO_CLAIMANT_PASSWORD)
            claimant.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Staff (admin):  {settings.SITE_URL}/admin/  {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}")
        self.stdout.write(f"  Claimant:       {settings.SITE_URL}/  {DEMO_CLAIMANT_EMAIL} / {DEMO_CLAIMANT_PASSWORD}")
