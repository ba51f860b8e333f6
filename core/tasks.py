"""The base of every Celery task (config/celery.py makes it the app's task class), and the webhook task.

ApplicationTask adds to config.celery.OnCommitTask (publishing on commit without ever failing the request):
- acks_late: a message is acknowledged after the work, so a worker that dies mid-task has it redelivered;
- retries with backoff for transient database errors (unless the task names its own `autoretry_for`), and for a
  ProviderError that says it is retryable (after its Retry-After when the provider gave one); any other
  ApplicationError fails the task at once, logged with its kind and code (never its message);
- soft and hard time limits from the queue the task is routed to (settings.CELERY_QUEUE_TIME_LIMITS), unless the
  task sets its own: a hung provider call cannot hold a worker forever. At the soft limit the task's code gets
  SoftTimeLimitExceeded (its `finally` blocks and `except` clean up); at the hard limit the worker process is
  replaced.

This module is imported while Celery is configured (before Django's apps are ready): models are imported inside
the task functions.
"""

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from config.celery import OnCommitTask
from core.exceptions import ApplicationError, ProviderError

logger = logging.getLogger(__name__)

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
PROVIDER_RETRY_BASE_SECONDS = 5
PROVIDER_RETRY_MAX_SECONDS = 300


def queue_time_limits(queue: str) -> tuple[int, int] | tuple[None, None]:
    """(soft, hard) seconds for a queue; a queue not in the settings gets the default queue's limits."""
    limits = settings.CELERY_QUEUE_TIME_LIMITS
    found = limits.get(queue) or limits.get(settings.CELERY_TASK_DEFAULT_QUEUE)
    return tuple(found) if found else (None, None)


def provider_retry_countdown(*, retries: int, retry_after: float | None) -> float:
    """Seconds before the next try: the provider's Retry-After if it sent one, else exponential backoff with
    full jitter (5 s, 10 s, 20 s, ... at most 300 s)."""
    if retry_after is not None:
        return min(max(retry_after, 0), PROVIDER_RETRY_MAX_SECONDS)
    ceiling = min(PROVIDER_RETRY_BASE_SECONDS * 2**retries, PROVIDER_RETRY_MAX_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret


class ApplicationTask(OnCommitTask):
    acks_late = True
    autoretry_for = TRANSIENT_DB_ERRORS
    retry_backoff = True  # Celery's retry_backoff_max (600 s) and retry_jitter (on) kept
    max_retries = 3  # Celery's default, kept: tasks that name no max_retries retry as often as before

    @property
    def queue_name(self) -> str:
        """The queue this task is routed to (CELERY_TASK_ROUTES, else the default queue)."""
        queue = getattr(self, "queue", None)  # set when the task names its own queue
        if queue:
            return getattr(queue, "name", str(queue))
        return self.app.amqp.router.route({}, self.name)["queue"].name

    # A task that passes its own soft_time_limit / time_limit (to @shared_task) overrides these properties.
    @property
    def soft_time_limit(self) -> int | None:
        return queue_time_limits(self.queue_name)[0]

    @property
    def time_limit(self) -> int | None:
        return queue_time_limits(self.queue_name)[1]

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except SoftTimeLimitExceeded:
            logger.error("Task %s[%s] ended at its soft time limit", self.name, self.request.id)
            raise
        except ProviderError as error:
            if error.retryable and not self.request.called_directly and self.request.retries < self.max_retries:
                countdown = provider_retry_countdown(retries=self.request.retries, retry_after=error.retry_after)
                logger.warning(
                    "Task %s[%s]: %s (%s), retrying in %.0f s",
                    self.name,
                    self.request.id,
                    type(error).__name__,
                    error.code,
                    countdown,
                )
                raise self.retry(exc=error, countdown=countdown) from error
            self._log_failure(error)
            raise
        except ApplicationError as error:
            self._log_failure(error)
            raise

    def _log_failure(self, error: ApplicationError) -> None:
        logger.warning(
            "Task %s[%s] failed: %s (%s)",
            self.name,
            self.request.id,
            type(error).__name__,
            error.code,
            extra={"error_extra": error.extra},
        )


@shared_task
def webhook_event_process_task(event_id: int) -> bool:
    """Process one stored webhook event with its provider's handler (settings.WEBHOOK_HANDLERS), once: the row is
    locked while it is handled and marked processed in the same transaction. False when already processed."""
    from django.db import transaction
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from core.models import WebhookEvent

    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at is not None or not event.signature_valid:
            return False
        handler = import_string(settings.WEBHOOK_HANDLERS[event.provider])
        handler(event=event)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    return True
