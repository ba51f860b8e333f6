"""Caches that keep the site answering while Redis does not.

Sessions (cached_db), page caches, locks and rate-limit counters all live in the one Redis server that also carries
the Celery broker. When it stops answering, Django's own RedisCache raises on every call and every page that touches
the cache (every signed-in page, through the session) is a 500. `ResilientRedisCache` is Django's RedisCache with:

- short socket timeouts (connect 0.5 s, read 1 s), so a server that is gone costs at most that;
- a circuit breaker shared by every cache alias and thread of the process that talks to the same server: after a
  failure, Redis is left alone for `CIRCUIT_BREAKER_SECONDS` (5 s) and each call answers at once as a miss (get
  returns the default, add returns False, writes and deletes do nothing), then one call tries again;
- one warning when the breaker opens and one line when Redis answers again, instead of a traceback per call;
- no stale entry after the outage: the key of every write or delete that did not reach Redis is remembered, and
  the first call that finds Redis back deletes those keys before anything is read. A session signed out, or a stamp
  renewed, during the outage is therefore not served from its older copy. (Kept per process and bounded; the
  readiness guard does not depend on it, see accounts.selectors.)

`RateLimitCache` adds one thing for django-ratelimit: while Redis is down its counters (add, incr, get) are kept in
the database (accounts.RateLimitCounter, fixed windows, the same keys), so login and sign-up limits still hold.
Failing open would give an attacker the outage to guess passwords; failing closed would lock every claimant out.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

# The errors that mean "Redis is not there" (refused, reset, timed out, still loading its data after a restart);
# anything else (a wrong command, out of memory) is a fault to see, not to hide.
REDIS_DOWN_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError)
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
CIRCUIT_BREAKER_SECONDS = 5.0
# Keys written while Redis was down, remembered for deletion when it returns; beyond this many the oldest are dropped
# (and the recovery line says so).
LOST_KEYS_MAX = 100_000


class CircuitBreaker:
    """Whether one Redis server is worth calling, and the keys whose writes it missed. Thread-safe."""

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self.down_since: float | None = None  # time.time() of the first failure of this outage
        self._retry_at = 0.0  # time.monotonic() after which one call may try Redis again
        self._lost: dict[str, None] = {}  # insertion-ordered set
        self._lost_dropped = 0

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def may_try(self) -> bool:
        """True when Redis is up, or when it is down and this caller is the one to try it again now."""
        if self.down_since is None:  # the usual case, without taking the lock
            return True
        with self._lock:
            if self.down_since is None:
                return True
            now = time.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + self.retry_after  # the others keep skipping while this one tries
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first = self.down_since is None
            if first:
                self.down_since = time.time()
            self._retry_at = time.monotonic() + self.retry_after
        if first:
            logger.warning(
                "Redis cache %s does not answer (%s): serving without the cache, retrying every %.0f s",
                self.name,
                type(error).__name__,
                self.retry_after,
            )

    def lose(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._lost.pop(key, None)
                self._lost[key] = None
            while len(self._lost) > LOST_KEYS_MAX:
                self._lost.pop(next(iter(self._lost)))
                self._lost_dropped += 1

    def take_lost(self) -> list[str]:
        with self._lock:
            keys, self._lost = list(self._lost), {}
            return keys

    def reset(self) -> None:
        with self._lock:
            self.down_since, self._retry_at, self._lost, self._lost_dropped = None, 0.0, {}, 0

    def recovered(self, removed: int) -> list[str]:
        """Redis answers again: back to normal. Returns the keys lost since take_lost(), for the caller to delete."""
        with self._lock:
            if self.down_since is None:
                return []
            seconds, self.down_since = time.time() - self.down_since, None
            dropped, self._lost_dropped = self._lost_dropped, 0
            leftover, self._lost = list(self._lost), {}
        logger.warning(
            "Redis cache %s answers again after %.0f s; %s entries written during the outage removed%s",
            self.name,
            seconds,
            removed + len(leftover),
            f" ({dropped} more could not be remembered and may be stale)" if dropped else "",
        )
        return leftover


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def circuit_breaker(servers: Iterable[str], retry_after: float = CIRCUIT_BREAKER_SECONDS) -> CircuitBreaker:
    """The process's breaker for these servers (cache aliases on one server share it)."""
    name = ",".join(servers)
    with _breakers_lock:
        if name not in _breakers:
            _breakers[name] = CircuitBreaker(_without_password(name), retry_after)
        return _breakers[name]


def circuit_breakers_reset() -> None:
    """Forget every outage and every lost write (tests)."""
    with _breakers_lock:
        for breaker in _breakers.values():
            breaker.reset()


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


class ResilientRedisCacheClient(RedisCacheClient):
    """Django's Redis client whose calls answer as a miss while the server is down (see the module docstring)."""

    def __init__(self, servers, *, breaker: CircuitBreaker, **options) -> None:
        super().__init__(servers, **{**DEFAULT_OPTIONS, **options})
        self.breaker = breaker

    def _guarded(self, call: Callable, missing: Callable, *, written: Iterable[str] = ()):
        written = list(written)
        if not self.breaker.may_try() or not self._back_from_outage():
            self.breaker.lose(written)
            return missing()
        try:
            return call()
        except REDIS_DOWN_ERRORS as error:
            self.breaker.failed(error)
            self.breaker.lose(written)
            return missing()

    def _back_from_outage(self) -> bool:
        """Called before a call when Redis may be back: delete what was written meanwhile, then carry on."""
        if not self.breaker.is_down:
            return True
        keys, leftover = self.breaker.take_lost(), []
        try:
            client = self.get_client(None, write=True)
            client.ping()
            self._delete_in_chunks(client, keys)
            # Writes skipped by other threads while this one was deleting: marked up first, so no more are skipped.
            leftover = self.breaker.recovered(len(keys))
            self._delete_in_chunks(client, leftover)
        except REDIS_DOWN_ERRORS as error:
            self.breaker.lose(keys + leftover)
            self.breaker.failed(error)
            return False
        return True

    @staticmethod
    def _delete_in_chunks(client, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])

    def add(self, key, value, timeout):
        return self._guarded(lambda: RedisCacheClient.add(self, key, value, timeout), _false, written=[key])

    def get(self, key, default):
        return self._guarded(lambda: RedisCacheClient.get(self, key, default), lambda: default)

    def set(self, key, value, timeout):
        self._guarded(lambda: RedisCacheClient.set(self, key, value, timeout), _none, written=[key])

    def touch(self, key, timeout):
        return self._guarded(lambda: RedisCacheClient.touch(self, key, timeout), _false)

    def delete(self, key):
        return self._guarded(lambda: RedisCacheClient.delete(self, key), _false, written=[key])

    def get_many(self, keys):
        keys = list(keys)
        return self._guarded(lambda: RedisCacheClient.get_many(self, keys), dict)

    def has_key(self, key):
        return self._guarded(lambda: RedisCacheClient.has_key(self, key), _false)

    def incr(self, key, delta):
        def missing():
            raise ValueError(f"Key '{key}' not found (Redis does not answer).")

        return self._guarded(lambda: RedisCacheClient.incr(self, key, delta), missing, written=[key])

    def set_many(self, data, timeout):
        self._guarded(lambda: RedisCacheClient.set_many(self, data, timeout), _none, written=list(data))

    def delete_many(self, keys):
        keys = list(keys)
        self._guarded(lambda: RedisCacheClient.delete_many(self, keys), _none, written=keys)

    def clear(self):
        return self._guarded(lambda: RedisCacheClient.clear(self), _false)


def _false() -> bool:
    return False


def _none() -> None:
    return None


class ResilientRedisCache(RedisCache):
    """RedisCache that serves misses instead of errors while Redis is down. OPTIONS are redis-py's (timeouts
    default to DEFAULT_OPTIONS) plus `CIRCUIT_BREAKER_SECONDS`."""

    client_class = ResilientRedisCacheClient

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        options = dict(self._options)
        retry_after = float(options.pop("CIRCUIT_BREAKER_SECONDS", CIRCUIT_BREAKER_SECONDS))
        self._options = {**options, "breaker": circuit_breaker(self._servers, retry_after)}
        self._class = self.client_class

    @property
    def breaker(self) -> CircuitBreaker:
        return self._cache.breaker

    def set_confirmed(self, key, value, timeout=None, version=None) -> bool:
        """`set`, answering whether the value reached Redis (False while Redis is down)."""
        self.set(key, value, timeout, version=version)
        return not self.breaker.is_down


class RateLimitCacheClient(ResilientRedisCacheClient):
    """While Redis is down, django-ratelimit's counters (add, incr, get) are kept in the database instead."""

    def add(self, key, value, timeout):
        return self._guarded(
            lambda: RedisCacheClient.add(self, key, value, timeout), lambda: _db_add(key, value, timeout)
        )

    def incr(self, key, delta):
        return self._guarded(lambda: RedisCacheClient.incr(self, key, delta), lambda: _db_incr(key, delta))

    def get(self, key, default):
        return self._guarded(lambda: RedisCacheClient.get(self, key, default), lambda: _db_get(key, default))


class RateLimitCache(ResilientRedisCache):
    """The cache django-ratelimit counts in (RATELIMIT_USE_CACHE): Redis, or the database while Redis is down."""

    client_class = RateLimitCacheClient


# --- the database counters (accounts.RateLimitCounter), used only while Redis is down ----------------------------
#
# django-ratelimit puts the window in the key (one key per client and window) and calls add(key, 1, period) at the
# first request of a window, incr(key) afterwards: a row per key with its count and the end of its window is all
# it needs. Rows are deleted once expired, when a new window starts.


def _db_add(key: str, value: int, timeout: int | None) -> bool:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import RateLimitCounter

    now = timezone.now()
    expires_at = now + timedelta(seconds=timeout if timeout is not None else 365 * 24 * 3600)
    with transaction.atomic():
        RateLimitCounter.objects.filter(key=key, expires_at__lte=now).delete()
        _, created = RateLimitCounter.objects.get_or_create(
            key=key, defaults={"count": int(value), "expires_at": expires_at}
        )
    if created:
        RateLimitCounter.objects.filter(expires_at__lte=now).delete()
    return created


def _db_incr(key: str, delta: int) -> int:
    from django.db.models import F
    from django.utils import timezone

    from accounts.models import RateLimitCounter

    live = RateLimitCounter.objects.filter(key=key, expires_at__gt=timezone.now())
    if not live.update(count=F("count") + delta):
        raise ValueError(f"Key '{key}' not found.")
    return live.values_list("count", flat=True).first() or 0


def _db_get(key: str, default):
    from django.utils import timezone

    from accounts.models import RateLimitCounter

    count = (
        RateLimitCounter.objects.filter(key=key, expires_at__gt=timezone.now()).values_list("count", flat=True).first()
    )
    return default if count is None else count
