"""The integrations' tasks, for Celery's autodiscovery (which imports `<app>.tasks`)."""

from integrations.payments.tasks import sandbox_webhook_deliver_task  # noqa: F401
