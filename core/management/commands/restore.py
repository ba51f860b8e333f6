from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into a new, empty database and into the configured file "
        "storage, checking every SHA-256 in the manifest. With --verify-only, only check the backup."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--input", required=True, type=Path, help="the backup folder")
        parser.add_argument("--database-url", help="the empty database to restore into, e.g. postgres://.../claims")
        parser.add_argument("--verify-only", action="store_true", help="check the hashes, restore nothing")

    def handle(self, *args, input: Path, database_url: str | None, verify_only: bool, **options) -> None:  # noqa: A002
        try:
            if verify_only:
                manifest = backup_verify(source=input)
                self.stdout.write(self.style.SUCCESS(f"{input}: intact, made {manifest['created_at']}."))
                return
            if not database_url:
                raise CommandError("--database-url is required (a new, empty database).")
            report = backup_restore(source=input, database_url=database_url)
        except BackupError as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(f"{table} {count}" for table, count in report["row_counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored. Rows (equal to the backup's): {counts}. Files: {report['files_written']} written, "
                f"{report['files_in_backup']} in the backup, every SHA-256 checked."
            )
        )
