from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump custom format, or a copy of the SQLite file) and every stored file into a "
        "new folder, with a manifest of SHA-256 hashes. Restore with `manage.py restore`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="a new or empty folder")

    def handle(self, *args, output: Path, **options) -> None:
        try:
            manifest = backup_create(output=output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(f"{table} {count}" for table, count in manifest["row_counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {output}: {manifest['database']['file']}, "
                f"{manifest['files_archive']['count']} files in {manifest['files_archive']['file']}. Rows: {counts}."
            )
        )
