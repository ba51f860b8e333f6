"""Local development: `make run`. SQLite and inline tasks unless DATABASE_URL / REDIS_URL are set."""

from config.logging import logging_config

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

# Development-only commands (seed_demo, generate_claims) and the synthetic generator: never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# Plain text logs in a terminal; DJANGO_LOG_FORMAT=json gives what production writes.
LOGGING = logging_config(
    level=env("DJANGO_LOG_LEVEL", default="INFO"),
    json=env("DJANGO_LOG_FORMAT", default="plain") == "json",
    stream=env("DJANGO_LOG_STREAM", default="stdout"),
)
