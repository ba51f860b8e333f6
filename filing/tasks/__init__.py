"""Celery tasks, one module per area; imported here so the worker's autodiscovery finds them."""

from filing.tasks import exports, notifications  # noqa: F401
