import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from config.files import stored_files_delete


def test_a_file_the_storage_refuses_is_logged_and_the_others_are_still_deleted(settings, tmp_path, caplog):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path)}},
    }
    first = default_storage.save("a.txt", ContentFile(b"a"))
    last = default_storage.save("b.txt", ContentFile(b"b"))
    refused = "folder"
    default_storage.save("folder/inside.txt", ContentFile(b"x"))  # deleting a folder that is not empty fails

    with caplog.at_level(logging.WARNING, logger="config.files"):
        stored_files_delete([first, refused, "never-stored.txt", last])

    assert not default_storage.exists(first) and not default_storage.exists(last)
    assert default_storage.exists("folder/inside.txt")
    assert [record.getMessage() for record in caplog.records] == ["Could not delete a stored file"]
    assert "folder" not in caplog.records[0].getMessage()
