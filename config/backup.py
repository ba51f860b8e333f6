"""Backups of the database and the stored files, and their restore into a fresh database and storage.

A backup is a folder holding:
- `database.dump`: `pg_dump --format=custom` of the whole database (or `database.sqlite3`, a consistent copy made
  with SQLite's backup API, when the site runs on SQLite);
- `files.tar`: every file in the default storage (evidence, signed powers of attorney, exports), read through the
  storage API so a local folder and an object store are backed up the same way;
- `manifest.json`: when and from what it was made, the SHA-256 of the two archives and of every stored file, and
  the row counts of the tables a court case depends on.

The database is dumped first and the files are read afterwards, so every file a dumped row names is in the tar
(a file uploaded in between is simply extra). Restoring checks every hash before and after writing anything.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import psycopg
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.db import connection
from django.utils import timezone

from config.hashing import sha256_file, sha256_path

MANIFEST = "manifest.json"
FILES_ARCHIVE = "files.tar"
POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FORMAT_VERSION = 1
# Tables whose row counts go in the manifest and are compared after a restore.
COUNTED_TABLES = (
    "accounts_user",
    "accounts_consentrecord",
    "accounts_powerofattorney",
    "claims_claim",
    "claims_lossitem",
    "claims_evidence",
    "claims_claimevent",
    "claims_estimate",
)


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class PostgresTarget:
    """Connection parameters for the pg_* tools; the password goes in the environment, never in argv."""

    host: str
    port: str
    user: str
    password: str
    name: str

    @classmethod
    def from_settings(cls, database: dict) -> "PostgresTarget":
        return cls(
            host=str(database.get("HOST") or "localhost"),
            port=str(database.get("PORT") or 5432),
            user=str(database.get("USER") or ""),
            password=str(database.get("PASSWORD") or ""),
            name=str(database["NAME"]),
        )

    @classmethod
    def from_url(cls, url: str) -> "PostgresTarget":
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "localhost",
            port=str(parts.port or 5432),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            name=unquote(parts.path.lstrip("/")),
        )

    def args(self) -> list[str]:
        return ["--host", self.host, "--port", self.port, "--username", self.user, "--no-password"]

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password}

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=self.name
        )


def stored_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name in `storage`, depth first, sorted."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:  # a local storage folder that nothing was ever written to
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from stored_names(storage, f"{folder}/{directory}" if folder else directory)


def _run(command: list[str], *, env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _table_counts(cursor) -> dict[str, int]:
    counts = {}
    for table in COUNTED_TABLES:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - fixed table names
        counts[table] = cursor.fetchone()[0]
    return counts


# Backup ---------------------------------------------------------------------------------------------------------


def _dump_database(output: Path) -> dict:
    database = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        target = PostgresTarget.from_settings(database)
        path = output / POSTGRES_DUMP
        _run(
            ["pg_dump", *target.args(), "--format=custom", "--no-owner", "--no-privileges", "--file", str(path)]
            + [target.name],
            env=target.env(),
        )
    elif connection.vendor == "sqlite":
        path = output / SQLITE_COPY
        source = sqlite3.connect(database["NAME"])
        copy = sqlite3.connect(path)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        raise BackupError(f"Backing up a {connection.vendor} database is not supported.")
    return {"engine": connection.vendor, "file": path.name, "sha256": sha256_path(path).sha256}


def _archive_files(output: Path, storage: Storage) -> dict[str, str]:
    hashes: dict[str, str] = {}
    with tarfile.open(output / FILES_ARCHIVE, "w") as archive:
        for name in stored_names(storage):
            with storage.open(name, "rb") as stream:
                size, hashes[name] = sha256_file(stream)
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = size, 0o600, int(timezone.now().timestamp())
                archive.addfile(info, stream)
    return hashes


def backup_create(*, output: Path, storage: Storage = default_storage) -> dict:
    """Write a backup into the empty or new folder `output`; returns the manifest."""
    output.mkdir(parents=True, exist_ok=True)
    if any(output.iterdir()):
        raise BackupError(f"{output} is not empty: choose a new folder for each backup.")
    output.chmod(0o700)
    started = timezone.now()
    with connection.cursor() as cursor:
        counts = _table_counts(cursor)
    database = _dump_database(output)
    files = _archive_files(output, storage)
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "database": database,
        "row_counts": counts,
        "files_archive": {
            "file": FILES_ARCHIVE,
            "sha256": sha256_path(output / FILES_ARCHIVE).sha256,
            "count": len(files),
        },
        "files": files,
    }
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for path in output.iterdir():
        path.chmod(0o600)
    return manifest


# Restore --------------------------------------------------------------------------------------------------------


def manifest_read(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{source / MANIFEST} is missing or unreadable: {error}") from error
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def backup_verify(*, source: Path) -> dict:
    """Check the archives against the manifest; returns the manifest."""
    manifest = manifest_read(source)
    for entry in (manifest["database"], manifest["files_archive"]):
        path = source / entry["file"]
        if not path.exists():
            raise BackupError(f"{path} is missing.")
        if sha256_path(path).sha256 != entry["sha256"]:
            raise BackupError(f"{path} does not match its SHA-256 in the manifest: the backup is damaged.")
    return manifest


def _safe_member_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"Refusing the archive member {name!r}: not a relative path inside the storage.")
    return str(path)


def _restore_postgres(dump: Path, url: str) -> PostgresTarget:
    target = PostgresTarget.from_url(url)
    with target.connect() as conn:
        tables = conn.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    if tables:
        raise BackupError(f"The database {target.name} already has {tables} tables: restore into a new, empty one.")
    _run(
        ["pg_restore", *target.args(), "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", target.name]
        + [str(dump)],
        env=target.env(),
    )
    return target


def _restore_sqlite(copy: Path, url: str) -> Path:
    path = Path(unquote(urlsplit(url).path))
    if path.exists() and path.stat().st_size:
        raise BackupError(f"{path} already exists: restore into a new file.")
    shutil.copyfile(copy, path)
    return path


def _restored_counts(manifest: dict, url: str) -> dict[str, int]:
    if manifest["database"]["engine"] == "postgresql":
        with PostgresTarget.from_url(url).connect() as conn, conn.cursor() as cursor:
            return _table_counts(cursor)
    with sqlite3.connect(Path(unquote(urlsplit(url).path))) as conn:
        return _table_counts(conn.cursor())


def _restore_files(archive_path: Path, expected: dict[str, str], storage: Storage) -> int:
    written, seen = 0, set()
    with tarfile.open(archive_path, "r") as archive:
        for member in archive:
            if not member.isfile():
                continue
            name = _safe_member_name(member.name)
            if name not in expected:
                raise BackupError(f"{name} is in the archive but not in the manifest.")
            content = archive.extractfile(member)
            digest = sha256_file(content).sha256
            if digest != expected[name]:
                raise BackupError(f"{name} does not match its SHA-256 in the manifest.")
            seen.add(name)
            if storage.exists(name):
                with storage.open(name, "rb") as existing:
                    if sha256_file(existing).sha256 != digest:
                        raise BackupError(f"{name} already exists in the storage with different content.")
                continue
            content.seek(0)
            saved = storage.save(name, File(content, name=name))
            if saved != name:
                raise BackupError(f"The storage saved {name} as {saved}.")
            written += 1
    if missing := set(expected) - seen:
        raise BackupError(f"{len(missing)} files named in the manifest are missing from the archive.")
    return written


def backup_restore(*, source: Path, database_url: str, storage: Storage = default_storage) -> dict:
    """Restore the backup in `source` into the empty database at `database_url` and into `storage`.

    Returns a report: the row counts found after the restore (equal to the manifest's) and the files written.
    """
    manifest = backup_verify(source=source)
    dump = source / manifest["database"]["file"]
    engine = manifest["database"]["engine"]
    scheme = urlsplit(database_url).scheme
    if engine == "postgresql" and scheme.startswith("postgres"):
        _restore_postgres(dump, database_url)
    elif engine == "sqlite" and scheme == "sqlite":
        _restore_sqlite(dump, database_url)
    else:
        raise BackupError(f"A {engine} backup cannot be restored into a {scheme} database.")
    counts = _restored_counts(manifest, database_url)
    if counts != manifest["row_counts"]:
        raise BackupError(f"Row counts after the restore {counts} differ from the backup's {manifest['row_counts']}.")
    written = _restore_files(source / FILES_ARCHIVE, manifest["files"], storage)
    return {"row_counts": counts, "files_written": written, "files_in_backup": len(manifest["files"])}
