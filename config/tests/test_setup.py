"""The README's two commands on a fresh machine: `make test` and `make run` install the Debian packages they lack
(apt as root, sudo otherwise, else one line naming them), the compose check validates docker-compose.yml without a
Docker engine, and both commands work in a fresh clone of the repository.

Every test works in a fresh `git clone` of this checkout (with its uncommitted changes to tracked files applied), so
nothing here changes the checkout the suite runs from. The package tests put stand-ins first on PATH: `dpkg-query`
(says which packages are absent), `apt-get` (records its arguments and succeeds), `sudo` and `id`. The last test runs
the two commands for real; the clone reuses the suite's virtualenv (`VENV=... -o $(VENV)/.installed`) instead of
installing one, and `make run` uses its own SQLite file as the README says.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.fresh_clone

REPO = Path(settings.BASE_DIR)
VENV = Path(sys.prefix)
SITE_PACKAGES = [
    "fonts-nanum", "libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "tesseract-ocr", "tesseract-ocr-kor",
]  # fmt: skip
TEST_PACKAGES = [*SITE_PACKAGES, "chromium", "docker-compose"]
APT = "DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600"

STAND_INS = {
    # Installed: the packages named in FAKE_INSTALLED; any other is reported absent, as dpkg-query does.
    "dpkg-query": """#!/bin/sh
for package; do :; done
case " $FAKE_INSTALLED " in
  *" $package "*) printf 'install ok installed' ;;
  *) echo "dpkg-query: no packages found matching $package" >&2; exit 1 ;;
esac
""",
    "apt-get": """#!/bin/sh
echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND apt-get $*" >> "$FAKE_LOG"
""",
    # FAKE_SUDO=works runs the command (as `sudo -n` does when no password is needed); otherwise it refuses.
    "sudo": """#!/bin/sh
echo "sudo $*" >> "$FAKE_LOG"
[ "$FAKE_SUDO" = works ] || { echo "sudo: a password is required" >&2; exit 1; }
[ "$1" = -n ] && shift
exec "$@"
""",
    "id": """#!/bin/sh
if [ "$1" = -u ]; then echo "$FAKE_UID"; else exec /usr/bin/id "$@"; fi
""",
    # A Python without its venv module, like Debian's python3 before python3-venv is installed.
    "python-without-venv": """#!/bin/sh
exit 1
""",
}


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment of a new shell: none of the suite's Django, make or pytest variables."""
    dropped = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SITE_URL", "TEST_CACHE_KEY_PREFIX"}
    dropped |= {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST"}
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **extra}


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone of this checkout's HEAD plus its uncommitted changes to tracked files, with `../shared`
    beside it as in the checkout."""
    base = tmp_path_factory.mktemp("fresh")
    repo = base / "repo"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(repo)], check=True)  # noqa: S603, S607
    diff = subprocess.run(
        ["git", "diff", "HEAD", "--binary"],  # noqa: S607
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    if diff:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=repo, input=diff, check=True)  # noqa: S607
    shared = REPO.parent / "shared"
    if shared.exists():
        (base / "shared").symlink_to(shared)
    return repo


@pytest.fixture
def machine(tmp_path):
    """`machine(clone, *make_args, installed=(), uid=0, sudo="refuses", python=...)` runs make in the clone with the
    stand-ins first on PATH (`installed`: the packages dpkg-query reports; `uid`: what `id -u` says; `sudo`: "works"
    or "refuses") and returns (the completed process, the lines apt-get and sudo recorded)."""
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    for name, text in STAND_INS.items():
        path = stand_ins / name
        path.write_text(text)
        path.chmod(0o755)
    log = tmp_path / "calls.log"

    def run(clone: Path, *make_args: str, installed=(), uid=0, sudo="refuses", python=sys.executable):
        log.write_text("")
        env = clean_environment(
            PATH=f"{stand_ins}:{os.environ['PATH']}",
            FAKE_INSTALLED=" ".join(installed),
            FAKE_UID=str(uid),
            FAKE_SUDO=sudo,
            FAKE_LOG=str(log),
        )
        # In a session of its own on a free port: should make go past the packages (a regression), whatever it
        # started (a server, a test run) is stopped with it.
        command = ["make", "--no-print-directory", f"PYTHON={python}", f"PORT={free_port()}", *make_args]
        return run_stopping_everything(command, cwd=clone, env=env, timeout=120), log.read_text().splitlines()

    run.stand_ins = stand_ins
    return run


def run_stopping_everything(command: list[str], *, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """`subprocess.run` in a new session; at the end every process left in it is killed, even after a time-out."""
    process = subprocess.Popen(  # noqa: S603 - make and git, found on PATH like the README's commands
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.returncode is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def installed_by(calls: list[str], prefix: str = "") -> list[str]:
    """The packages of the `apt-get install` call recorded (by the apt-get stand-in, or by sudo when `prefix` is
    `sudo -n env `), after checking that `apt-get update` came just before it and that nothing else ran apt-get."""
    apt_calls = [call for call in calls if call.startswith(f"{prefix}DEBIAN_FRONTEND=")]
    assert len(apt_calls) == 2, calls
    assert apt_calls[0] == f"{prefix}{APT} update"
    head = f"{prefix}{APT} install -y --no-install-recommends "
    assert apt_calls[1].startswith(head), calls
    return apt_calls[1].removeprefix(head).split()


def test_as_root_apt_get_installs_every_missing_package_for_make_test_and_make_run(clone, machine):
    result, calls = machine(clone, "system-packages-test", uid=0)

    assert result.returncode == 0, result.stderr
    assert not [call for call in calls if call.startswith("sudo")]
    assert sorted(installed_by(calls)) == sorted(TEST_PACKAGES)

    result, calls = machine(clone, "system-packages-site", uid=0)

    assert result.returncode == 0, result.stderr
    assert sorted(installed_by(calls)) == sorted(SITE_PACKAGES)


def test_only_the_missing_packages_are_installed_and_nothing_is_said_when_none_is(clone, machine):
    result, calls = machine(clone, "system-packages-test", installed=["chromium", "fonts-nanum"], uid=0)

    assert result.returncode == 0, result.stderr
    assert sorted(installed_by(calls)) == sorted(set(TEST_PACKAGES) - {"chromium", "fonts-nanum"})

    result, calls = machine(clone, "system-packages-test", installed=TEST_PACKAGES, uid=1000)

    assert (result.returncode, result.stdout, result.stderr, calls) == (0, "", "", [])


def test_a_python_without_its_venv_module_brings_python3_venv(clone, machine):
    stand_in = machine.stand_ins / "python-without-venv"

    result, calls = machine(clone, "system-packages-site", installed=SITE_PACKAGES, python=str(stand_in))

    assert result.returncode == 0, result.stderr
    assert installed_by(calls) == ["python3-venv"]


def test_without_root_apt_get_runs_through_sudo_when_it_needs_no_password(clone, machine):
    result, calls = machine(clone, "system-packages-test", uid=1000, sudo="works")

    assert result.returncode == 0, result.stderr
    assert calls[0] == "sudo -n true"  # the check that sudo needs no password
    assert sorted(installed_by(calls, prefix="sudo -n env ")) == sorted(TEST_PACKAGES)
    assert sorted(installed_by(calls)) == sorted(TEST_PACKAGES)  # what the stand-in apt-get received through sudo


@pytest.mark.parametrize("target", ["test", "run"])
def test_without_root_or_sudo_make_stops_first_with_one_line_naming_the_packages_and_the_command(
    clone, machine, target
):
    result, calls = machine(clone, target, uid=1000, sudo="refuses")

    assert result.returncode != 0
    assert [call for call in calls if "apt-get" in call] == []
    assert "manage.py" not in result.stdout + result.stderr  # nothing else was started
    (line,) = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    packages = TEST_PACKAGES if target == "test" else SITE_PACKAGES
    expected = " ".join(packages)
    assert line == (
        f"Missing Debian packages: {expected}. "
        f"Install them as root: apt-get update && apt-get install -y --no-install-recommends {expected}"
    )


def test_the_compose_check_needs_no_engine_and_refuses_a_broken_file(clone, tmp_path):
    def check(directory: Path) -> subprocess.CompletedProcess:
        return run_stopping_everything(
            ["make", "--no-print-directory", "compose-config", f"COMPOSE_FILE_CHECKED={directory}/docker-compose.yml"],
            cwd=clone,
            env=clean_environment(DOCKER_HOST="unix:///nonexistent/docker.sock"),
            timeout=120,
        )

    original = (clone / "docker-compose.yml").read_text()
    broken = {  # how the file is broken: what the check says about it
        "restrat": original.replace("  restart: unless-stopped\n", '  restart: unless-stopped\n  restrat: "no"\n', 1),
        "service_is_up": original.replace("condition: service_healthy", "condition: service_is_up", 1),
        "while parsing": original.replace("services:\n", "services:\n  web: [\n", 1),
    }
    for said, text in {"": original, **broken}.items():
        assert said == "" or text != original
        directory = tmp_path / (said.replace(" ", "-") or "intact")
        directory.mkdir()
        (directory / "docker-compose.yml").write_text(text)
        (directory / ".env.example").write_text((clone / ".env.example").read_text())

        result = check(directory)

        if said:
            assert result.returncode != 0, said
            assert said in result.stderr, result.stderr
        else:
            assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local http URL
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def drop_database(name: str) -> None:
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.timeout(1200)
def test_the_readme_commands_work_in_a_fresh_clone(clone, tmp_path, wait_until):
    """`make test` (restricted to two small modules, one of them a browser test) and `make run` as the README says,
    in the fresh clone, against the real packages, PostgreSQL, Redis and Chromium."""
    # No npm ci either (the registry is on the internet): the two modules need no browser package.
    reuse_venv = [f"VENV={VENV}", "-o", f"{VENV}/.installed", "-o", "node_modules/.installed"]
    db = settings.DATABASES["default"]
    # The clone's tests get their own database (test_<suite's name>_fresh), created and dropped by pytest-django.
    name = db["NAME"].removeprefix("test_") + "_fresh"
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    tests = ["config/tests/test_views.py", "e2e/test_landing.py"]
    try:
        result = run_stopping_everything(
            ["make", "test", *reuse_venv, f"PYTEST_ARGS=-q {' '.join(tests)}"],
            cwd=clone,
            env=clean_environment(DATABASE_URL=database_url, REDIS_URL=settings.REDIS_URL),
            timeout=600,
        )
    finally:
        drop_database(f"test_{name}")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert " passed" in result.stdout and " failed" not in result.stdout

    # make run: no DATABASE_URL, no REDIS_URL, as on a new machine; the site answers on a free port.
    port = free_port()
    log_path = tmp_path / "make-run.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603
            ["make", "run", *reuse_venv, f"PORT={port}"],  # noqa: S607
            cwd=clone,
            env=clean_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def answering() -> bool:
                assert server.poll() is None, log_path.read_text(errors="replace")[-5000:]
                return status_of(f"http://127.0.0.1:{port}/healthz") == 200

            wait_until(answering, timeout=300, interval=1)
            assert status_of(f"http://127.0.0.1:{port}/") == 200
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    output = log_path.read_text(errors="replace")
    assert f"http://127.0.0.1:{port}/admin/  staff@example.com" in output, output[-5000:]
    assert "claimant@example.com" in output
    assert (clone / "db.sqlite3").exists()
