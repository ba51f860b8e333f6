"""Celery tasks, one module per area; imported here so the worker's autodiscovery finds them."""

from claims.tasks import dashboard, estimates, evidence, fraud, notifications, recovery, retention  # noqa: F401
