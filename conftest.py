"""Project-wide test fixtures: a real Celery worker on Redis, and Playwright on Debian's Chromium."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from config.tests.workers import worker_queues

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by tests around it are
# still synchronous, so Django's async-safety guard must not stop them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

BASE_DIR = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE_VIEWPORT = {"width": 360, "height": 780}


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    """Every test writes uploaded and generated files into its own folder."""
    location = tmp_path / "private"
    settings.PRIVATE_STORAGE_ROOT = location
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(location), "base_url": "/x/"}},
    }


@pytest.fixture(autouse=True)
def _rate_limits_per_test(settings):
    """Rate-limit counters live in Redis and would carry over between tests: give each test its own."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _firm_profile_cache_per_test(settings):
    """The firm's profile is cached in Redis (core.selectors.firm_profile): each test gets its own key, so a profile
    saved by one test (and rolled back) is never shown in the next."""
    settings.FIRM_PROFILE_CACHE_KEY = f"firm-profile:{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _default_language():
    """A request leaves its language active in the thread (LocaleMiddleware), so a test that asked for an English
    page would make the next test's service messages English: each test starts in the site's language."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _migration_data_after_flush(request):
    """A transactional test (browser, real worker) runs after others have emptied every table, including what the
    data migrations wrote: the published consent documents and message templates come back first, as in a migrated
    database (the reference data come back by claims' post_migrate handler)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    from accounts.tests.factories import consent_documents_published
    from notifications.tests.factories import message_templates_published

    consent_documents_published()
    message_templates_published()


@pytest.fixture(autouse=True)
def _message_outbox_cleared():
    """The in-memory SMS and 알림톡 outbox starts empty in every test, as pytest-django empties mail.outbox."""
    from notifications.backends import local

    local.outbox.clear()


@pytest.fixture
def message_outbox():
    """The SMS and 알림톡 messages the locmem backend delivered in this test (notifications.backends.local)."""
    from notifications.backends import local

    return local.outbox


def _database_url_for_test_db() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def celery_worker_factory(transactional_db, settings, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """`start(**env)` starts a real Celery worker process (extra environment variables for it as keywords) and
    returns it; every worker started is stopped at the end of the test. See `celery_worker`."""
    from config.celery import app

    storage_root = settings.STORAGES["default"]["OPTIONS"]["location"]
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PRIVATE_STORAGE_ROOT": storage_root,
        "REDIS_URL": settings.REDIS_URL,
    }
    app.control.purge()
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    started: list[tuple[subprocess.Popen, object]] = []

    def start(**extra_env: str) -> subprocess.Popen:
        log_path = tmp_path / f"celery-worker-{len(started) + 1}.log"
        log_file = log_path.open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                "-Q",
                worker_queues(),
            ],
            cwd=BASE_DIR,
            env={**base_env, **extra_env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log_path
        started.append((process, log_file))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"The Celery worker exited during start-up:\n{log_path.read_text(errors='replace')}")
            if app.control.ping(timeout=0.5):
                return process
        process.kill()
        raise RuntimeError("The Celery worker did not answer a ping within 60 s.")

    try:
        yield start
    finally:
        app.conf.task_always_eager = previous_eager
        for process, log_file in started:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log_file.close()
            print(process.log_path.read_text(errors="replace"))  # noqa: T201 - shown by pytest when the test fails


@pytest.fixture
def celery_worker(celery_worker_factory) -> subprocess.Popen:
    """A real Celery worker process consuming from Redis and writing to the test database.

    Tasks sent by the test (after commit) are executed by the worker, not inline. The test must use the
    `transactional_db` database so the worker sees committed rows. The worker's output (JSON log lines) goes to
    `process.log_path`, which a test may read, and is printed at the end so a failing test shows it.
    """
    return celery_worker_factory()


@pytest.fixture
def wait_until():
    """`wait_until(condition, timeout=30)` polls until `condition()` is truthy and returns its value."""

    def poll(condition, *, timeout: float = 30.0, interval: float = 0.2):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(interval)
        pytest.fail(f"Condition not met within {timeout} s")

    return poll


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (see .ci/run).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone_page(chromium, live_server):
    """A fresh browser context with a phone-sized viewport, Korean locale and Seoul time."""
    context = chromium.new_context(
        viewport=PHONE_VIEWPORT, locale="ko-KR", timezone_id="Asia/Seoul", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.live_server_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def desktop_page(chromium, live_server):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR", timezone_id="Asia/Seoul")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.live_server_url = live_server.url
    yield page
    context.close()
