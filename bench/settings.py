"""Production settings for the load test, with two differences (both needed only because the test speaks plain
HTTP on the loopback interface, where production has TLS at the proxy):

- the session and CSRF cookies are not marked Secure, so the load generator sends them back over http;
- the URLConf adds `/bench/trivial`, a view that does no I/O: the framework's ceiling on this machine, served by
  the same gunicorn, middleware and settings as the real pages (bench/urls.py).
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
