"""The journey load test's harness (bench/journey_load.py) without running it: the workers it starts are
docker-compose's, and its figures sort each request into the page kind its target is for. The harness itself runs
in `make bench` (section `journey`; `--journeys 2` takes about two minutes with collectstatic, too long for the
suite)."""

import shlex

import yaml

from bench.journey_load import _figures, kind_of, queue_names, worker_commands
from config.settings.base import BASE_DIR


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
            users=2,
            folder=tmp_path,
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
    assert figures["journey: worker backlog when the journeys ended"].value == 7
