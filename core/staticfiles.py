"""Single files of installed browser packages (node_modules/, from package.json) served as static files.

settings.PACKAGE_STATIC_FILES maps a static path to one file; only those files are found and collected, never the
rest of node_modules. A file that is missing (npm ci has not run) is reported by the system checks."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core import checks
from django.core.files.storage import FileSystemStorage


class PackageFileFinder(BaseFinder):
    def _files(self) -> dict[str, Path]:
        return {static_path: Path(source) for static_path, source in settings.PACKAGE_STATIC_FILES.items()}

    def check(self, **kwargs) -> list[checks.CheckMessage]:
        messages: list[checks.CheckMessage] = []
        for static_path, source in self._files().items():
            if Path(static_path).name != source.name:
                messages.append(
                    checks.Error(f"PACKAGE_STATIC_FILES: {static_path} must keep the name of {source}", id="core.E010")
                )
            elif not source.is_file():
                messages.append(
                    checks.Warning(
                        f"{source} is missing, so {static_path} cannot be served.",
                        hint="Install the browser packages: `make install` (npm ci).",
                        id="core.W010",
                    )
                )
        return messages

    def find(self, path: str, find_all: bool = False, **kwargs) -> str | list[str]:
        source = self._files().get(path)
        found = str(source) if source is not None and source.is_file() else None
        if find_all:
            return [found] if found else []
        return found or []

    def list(self, ignore_patterns):
        for static_path, source in self._files().items():
            if source.is_file():
                storage = FileSystemStorage(location=source.parent)
                storage.prefix = str(Path(static_path).parent)
                yield source.name, storage
