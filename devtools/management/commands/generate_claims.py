"""Synthetic claimants and claims for benchmarks and load tests (devtools/generator.py).

Refuses to run unless DEBUG is on (or --allow-without-debug is given for a benchmark database), so it is not run
against the real cohort by mistake.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.generator import DEFAULT_BATCH, GenerationError, GenerationReport, claims_generate


class Command(BaseCommand):
    help = "Write COUNT synthetic claims (Korean claimants, loss items, evidence files, consents) for a seed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="how many claims (one claimant each)")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
        parser.add_argument("--incident", default=None, help="incident slug (default: the default incident)")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="claims per transaction")
        parser.add_argument(
            "--workers",
            type=int,
            default=max(1, (os.cpu_count() or 2) - 1),
            help="processes that plan claims and write files while this one writes rows (0: none)",
        )
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="run although DEBUG is off (a dedicated benchmark database only)",
        )

    def handle(
        self, *args, count: int, seed: int, incident: str | None, batch_size: int, workers: int, **options
    ) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "generate_claims writes synthetic people into the database: it runs with DEBUG on, or with "
                "--allow-without-debug against a dedicated benchmark database."
            )
        if count < 1 or batch_size < 1:
            raise CommandError("--count and --batch-size must be at least 1.")
        try:
            report = claims_generate(
                count=count,
                seed=seed,
                incident_slug=incident,
                batch_size=batch_size,
                workers=workers,
                progress=self._progress,
            )
        except GenerationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.claims:,} claims, {report.loss_items:,} loss items, {report.evidence:,} evidence files "
                f"({report.files:,} files written), {report.events:,} timeline entries in {report.seconds:.1f} s "
                f"({report.claims_per_second:,.0f} claims/s); claim ids {report.first_claim_id}..{report.last_claim_id}"
            )
        )

    def _progress(self, report: GenerationReport) -> None:
        self.stdout.write(f"  {report.claims:,} claims ({report.seconds:.1f} s)")
