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


def broker_status() -> str:
    """`inline` when no broker is configured (tasks run in the web process), else whether Redis answers."""
    if not settings.REDIS_URL:
        return "inline"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except redis.RedisError:
        return "down"
    return "ok"


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
