"""One family of errors for the whole project (docs/architecture.md, "core").

A service raises one of these with a translated message that is safe to show. A view may catch it and turn it
into a form error; one it leaves unhandled is answered by core.middleware.ApplicationErrorMiddleware with the
status of its kind, and a task's ProviderError is retried by core.tasks.ApplicationTask when it is retryable.

The apps' own error roots (AccountError, ClaimError, CohortError, ...) subclass the member that fits, so they are
raised and caught as before and `.message` and `str()` both give the message.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ApplicationError(Exception):
    """A refusal or failure the person should read: `message` is translated and safe to show; `code` names it
    for programs and tests; `extra` carries ids (never personal data) for logs."""

    status_code = 400
    default_code = "error"

    def __init__(self, message: Any = "", *, code: str = "", extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}


class InvalidInputError(ApplicationError):
    """The request breaks a rule (a form-level refusal): 400. Named so as not to clash with Django's
    ValidationError, which stays the error of forms and `full_clean()`."""

    status_code = 400
    default_code = "invalid"


class PermissionDeniedError(ApplicationError, PermissionDenied):
    """The actor may not do this: 403. Also a Django PermissionDenied, so `except PermissionDenied` catches it."""

    status_code = 403
    default_code = "permission_denied"


class NotFoundError(ApplicationError, Http404):
    """The thing asked for does not exist (or no longer does): 404. Also an Http404."""

    status_code = 404
    default_code = "not_found"


class ConflictError(ApplicationError):
    """The change conflicts with the current state (someone else changed it first, already done): 409."""

    status_code = 409
    default_code = "conflict"


class ProviderError(ApplicationError):
    """An outside provider failed or refused. `retryable` says whether the same call may succeed later (a time-out,
    429, 5xx): a task retries it with backoff; a view answers 503 when retryable and 502 when not."""

    default_code = "provider_error"

    def __init__(
        self,
        message: Any = "",
        *,
        retryable: bool,
        code: str = "",
        extra: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, extra=extra)
        self.retryable = retryable
        self.retry_after = retry_after

    @property
    def status_code(self) -> int:  # type: ignore[override]
        return 503 if self.retryable else 502
