"""Task arguments are ids, never personal data; the request id travels in the message headers; every queue a task
is routed to has a worker."""

import inspect
import re

import pytest
from django.conf import settings

from config.celery import REQUEST_ID_TASK_HEADER, _request_id_to_headers, app
from config.request_context import request_id_var

PROJECT_PACKAGES = (
    "core.",
    "accounts.",
    "claims.",
    "filing.",
    "payments.",
    "notifications.",
    "integrations.",
    "config.",
)


# Task arguments that are no ids and hold no personal data.
NOT_IDS = {
    "after_number": "a paging cursor: the plaintiff number in a wave after which the next chunk starts",
    "event_type": "a webhook event type from the gateway's fixed list (the sandbox's webhooks)",
}


def project_tasks():
    app.loader.import_default_modules()
    return sorted(
        (name, task)
        for name, task in app.tasks.items()
        if name.startswith(PROJECT_PACKAGES) and ".tests." not in name and hasattr(task, "run")
    )


def test_the_project_has_tasks_to_check():
    names = [name for name, _task in project_tasks()]
    assert "claims.tasks.notifications.claim_status_email_task" in names
    assert "claims.tasks.retention.closed_claims_anonymise_task" in names


@pytest.mark.parametrize(("name", "task"), project_tasks())
def test_every_task_takes_only_ids(name, task):
    """Messages sit in Redis and in worker logs: an email, a name or a phone number must never be an argument."""
    parameters = [p for p in inspect.signature(task.run).parameters.values() if p.name not in ("self", *NOT_IDS)]
    for parameter in parameters:
        assert parameter.annotation in (int, "int", list[int], "list[int]"), f"{name}({parameter.name}) is not an id"
        assert parameter.name.endswith(("_id", "_ids")), f"{name}({parameter.name}) is not named as an id"


def test_a_published_task_carries_the_request_id_in_its_headers():
    headers: dict = {}
    token = request_id_var.set("req-abcdef12")
    try:
        _request_id_to_headers(headers=headers)
    finally:
        request_id_var.reset(token)

    assert headers == {REQUEST_ID_TASK_HEADER: "req-abcdef12"}


def test_outside_a_request_no_header_is_added():
    headers: dict = {}
    _request_id_to_headers(headers=headers)

    assert headers == {}


def test_every_queue_a_task_is_routed_to_has_a_worker_in_make_run_and_in_compose():
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {"celery"}
    base = settings.BASE_DIR
    make_run = re.search(r"celery -A config worker .*?-Q (\S+)", (base / "Makefile").read_text()).group(1)
    compose = re.findall(r"celery -A config worker .*?-Q (\S+)", (base / "docker-compose.yml").read_text())
    assert queues <= set(make_run.split(","))
    assert queues <= {queue for found in compose for queue in found.split(",")}


@pytest.mark.celery_worker
def test_a_worker_lowers_its_cpu_priority_by_worker_niceness(celery_worker_factory):
    import psutil

    usual = psutil.Process().nice()
    worker = celery_worker_factory(WORKER_NICENESS="7")  # answered a ping: its pool runs
    assert psutil.Process(worker.pid).nice() == usual + 7


def test_compose_runs_at_a_lower_priority_only_the_workers_nobody_waits_for_on_a_page():
    from bench.journey_load import worker_commands, worker_environments

    environments = worker_environments()
    queues = {name: command[command.index("-Q") + 1] for name, command in worker_commands().items()}
    lowered = {queues[name] for name, variables in environments.items() if variables.get("WORKER_NICENESS") == "10"}
    assert lowered == {"celery", "estimates", "exports", "evidence_reading"}
    assert {"email", "documents"} <= set(queues.values()) - lowered  # verification emails and the signed PDF
