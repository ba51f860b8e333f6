"""One seam per outside provider, chosen by a dotted path in settings the way Django chooses EMAIL_BACKEND.

Each kind of outside service (identity, messages, payments, address search, OCR) has a small interface, a base
class of `ProviderBackend`, and backends named in settings:

    IDENTITY_BACKEND = "integrations.identity.sandbox.SandboxIdentityBackend"
    NOTIFICATION_BACKENDS = {"email": "...", "sms": "...", "alimtalk": "..."}

`backend_from_setting("IDENTITY_BACKEND")` gives the configured backend, one instance per dotted path. A backend
that only plays the provider locally (a sandbox page, a console printout) says so with `sandbox = True`: its results
are marked as such wherever they appear, and the production settings refuse it at start-up (`core.checks`).
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

# Every setting that names a provider backend: one dotted path, or a dict of them (channel -> path).
PROVIDER_BACKEND_SETTINGS = (
    "IDENTITY_BACKEND",
    "NOTIFICATION_BACKENDS",
    "PAYMENT_BACKEND",
    "ADDRESS_SEARCH_BACKEND",
    "OCR_BACKEND",
)


class ProviderBackend:
    """The base of every provider backend: `provider` names it in records and logs; `sandbox` marks a local
    stand-in for a real provider."""

    provider = ""
    sandbox = False


@cache
def backend_from_path(path: str) -> ProviderBackend:
    return import_string(path)()


def backend_from_setting(setting: str, key: str | None = None) -> ProviderBackend:
    """The backend that `settings.<setting>` names (`settings.<setting>[key]` for a dict of channels)."""
    value = getattr(settings, setting)
    return backend_from_path(value[key] if key is not None else value)


def configured_backend_paths() -> list[tuple[str, str]]:
    """(setting, dotted path) for every configured provider backend, so a check can look at all of them."""
    found = []
    for setting in PROVIDER_BACKEND_SETTINGS:
        value = getattr(settings, setting, None)
        if isinstance(value, dict):
            found += [(f"{setting}[{key!r}]", path) for key, path in value.items()]
        elif value:
            found.append((setting, value))
    return found
