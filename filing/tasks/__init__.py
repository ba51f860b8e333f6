"""Celery tasks, one module per area; imported here so the worker's autodiscovery finds them."""

from filing.tasks import exports, funnel, notifications, selected_parties  # noqa: F401
