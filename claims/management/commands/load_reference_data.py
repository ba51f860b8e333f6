from functools import partial

from django.core.management.base import BaseCommand
from django.db import transaction

from claims.models import DamageModelVersion, Incident, OutageWindow, OutageWindowRevision, Service
from claims.reference import reference_data_ensure, reference_data_load, reference_file_version
from claims.services.reference import COMMAND_ACTOR, outage_window_write


class Command(BaseCommand):
    help = (
        "Create or update the incidents, services and outage windows from the project's reference data; an "
        "incident with no damage model gets version 1 of the default model. Each outage window that changes gets "
        "a revision naming the file's version (estimates already made keep theirs until a Lawyer recomputes them); "
        "an unchanged window gets none."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reason", default="", help="Why the windows are corrected (kept with each revision).")

    def handle(self, *args, reason: str = "", **options) -> None:
        models = {"incident_model": Incident, "service_model": Service, "window_model": OutageWindow}
        write = partial(
            outage_window_write,
            source=OutageWindowRevision.Source.REFERENCE_FILE,
            source_detail=reference_file_version(),
            reason=reason,
            actor_label=COMMAND_ACTOR,
        )
        with transaction.atomic():
            counts = reference_data_load(**models, window_write=write)
            reference_data_ensure(**models, version_model=DamageModelVersion, revision_model=OutageWindowRevision)
        self.stdout.write(
            self.style.SUCCESS(
                "Reference data: {incidents} incidents, {services} services, {windows} outage windows "
                "({revised} created or revised).".format(**counts)
            )
        )
