"""What ships in the production image: the runtime packages (requirements.txt) and the code that is not a test, a
benchmark or a development tool. Development and tests install requirements-dev.txt, which includes requirements.txt.
See docs/operations.md ("The production image")."""

import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from django.conf import settings
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
# The development and test tools (distribution name -> the module it is imported as). Every package listed in
# requirements-dev.txt must be here, so a new tool cannot slip into the image unclassified.
DEV_TOOLS = {
    "faker": "faker",
    "openpyxl": "openpyxl",
    "pytest": "pytest",
    "pytest-django": "pytest_django",
    "pytest-timeout": "pytest_timeout",
    "factory-boy": "factory",
    "hypothesis": "hypothesis",
    "playwright": "playwright",
    "pdfminer.six": "pdfminer",
    "ruff": "ruff",
    "locust": "locust",
    "psutil": "psutil",
}
# Folders of the repository that are for development only: never imported by shipped code, left out of the image.
NOT_SHIPPED = ("bench", "devtools", "e2e", "scripts", "docs")
FORBIDDEN_IMPORTS = {"bench", "devtools", "e2e", "conftest", *DEV_TOOLS.values()}


def requirements(path: Path) -> tuple[list[str], list[str]]:
    """(the distribution names a requirements file lists, its `-r` includes), names normalised as pip does."""
    names, includes = [], []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            includes.append(line.removeprefix("-r").strip())
        elif line:
            names.append(re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names, includes


def shipped_packages() -> list[Path]:
    """The top-level Python packages of the repository that the image ships (accounts, claims, config, ...)."""
    return sorted(
        path.parent
        for path in REPO.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED and not path.parent.name.startswith(".")
    )


def shipped_modules() -> list[Path]:
    modules = [REPO / "manage.py"]
    for package in shipped_packages():
        modules += [path for path in package.rglob("*.py") if "tests" not in path.relative_to(REPO).parts]
    return modules


def imported_modules(path: Path) -> set[str]:
    """Every absolute import in a module, at any depth (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_requirements_txt_is_runtime_only_and_the_dev_file_adds_the_tools_to_it():
    runtime, runtime_includes = requirements(REPO / "requirements.txt")
    dev, dev_includes = requirements(REPO / "requirements-dev.txt")

    assert runtime_includes == []
    assert sorted(set(runtime) & set(DEV_TOOLS)) == []
    assert {"django", "celery", "gunicorn", "pypdf", "polib"} <= set(runtime)
    assert dev_includes == ["requirements.txt"]  # `make run` and `make test` still install everything
    assert sorted(set(dev) - set(DEV_TOOLS)) == []  # a package for the site belongs in requirements.txt
    assert set(runtime).isdisjoint(dev)


def test_no_shipped_module_imports_a_development_tool_a_test_or_the_benchmarks():
    packages = {package.name for package in shipped_packages()}
    assert {"accounts", "claims", "config"} <= packages

    found = []
    for path in shipped_modules():
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] in FORBIDDEN_IMPORTS or "tests" in parts:
                found.append(f"{path.relative_to(REPO)}: {name}")
    assert found == []


def installed_with(requirements_file: Path) -> set[str]:
    """The distributions `pip install -r requirements_file` installs: those it lists and, with their extras, everything
    they require (read from the virtualenv's metadata)."""
    wanted = []
    for line in requirements_file.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            wanted.append((requirement.name, frozenset(requirement.extras)))
    found: dict[str, set[str]] = {}
    while wanted:
        name, extras = wanted.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found and extras <= found[key]:
            continue
        found[key] = found.get(key, set()) | extras
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in found[key] or {""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                wanted.append((requirement.name, frozenset(requirement.extras)))
    return set(found)


def test_every_package_shipped_code_imports_is_installed_by_requirements_txt():
    """Not only no development tool: nothing that only a development tool brings along (a dependency of Locust or
    Playwright, say) either."""
    runtime = installed_with(REPO / "requirements.txt")
    providers = metadata.packages_distributions()
    local = {path.name for path in REPO.iterdir()} | {path.stem for path in REPO.glob("*.py")}

    missing = []
    for path in shipped_modules():
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in local:
                continue
            distributions = {re.sub(r"[-_.]+", "-", dist).lower() for dist in providers.get(top, [])}
            if not distributions & runtime:
                missing.append(
                    f"{path.relative_to(REPO)}: {name} ({', '.join(sorted(distributions)) or 'not installed'})"
                )
    assert missing == []


def test_the_dockerfile_installs_the_runtime_requirements_only():
    lines = (REPO / "Dockerfile").read_text().splitlines()
    dockerfile = "\n".join(line for line in lines if not line.lstrip().startswith("#"))

    assert "requirements-dev" not in dockerfile
    assert re.search(r"^RUN pip install .*-r requirements\.txt$", dockerfile, re.M)
    # One image for web, workers and beat: the last stage; a build stage before it only makes files it copies (the
    # browser packages' files the site serves, from npm ci on package-lock.json), so no Node.js nor the rest of
    # node_modules ships; every file of settings.PACKAGE_STATIC_FILES is in what it copies.
    stages = re.findall(r"^FROM (\S+)(?: AS (\S+))?$", dockerfile, re.M)
    assert stages[-1] == ("python:3.11-slim-bookworm", "")
    assert [name for _, name in stages[:-1]] == ["browser-packages"]
    copied = re.findall(r"^COPY --from=browser-packages (\S+) (\S+)$", dockerfile, re.M)
    assert all(source == "/build/" + target for source, target in copied)
    served = {str(Path(path).relative_to(REPO)) for path in settings.PACKAGE_STATIC_FILES.values()}
    assert {path for path in served if not any(path == t or path.startswith(t + "/") for _, t in copied)} == set()


def dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            patterns.append((negated, line.removeprefix("!").strip("/")))
    return patterns


def left_out_of_the_image(relative: str, patterns: list[tuple[bool, str]]) -> bool:
    """Docker's rule, for the patterns this project uses: the last matching pattern decides; `**/` matches any
    number of folders (none too); a pattern matching a folder leaves out everything in it."""
    excluded = False
    for negated, pattern in patterns:
        candidates = [pattern, pattern.removeprefix("**/")] if pattern.startswith("**/") else [pattern]
        if any(fnmatch.fnmatchcase(relative, candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def image_files(destination: Path) -> Path:
    """A copy of what `COPY . .` puts into the image: the build context less what .dockerignore leaves out."""
    patterns = dockerignore_patterns()
    for folder, folders, files in os.walk(REPO):
        relative = Path(folder).relative_to(REPO)
        folders[:] = [name for name in folders if not left_out_of_the_image(str(relative / name), patterns)]
        for name in files:
            if not left_out_of_the_image(str(relative / name), patterns):
                target = destination / relative / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target)
    return destination


def test_dockerignore_leaves_out_tests_and_development_code(tmp_path):
    patterns = dockerignore_patterns()
    image = image_files(tmp_path / "app")

    for left_out in [*NOT_SHIPPED, "conftest.py", "requirements-dev.txt", ".venv", ".git", ".env"]:
        assert left_out_of_the_image(left_out, patterns), left_out
        assert not (image / left_out).exists(), left_out
    assert list(image.rglob("tests")) == []
    for kept in ["manage.py", "requirements.txt", "accounts/models.py", "claims/reference", "config/settings"]:
        assert (image / kept).exists(), kept


# Run in the copy of the image's files: the development tools cannot be imported (as in the image, where they are
# not installed), then Django starts with the production settings and its system checks run.
PRODUCTION_START = """
import importlib.abc, json, sys
BLOCKED = set(sys.argv[1].split(","))
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the production image)")
sys.meta_path.insert(0, NotInstalled())
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.urls import get_resolver
get_resolver().url_patterns  # every view module imported
call_command("check")
print(json.dumps(settings.INSTALLED_APPS))
"""


def test_production_settings_start_from_the_image_files_without_devtools_or_any_development_tool(tmp_path):
    image = image_files(tmp_path / "app")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "AWS_", "S3_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "packaging-test-only-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "claims.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "FIELD_ENCRYPTION_KEYS": "YnVpbGQtb25seS1idWlsZC1vbmx5LWJ1aWxkLW9ubHk=",
        "FIELD_HASH_KEY": "packaging-test-only-hash-key-0123456789",
        # Production refuses to start without a shared cache for its rate limits (never contacted by `check`).
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PYTHONPATH": str(image),
    }
    blocked = ",".join(sorted(FORBIDDEN_IMPORTS))

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PRODUCTION_START, blocked],
        cwd=image,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-5000:]
    installed = json.loads(result.stdout.splitlines()[-1])
    assert "devtools" not in installed
    assert {"accounts", "claims"} <= set(installed)
