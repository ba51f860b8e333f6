"""A file storage whose disk is full: writes raise OSError, reads of existing files still work."""

import errno

from django.core.files.storage import FileSystemStorage


class FullDiskStorage(FileSystemStorage):
    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")


def full_disk_storages(settings) -> dict:
    """settings.STORAGES with the default storage replaced by FullDiskStorage at the same location."""
    return {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "BACKEND": "config.tests.failing_storage.FullDiskStorage"},
    }
