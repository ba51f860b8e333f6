"""Tests: the real PostgreSQL and Redis (see the Makefile), mail kept in memory, fast hashing."""

import os
import secrets

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, NOTIFICATION_BACKENDS, env, redis_caches

# The development-only app (devtools/): its commands are tested, and the tests use its synthetic cohort.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kakao_claims")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)  # the fault tests set it
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/1")
# Each test run gets its own cache key prefix (inherited by the worker processes it starts), so rate-limit
# counters and locks left in Redis by an earlier run never make a later one fail.
CACHE_KEY_PREFIX = os.environ.setdefault("TEST_CACHE_KEY_PREFIX", f"run-{secrets.token_hex(4)}")
CACHES = redis_caches(REDIS_URL, key_prefix=CACHE_KEY_PREFIX)
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Unit tests run tasks inline; tests marked `celery_worker` start a real worker against Redis.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)

# Mail kept in memory; a server or worker process started by a test writes it as files into TEST_EMAIL_FILE_PATH.
EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH", default="")
EMAIL_BACKEND = f"django.core.mail.backends.{'filebased' if EMAIL_FILE_PATH else 'locmem'}.EmailBackend"
# SMS and 알림톡 kept in memory (notifications.backends.local.outbox, the `message_outbox` fixture).
NOTIFICATION_BACKENDS = {
    **NOTIFICATION_BACKENDS,
    "sms": env("DJANGO_SMS_BACKEND", default="notifications.backends.local.LocmemMessageBackend"),
    "alimtalk": env("DJANGO_ALIMTALK_BACKEND", default="notifications.backends.local.LocmemMessageBackend"),
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=BASE_DIR / "var" / "test-private")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT), "base_url": "/private-not-served/"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Fault tests park the worker they are about to kill at a known point (claims/services/jobs.py); never set elsewhere.
JOB_TEST_PARK_AFTER_FIRST_CHUNK = env("JOB_TEST_PARK_AFTER_FIRST_CHUNK", default="")
