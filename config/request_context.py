"""The id of the request (or task) being handled, for logs: set by RequestIdMiddleware in the web process and
restored from the task's headers in a Celery worker (config/celery.py)."""

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
# A client or proxy may send its own id (e.g. a load balancer's trace id); anything else is replaced.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The given id if it is safe to echo into headers and logs, else None."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    return request_id_var.get()
