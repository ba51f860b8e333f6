"""System checks: the production settings refuse sandbox backends and backends that cannot be imported."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from core.backends import configured_backend_paths


@checks.register(checks.Tags.security, deploy=False)
def provider_backends_check(app_configs, **kwargs):
    errors = []
    for setting, path in configured_backend_paths():
        try:
            backend_class = import_string(path)
        except ImportError as error:
            errors.append(checks.Error(f"{setting} names {path}, which cannot be imported: {error}", id="core.E001"))
            continue
        if getattr(backend_class, "sandbox", False) and not settings.SANDBOX_BACKENDS_ALLOWED:
            errors.append(
                checks.Error(
                    f"{setting} names the sandbox backend {path}, which only plays the provider locally.",
                    hint="Name the real provider's backend (docs/architecture.md, 'Outside providers').",
                    id="core.E002",
                )
            )
    return errors
