"""Settings shared by every environment. Every value comes from the environment (see .env.example)."""

from datetime import date, timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.crypto import derived_key
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "accounts.apps.StaffAdminConfig",  # the admin, behind two-factor authentication (accounts/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_ratelimit",
    "core",  # below both apps: errors, base task, outgoing HTTP, webhooks (docs/architecture.md)
    "accounts",
    "claims",
    "filing",  # cohorts, filing waves and the court exports (above claims)
    "notifications",  # the message outbox (below accounts and claims: it imports neither)
    "integrations",  # the outside providers' seams and local backends (imports core only)
    "payments",  # the retainer: orders, the payment ledger, refunds (above accounts and claims)
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",  # first: every later log line carries the request id
    "config.middleware.RejectNulBytesMiddleware",
    "config.middleware.HtmlGZipMiddleware",  # outside every middleware that reads or writes the page's body
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.referrals.ReferralCaptureMiddleware",  # the utm_* / ?ref= of the first visit, for the sign-up
    "config.middleware.StaffSessionMiddleware",
    "config.middleware.UploadRateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.ApplicationErrorMiddleware",  # last: sees a view's unhandled ApplicationError first
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.firm",
            ],
        },
    },
]

# Data stores. No DATABASE_URL means a local SQLite file: the zero-setup default for trying the site.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")


def redis_caches(url: str, *, key_prefix: str = "") -> dict:
    """The cache (and django-ratelimit's counters) in Redis, answering as a miss while Redis is down: see
    config/cache.py. The rate-limit counters move to the database during an outage."""
    common = {"LOCATION": url, "KEY_PREFIX": key_prefix}
    return {
        "default": {"BACKEND": "config.cache.ResilientRedisCache", **common},
        "ratelimit": {"BACKEND": "config.cache.RateLimitCache", **common},
    }


if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # reads from Redis, always kept in the database
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
    }

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "accounts.hashers.ServerArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Axes first: it refuses a locked-out email + IP before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.PhoneCodeBackend",  # phone + one-time code (accounts/services/phone.py)
]

# Login lockout (django-axes): 5 failures for one email from one IP lock that pair for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.services.auth.login_username"
AXES_CLIENT_IP_CALLABLE = "core.audit.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.auth.locked_out"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# Number of reverse proxies in front of the site that append to X-Forwarded-For; 0 trusts REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
# Request rate limits (django-ratelimit, counted in Redis, in the database while Redis is down): a 429 page.
RATELIMIT_VIEW = "accounts.views.auth.rate_limited"
RATELIMIT_USE_CACHE = "ratelimit"
# Django's own Redis cache (which config.cache extends) increments atomically but is not on django-ratelimit's list.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if not REDIS_URL:  # trying the site without Redis: one runserver process, so in-memory counts are enough
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")
# Staff sign in to the admin with a TOTP code from an authenticator app (django-otp).
OTP_TOTP_ISSUER = "Kakao outage claims"
# Nobody, whatever their admin permissions, can read another staff member's authenticator secret or QR code in the admin
# (staff enrol their own at accounts:staff_two_factor); otherwise viewing a device would let a colleague clone it.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Browser security headers (production adds HSTS, the HTTPS redirect and secure cookies). The Content Security
# Policy lets pages load scripts, styles, fonts and images from this site only: no inline script or event handler
# runs, no other site can frame a page, and forms post only here. The one inline style (the Django admin's
# changelist without actions) is allowed by its hash; config/tests/test_security.py checks it still matches.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
ADMIN_CHANGELIST_STYLE_HASH = "'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, ADMIN_CHANGELIST_STYLE_HASH],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Sessions: claimants stay signed in for a day (a half-finished claim survives an evening away); staff sessions
# end when the browser closes or after 30 idle minutes (config.middleware.StaffSessionMiddleware). Django gives
# a new session key at every login, so a planted session id is worthless.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=24 * 60 * 60)
STAFF_SESSION_IDLE_SECONDS = env.int("DJANGO_STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The language chosen in the header outlives a browser restart (Django's default cookie ends with the browser,
# while a claimant's login lasts a day): kept for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Identifiers encrypted at rest (config/crypto.py): Fernet keys, comma-separated; the first encrypts, all
# decrypt, so a new key is put first and `manage.py rotate_encryption_keys` re-encrypts every row with it.
# FIELD_HASH_KEY keys the HMAC digests that find duplicates (e.g. one bank account on two accounts) without
# decrypting. Development derives both from SECRET_KEY; production requires them (see production.py).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[derived_key(SECRET_KEY, "field-encryption")])
FIELD_HASH_KEY = env("FIELD_HASH_KEY", default=derived_key(SECRET_KEY, "field-hash"))

# Referral sources (accounts/referrals.py): the first visit's utm_* or ?ref= is kept in a signed cookie this many
# days and stored on the account at sign-up. A burst of sign-ups from one source or one referral code flags the
# claims of those accounts (claims/services/fraud.py): at least REFERRAL_BURST_ACCOUNTS sign-ups within
# REFERRAL_BURST_WINDOW_MINUTES and at least REFERRAL_BURST_FACTOR times the source's usual rate over the
# REFERRAL_BURST_BASELINE_DAYS before (a new source has no usual rate: the count alone decides).
REFERRAL_COOKIE_NAME = "kc_referral"
REFERRAL_COOKIE_DAYS = env.int("REFERRAL_COOKIE_DAYS", default=30)
REFERRAL_BURST_ACCOUNTS = env.int("REFERRAL_BURST_ACCOUNTS", default=20)
REFERRAL_BURST_WINDOW_MINUTES = env.int("REFERRAL_BURST_WINDOW_MINUTES", default=60)
REFERRAL_BURST_FACTOR = env.int("REFERRAL_BURST_FACTOR", default=5)
REFERRAL_BURST_BASELINE_DAYS = env.int("REFERRAL_BURST_BASELINE_DAYS", default=7)
# The firm's own campaigns (utm_source values, lower case) that never count as a burst.
REFERRAL_BURST_IGNORED_SOURCES = env.list("REFERRAL_BURST_IGNORED_SOURCES", default=[])
# The staff funnel (filing/selectors/funnel.py) is computed at most this often per filter.
FUNNEL_CACHE_SECONDS = env.int("FUNNEL_CACHE_SECONDS", default=300)

# Closed claims (rejected or withdrawn) whose decision is older than this are anonymised by a daily task
# (claims/services/retention.py): evidence files deleted, the claimant's details replaced.
CLOSED_CLAIM_RETENTION_DAYS = env.int("CLOSED_CLAIM_RETENTION_DAYS", default=30)

# Korean first, English available; times stored in UTC and shown in Seoul time.
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("한국어")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The firm's profile (core.selectors.firm_profile) is cached under this key; the tests give each test its own.
FIRM_PROFILE_CACHE_KEY = "core:firm-profile"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Browser packages from npm (package.json, installed by `make install` and the image build): only these files of
# node_modules are served (core/staticfiles.py).
PACKAGE_STATIC_FILES = {
    "vendor/portone-browser-sdk/v2.js": BASE_DIR / "node_modules" / "@portone" / "browser-sdk" / "dist" / "v2.js",
    # the drawn signature's pad (static/js/signature-pad.js), with the source map its last line names (the manifest
    # storage of collectstatic follows that reference)
    **{
        f"vendor/signature_pad/{name}": BASE_DIR / "node_modules" / "signature_pad" / "dist" / name
        for name in ("signature_pad.umd.min.js", "signature_pad.umd.min.js.map")
    },
}
# The Korean web font (npm `pretendard`, variable weight, split by Unicode range so a page downloads only the
# pieces its text uses) and the icons the pages use (npm `bootstrap-icons`, inlined as SVG by core's {% icon %}).
PRETENDARD_DIR = BASE_DIR / "node_modules" / "pretendard" / "dist" / "web" / "variable"
PACKAGE_STATIC_FILES["vendor/pretendard/pretendardvariable-dynamic-subset.css"] = (
    PRETENDARD_DIR / "pretendardvariable-dynamic-subset.css"
)
# Pretendard's stylesheet asks for `font-display: swap`: text drawn in the phone's own font first, then redrawn in
# Pretendard as each piece arrives, which moves the lines on the first visit (Lighthouse counted a layout shift of
# 0.2-0.3 on text-heavy pages). `optional` keeps the first font a page is drawn with, so nothing moves; the pieces
# downloaded are cached and later pages use Pretendard.
PACKAGE_STATIC_REWRITES = {
    "vendor/pretendard/pretendardvariable-dynamic-subset.css": (("font-display: swap;", "font-display: optional;"),),
}
PACKAGE_STATIC_REWRITE_DIR = BASE_DIR / "var" / "package-static"
PACKAGE_STATIC_FILES.update(
    {
        f"vendor/pretendard/woff2-dynamic-subset/PretendardVariable.subset.{part}.woff2": PRETENDARD_DIR
        / "woff2-dynamic-subset"
        / f"PretendardVariable.subset.{part}.woff2"
        for part in range(92)
    }
)
SITE_ICONS = (
    "telephone",
    "envelope",
    "chat-dots",
    "clock",
    "geo-alt",
    "shield-lock",
    "person-circle",
    "box-arrow-right",
    "box-arrow-in-right",
    "globe2",
    "folder2-open",
    "check-circle",
    "arrow-right",
    "bank2",
)
PACKAGE_STATIC_FILES.update(
    {
        f"vendor/bootstrap-icons/{icon}.svg": BASE_DIR / "node_modules" / "bootstrap-icons" / "icons" / f"{icon}.svg"
        for icon in SITE_ICONS
    }
)
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "core.staticfiles.PackageFileFinder",
]
# Uploaded evidence and generated documents are private: no MEDIA_URL is routed, files are served by
# permission-checked views only.
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=BASE_DIR / "var" / "private")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT), "base_url": "/private-not-served/"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Evidence: one file per request (so a failed field never loses a stored file), checked by content.
# Files above FILE_UPLOAD_MAX_MEMORY_SIZE spool to a temporary file; the upload view refuses a request body
# above EVIDENCE_MAX_BYTES before reading it (set the proxy's body limit a little higher, e.g. 16 MB).
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=15 * 1024 * 1024)
EVIDENCE_MAX_FILES = env.int("EVIDENCE_MAX_FILES", default=30)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # the non-file part of a request
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# File uploads per person (or per address when signed out), counted in the cache (config.middleware).
UPLOAD_RATE = env("UPLOAD_RATE", default="100/h")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_URL = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_HOST = EMAIL_URL["EMAIL_HOST"]
EMAIL_PORT = EMAIL_URL["EMAIL_PORT"]
EMAIL_HOST_USER = EMAIL_URL["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = EMAIL_URL["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = EMAIL_URL.get("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="카카오 장애 공동소송 <noreply@example.com>")
# The outbox's channel backends (notifications/backends/, docs/providers/messages.md): email goes through
# EMAIL_BACKEND above; SMS and 알림톡 are printed to the console here (test: kept in memory; production: off until a
# provider's adapter is named).
NOTIFICATION_BACKENDS = {
    "email": "notifications.backends.email.DjangoEmailBackend",
    "sms": env("DJANGO_SMS_BACKEND", default="notifications.backends.local.ConsoleMessageBackend"),
    "alimtalk": env("DJANGO_ALIMTALK_BACKEND", default="notifications.backends.local.ConsoleMessageBackend"),
}
# Solapi (notifications/backends/solapi.py), when DJANGO_SMS_BACKEND / DJANGO_ALIMTALK_BACKEND name it: the API key
# and secret, the registered sender number and the Kakao channel's pfId (production requires them then).
SOLAPI_API_URL = env("SOLAPI_API_URL", default="https://api.solapi.com")
SOLAPI_API_KEY = env("SOLAPI_API_KEY", default="")
SOLAPI_API_SECRET = env("SOLAPI_API_SECRET", default="")
SOLAPI_SENDER = env("SOLAPI_SENDER", default="")
SOLAPI_PFID = env("SOLAPI_PFID", default="")
# Bulk messages (notifications/bulk.py): at most this many messages a second go to the provider; the estimated cost
# per message in won (Solapi's list prices in its pricing API's sample answer, VAT excluded: check your contract);
# the free opt-out number every marketing SMS must carry (080-...).
MESSAGE_SEND_RATE_PER_SECOND = env.int("MESSAGE_SEND_RATE_PER_SECOND", default=50)
MESSAGE_UNIT_COSTS = {"sms": 20, "lms": 50, "alimtalk": 19}
MARKETING_OPT_OUT_NUMBER = env("MARKETING_OPT_OUT_NUMBER", default="")  # empty: no marketing message can be sent
# Where notifications.backends.local.FileMessageBackend writes one JSON file per SMS or 알림톡.
NOTIFICATION_MESSAGE_FILE_PATH = env.path("DJANGO_MESSAGE_FILE_PATH", default=BASE_DIR / "var" / "messages")
# Road-name address search (integrations/address/, docs/providers/address-search.md): the bundled sample here,
# the 도로명주소 API in production (config/settings/production.py).
ADDRESS_SEARCH_BACKEND = env(
    "DJANGO_ADDRESS_SEARCH_BACKEND", default="integrations.address.local.LocalAddressSearchBackend"
)
JUSO_API_KEY = env("JUSO_API_KEY", default="")  # the 도로명주소 API's 승인키 (confmKey)
JUSO_API_URL = env("JUSO_API_URL", default="https://business.juso.go.kr/addrlink/addrLinkApi.do")
# Reading evidence images (integrations/ocr/, docs/providers/ocr.md): Tesseract, run on this machine.
OCR_BACKEND = env("DJANGO_OCR_BACKEND", default="integrations.ocr.tesseract.TesseractOcrBackend")
OCR_TIMEOUT_SECONDS = env.int("OCR_TIMEOUT_SECONDS", default=60)

# Identity checks (간편인증) and certified signatures (docs/providers/identity.md): the sandbox plays the phone locally
# (/sandbox/identity/); production's default is the feature switched off (config/settings/production.py).
IDENTITY_BACKEND = env("DJANGO_IDENTITY_BACKEND", default="integrations.identity.sandbox.SandboxIdentityBackend")
# How long the person has to answer a request on their phone (the providers accept up to 1,000 seconds).
IDENTITY_REQUEST_EXPIRES_SECONDS = env.int("IDENTITY_REQUEST_EXPIRES_SECONDS", default=300)
# The barocert adapter (integrations.identity.barocert.BarocertIdentityBackend): Linkhub's link id and secret key and
# the firm's client code (이용기관코드, 12 digits); the feature stays off while any is empty. PASS and Naver show the
# call-centre number (at most 12 characters) on the phone. The SDK's service and auth addresses are Linkhub's unless
# set (contract tests point them at a local server); its connections time out after BAROCERT_TIMEOUT_SECONDS.
BAROCERT_LINK_ID = env("BAROCERT_LINK_ID", default="")
BAROCERT_SECRET_KEY = env("BAROCERT_SECRET_KEY", default="")
BAROCERT_CLIENT_CODE = env("BAROCERT_CLIENT_CODE", default="")
BAROCERT_CALL_CENTER_NUM = env("BAROCERT_CALL_CENTER_NUM", default="")
BAROCERT_SERVICE_URL = env("BAROCERT_SERVICE_URL", default="")
BAROCERT_AUTH_URL = env("BAROCERT_AUTH_URL", default="")
BAROCERT_TIMEOUT_SECONDS = env.float("BAROCERT_TIMEOUT_SECONDS", default=10.0)
# Whether claimants may sign the power of attorney by drawing or typing their name besides the certified signature
# (weaker proof: docs/identity.md). On here (development, tests, demonstrations); production's default is certified
# signatures only once an identity provider is configured. While no provider is available it is always offered.
POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE = env.bool("POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE", default=True)

# Provider backends that only play a provider locally (sandbox = True) are allowed outside production only
# (core/checks.py refuses them when this is False, as in config/settings/production.py).
SANDBOX_BACKENDS_ALLOWED = True
# The payment gateway (integrations/payments/, docs/providers/payments.md): the sandbox outside production.
PAYMENT_BACKEND = env("DJANGO_PAYMENT_BACKEND", default="") or "integrations.payments.sandbox.SandboxPaymentGateway"
# Where the sandbox gateway sends its webhooks; empty: this site's /webhooks/payments as the browser reached it
# (set it when the worker reaches the site by another address, as inside docker-compose).
SANDBOX_PAYMENT_WEBHOOK_URL = env("SANDBOX_PAYMENT_WEBHOOK_URL", default="")
# PortOne V2 (integrations/payments/portone.py), used when DJANGO_PAYMENT_BACKEND names it: the V2 API secret, the
# store and channel from the PortOne console, and the webhook secret ("whsec_...") of the store's webhook.
PORTONE_API_URL = env("PORTONE_API_URL", default="https://api.portone.io")
PORTONE_API_SECRET = env("PORTONE_API_SECRET", default="")
PORTONE_STORE_ID = env("PORTONE_STORE_ID", default="")
PORTONE_CHANNEL_KEY = env("PORTONE_CHANNEL_KEY", default="")
PORTONE_WEBHOOK_SECRET = env("PORTONE_WEBHOOK_SECRET", default="")

# Celery: broker and results in Redis. Without REDIS_URL tasks run inline so the site works alone.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The CPU priority of a worker's processes (config.celery; 0 to 19, higher yields more): the workers whose work
# nobody waits for on a page (fraud checks, display copies, estimates, OCR, exports) run at 10 in docker-compose, so
# in a surge the web requests, the emails and the signed PDFs get the cores first and the rest drains after.
WORKER_NICENESS = env.int("WORKER_NICENESS", default=0)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message taken by a worker that dies (kill -9, lost machine) goes back to the queue after this many seconds,
# at the next sweep of unacknowledged messages: every 10 s x CELERY_UNACKED_RESTORE_THROTTLE (kombu's default 10).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Publishing gives up quickly when Redis is down: the web request must answer, the sweeps catch up later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# Duplicate and fraud flags for matches found after submission (claims/tasks/fraud.py).
CELERY_BEAT_SCHEDULE["claims-fraud-sweep"] = {"task": "claims.tasks.fraud.fraud_sweep_task", "schedule": 60 * 60}
# Estimates whose task was lost (broker down) or that are stale are recomputed (claims/tasks/estimates.py).
CELERY_BEAT_SCHEDULE["claims-estimate-sweep"] = {
    "task": "claims.tasks.estimates.estimate_sweep_task",
    "schedule": 5 * 60,
}
# Closed claims past CLOSED_CLAIM_RETENTION_DAYS are anonymised every night at 03:30 (claims/tasks/retention.py).
CELERY_BEAT_SCHEDULE["claims-retention"] = {
    "task": "claims.tasks.retention.closed_claims_anonymise_task",
    "schedule": crontab(hour=3, minute=30),
}
# Export files (filing/services/exports/) are deleted this many hours after they are built. The filing tasks keep
# their names from claims (filing/tasks/exports.py), and this entry its key: the scheduler's database rows name both.
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=24)
# The per-service unit of the court's service-fee deposit (송달료, won) as (in force from, won), changed by Supreme
# Court notice: the court-cost sheet (filing/services/court_costs.py) uses the latest entry in force on the filing
# date. 5,200 won was the figure in use in 2023-2025; append a new row when the notice changes it.
COURT_SERVICE_FEE_UNITS = [(date(2023, 1, 1), 5_200)]
CELERY_BEAT_SCHEDULE["claims-export-expire"] = {
    "task": "claims.tasks.exports.export_expire_task",
    "schedule": 15 * 60,
}
# Status emails never queued (broker down) are queued again; jobs left hanging by a dead worker are marked failed
# after JOB_STALE_AFTER_MINUTES (claims/tasks/recovery.py).
JOB_STALE_AFTER_MINUTES = env.int("JOB_STALE_AFTER_MINUTES", default=180)
CELERY_BEAT_SCHEDULE["claims-status-email-sweep"] = {
    "task": "claims.tasks.recovery.status_email_sweep_task",
    "schedule": 10 * 60,
}
# Reminders of open information requests, before and after their due dates (claims/services/notifications.py).
CELERY_BEAT_SCHEDULE["claims-information-reminders"] = {
    "task": "claims.tasks.notifications.information_reminders_task",
    "schedule": crontab(hour=10, minute=0),
}
# Delivery reports of the SMS and 알림톡 sent lately (notifications/tasks.py).
CELERY_BEAT_SCHEDULE["notifications-delivery-reports"] = {
    "task": "notifications.tasks.notification_reports_task",
    "schedule": 5 * 60,
}
# Marketing messages held over the night (21:00-08:00 KST) are queued once their time has come.
CELERY_BEAT_SCHEDULE["notifications-held-release"] = {
    "task": "notifications.tasks.notification_held_release_task",
    "schedule": 60,
}
# Evidence PDFs without page previews (uploaded before previews existed, or a lost task) and pictures whose display
# copy is still pending (a lost task) are queued in batches (claims/tasks/evidence.py; `manage.py evidence_previews`
# does all at once).
# Outbox messages still queued after their grace period (their send task was lost) are queued again
# (notifications/tasks.py); each is sent once.
CELERY_BEAT_SCHEDULE["notifications-send-sweep"] = {
    "task": "notifications.tasks.notification_send_sweep_task",
    "schedule": 10 * 60,
}
CELERY_BEAT_SCHEDULE["claims-evidence-previews"] = {
    "task": "claims.tasks.evidence.evidence_previews_sweep_task",
    "schedule": 10 * 60,
}
# Tasks whose message the broker refused after their change was saved (Redis down) are published again
# (config.celery.OnCommitTask, accounts.UnsentTask): the verification, password-reset and staff emails included.
CELERY_BEAT_SCHEDULE["claims-unsent-tasks"] = {
    "task": "claims.tasks.recovery.unsent_tasks_publish_task",
    "schedule": 60,
}
CELERY_BEAT_SCHEDULE["claims-stale-jobs-reap"] = {
    "task": "claims.tasks.recovery.stale_jobs_reap_task",
    "schedule": 15 * 60,
}
# A running export or recompute whose heartbeat is older than JOB_HEARTBEAT_TIMEOUT_SECONDS (its worker was killed)
# has its remaining work queued again, checked every minute, at most JOB_MAX_REQUEUES times; after that the reaper
# above marks it failed (claims/services/recovery.py).
JOB_HEARTBEAT_TIMEOUT_SECONDS = env.int("JOB_HEARTBEAT_TIMEOUT_SECONDS", default=180)
JOB_MAX_REQUEUES = env.int("JOB_MAX_REQUEUES", default=3)
CELERY_BEAT_SCHEDULE["claims-stale-jobs-requeue"] = {
    "task": "claims.tasks.recovery.stale_jobs_requeue_task",
    "schedule": 60,
}
# Evidence readings left pending (their message lost, their worker killed) are queued again after 10 minutes
# (claims/services/recovery.py); a file is given up after READING_MAX_ATTEMPTS attempts.
CELERY_BEAT_SCHEDULE["claims-evidence-reading-requeue"] = {
    "task": "claims.tasks.recovery.evidence_findings_requeue_task",
    "schedule": 5 * 60,
}
# Signed PDFs whose render task was lost or failed are queued again (accounts/tasks.py, filing/tasks/).
CELERY_BEAT_SCHEDULE["accounts-signed-pdfs-sweep"] = {
    "task": "accounts.tasks.power_of_attorney_pdfs_sweep_task",
    "schedule": 10 * 60,
}
CELERY_BEAT_SCHEDULE["filing-designation-pdfs-sweep"] = {
    "task": "filing.tasks.selected_parties.designation_pdfs_sweep_task",
    "schedule": 10 * 60,
}
# Claims per recompute chunk (a transaction each) and rows between an export's progress marks (its heartbeat).
RECOMPUTE_CHUNK_SIZE = env.int("RECOMPUTE_CHUNK_SIZE", default=1000)
EXPORT_PROGRESS_ROWS = env.int("EXPORT_PROGRESS_ROWS", default=2000)
# The staff dashboard's cached copy (claims/selectors/dashboard.py) is computed every minute, one per language, so no
# staff request computes it; a copy is kept five refreshes long, so only a stopped beat or worker lets it lapse.
DASHBOARD_REFRESH_SECONDS = 60
CELERY_BEAT_SCHEDULE["claims-dashboard-refresh"] = {
    "task": "claims.tasks.dashboard.dashboard_summary_refresh_task",
    "schedule": DASHBOARD_REFRESH_SECONDS,
    "options": {"expires": DASHBOARD_REFRESH_SECONDS},  # one left behind a busy queue is dropped: the next one comes
}
# The funnel's unfiltered copy (filing.tasks.funnel), refreshed well within its FUNNEL_CACHE_SECONDS.
FUNNEL_REFRESH_SECONDS = 120
CELERY_BEAT_SCHEDULE["filing-funnel-refresh"] = {
    "task": "filing.tasks.funnel.funnel_refresh_task",
    "schedule": FUNNEL_REFRESH_SECONDS,
    "options": {"expires": FUNNEL_REFRESH_SECONDS},
}
# Separate queues so a big export never delays a claimant's receipt or estimate.
CELERY_TASK_ROUTES = {
    # Signed PDFs (WeasyPrint): CPU and memory, on a worker whose processes are replaced after a few tasks.
    "accounts.tasks.power_of_attorney_pdf*": {"queue": "documents"},  # the render task and its sweep
    "filing.tasks.selected_parties.designation_pdf*": {"queue": "documents"},
    "claims.tasks.estimates.*": {"queue": "estimates"},
    "claims.tasks.exports.*": {"queue": "exports"},  # the filing app's export tasks, by their registered names
    "claims.tasks.notifications.*": {"queue": "email"},
    "claims.tasks.evidence_reading.*": {"queue": "evidence_reading"},  # OCR: slow, never in front of an email
    "accounts.tasks.*": {"queue": "email"},
    "notifications.tasks.notification_send_task": {"queue": "email"},
    "notifications.tasks.notification_send_chunk_task": {"queue": "email"},
}
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Webhooks (core.webhooks): the HMAC secret and the dotted path of the event handler, per provider. No provider
# sends webhooks yet; each adds its entries (its secret from the environment) when it is built.
WEBHOOK_SECRETS: dict[str, str] = {}
WEBHOOK_HANDLERS: dict[str, str] = {"payments": "payments.services.payment_webhook_handle"}
# (soft, hard) time limits in seconds for every task on a queue (core.tasks.ApplicationTask); a task may set its own.
# At the soft limit the task gets SoftTimeLimitExceeded and can clean up; at the hard limit its process is replaced.
# The hard limits stay below CELERY_VISIBILITY_TIMEOUT, so a killed task is not also redelivered mid-run.
CELERY_QUEUE_TIME_LIMITS = {
    "email": (60, 90),
    "estimates": (600, 660),
    "exports": (1800, 1860),
    "evidence_reading": (150, 180),  # one file: OCR_TIMEOUT_SECONDS (60) for the engine, a retry's backoff apart
    "documents": (60, 90),  # one signed PDF: about 0.2 s of CPU
    "celery": (600, 660),
}

# Logs: one JSON object per line on stdout with the request id; personal data masked (config/logging.py).
# manage.py sets DJANGO_LOG_STREAM=stderr: a command's stdout is its output only.
# The worker keeps this configuration instead of installing Celery's own.
LOGGING = logging_config(
    level=env("DJANGO_LOG_LEVEL", default="INFO"),
    json=env("DJANGO_LOG_FORMAT", default="json") == "json",
    stream=env("DJANGO_LOG_STREAM", default="stdout"),
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
