"""Celery tasks, one module per area; imported here so the worker's autodiscovery finds them."""

from claims.tasks import estimates, notifications  # noqa: F401
from claims.tasks import fraud  # noqa: F401
from claims.tasks import retention  # noqa: F401
