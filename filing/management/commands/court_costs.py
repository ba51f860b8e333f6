"""`manage.py court_costs --wave N [--selected-parties K] [--filed-on YYYY-MM-DD]`: a wave's court-cost sheet as
JSON (both routes and each plaintiff's share)."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from filing.models import FilingWave
from filing.services.court_costs import CourtCostError, wave_court_cost_sheet


class Command(BaseCommand):
    help = "A filing wave's court-cost sheet (stamp duty, service-fee deposit, shares) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wave", type=int, required=True, help="the wave's id")
        parser.add_argument(
            "--selected-parties",
            type=int,
            default=None,
            help="number of selected parties (default: those picked for the wave, else 1)",
        )
        parser.add_argument(
            "--filed-on",
            type=dt.date.fromisoformat,
            help="date whose service-fee unit applies (default: the wave's filing date, else today)",
        )

    def handle(self, *args, wave: int, selected_parties: int | None, filed_on: dt.date | None, **options) -> None:
        try:
            filing_wave = FilingWave.objects.select_related("cohort").get(pk=wave)
        except FilingWave.DoesNotExist as error:
            raise CommandError(f"no filing wave with id {wave}") from error
        try:
            sheet = wave_court_cost_sheet(wave=filing_wave, selected_parties=selected_parties, filed_on=filed_on)
        except CourtCostError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(json.dumps({"wave": filing_wave.pk, **sheet.as_dict()}, ensure_ascii=False, indent=2))
