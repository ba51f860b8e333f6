"""Checks of the services the site depends on, for /healthz and /readyz."""

import logging
import uuid

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means the database does not answer
        return "down"
    return "ok"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except redis.RedisError:
        return False
    return True


def broker_status() -> str:
    """`inline` when no broker is configured (tasks run in the web process), else whether Redis answers."""
    if not settings.REDIS_URL:
        return "inline"
    return "ok" if _redis_answers(settings.REDIS_URL) else "down"


def redis_status(*, broker: str | None = None) -> str:
    """The Redis server of the cache (sessions' cache, rate-limit counters, locks): `none` with an in-memory cache.
    `broker`: broker_status() already taken, reused when the cache is on the broker's server (the usual case)."""
    location = settings.CACHES["default"].get("LOCATION", "")
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower() or not location:
        return "none"
    if broker is not None and location == settings.REDIS_URL:
        return broker
    return "ok" if _redis_answers(location) else "down"


def site_status(checks: dict[str, str]) -> tuple[str, int]:
    """("ok" | "degraded" | "error", HTTP status) from the checks. Without Redis the site still serves (sessions
    from the database, no cache, rate limits counted in the database, tasks left to the sweeps): "degraded", 200,
    so load balancers keep sending claimants; anything else that is down is an "error", 503."""
    down = {name for name, value in checks.items() if value == "down"}
    if not down:
        return "ok", 200
    if down <= {"broker", "redis"}:
        return "degraded", 200
    return "error", 503


def storage_status() -> str:
    """Whether the default storage (disk or object store holding the evidence) accepts a write and a delete."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    try:
        name = default_storage.save(f"readiness/{uuid.uuid4().hex}", ContentFile(b"ok"))
        default_storage.delete(name)
    except Exception:  # noqa: BLE001 - OSError from a disk, botocore errors from an object store
        logger.warning("Storage readiness probe failed", exc_info=True)
        return "down"
    return "ok"
