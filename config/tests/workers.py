"""The queues a test worker consumes: every queue the project routes a task to, and Celery's default."""

from django.conf import settings


def worker_queues() -> str:
    """The -Q of a test worker that runs every task (a new queue in CELERY_TASK_ROUTES is consumed at once)."""
    return ",".join(["celery", *sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()})])
