"""The journey load test's harness (bench/journey_load.py) without running it: the workers it starts are
docker-compose's, its figures sort each request into the step kind its target is for, and what its locust user
reads off the pages (bench/journey_pages.py) is read off the real pages: the certified signature's form, the
waiting page's poll, the sandbox phone's list and answer, the retainer's form and the sandbox's payment window. The
harness itself runs in `make bench` (section `journey`; `--journeys 2` takes about two minutes with collectstatic,
too long for the suite)."""

import os
import shlex
import subprocess
import sys

import pytest
import yaml
from django.urls import reverse

from accounts.models import ConsentDocument, IdentityVerification
from accounts.services.consents import consent_accept
from accounts.tests.factories import ClaimantFactory, consent_documents_published
from bench.journey_load import _figures, kind_of, queue_names, second_half_growth, worker_commands
from bench.journey_pages import FlowError, Forms, IdentityWait, path_name, sandbox_phone_link
from bench.processes import tree_cpu_seconds
from config.settings.base import BASE_DIR
from core.audit import RequestMeta
from integrations.identity import IdentityMethod
from payments.tests.factories import retainer_terms_seeded


def test_the_load_test_starts_every_celery_worker_of_docker_compose_with_its_own_command():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
    workers = {
        name: shlex.split(service["command"])
        for name, service in compose["services"].items()
        if "worker" in str(service.get("command", "")).split()[:4]
    }
    assert worker_commands() == workers
    assert {"celery", "email", "estimates", "evidence_reading"} <= set(queue_names(worker_commands()))


def test_requests_are_sorted_into_the_kinds_their_targets_are_for():
    assert kind_of("GET", "/claims/[id]/wizard/losses/") == "page"
    assert kind_of("POST", "/accounts/profile/ POST") == "form"
    assert kind_of("POST", "/accounts/power-of-attorney/ POST") == "signing"
    assert kind_of("GET", "/accounts/power-of-attorney/") == "page"
    assert kind_of("POST", "/claims/[id]/evidence/upload/ POST (jpg)") == "upload"
    assert kind_of("GET", "/bench/trivial") == "reference"
    assert kind_of("POST", "/accounts/power-of-attorney/ POST (certified)") == "identity"
    assert kind_of("GET", "/accounts/identity/[id]/") == "identity"
    assert kind_of("GET", "/accounts/identity/[id]/status/") == "identity"
    assert kind_of("GET", "/accounts/identity/[id]/status/ (signed)") == "signing"
    assert kind_of("POST", "/sandbox/identity/[id]/ POST (approve)") == "identity"
    assert kind_of("POST", "/payments/retainer/ POST") == "payment"
    assert kind_of("GET", "/sandbox/payments/[id]/checkout") == "payment"
    assert kind_of("GET", "/payments/retainer/return/") == "payment"


def test_the_figures_put_each_p95_beside_the_no_io_view_and_count_failures(tmp_path):
    rows = [
        *(("GET", "/", 100.0, True) for _ in range(19)),
        ("GET", "/", 400.0, True),
        ("POST", "/accounts/power-of-attorney/ POST", 800.0, True),
        ("POST", "/claims/[id]/evidence/upload/ POST (png)", 1200.0, True),
        ("GET", "/bench/trivial", 10.0, True),
        ("FLOW", "journey step", 0.0, False),
        ("JOURNEY", "completed", 0.0, True),
    ]
    figures = {
        metric.metric: metric
        for metric in _figures(
            rows=rows,
            elapsed=3600,
            submitted=1,
            started=2,
            rss=({1: 100.0, 2: 100.0}, {1: 105.0, 2: 150.0, 3: 120.0}),
            drain=(7, 3.0, 0),
            cpu={"web (gunicorn)": 3.0, "worker": 1.0, "PostgreSQL": 0.5, "Redis": 0.0, "load generator (locust)": 2.0},
            users=2,
            folder=tmp_path,
            sandboxes=False,
        )
    }
    assert figures["journey: complete journeys per hour (landing to submitted)"].value == 1
    page = figures["journey: p95 page"]
    assert (page.value, page.reference, page.ratio, page.met) == (400.0, 10.0, 40.0, False)
    assert figures["journey: p95 signing"].met is True
    assert figures["journey: p95 upload"].met is False
    assert figures["journey: errors"].value == 1
    memory = figures["journey: memory per gunicorn worker, start -> end"]
    assert (memory.ratio, memory.met) == (1.5, False)
    recycled = _figures(
        rows=rows,
        elapsed=3600,
        submitted=1,
        started=1,
        rss=({1: 150.0, 2: 100.0}, {3: 160.0, 4: 140.0}),  # every worker replaced by max_requests
        drain=(0, 0.0, 0),
        cpu={},
        users=1,
        folder=tmp_path,
        sandboxes=False,
    )
    memory = next(metric for metric in recycled if metric.metric.startswith("journey: memory"))
    assert (memory.ratio, memory.met) == (1.07, True)

    assert figures["journey: worker backlog when the journeys ended"].value == 7
    cpu = figures["journey: CPU seconds per journey (web, workers, PostgreSQL, Redis)"]
    assert (cpu.value, cpu.reference) == (4.5, 2.0)  # the site's parts summed; the load generator beside them
    assert "one 2-core machine running everything: 1,600 journeys/h" in cpu.note


def test_the_memory_over_the_second_half_compares_the_middle_sample_with_the_end_for_workers_alive_in_both():
    samples = [{1: 100.0, 2: 100.0}, {1: 150.0, 2: 120.0}, {1: 160.0, 2: 130.0}]
    assert second_half_growth(samples, {1: 165.0, 3: 90.0}) == 1.1  # worker 2 replaced, worker 3 new: only 1
    assert second_half_growth([], {1: 165.0}) is None
    assert second_half_growth(samples, {4: 100.0}) is None


def test_the_cpu_of_a_process_tree_counts_its_children_also_once_they_have_ended():
    before = tree_cpu_seconds(os.getpid())
    child = subprocess.run(  # a child that burns CPU and says how much, reaped before the second reading
        [sys.executable, "-c", "import time; sum(i * i for i in range(2_000_000)); print(time.process_time())"],
        check=True,
        capture_output=True,
        text=True,
    )
    tick = 1 / os.sysconf("SC_CLK_TCK")  # the kernel counts CPU time in ticks; the child reads a finer clock
    assert tree_cpu_seconds(os.getpid()) - before >= float(child.stdout) - 2 * tick > 0
    assert tree_cpu_seconds(2**22 + 12345) == 0.0  # no such process


@pytest.mark.parametrize(("submitted", "per_hour", "met"), [(3, 3000, True), (2, 2000, False)])
def test_journeys_per_hour_is_the_start_rate_times_the_share_submitted(tmp_path, submitted, per_hour, met):
    rows = [("JOURNEY", "started", 0.0, True, 100.0 + 1.2 * n) for n in range(3)]
    rows += [("GET", "/", 50.0, True, 110.0), ("JOURNEY", "completed", 0.0, True, 111.0)]
    figure = _figures(
        rows=rows,
        elapsed=11,
        submitted=submitted,
        started=3,
        rss=({1: 100.0}, {1: 100.0}),
        drain=(0, 0.0, 0),
        cpu={},
        users=3,
        folder=tmp_path,
        sandboxes=False,
        rate=3000,
    )[0]
    assert (figure.value, figure.met) == (per_hour, met)
    assert "journeys started at 3,000 an hour" in figure.note


def test_with_the_sandboxes_the_figures_add_the_identity_and_payment_steps_and_say_sandbox(tmp_path):
    rows = [
        ("GET", "/accounts/identity/[id]/status/", 40.0, True),
        ("GET", "/accounts/identity/[id]/status/ (signed)", 900.0, True),
        ("GET", "/sandbox/payments/[id]/checkout", 350.0, True),
        ("GET", "/bench/trivial", 10.0, True),
    ]
    figures = {
        metric.metric: metric
        for metric in _figures(
            rows=rows,
            elapsed=60,
            submitted=1,
            started=1,
            rss=({1: 100.0}, {1: 100.0}),
            drain=(0, 0.0, 0),
            cpu={},
            users=1,
            folder=tmp_path,
            sandboxes=True,
        )
    }
    assert (figures["journey: p95 identity"].value, figures["journey: p95 identity"].met) == (40.0, True)
    assert (figures["journey: p95 signing"].value, figures["journey: p95 signing"].met) == (900.0, True)
    assert (figures["journey: p95 payment"].value, figures["journey: p95 payment"].met) == (350.0, False)
    assert all("sandbox" in metric.note for name, metric in figures.items() if "p95" in name or "per hour" in name)


def test_request_names_hide_ids_tokens_and_the_sandboxes_receipts():
    assert path_name("http://127.0.0.1:8000/claims/12/wizard/losses/?x=1") == "/claims/[id]/wizard/losses/"
    assert path_name("/sandbox/identity/0af3/") == "/sandbox/identity/[id]/"
    assert path_name("/sandbox/identity/") == "/sandbox/identity/"
    assert path_name("/sandbox/payments/retainer-7-x1/checkout?amount=1") == "/sandbox/payments/[id]/checkout"


def test_the_phone_list_gives_the_newest_request_to_the_claimants_number_only():
    listing = """<ul>
      <li><a href="/sandbox/identity/aa11/"><span>토스</span> 전자서명 · 010-****-0007</a></li>
      <li><a href="/sandbox/identity/bb22/"><span>카카오</span> 전자서명 · 010-****-0042</a></li>
      <li><a href="/sandbox/identity/cc33/"><span>PASS</span> 본인인증 · 010-****-0042</a></li>
    </ul>"""
    assert sandbox_phone_link(listing, "01098760042") == "/sandbox/identity/bb22/"
    with pytest.raises(FlowError):
        sandbox_phone_link(listing, "01098760043")


def test_the_waiting_page_without_an_interval_polls_as_its_script_does():
    waiting = IdentityWait('<div data-identity-wait data-poll-url="/accounts/identity/3/status/"></div>')
    assert (waiting.poll_url, waiting.interval_ms) == ("/accounts/identity/3/status/", 3000)


@pytest.mark.django_db
def test_the_locust_user_reads_the_certified_signature_the_phone_and_the_payment_window_off_the_real_pages(client):
    """The test settings run the sandboxes: the pages a journey with them walks, read as the locust user reads them."""
    retainer_terms_seeded()
    user = ClaimantFactory(phone="01055500042")
    documents = consent_documents_published()
    meta = RequestMeta(ip="203.0.113.9", user_agent="bench")
    consent_accept(user=user, document=documents[ConsentDocument.Kind.PRIVACY_REQUIRED], meta=meta)
    client.force_login(user)

    sign = reverse("accounts:power_of_attorney_sign")
    certified = Forms(client.get(sign).content.decode()).with_field("certified_method")
    assert certified["choices"]["certified_method"] == list(IdentityMethod.values)
    response = client.post(sign, {**certified["data"], "certified_method": "toss", "certified": "1"})
    verification = IdentityVerification.objects.get(user=user, kind=IdentityVerification.Kind.SIGNATURE)
    wait_url = response["Location"]
    wait_html = client.get(wait_url).content.decode()
    waiting = IdentityWait(wait_html)
    assert (waiting.poll_url, waiting.interval_ms) == (reverse("accounts:identity_poll", args=[verification.pk]), 3000)

    link = sandbox_phone_link(client.get("/sandbox/identity/").content.decode(), user.phone)
    assert link == reverse("integrations:sandbox_phone", args=[verification.receipt_id])
    answer = Forms(client.get(link).content.decode()).posted_to(link)
    approved = client.post(link, {**answer["data"], "decision": "approve"}, headers={"Accept": "application/json"})
    assert approved.json()["state"] == "approved"
    assert client.get(waiting.poll_url).json()["pending"] is False
    confirm = Forms(wait_html).posted_to(wait_url)
    retainer_url = client.post(wait_url, confirm["data"])["Location"]
    assert retainer_url == reverse("payments:retainer")

    pay = Forms(client.get(retainer_url).content.decode()).with_field("method")
    assert pay["choices"]["method"]
    checkout_url = client.post(retainer_url, {**pay["data"], "method": pay["choices"]["method"][-1]})["Location"]
    assert checkout_url.startswith("/sandbox/payments/")
    window = Forms(client.get(checkout_url).content.decode()).with_field("redirect_url")
    returned = client.post(checkout_url, {**window["data"], "action": "pay"})["Location"]
    assert reverse("payments:retainer_return") in returned
    assert reverse("payments:retainer") not in client.get(returned)["Location"]  # paid: on to the next step


def test_a_locust_run_that_wrote_no_statistics_is_an_error(tmp_path):
    from bench.journey_load import locust_ran

    csv = tmp_path / "journey-warm-up"
    failed = subprocess.CompletedProcess(["locust"], 1, b"", b"ValueError: could not convert string to float: ''")
    with pytest.raises(RuntimeError, match="could not convert"):
        locust_ran(failed, csv)
    csv.with_name("journey-warm-up_stats.csv").write_text("Type,Name\n")
    locust_ran(failed, csv)  # exit code 1: some request failed, which the figures report


def test_the_locustfile_starts_with_and_without_pacing():
    for pacing, seconds in (("", 0), ("0", 0), ("12.5", 12.5)):
        loaded = subprocess.run(
            [sys.executable, "-c", "import bench.journey_locust as journeys; print(journeys.PACING)"],
            cwd=BASE_DIR,
            env={**os.environ, "BENCH_PACING": pacing},
            capture_output=True,
            text=True,
            check=True,
        )
        assert float(loaded.stdout.split()[-1]) == seconds
