"""`manage.py backup` and `manage.py restore`: a backup restored into a fresh database and storage has every
claim, every file and every hash."""

import hashlib
import json
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.db import connection

from claims.models import Claim
from claims.tests.factories import EvidenceFactory, SubmittedClaimFactory, claimant_ready, png_bytes
from config.backup import PostgresTarget


@pytest.fixture
def scratch_database():
    """A new, empty PostgreSQL database, dropped after the test; yields its URL."""
    settings_dict = connection.settings_dict
    name = f"restore_{uuid.uuid4().hex[:12]}"
    server = PostgresTarget.from_settings({**settings_dict, "NAME": "postgres"})
    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, password=server.password or None, autocommit=True
    ) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            password = f":{server.password}" if server.password else ""
            yield f"postgres://{server.user}{password}@{server.host}:{server.port}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def claims_with_files() -> dict[str, dict[str, str]]:
    """Three submitted claims with two evidence files each; returns reference code -> {stored name: sha256}."""
    expected = {}
    for n in range(3):
        claim = SubmittedClaimFactory(claimant=claimant_ready())
        files = {}
        for color in ((n * 40, 10, 10), (10, n * 40, 200)):
            content = png_bytes(color=color)
            evidence = EvidenceFactory(
                claim=claim, file=ContentFile(content, name="x.png"), sha256=hashlib.sha256(content).hexdigest()
            )
            files[evidence.file.name] = evidence.sha256
        expected[claim.reference_code] = files
    return expected


def restored_rows(url: str) -> dict[str, dict[str, str]]:
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT c.reference_code, e.file, e.sha256 FROM claims_claim c JOIN claims_evidence e ON e.claim_id = c.id"
        ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for code, name, digest in rows:
        found.setdefault(code, {})[name] = digest
    return found


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_every_claim_file_and_hash(tmp_path, settings, scratch_database):
    expected = claims_with_files()
    backup_dir = tmp_path / "backup"

    call_command("backup", "--output", str(backup_dir))

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["row_counts"]["claims_claim"] == Claim.objects.count() == 3
    assert manifest["row_counts"]["claims_evidence"] == 6
    assert sorted(path.name for path in backup_dir.iterdir()) == ["database.dump", "files.tar", "manifest.json"]
    assert oct(backup_dir.stat().st_mode & 0o777) == "0o700"

    restored_root = tmp_path / "restored-files"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(restored_root)}},
    }
    call_command("restore", "--input", str(backup_dir), "--database-url", scratch_database)

    assert restored_rows(scratch_database) == expected
    restored = FileSystemStorage(location=restored_root)
    for files in expected.values():
        for name, digest in files.items():
            with restored.open(name, "rb") as stream:
                assert hashlib.sha256(stream.read()).hexdigest() == digest
    # The powers of attorney were backed up and restored too.
    assert len(manifest["files"]) == 6 + 3


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path, scratch_database):
    claims_with_files()
    backup_dir = tmp_path / "backup"
    call_command("backup", "--output", str(backup_dir))
    with (backup_dir / "files.tar").open("r+b") as archive:
        archive.seek(700)
        archive.write(b"tampered")

    with pytest.raises(CommandError, match="files.tar does not match its SHA-256"):
        call_command("restore", "--input", str(backup_dir), "--database-url", scratch_database)

    with psycopg.connect(scratch_database.replace("postgres://", "postgresql://")) as conn:
        tables = conn.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    backup_dir = tmp_path / "backup"
    call_command("backup", "--output", str(backup_dir))
    own = connection.settings_dict

    with pytest.raises(CommandError, match="restore into a new, empty one"):
        call_command(
            "restore",
            "--input",
            str(backup_dir),
            "--database-url",
            f"postgres://{own['USER']}@{own['HOST']}:{own['PORT']}/{own['NAME']}",
        )


@pytest.mark.django_db(transaction=True)
def test_backup_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "old.txt").write_text("x")

    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", "--output", str(tmp_path))


def test_verify_only_checks_the_hashes(tmp_path):
    with pytest.raises(CommandError, match="missing or unreadable"):
        call_command("restore", "--input", str(tmp_path), "--verify-only")
    assert Path(tmp_path).exists()
