"""Production: every secret from the environment, with no default, so a missing one fails at start-up."""

from .base import *  # noqa: F403
from .base import BAROCERT_LINK_ID, JUSO_API_KEY, env

DEBUG = False
# A sandbox provider backend (a local page playing the identity app or the payment window) fails start-up.
SANDBOX_BACKENDS_ALLOWED = False
# The 도로명주소 API when its key is set; without one, address search is refused and the address typed by hand
# (the local sample is a sandbox, refused here).
ADDRESS_SEARCH_BACKEND = env(
    "DJANGO_ADDRESS_SEARCH_BACKEND",
    default="integrations.address.juso.JusoAddressSearchBackend"
    if JUSO_API_KEY
    else "integrations.address.UnconfiguredAddressSearch",
)
# Identity checks through barocert when its credentials are set; otherwise off (every call refused with a clear
# message) until a real provider is named.
IDENTITY_BACKEND = env(
    "DJANGO_IDENTITY_BACKEND",
    default="integrations.identity.barocert.BarocertIdentityBackend"
    if BAROCERT_LINK_ID
    else "integrations.identity.UnconfiguredIdentityBackend",
)
# Certified signatures only once barocert is configured; the drawn or typed signature only if the firm enables it.
POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE = env.bool(
    "POWER_OF_ATTORNEY_HANDWRITTEN_SIGNATURE", default=not BAROCERT_LINK_ID
)
# No payments until a real gateway is named: UnconfiguredPaymentGateway refuses every call with a clear message.
PAYMENT_BACKEND = env("DJANGO_PAYMENT_BACKEND", default="") or "integrations.payments.UnconfiguredPaymentGateway"
if PAYMENT_BACKEND == "integrations.payments.portone.PortOnePaymentGateway":
    PORTONE_API_SECRET = env("PORTONE_API_SECRET")
    PORTONE_STORE_ID = env("PORTONE_STORE_ID")
    PORTONE_CHANNEL_KEY = env("PORTONE_CHANNEL_KEY")
    PORTONE_WEBHOOK_SECRET = env("PORTONE_WEBHOOK_SECRET")
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# WhiteNoise serves the static files right after SecurityMiddleware, so they get the security headers too.
_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1  # noqa: F405
MIDDLEWARE = [*MIDDLEWARE[:_security], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[_security:]]  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load-balancer probes speak plain HTTP inside the network
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Evidence, signed documents and exports: an S3-compatible object store when a bucket is named (several web and
# worker machines then share the files), else the private folder on this machine. Objects are private; the site
# streams them through permission-checked views, and any URL the storage makes is signed and short-lived.
S3_BUCKET = env("AWS_STORAGE_BUCKET_NAME", default=env("S3_BUCKET", default=""))
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="path"),
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = STORAGES["default"]  # noqa: F405
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Keys for the encrypted identifiers (config/crypto.py): required, and never derived from the secret key here.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
FIELD_HASH_KEY = env("FIELD_HASH_KEY")

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# SMS and 알림톡 are off (every message refused, failed) until a provider's adapter is named.
NOTIFICATION_BACKENDS = {
    **NOTIFICATION_BACKENDS,  # noqa: F405
    "sms": env("DJANGO_SMS_BACKEND", default="notifications.backends.unconfigured.UnconfiguredMessageBackend"),
    "alimtalk": env(
        "DJANGO_ALIMTALK_BACKEND", default="notifications.backends.unconfigured.UnconfiguredMessageBackend"
    ),
}
# Solapi named: its keys and sender number have no default, so a missing one fails start-up.
_SOLAPI = "notifications.backends.solapi.SolapiBackend"
if _SOLAPI in NOTIFICATION_BACKENDS.values():
    SOLAPI_API_KEY = env("SOLAPI_API_KEY")
    SOLAPI_API_SECRET = env("SOLAPI_API_SECRET")
    SOLAPI_SENDER = env("SOLAPI_SENDER")
if NOTIFICATION_BACKENDS["alimtalk"] == _SOLAPI:
    SOLAPI_PFID = env("SOLAPI_PFID")  # the Kakao channel the 알림톡 templates belong to
# Rate limits need a cache shared by every process: without REDIS_URL the ratelimit check fails start-up.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
