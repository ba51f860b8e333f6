"""Production settings for the load test, with two differences (both needed only because the test speaks plain
HTTP on the loopback interface, where production has TLS at the proxy):

- the session and CSRF cookies are not marked Secure, so the load generator sends them back over http;
- the URLConf adds `/bench/trivial`, a view that does no I/O: the framework's ceiling on this machine, served by
  the same gunicorn, middleware and settings as the real pages (bench/urls.py).
"""

import os

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# The journey load test (bench/journey_load.py) reads the verification links from mail written as files, which the
# web and worker processes write and the load generator reads (BENCH_EMAIL_FILE_PATH; SMTP otherwise, as production).
if _mail_folder := os.environ.get("BENCH_EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = _mail_folder
