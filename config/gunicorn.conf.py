"""gunicorn settings for the `web` service (`gunicorn -c config/gunicorn.conf.py config.wsgi:application`).

Access and error logs are JSON lines like the site's own, with personal data masked; the access line has the
path without its query string, and the request id the site returned.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Requests spend much of their time waiting on PostgreSQL and Redis: 2 x cores + 1 sync workers keep the cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # uploads up to 15 MB on a slow phone connection
graceful_timeout = 30  # a deploy lets requests in flight finish
keepalive = 5
max_requests = 2000  # recycle workers now and then, with jitter so they do not all restart at once
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")  # only the load balancer reaches us
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%({x-request-id}o)s"'

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.logging.MaskingJsonFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
