from django.core.management.base import BaseCommand

from claims.models import Incident, OutageWindow, Service
from claims.reference import reference_data_load


class Command(BaseCommand):
    help = "Create or update the incidents, services and outage windows from the project's reference data."

    def handle(self, *args, **options) -> None:
        counts = reference_data_load(incident_model=Incident, service_model=Service, window_model=OutageWindow)
        self.stdout.write(
            self.style.SUCCESS(
                "Reference data: {incidents} incidents, {services} services, {windows} outage windows.".format(**counts)
            )
        )
