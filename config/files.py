"""Deleting stored files once the records that named them are gone.

Callers run this after their transaction commits (`transaction.on_commit`), or to clean up what a failed step
wrote: the records are already changed, so a file that cannot be deleted must not undo them nor stop the others.
A storage error (`OSError`) is logged and the next file is tried; an orphan file is found by the next backup's
listing. A missing file is not an error (the storage's `delete` ignores it); any other exception is a bug and is
raised.
"""

import logging
from collections.abc import Iterable

from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def stored_files_delete(names: Iterable[str]) -> None:
    """Delete each stored file by its storage name, logging (without the name) the ones the storage refuses."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not delete a stored file", exc_info=True)
