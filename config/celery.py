"""The Celery app. Broker and results come from REDIS_URL; without it, tasks run inline (see settings).

The id of the web request that published a task travels in the message headers and is restored in the worker,
so one id follows a claimant's submission from the request log to the estimate and the email it caused.
"""

import functools
import logging
import os

from celery import Celery, signals
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from config.request_context import request_id_var, sane_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)


class OnCommitTask(DjangoTask):
    """`delay_on_commit` that never turns a committed change into an error page.

    The change is already saved when the message is published; if the broker cannot be reached, the claimant must
    still see their claim submitted. The failure is logged, the task (its name and ids) is kept in the database
    (accounts.UnsentTask) and published again by a periodic task once the broker is back; the sweeps (estimates,
    status emails) find their work from the database as well, and those tasks do their work once however often
    they are queued.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self._publish_or_leave_to_sweep, args, kwargs))

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        transaction.on_commit(functools.partial(self._publish_or_leave_to_sweep, args or (), kwargs or {}, **options))

    def _publish_or_leave_to_sweep(self, args, kwargs, **options) -> None:
        # Nobody waits for the result of a task queued on commit (delay_on_commit returns nothing): without
        # ignore_result the Redis result backend subscribes to the result first, and with Redis down that raised a
        # RuntimeError past the broker's own error handling, a 500 after the claim was saved.
        options.setdefault("ignore_result", True)
        try:
            self.apply_async(args, kwargs, **options)
        except BrokerError:
            logger.warning("Could not queue %s%r: the broker did not answer; kept to publish later", self.name, args)
            self._keep_unsent(args, kwargs)
        except Exception:  # noqa: BLE001 - the change is committed: any publishing failure is left to the sweeps
            logger.warning("Could not queue %s%r; kept to publish later", self.name, args, exc_info=True)
            self._keep_unsent(args, kwargs)

    def _keep_unsent(self, args, kwargs) -> None:
        from accounts.models import UnsentTask

        try:
            UnsentTask.objects.create(name=self.name, args=list(args), kwargs=dict(kwargs))
        except Exception:  # noqa: BLE001 - the database failing too: the sweeps remain
            logger.exception("Could not keep the unsent task %s%r", self.name, args)


# Every task is a core.tasks.ApplicationTask (an OnCommitTask with acks_late, retries and per-queue time limits).
app = Celery("kakao_claims", task_cls="core.tasks:ApplicationTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_TASK_HEADER = "request_id"
_request_id_tokens: dict[str, object] = {}


@signals.worker_init.connect
def _worker_niceness_apply(**kwargs) -> None:
    """Lower the worker's CPU priority by settings.WORKER_NICENESS before its pool starts (the pool's processes
    inherit it). Processes of one machine or container share the cores by it; docker-compose also gives those
    services a smaller cpu_shares, which does the same between containers."""
    from django.conf import settings

    if settings.WORKER_NICENESS > 0:
        os.nice(settings.WORKER_NICENESS)


@signals.before_task_publish.connect
def _request_id_to_headers(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id:
        headers.setdefault(REQUEST_ID_TASK_HEADER, request_id)


@signals.task_prerun.connect
def _request_id_from_headers(task_id: str | None = None, task=None, **kwargs) -> None:
    if task is None or task.request.is_eager:  # inline: the caller's id is already in the context
        return
    request_id = sane_request_id(getattr(task.request, REQUEST_ID_TASK_HEADER, None)) or task_id
    _request_id_tokens[task_id] = request_id_var.set(request_id)


@signals.task_postrun.connect
def _request_id_reset(task_id: str | None = None, **kwargs) -> None:
    token = _request_id_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
