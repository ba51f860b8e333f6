"""The daily reconciliation of retainer payments (payments/reconciliation.py) as a CSV file for the accountant."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.reconciliation import orders_of_day, reconciliation_csv, reconciliation_rows


class Command(BaseCommand):
    help = "Write the day's retainer reconciliation (ledger against the gateway) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD, Seoul time (default: yesterday)")
        parser.add_argument("--output", required=True, help="the CSV file to write")

    def handle(self, *args, date=None, output, **options):
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as error:
                raise CommandError(f"--date must be YYYY-MM-DD: {error}") from None
        else:
            day = timezone.localdate() - dt.timedelta(days=1)
        rows = list(reconciliation_rows(orders_of_day(day), day=day))
        Path(output).write_bytes(reconciliation_csv(rows))
        mismatches = sum(1 for row in rows if not row.matches)
        self.stdout.write(f"{day}: {len(rows)} rows, {mismatches} not matching -> {output}")
