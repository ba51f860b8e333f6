from django.core.management.base import BaseCommand

from claims.models import DamageModelVersion, Incident, OutageWindow, Service
from claims.reference import reference_data_ensure, reference_data_load


class Command(BaseCommand):
    help = (
        "Create or update the incidents, services and outage windows from the project's reference data; an "
        "incident with no damage model gets version 1 of the default model."
    )

    def handle(self, *args, **options) -> None:
        models = {"incident_model": Incident, "service_model": Service, "window_model": OutageWindow}
        counts = reference_data_load(**models)
        reference_data_ensure(**models, version_model=DamageModelVersion)
        self.stdout.write(
            self.style.SUCCESS(
                "Reference data: {incidents} incidents, {services} services, {windows} outage windows.".format(**counts)
            )
        )
