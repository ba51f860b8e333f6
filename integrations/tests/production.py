"""What the production settings choose, read in a child process (they refuse to load without their secrets)."""

import subprocess
import sys

from django.conf import settings as django_settings

from core.checks import provider_backends_check


def production_setting(name: str, tmp_path, **environment: str) -> str:
    """`settings.<name>` under config.settings.production with the given extra environment."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "production-settings-test-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "claims.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "FIELD_ENCRYPTION_KEYS": "YnVpbGQtb25seS1idWlsZC1vbmx5LWJ1aWxkLW9ubHk=",
        "FIELD_HASH_KEY": "production-settings-test-hash-key-0123456789",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PATH": "/usr/bin:/bin",
        **environment,
    }
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()[-1]


def backend_check_errors(setting: str) -> list[str]:
    """The ids of the provider-backend check's errors about `setting` (the test settings name other sandboxes)."""
    return [error.id for error in provider_backends_check(None) if error.msg.startswith(f"{setting} ")]
