"""Single files of installed browser packages (node_modules/, from package.json) served as static files.

settings.PACKAGE_STATIC_FILES maps a static path to one file; only those files are found and collected, never the
rest of node_modules. A file that is missing (npm ci has not run) is reported by the system checks.

settings.PACKAGE_STATIC_REWRITES names the few package files served with a text changed (each `(old, new)` pair
replaced once it is found in the file): the finder writes that copy under settings.PACKAGE_STATIC_REWRITE_DIR when the
package's file is newer, and finds and collects the copy instead. A pair no longer found in the package's file (the
package changed) is a system check error, so an upgrade never silently drops the change."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core import checks
from django.core.files.storage import FileSystemStorage


def rewritten_copy(static_path: str, source: Path) -> Path:
    """The copy of `source` with settings.PACKAGE_STATIC_REWRITES[static_path] applied, (re)written when missing or
    older than the source."""
    copy = Path(settings.PACKAGE_STATIC_REWRITE_DIR) / static_path
    if not copy.is_file() or copy.stat().st_mtime < source.stat().st_mtime:
        text = source.read_text(encoding="utf-8")
        for old, new in settings.PACKAGE_STATIC_REWRITES[static_path]:
            text = text.replace(old, new)
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_name(copy.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(copy)
    return copy


class PackageFileFinder(BaseFinder):
    def _sources(self) -> dict[str, Path]:
        return {static_path: Path(source) for static_path, source in settings.PACKAGE_STATIC_FILES.items()}

    def _files(self) -> dict[str, Path]:
        """Each static path and the file served for it: the package's own, or its rewritten copy."""
        return {
            static_path: (
                rewritten_copy(static_path, source)
                if static_path in settings.PACKAGE_STATIC_REWRITES and source.is_file()
                else source
            )
            for static_path, source in self._sources().items()
        }

    def check(self, **kwargs) -> list[checks.CheckMessage]:
        messages: list[checks.CheckMessage] = []
        for static_path, source in self._sources().items():
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
            else:
                text = source.read_text(encoding="utf-8") if static_path in settings.PACKAGE_STATIC_REWRITES else ""
                for old, _new in settings.PACKAGE_STATIC_REWRITES.get(static_path, ()):
                    if old not in text:
                        messages.append(
                            checks.Error(
                                f"PACKAGE_STATIC_REWRITES: {old!r} is no longer in {source}.",
                                hint="The package changed: update or remove the rewrite in the settings.",
                                id="core.E011",
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
