"""Redis down (the whole server: cache, sessions' cache, rate-limit counters and broker) must not take the site down.

The end-to-end test runs gunicorn and a Celery worker pointed at a port where nothing listens, signs a claimant in
through the login page, walks the wizard, uploads a file and submits; a member of staff opens the claim. Then a real
redis-server starts on that port and the estimate and the status email arrive, each exactly once. The unit tests
below it check the pieces: the resilient cache, its circuit breaker, the rate-limit counters in the database,
/healthz, and the readiness stamp that no outage can lose.
"""

import email
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentDocument, RateLimitCounter, UnsentTask, User
from accounts.selectors import claimant_readiness_cached
from accounts.services.consents import consent_withdraw
from claims.models import Claim, ClaimEvent, DamageModelVersion, Estimate
from claims.tests.factories import (
    ClaimFactory,
    DamageModelVersionFactory,
    LossItemFactory,
    claimant_ready,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import admin_login, staff_member
from config import cache as resilient
from config.celery import app
from config.tests.workers import worker_queues
from core.audit import RequestMeta

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PASSWORD = "correct-horse-battery-staple"  # accounts.tests.factories.UserFactory
META = RequestMeta(ip="203.0.113.9", user_agent="pytest")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dead_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # bound and released: nothing listens there


@pytest.fixture(autouse=True)
def _fresh_breakers():
    """Every test starts with no outage remembered, and leaves none behind for the next test."""
    resilient.circuit_breakers_reset()
    yield
    resilient.circuit_breakers_reset()


def submittable_draft(claimant) -> Claim:
    claim = ClaimFactory(claimant=claimant, wizard_step="review")
    claim.services.set([service_by_slug("kakao-t")])
    LossItemFactory(claim=claim, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    if not DamageModelVersion.objects.filter(incident=claim.incident, is_active=True).exists():
        DamageModelVersionFactory(is_active=True, activated_at=timezone.now())
    return claim


def emails_sent(folder: Path) -> list[email.message.Message]:
    """The messages the file-based email backend wrote (one file per connection, messages separated by a rule)."""
    messages = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for chunk in path.read_text(errors="replace").split("-" * 79):
            if chunk.strip():
                messages.append(email.message_from_string(chunk.strip()))
    return messages


def subject(message: email.message.Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def publish(task, broker_url: str) -> None:
    """Queue `task` on the broker at `broker_url`, as beat would (the test process's app is pointed there)."""
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = broker_url, False
    app._pool, app.amqp._producer_pool = None, None
    try:
        task.apply_async(ignore_result=True)
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        app._pool, app.amqp._producer_pool = None, None


def task_successes(log_path: Path, name: str) -> int:
    return sum(1 for line in log_path.read_text(errors="replace").splitlines() if name in line and "succeeded" in line)


def worker_settled(log_path: Path, redis_url: str) -> bool:
    """Nothing waits in a queue or is being run, and every task the worker received has succeeded."""
    import redis

    client = redis.Redis.from_url(redis_url)
    if any(client.llen(queue) for queue in ("celery", "email", "estimates", "exports")) or client.hlen("unacked"):
        return False
    lines = log_path.read_text(errors="replace").splitlines()
    received = sum(1 for line in lines if '"message": "Task ' in line and "] received" in line)
    succeeded = sum(1 for line in lines if '"message": "Task ' in line and "] succeeded in" in line)
    return received == succeeded


class Processes:
    """Subprocesses started by a test, each stopped at the end (and its output printed when the test fails)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_path = self.folder / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603 - our own commands
                command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        process.log_path = log_path
        self.started.append((process, log_path))
        return process

    def stop_all(self) -> None:
        for process, log_path in reversed(self.started):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            print(f"--- {log_path.name}\n{log_path.read_text(errors='replace')[-20_000:]}")  # noqa: T201


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop_all()


def get(session: requests.Session, url: str, **kwargs) -> requests.Response:
    return session.get(url, timeout=60, **kwargs)


def post(session: requests.Session, url: str, data: dict, **kwargs) -> requests.Response:
    headers = {"Referer": url, **kwargs.pop("headers", {})}
    data = {"csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), **data}
    return session.post(url, data=data, headers=headers, timeout=60, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_claimants_sign_in_and_submit_staff_review_and_everything_catches_up_once(
    tmp_path, processes, wait_until
):
    claimant = claimant_ready(email="outage@example.com")
    claim = submittable_draft(claimant)
    staff = admin_login(Client(), staff_member())
    mail_folder = tmp_path / "mail"
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PRIVATE_STORAGE_ROOT": settings.STORAGES["default"]["OPTIONS"]["location"],
        "TEST_EMAIL_FILE_PATH": str(mail_folder),
    }
    web_port = free_port()
    processes.start(
        "gunicorn",
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "2", "--timeout", "120"]
        + ["--bind", f"127.0.0.1:{web_port}", "config.wsgi:application"],
        env,
    )
    worker = processes.start(
        "worker",
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1"]
        + ["--without-gossip", "--without-mingle", "--loglevel=INFO", "-Q", worker_queues()],
        env,
    )
    site = f"http://127.0.0.1:{web_port}"

    def health() -> dict | None:
        try:
            response = requests.get(f"{site}/healthz", timeout=10)
        except requests.ConnectionError:
            return None
        return {"http": response.status_code, **response.json()}

    # The site starts and says what is wrong, but serves: 200, "degraded".
    assert wait_until(health, timeout=90) == {
        "http": 200,
        "status": "degraded",
        "database": "ok",
        "broker": "down",
        "redis": "down",
    }

    # The claimant signs in through the login page (rate limited: counted in the database meanwhile).
    browser = requests.Session()
    login_url = site + reverse("accounts:login")
    assert get(browser, login_url).status_code == 200
    response = post(browser, login_url, {"username": claimant.email, "password": PASSWORD}, allow_redirects=False)
    assert response.status_code == 302, response.text[:2000]
    assert RateLimitCounter.objects.exists()

    # The wizard's pages, a file upload and the final submit.
    assert get(browser, site + reverse("claims:index")).status_code == 200
    for step in ("wizard_losses", "wizard_evidence", "wizard_review"):
        response = get(browser, site + reverse(f"claims:{step}", args=[claim.pk]))
        assert response.status_code == 200, (step, response.text[:2000])
    upload = browser.post(
        site + reverse("claims:evidence_upload", args=[claim.pk]),
        data={"tag": "proof_of_use", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        files={"file": ("receipt.png", png_bytes(), "image/png")},
        headers={"X-Requested-With": "XMLHttpRequest", "Referer": site},
        timeout=60,
    )
    assert upload.status_code == 201 and upload.json()["ok"], upload.text[:2000]
    review_url = site + reverse("claims:wizard_review", args=[claim.pk])
    response = post(browser, review_url, {})
    assert response.status_code == 200, response.text[:2000]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and claim.reference_code
    assert claim.reference_code in response.text  # the confirmation page
    assert response.url == site + reverse("claims:submitted", args=[claim.pk])

    # A member of staff opens the claim in the admin.
    desk = requests.Session()
    desk.cookies.set("sessionid", staff.cookies["sessionid"].value)
    response = get(desk, site + reverse("admin:claims_claim_change", args=[claim.pk]), allow_redirects=False)
    assert response.status_code == 200 and claim.reference_code in response.text

    # Nothing could be queued: no estimate, no email yet, and the worker is still waiting for its broker.
    assert not Estimate.objects.filter(claim=claim).exists()
    assert emails_sent(mail_folder) == []
    assert worker.poll() is None

    # Redis comes back (an empty one, as after a restart without persistence).
    processes.start(
        "redis",
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--daemonize", "no"],
        env,
    )
    wait_until(lambda: (health() or {}).get("status") == "ok", timeout=60)
    wait_until(lambda: "Connected to redis://" in worker.log_path.read_text(errors="replace"), timeout=180)

    # Beat's sweeps find the work in the database (the email sweep waits for EMAIL_GRACE: make the event older).
    from claims.tasks.estimates import estimate_sweep_task
    from claims.tasks.recovery import status_email_sweep_task, unsent_tasks_publish_task

    event = claim.events.get(kind=ClaimEvent.Kind.SUBMITTED)
    ClaimEvent.objects.filter(pk=event.pk).update(created_at=event.created_at - timedelta(minutes=6))
    assert set(UnsentTask.objects.values_list("name", flat=True)) == {  # the submit's (and the upload's) tasks
        "claims.tasks.notifications.claim_status_email_task",
        "claims.tasks.estimates.estimate_claim_task",
        "claims.tasks.fraud.claim_fraud_check_task",
        "claims.tasks.evidence_reading.evidence_read_task",
        "claims.tasks.evidence.evidence_preview_render_task",  # the picture's display copy
    }
    for _ in range(2):  # a second run, or a duplicate message, does nothing more
        publish(unsent_tasks_publish_task, redis_url)
        publish(estimate_sweep_task, redis_url)
        publish(status_email_sweep_task, redis_url)
    wait_until(lambda: task_successes(worker.log_path, "unsent_tasks_publish_task") == 2, timeout=120)
    wait_until(lambda: task_successes(worker.log_path, "status_email_sweep_task") == 2, timeout=120)
    wait_until(lambda: task_successes(worker.log_path, "estimate_sweep_task") == 2, timeout=120)
    wait_until(lambda: worker_settled(worker.log_path, redis_url), timeout=120)
    assert not UnsentTask.objects.exists()

    assert Estimate.objects.filter(claim=claim).count() == 1
    assert Estimate.objects.get(claim=claim).is_current
    sent = emails_sent(mail_folder)
    assert len(sent) == 1, [subject(message) for message in sent]
    assert claim.reference_code in subject(sent[0]) and sent[0]["To"] == claimant.email

    # And the claimant, still signed in, keeps going now that Redis is back.
    assert get(browser, site + reverse("claims:detail", args=[claim.pk])).status_code == 200


# --- the resilient cache -------------------------------------------------------------------------------------------


def resilient_cache(location: str, backend=resilient.ResilientRedisCache):
    return backend(location, {"KEY_PREFIX": f"t-{time.monotonic_ns()}"})


def test_a_dead_redis_answers_as_a_miss_and_is_tried_once_per_breaker_period(monkeypatch, caplog):
    cache = resilient_cache(dead_redis_url())
    connections = []
    real_get_client = resilient.ResilientRedisCacheClient.get_client

    def counting_get_client(self, *args, **kwargs):
        connections.append(1)
        return real_get_client(self, *args, **kwargs)

    monkeypatch.setattr(resilient.ResilientRedisCacheClient, "get_client", counting_get_client)
    caplog.set_level(logging.WARNING, logger="config.cache")

    assert cache.get("k", "default") == "default"
    cache.set("k", "v")
    assert cache.add("k", "v") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("k", "computed") == "computed"
    assert "k" not in cache
    cache.delete("k")
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")

    assert len(connections) == 1  # the first call tried; the breaker answered every other at once
    warnings = [record.getMessage() for record in caplog.records if record.name == "config.cache"]
    assert len(warnings) == 1 and "does not answer" in warnings[0]  # logged once, not per call
    assert cache.breaker.is_down


def test_writes_lost_during_an_outage_are_deleted_when_redis_returns():
    """A value written before the outage and overwritten (or deleted) during it is not served after it: a session
    signed out during the outage does not come back."""
    cache = caches["default"]
    cache.set("session-like", "before the outage")
    cache.breaker.failed(ConnectionError("simulated"))  # Redis stops answering

    cache.delete("session-like")  # e.g. a sign-out: lost
    assert cache.get("session-like") is None  # while down: a miss
    cache.breaker._retry_at = 0  # the breaker's period is over: the next call tries Redis again

    assert cache.get("session-like") is None  # not "before the outage"
    assert not cache.breaker.is_down
    cache.set("session-like", "after")
    assert cache.get("session-like") == "after"


@pytest.mark.django_db
def test_a_session_signed_out_during_an_outage_does_not_come_back_with_redis():
    """The session was cached in Redis before the outage; signing out deletes it from the database, but the cache
    delete cannot reach Redis. When Redis answers again the old cookie must not sign anyone in."""
    claimant = claimant_ready()
    client = Client()
    client.force_login(claimant)
    assert client.get(reverse("claims:index")).status_code == 200  # the session is in Redis
    stolen_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    breaker = caches[settings.SESSION_CACHE_ALIAS].breaker
    breaker.failed(ConnectionError("simulated"))  # Redis stops answering

    assert client.post(reverse("accounts:logout")).status_code == 302
    breaker._retry_at = 0  # Redis answers again at the next call

    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = stolen_cookie
    response = other.get(reverse("claims:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_write_skipped_while_another_thread_recovers_is_deleted_too():
    breaker = resilient.CircuitBreaker("test", retry_after=5)
    breaker.failed(ConnectionError("simulated"))
    breaker.lose(["a"])
    assert breaker.take_lost() == ["a"]  # the recovering thread deletes these ...
    breaker.lose(["b"])  # ... while another thread's write is skipped

    assert breaker.recovered(1) == ["b"]  # handed back for deletion, and no write is skipped after this
    assert not breaker.is_down and breaker.may_try()


# --- rate limits while Redis is down -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rate_limit_counters_move_to_the_database_while_redis_is_down():
    cache = resilient_cache(dead_redis_url(), resilient.RateLimitCache)

    assert cache.add("rl:window-1", 1, 60) is True
    assert cache.add("rl:window-1", 1, 60) is False
    assert cache.incr("rl:window-1") == 2
    assert cache.get("rl:window-1", 0) == 2
    assert cache.get("rl:other", 0) == 0
    with pytest.raises(ValueError):
        cache.incr("rl:other")

    RateLimitCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # the window ends
    assert cache.get("rl:window-1", 0) == 0
    assert cache.add("rl:window-1", 1, 60) is True  # a new window, counted from one
    assert cache.incr("rl:window-1") == 2


@pytest.mark.django_db
def test_logins_stay_rate_limited_while_redis_is_down(client, settings):
    """Failing open would hand an attacker the outage; failing closed would lock every claimant out."""
    settings.CACHES = {**settings.CACHES, "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": dead_redis_url()}}
    from accounts.views.auth import RATE_LOGIN

    limit = int(RATE_LOGIN.split("/")[0])
    url = reverse("accounts:login")
    statuses = [
        client.post(url, {"username": f"nobody{n}@example.com", "password": "wrong"}).status_code
        for n in range(limit + 1)
    ]

    assert statuses[:limit] == [200] * limit  # the form again, with its error
    assert statuses[limit] == 429
    assert RateLimitCounter.objects.filter(count=limit + 1).exists()


@pytest.mark.django_db
def test_uploads_stay_rate_limited_while_redis_is_down(client, settings):
    settings.CACHES = {**settings.CACHES, "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": dead_redis_url()}}
    settings.UPLOAD_RATE = "2/h"
    claimant = claimant_ready()
    claim = submittable_draft(claimant)
    client.force_login(claimant)
    url = reverse("claims:evidence_upload", args=[claim.pk])

    def upload() -> int:
        data = {"tag": "proof_of_use", "file": SimpleUploadedFile("r.png", png_bytes(), content_type="image/png")}
        return client.post(url, data, headers={"X-Requested-With": "XMLHttpRequest"}).status_code

    assert [upload(), upload(), upload()] == [201, 201, 429]


# --- pages and health with every Redis call failing ----------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The cache, the sessions' cache, the rate-limit counters and the broker all on a port where nothing listens."""
    dead = dead_redis_url()
    settings.CACHES = {alias: {**config, "LOCATION": dead} for alias, config in settings.CACHES.items()}
    settings.REDIS_URL = dead
    return dead


@pytest.mark.django_db
def test_healthz_says_degraded_but_answers_200_when_redis_is_down(client, redis_down):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "down", "redis": "down"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down_too(client, redis_down, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "database_status", lambda: "down")
    response = client.get(reverse("healthz"))

    assert response.status_code == 503 and response.json()["status"] == "error"


@pytest.mark.django_db
def test_signed_in_pages_and_the_staff_review_answer_with_redis_down(client, redis_down):
    claimant = claimant_ready()
    claim = submittable_draft(claimant)
    client.force_login(claimant)  # the session is kept in the database

    assert client.get(reverse("claims:index")).status_code == 200
    assert client.get(reverse("claims:wizard_review", args=[claim.pk])).status_code == 200

    staff = admin_login(Client(), staff_member())
    assert staff.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code == 200


# --- the readiness stamp -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_consent_withdrawn_during_an_outage_is_not_undone_by_the_cache_when_redis_returns():
    """The "ready" cached before the outage is still in Redis when it returns; the withdrawal's new stamp is in the
    database, so the entry is never used, even by a process that did not see the outage."""
    claimant = claimant_ready()
    assert claimant_readiness_cached(user=claimant).ready  # cached in Redis
    breaker = caches["default"].breaker
    breaker.failed(ConnectionError("simulated"))  # Redis stops answering

    privacy = ConsentDocument.objects.filter(kind=ConsentDocument.Kind.PRIVACY_REQUIRED).latest("version")
    consent_withdraw(user=claimant, document=privacy, meta=META)
    assert not claimant_readiness_cached(user=User.objects.get(pk=claimant.pk)).ready  # from the database

    breaker.take_lost()  # another process, which remembers nothing of the outage
    resilient.circuit_breakers_reset()  # Redis answers again, with the entry from before the outage
    assert not claimant_readiness_cached(user=User.objects.get(pk=claimant.pk)).ready


@pytest.mark.django_db
def test_a_document_published_during_an_outage_renews_every_claimants_stamp():
    claimant = claimant_ready()
    assert claimant_readiness_cached(user=claimant).ready
    caches["default"].breaker.failed(ConnectionError("simulated"))

    ConsentDocument.objects.create(
        kind=ConsentDocument.Kind.PRIVACY_REQUIRED, version=99, title="v99", body="99", published_at=timezone.now()
    )

    caches["default"].breaker.take_lost()
    resilient.circuit_breakers_reset()
    readiness = claimant_readiness_cached(user=User.objects.get(pk=claimant.pk))
    assert not readiness.ready and [document.version for document in readiness.consents_missing] == [99]


@pytest.mark.django_db
def test_saving_a_user_read_before_a_withdrawal_keeps_the_new_stamp():
    claimant = claimant_ready()
    stale_copy = User.objects.get(pk=claimant.pk)
    privacy = ConsentDocument.objects.filter(kind=ConsentDocument.Kind.PRIVACY_REQUIRED).latest("version")
    consent_withdraw(user=claimant, document=privacy, meta=META)
    new_stamp = User.objects.get(pk=claimant.pk).readiness_stamp

    stale_copy.address_detail = "101동 202호"
    stale_copy.save()  # e.g. the profile page in another tab

    assert User.objects.get(pk=claimant.pk).readiness_stamp == new_stamp


# --- tasks the broker refused ----------------------------------------------------------------------------------------


@pytest.fixture
def broker_refusing():
    """Publishing goes to a port where nothing listens (tasks are not run inline) until the test calls `back()`."""
    previous = app.conf.broker_url, app.conf.task_always_eager

    def point(broker_url: str, eager: bool) -> None:
        app.conf.broker_url, app.conf.task_always_eager = broker_url, eager
        app._pool, app.amqp._producer_pool = None, None

    point(dead_redis_url(), False)
    yield lambda: point(*previous)
    point(*previous)


@pytest.mark.django_db(transaction=True)
def test_an_email_the_broker_refused_is_sent_once_when_it_returns(broker_refusing, mailoutbox):
    """A sign-up's verification email has no sweep of its own: the refused task is kept and published again."""
    from accounts.services.auth import email_verification_resend
    from accounts.tests.factories import UserFactory
    from claims.services.recovery import unsent_tasks_publish
    from claims.tasks.recovery import unsent_tasks_publish_task

    user = UserFactory()
    email_verification_resend(user=user)  # committed at once (no surrounding transaction): the publish fails
    assert list(UnsentTask.objects.values_list("name", "args")) == [
        ("accounts.tasks.email_verification_send", [user.pk])
    ]
    assert unsent_tasks_publish() == 0 and UnsentTask.objects.count() == 1  # still down: kept
    assert mailoutbox == []

    broker_refusing()  # the broker is back (tasks inline in this test)
    assert unsent_tasks_publish_task.delay().get() == 1
    assert unsent_tasks_publish_task.delay().get() == 0

    assert [message.to for message in mailoutbox] == [[user.email]]
    assert not UnsentTask.objects.exists()


@pytest.mark.django_db
def test_an_unsent_task_that_no_longer_exists_is_dropped():
    from claims.services.recovery import unsent_tasks_publish

    UnsentTask.objects.create(name="claims.tasks.gone_task", args=[1])
    assert unsent_tasks_publish() == 0
    assert not UnsentTask.objects.exists()
