"""The outgoing HTTP session every provider adapter uses (docs/architecture.md, "core").

- time-outs on every request: connecting (a provider that does not answer the phone) and reading (one that
  answers and then hangs), so a call can never hold a worker past its time limit;
- retries with exponential backoff, only where repeating is safe: on connection failures and time-outs, and on
  429, 502, 503 and 504 answers, for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE). A Retry-After
  of a few seconds is waited for; a longer one is not waited for here but handed to the task (ProviderError.
  retry_after), which retries later without holding the worker;
- the current request id (config.request_context) sent as X-Request-ID, so the provider's logs can be matched with
  ours;
- failures raised as ProviderError: `retryable` for time-outs, unreachable hosts and 429/5xx answers, not for
  other 4xx refusals (the same call would be refused again);
- logs name the provider, method, host, status and time only: never the path's query, the body or headers, which
  may carry personal data.
"""

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils import timezone
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util import Retry

from config.request_context import REQUEST_ID_HEADER, current_request_id
from core.exceptions import ProviderError

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 10
RETRIES = 2
BACKOFF_FACTOR = 0.5
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A Retry-After longer than this is not waited for inside the request: the task retries later instead.
RETRY_AFTER_WAIT_MAX_SECONDS = 5


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


class _ShortWaitRetry(Retry):
    """urllib3's Retry that gives up at once (without sleeping) when the answer asks for a long wait: the last
    answer is then returned to the session, which raises a retryable ProviderError carrying the wait."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > RETRY_AFTER_WAIT_MAX_SECONDS:
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:.0f} s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _timed_out(error: requests.ConnectionError) -> bool:
    reason = error.args[0] if error.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, TimeoutError | ReadTimeoutError)


class ProviderSession(requests.Session):
    """A requests.Session for one provider; see the module's docstring. Use `provider_session("juso")`."""

    def __init__(
        self,
        *,
        provider: str,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        retries: int = RETRIES,
        backoff_factor: float = BACKOFF_FACTOR,
    ) -> None:
        super().__init__()
        self.provider = provider
        self.timeout = (connect_timeout, read_timeout)
        retry = _ShortWaitRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=backoff_factor,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=Retry.DEFAULT_ALLOWED_METHODS,
            respect_retry_after_header=True,
            raise_on_status=False,  # the last answer comes back and is turned into a ProviderError below
            raise_on_redirect=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str, url: str, *args: Any, raise_for_status: bool = True, **kwargs: Any):
        """As requests.Session.request, with the session's time-outs unless given, X-Request-ID added, and every
        failure (and, with raise_for_status, every 4xx/5xx answer) raised as ProviderError."""
        kwargs.setdefault("timeout", self.timeout)
        request_id = current_request_id()
        if request_id:
            kwargs["headers"] = {REQUEST_ID_HEADER: request_id, **(kwargs.get("headers") or {})}
        host = urlsplit(url).hostname or ""
        started = time.monotonic()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.Timeout as error:
            self._log(method, host, "timeout", started)
            raise self._error(retryable=True, code="timeout") from error
        except requests.ConnectionError as error:
            # Retries exhausted arrive as this, read time-outs included (urllib3's MaxRetryError wrapped).
            code = "timeout" if _timed_out(error) else "unreachable"
            self._log(method, host, code, started)
            raise self._error(retryable=True, code=code) from error
        except requests.RequestException as error:
            self._log(method, host, "failed", started)
            raise self._error(retryable=False, code="request_failed") from error
        self._log(method, host, response.status_code, started)
        if raise_for_status and response.status_code >= 400:
            retryable = response.status_code in RETRY_STATUSES
            raise self._error(
                retryable=retryable,
                code=f"http_{response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")) if retryable else None,
            )
        return response

    def _error(self, *, retryable: bool, code: str, retry_after: float | None = None) -> ProviderError:
        if retryable:
            message = _("외부 서비스가 잠시 응답하지 않습니다. 잠시 뒤에 다시 시도해 주세요.")
        else:
            message = _("외부 서비스가 요청을 처리하지 못했습니다.")
        return ProviderError(
            message, retryable=retryable, code=code, retry_after=retry_after, extra={"provider": self.provider}
        )

    def _log(self, method: str, host: str, outcome: object, started: float) -> None:
        logger.info(
            "%s %s %s: %s in %.0f ms",
            self.provider,
            method.upper(),
            host,
            outcome,
            (time.monotonic() - started) * 1000,
        )


def provider_session(provider: str, **options: Any) -> ProviderSession:
    """A session for one provider's adapter (keep one per adapter: it pools connections)."""
    return ProviderSession(provider=provider, **options)
