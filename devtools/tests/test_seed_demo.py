"""`manage.py seed_demo` (DEBUG only): demo staff in each role with the demo authenticator, printed enrolment."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from claims.models import Claim
from core.models import FirmProfile
from devtools.management.commands import seed_demo

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_seed_demo_creates_staff_in_each_role_with_the_demo_authenticator_and_prints_how_to_enrol(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())  # idempotent

    roles = {
        user.email: list(user.groups.values_list("name", flat=True))
        for user in User.objects.filter(is_staff=True, email__endswith="@example.com")
    }
    assert roles == {
        "staff@example.com": ["Lawyer"],
        "paralegal@example.com": ["Paralegal"],
        "viewer@example.com": ["Viewer"],
    }
    claims = Claim.objects.exclude(status=Claim.Status.DRAFT)
    assert claims.count() > 100 and not claims.filter(estimate_total__isnull=True).exclude(status="withdrawn").exists()
    assert Claim.objects.count() == seed_demo.DEMO_COHORT_SIZE  # the second run added none
    assert FirmProfile.objects.get().name == seed_demo.DEMO_FIRM["name"]  # the demo firm, once
    device = TOTPDevice.objects.get(user__email="staff@example.com")
    assert device.confirmed and TOTPDevice.objects.count() == 3
    printed = out.getvalue()
    assert "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ" in printed
    assert "otpauth://totp/" in printed
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = totp.time
    codes = set()
    for offset in (-1, 0):  # the printed code may belong to the previous 30-second step
        totp.time = now + offset * device.step
        codes.add(f"{totp.token():06d}")
    assert any(f"code right now: {code}" in printed for code in codes)
