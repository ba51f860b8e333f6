"""Faults caused on purpose: the broker down while claimants submit, the database dropping every connection while
the site runs, two submissions or two members of staff at the same moment, the disk full during an upload.
In each case the site answers, nothing entered is lost, and nothing is done twice."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from claims.models import Claim, ClaimEvent, DamageModelVersion, Estimate, Evidence
from claims.services.review import ClaimConflictError, claim_start_review
from claims.tasks.estimates import SWEEP_LOCK, estimate_sweep_task
from claims.tasks.recovery import status_email_sweep_task
from claims.tests.factories import (
    ClaimFactory,
    DamageModelVersionFactory,
    LossItemFactory,
    claimant_ready,
    png_bytes,
    service_by_slug,
)
from claims.tests.staff import staff_member
from config.backup import PostgresTarget
from config.celery import app
from config.tests.failing_storage import full_disk_storages

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEAD_BROKER = "redis://127.0.0.1:1/0"


def submittable_draft(claimant=None) -> Claim:
    claim = ClaimFactory(claimant=claimant or claimant_ready(), wizard_step="review")
    claim.services.set([service_by_slug("kakao-t")])
    LossItemFactory(claim=claim, service=service_by_slug("kakao-t"), monthly_fee=39_000)
    return claim


@pytest.fixture
def broker_down():
    """Publishing really goes to a broker that refuses connections (tasks are not run inline)."""
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = DEAD_BROKER, False
    forget_connections()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        forget_connections()


def forget_connections() -> None:
    """Drop the app's cached connection and producer pools so the next publish connects to `broker_url`."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_claimant_still_submits_and_the_sweeps_catch_up(broker_down):
    claim = submittable_draft()
    if not DamageModelVersion.objects.filter(incident=claim.incident, is_active=True).exists():
        DamageModelVersionFactory(is_active=True, activated_at=timezone.now())  # an earlier test removed it
    client = Client()
    client.force_login(claim.claimant)

    response = client.post(reverse("claims:wizard_review", args=[claim.pk]), follow=True)

    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and claim.reference_code
    assert claim.reference_code in response.content.decode()  # the confirmation page
    assert mail.outbox == [] and not Estimate.objects.filter(claim=claim).exists()  # nothing could be queued

    # The broker is back: the periodic sweeps find the work in the database.
    app.conf.broker_url, app.conf.task_always_eager = settings.CELERY_BROKER_URL, True
    forget_connections()
    cache.delete(SWEEP_LOCK)  # a sweep of an earlier test may still hold it
    event = claim.events.get(kind=ClaimEvent.Kind.SUBMITTED)
    ClaimEvent.objects.filter(pk=event.pk).update(created_at=event.created_at - timedelta(minutes=6))
    estimate_sweep_task.delay()
    status_email_sweep_task.delay()
    status_email_sweep_task.delay()  # a second run, or a duplicate message, sends nothing more

    assert Estimate.objects.filter(claim=claim, is_current=True).count() == 1
    assert len(mail.outbox) == 1 and claim.reference_code in mail.outbox[0].subject
    assert status_email_sweep_task.delay().get() == 0


@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_the_same_claim_at_the_same_moment_make_one(django_db_blocker):
    claim = submittable_draft()
    url = reverse("claims:wizard_review", args=[claim.pk])
    barrier, statuses = threading.Barrier(2), []

    def submit():
        try:
            client = Client()
            client.force_login(claim.claimant)
            barrier.wait()
            statuses.append(client.post(url).status_code)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            statuses.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    claim.refresh_from_db()
    assert statuses == [302, 302]
    assert claim.status == Claim.Status.SUBMITTED
    assert claim.events.filter(kind=ClaimEvent.Kind.SUBMITTED).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_acting_on_the_same_claim_at_once_make_one_change_and_one_conflict():
    claim = submittable_draft()
    claim.status, claim.reference_code = Claim.Status.SUBMITTED, "KC-TEST-0001"
    claim.save()
    first, second = staff_member(Role.PARALEGAL), staff_member(Role.LAWYER)
    version = claim.version  # both loaded the page showing this version
    barrier, results = threading.Barrier(2), []

    def act(actor):
        barrier.wait()
        try:
            claim_start_review(claim=Claim.objects.get(pk=claim.pk), actor=actor, expected_version=version)
            results.append("changed")
        except ClaimConflictError:
            results.append("conflict")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(actor,)) for actor in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["changed", "conflict"]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW and claim.version == version + 1
    assert claim.events.filter(kind=ClaimEvent.Kind.REVIEW_STARTED).count() == 1


@pytest.mark.django_db
def test_a_full_disk_during_an_upload_shows_an_error_and_keeps_the_claim(client, settings):
    claim = submittable_draft()
    claim.wizard_step = "evidence"
    claim.save()
    client.force_login(claim.claimant)
    settings.STORAGES = full_disk_storages(settings)

    response = client.post(
        reverse("claims:evidence_upload", args=[claim.pk]),
        {"tag": "proof_of_use", "file": SimpleUploadedFile("a.png", png_bytes())},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )

    assert response.status_code == 400
    assert "저장하지 못했습니다" in response.json()["error"]
    assert not Evidence.objects.exists()
    claim.refresh_from_db()
    assert claim.loss_items.get().monthly_fee == 39_000 and claim.services.count() == 1  # the answers are kept


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_the_site_answers_after_the_database_drops_every_connection(tmp_path):
    """Like a PostgreSQL restart or failover: every backend of the site is terminated while gunicorn keeps its
    persistent connections; the next request reconnects (CONN_HEALTH_CHECKS) instead of failing."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DATABASE_CONN_MAX_AGE": "600",
        "PRIVATE_STORAGE_ROOT": str(tmp_path),
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "config.wsgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/readyz"

    def get() -> int:
        request = urllib.request.Request(url, headers={"Host": "127.0.0.1"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get() == 200:
                    break
            except OSError:
                time.sleep(0.3)
        assert get() == 200
        target = PostgresTarget.from_settings(db)
        with psycopg.connect(
            host=target.host, port=target.port, user=target.user, dbname=target.name, autocommit=True
        ) as admin:
            before = admin.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            assert before >= 1  # gunicorn's persistent connection (and this test's own)
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

        assert [get() for _ in range(3)] == [200, 200, 200]
    finally:
        server.terminate()
        server.wait(timeout=20)
        connection.close()
