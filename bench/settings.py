"""Production settings for the load test, with these differences (the first two needed only because the test speaks
plain HTTP on the loopback interface, where production has TLS at the proxy):

- the session and CSRF cookies are not marked Secure, so the load generator sends them back over http;
- the URLConf adds `/bench/trivial`, a view that does no I/O: the framework's ceiling on this machine, served by
  the same gunicorn, middleware and settings as the real pages (bench/urls.py);
- with BENCH_SANDBOXES=1 (the journey load test's default, `--no-sandboxes` turns it off) the identity and payment
  backends are the sandboxes, which production refuses (SANDBOX_BACKENDS_ALLOWED = False, core/checks.py): this
  module allows them explicitly, so that the journeys sign with a certificate (the identity check too) and pay the
  retainer as they would with barocert and PortOne configured; handwritten signatures are then off, as production's
  default is once an identity provider is configured. The results say "sandbox" (bench/journey_load.py).
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

if os.environ.get("BENCH_SANDBOXES") == "1":
    SANDBOX_BACKENDS_ALLOWED = True
    IDENTITY_BACKEND = "integrations.identity.sandbox.SandboxIdentityBackend"
    PAYMENT_BACKEND = "integrations.payments.sandbox.SandboxPaymentGateway"
    POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE = False
