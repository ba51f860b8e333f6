"""Stop `make test` early, with one line, when PostgreSQL or Redis does not answer."""

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kakao_claims")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no"


def main() -> int:
    db = urlparse(DATABASE_URL)
    try:
        psycopg.connect(
            host=db.hostname, port=db.port or 5432, user=db.username or "postgres", dbname="postgres", connect_timeout=3
        ).close()
    except psycopg.Error:
        sys.stderr.write(
            f"PostgreSQL does not answer at {db.hostname}:{db.port or 5432}; start it with: {START_POSTGRES}\n"
        )
        return 1
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError:
        parsed = urlparse(REDIS_URL)
        sys.stderr.write(
            f"Redis does not answer at {parsed.hostname}:{parsed.port or 6379}; start it with: {START_REDIS}\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
