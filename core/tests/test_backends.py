"""The provider seam: backends chosen by dotted paths in settings, sandboxes refused where production says so."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core.backends import ProviderBackend, backend_from_setting, configured_backend_paths
from core.checks import provider_backends_check


class RealStandIn(ProviderBackend):
    provider = "real"


class SandboxStandIn(ProviderBackend):
    provider = "sandbox"
    sandbox = True


REAL = "core.tests.test_backends.RealStandIn"
SANDBOX = "core.tests.test_backends.SandboxStandIn"


def test_a_backend_is_loaded_once_per_dotted_path(settings):
    settings.IDENTITY_BACKEND = REAL
    first = backend_from_setting("IDENTITY_BACKEND")
    assert isinstance(first, RealStandIn)
    assert backend_from_setting("IDENTITY_BACKEND") is first


def test_a_channel_backend_is_read_from_a_dict_of_channels(settings):
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "sms": SANDBOX}
    assert isinstance(backend_from_setting("NOTIFICATION_BACKENDS", "sms"), SandboxStandIn)
    assert ("NOTIFICATION_BACKENDS['sms']", SANDBOX) in configured_backend_paths()


def test_sandbox_backends_pass_the_check_where_allowed(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = True
    settings.PAYMENT_BACKEND = SANDBOX
    assert [error.id for error in provider_backends_check(None)] == []


def test_production_refuses_a_sandbox_backend_and_names_the_setting(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = False
    settings.PAYMENT_BACKEND = SANDBOX
    settings.IDENTITY_BACKEND = REAL
    settings.NOTIFICATION_BACKENDS = {"email": settings.NOTIFICATION_BACKENDS["email"]}  # the test SMS ones are too
    errors = provider_backends_check(None)
    # Other settings may name sandboxes too (the test settings' defaults): only the two set here are looked at.
    assert {error.id for error in errors} == {"core.E002"}
    flagged = {error.msg.split()[0] for error in errors}
    assert "PAYMENT_BACKEND" in flagged
    assert "IDENTITY_BACKEND" not in flagged
    with pytest.raises(SystemCheckError):
        call_command("check")


def test_a_backend_that_cannot_be_imported_fails_the_check(settings):
    settings.OCR_BACKEND = "core.tests.test_backends.Missing"
    assert [error.id for error in provider_backends_check(None)] == ["core.E001"]
