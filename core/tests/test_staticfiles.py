"""core.staticfiles.PackageFileFinder: single files of node_modules served as static files, nothing else of the
package, and a system check when a file is missing."""

import os
from pathlib import Path

from django.core.management import call_command

from core.staticfiles import PackageFileFinder


def package(tmp_path: Path) -> Path:
    dist = tmp_path / "node_modules" / "some-sdk" / "dist"
    dist.mkdir(parents=True)
    (dist / "sdk.js").write_text("export default {};\n")
    (dist / "sdk.cjs").write_text("module.exports = {};\n")
    return dist


def test_only_the_mapped_file_is_found_and_collected(settings, tmp_path):
    dist = package(tmp_path)
    settings.PACKAGE_STATIC_FILES = {"vendor/some-sdk/sdk.js": dist / "sdk.js"}
    settings.STATIC_ROOT = tmp_path / "collected"
    assert PackageFileFinder().find("vendor/some-sdk/sdk.js") == str(dist / "sdk.js")
    assert PackageFileFinder().find("vendor/some-sdk/sdk.js", find_all=True) == [str(dist / "sdk.js")]
    assert PackageFileFinder().find("vendor/some-sdk/sdk.cjs") == []
    assert [(path, storage.prefix) for path, storage in PackageFileFinder().list([])] == [("sdk.js", "vendor/some-sdk")]

    call_command("collectstatic", interactive=False, verbosity=0)
    collected = settings.STATIC_ROOT / "vendor" / "some-sdk"
    assert sorted(path.name for path in collected.iterdir()) == ["sdk.js"]
    assert (collected / "sdk.js").read_text() == "export default {};\n"


def test_a_missing_file_is_a_warning_and_a_renamed_one_an_error(settings, tmp_path):
    dist = package(tmp_path)
    settings.PACKAGE_STATIC_FILES = {
        "vendor/some-sdk/sdk.js": dist / "sdk.js",
        "vendor/other/other.js": tmp_path / "node_modules" / "other" / "other.js",
        "vendor/some-sdk/renamed.js": dist / "sdk.cjs",
    }
    messages = PackageFileFinder().check()
    assert [(message.id, message.level) for message in messages] == [("core.W010", 30), ("core.E010", 40)]
    assert "other.js is missing" in messages[0].msg and "make install" in messages[0].hint
    assert PackageFileFinder().find("vendor/other/other.js") == []
    assert [path for path, _ in PackageFileFinder().list([])] == ["sdk.js", "sdk.cjs"]


def test_a_rewritten_file_is_found_and_collected_as_its_changed_copy(settings, tmp_path):
    dist = package(tmp_path)
    (dist / "font.css").write_text("@font-face { font-display: swap; }\n@font-face { font-display: swap; }\n")
    settings.PACKAGE_STATIC_FILES = {"vendor/some-sdk/font.css": dist / "font.css"}
    settings.PACKAGE_STATIC_REWRITES = {
        "vendor/some-sdk/font.css": (("font-display: swap;", "font-display: optional;"),)
    }
    settings.PACKAGE_STATIC_REWRITE_DIR = tmp_path / "rewritten"
    settings.STATIC_ROOT = tmp_path / "collected"
    copy = tmp_path / "rewritten" / "vendor" / "some-sdk" / "font.css"
    assert PackageFileFinder().check() == []
    assert PackageFileFinder().find("vendor/some-sdk/font.css") == str(copy)
    assert copy.read_text() == "@font-face { font-display: optional; }\n" * 2
    assert (dist / "font.css").read_text().count("swap") == 2  # the package's own file is untouched

    call_command("collectstatic", interactive=False, verbosity=0)
    assert (settings.STATIC_ROOT / "vendor" / "some-sdk" / "font.css").read_text() == copy.read_text()

    (dist / "font.css").write_text("@font-face { font-display: block; }\n")  # the package changed
    os.utime(dist / "font.css", (copy.stat().st_mtime + 10,) * 2)
    messages = PackageFileFinder().check()
    assert [message.id for message in messages] == ["core.E011"]
    assert PackageFileFinder().find("vendor/some-sdk/font.css") == str(copy)
    assert copy.read_text() == "@font-face { font-display: block; }\n"  # rewritten from the newer file


def test_the_site_font_is_served_without_swapping_fonts_under_the_text(settings):
    css = Path(PackageFileFinder().find("vendor/pretendard/pretendardvariable-dynamic-subset.css")).read_text()
    assert css.count("font-display: optional;") == 92
    assert "font-display: swap" not in css
