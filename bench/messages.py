"""Queuing a bulk message to 100,000 claimants (issue 18, notifications/bulk.py), beside the database's floor.

Measured on the benchmark's synthetic cohort: the admin's send request (it runs the preview's count over the
audience once and records the BulkMessage; no message row is written in the request), then the planning task that
writes one Notification row per recipient with bulk_create (BULK_BATCH rows per INSERT) and publishes the send
chunks to the broker. The reference is a plain bulk_create of the same number of minimal outbox rows in the same
run. The chunks are not sent (no worker runs): the broker's queues are emptied afterwards."""

from __future__ import annotations

import time

from bench.metrics import Metric

QUEUE_TARGET_SECONDS = 60


def measure(*, recipients: int) -> list[Metric]:
    from accounts.models import User
    from config.celery import app
    from notifications import bulk
    from notifications.models import BulkMessage, MessageTemplate, Notification

    ids = list(User.objects.filter(is_staff=False).order_by("pk").values_list("pk", flat=True)[:recipients])
    last = ids[-1]
    bulk.AUDIENCES.pop("bench.claimants", None)
    bulk.audience("bench.claimants", label="benchmark", choices=lambda: [(0, f"first {len(ids):,} claimants")])(
        lambda _id: User.objects.filter(is_staff=False, pk__lte=last)
    )
    staff = User.objects.filter(is_staff=True).first()

    started = time.perf_counter()
    created = bulk.bulk_message_create(
        audience_name="bench.claimants", audience_id=0, kind=MessageTemplate.Kind.NOTICE, message="변론기일 안내",
        actor=staff,
    )  # fmt: skip
    request_seconds = time.perf_counter() - started
    started = time.perf_counter()
    queued = bulk.bulk_message_plan(bulk_id=created.pk)
    plan_seconds = time.perf_counter() - started

    started = time.perf_counter()
    Notification.objects.bulk_create(
        (
            Notification(channel="email", template="bench", language="ko", address="x", idempotency_key=f"bench:{pk}")
            for pk in ids
        ),
        batch_size=bulk.BULK_BATCH,
    )
    reference_seconds = time.perf_counter() - started
    Notification.objects.filter(template="bench").delete()
    Notification.objects.filter(bulk=created).delete()
    BulkMessage.objects.filter(pk=created.pk).delete()
    app.control.purge()

    total = request_seconds + plan_seconds
    return [
        Metric(
            "bulk message: the admin's send request",
            round(request_seconds, 2),
            "s",
            n=len(ids),
            note="the preview's count over the audience and one row; the messages are written by a task",
        ),
        Metric(
            "bulk message: 100,000 recipients queued (request + planning task)",
            round(total, 1),
            "s",
            n=queued,
            reference=round(reference_seconds, 1),
            ratio=round(total / reference_seconds, 1) if reference_seconds else None,
            target=f"< {QUEUE_TARGET_SECONDS} s",
            met=total < QUEUE_TARGET_SECONDS,
            note="reference: bulk_create of the same number of bare outbox rows; n = messages queued for sending",
        ),
    ]
