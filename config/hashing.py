"""SHA-256 digests, written as 64 lowercase hex digits: the one place the project hashes content.

Stored digests (consent texts, signed PDFs, evidence files, estimate inputs, exports, backups) are made here, so
the same bytes always give the same digest whichever module asks.
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

CHUNK_SIZE = 1024 * 1024


class FileDigest(NamedTuple):
    size: int
    sha256: str


def sha256_hex(data: bytes | str) -> str:
    """The digest of bytes, or of a text as UTF-8."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def sha256_chunks(chunks: Iterable[bytes]) -> str:
    """The digest of the chunks one after the other (an upload's `.chunks()`, or text and signature together)."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(file: IO[bytes], *, chunk_size: int = CHUNK_SIZE) -> FileDigest:
    """(size, digest) of a file object read from its start in chunks; the file is left rewound."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return FileDigest(size, digest.hexdigest())


def sha256_path(path: Path) -> FileDigest:
    """(size, digest) of a file on disk."""
    with path.open("rb") as file:
        return sha256_file(file)


def sha256_json(data: Any) -> str:
    """The digest of canonical JSON: sorted keys, no spaces, UTF-8 (orjson writes the same bytes as
    `json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, tested, several times faster)."""
    return sha256_hex(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
