"""Demo data for trying the site locally: reference data, staff in each role, the demo firm's profile, a claimant
account, and a small synthetic cohort of submitted claims with their estimates and fraud flags so the admin has
something to review.

Refuses to run unless DEBUG is on, so it can never create known passwords in production.
"""

import io

import segno
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role, staff_groups_sync
from accounts.services.auth import staff_user_create
from accounts.services.two_factor import totp_secret_text
from claims.models import Claim, Incident, OutageWindow, Service
from claims.reference import reference_data_load
from claims.services.estimates import estimate_sweep
from claims.services.fraud import fraud_sweep
from core.models import FirmProfile
from core.services import firm_profile_update
from devtools.generator import claims_generate

DEMO_STAFF_EMAIL = "staff@example.com"
DEMO_STAFF_PASSWORD = "demo-staff-2022!"  # noqa: S105 - local demo only, refused when DEBUG is off
DEMO_CLAIMANT_EMAIL = "claimant@example.com"
DEMO_CLAIMANT_PASSWORD = "demo-claimant-2022!"  # noqa: S105
# Every demo staff account shares this authenticator secret (RFC 6238's test key "12345678901234567890"),
# so one entry in an authenticator app gives the codes for all of them. Never used outside DEBUG.
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
DEMO_COHORT_SIZE = 150
DEMO_COHORT_SEED = 2022
# A plausible, clearly fictional firm for the header, footer, emails and the power of attorney (core.FirmProfile);
# seeded once, so what staff change in the admin stays.
DEMO_FIRM = {
    "name": "법무법인 한빛 (데모)",
    "address": "서울특별시 서초구 서초대로 123, 한빛빌딩 7층 (데모)",
    "phone": "02-555-0123",
    "email": "kakao-suit@hanbit-law.example",
    "kakao_channel_url": "https://pf.kakao.com/_demo",
    "hours": "평일 09:00-18:00 (점심 12:00-13:00)",
    "privacy_officer_name": "변호사 이하늘",
    "privacy_officer_contact": "privacy@hanbit-law.example",
}
DEMO_ROLE_ACCOUNTS = [
    ("paralegal@example.com", Role.PARALEGAL, "데모 사무직원"),
    ("viewer@example.com", Role.VIEWER, "데모 열람자"),
]


class Command(BaseCommand):
    help = "Load demo data and print the demo logins (DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates accounts with known passwords.")
        reference_data_load(incident_model=Incident, service_model=Service, window_model=OutageWindow)
        staff_groups_sync(group_model=Group, permission_model=Permission)
        staff = self._staff(DEMO_STAFF_EMAIL, Role.LAWYER, "데모 변호사")
        if not staff.is_superuser:
            staff.is_superuser = True
            staff.save(update_fields=["is_superuser"])
        for email, role, name in DEMO_ROLE_ACCOUNTS:
            self._staff(email, role, name)
        if not FirmProfile.objects.exists():
            firm_profile_update(actor=staff, values=DEMO_FIRM)
        claimant, created = User.objects.get_or_create(
            email=DEMO_CLAIMANT_EMAIL,
            defaults={"legal_name": "김데모", "email_verified_at": timezone.now()},
        )
        if created:
            claimant.set_password(DEMO_CLAIMANT_PASSWORD)
            claimant.save(update_fields=["password"])
        self._cohort()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Staff (admin):  {settings.SITE_URL}/admin/  {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}")
        roles = ", ".join(f"{email} ({role.value})" for email, role, _name in DEMO_ROLE_ACCOUNTS)
        self.stdout.write(f"  Other roles:    {roles}, same password")
        self._print_totp(TOTPDevice.objects.get(user=staff, confirmed=True))
        self.stdout.write(f"  Claimant:       {settings.SITE_URL}/  {DEMO_CLAIMANT_EMAIL} / {DEMO_CLAIMANT_PASSWORD}")

    def _cohort(self) -> None:
        """Synthetic claims (once), estimated and checked for duplicates inline as the worker would."""
        if not Claim.objects.exists():
            report = claims_generate(count=DEMO_COHORT_SIZE, seed=DEMO_COHORT_SEED)
            self.stdout.write(f"  Demo cohort:    {report.claims} synthetic claims")
        estimate_sweep()
        fraud_sweep()

    def _staff(self, email: str, role: Role, name: str) -> User:
        staff = User.objects.filter(email=email).first() or staff_user_create(
            email=email, password=DEMO_STAFF_PASSWORD, role=role, legal_name=name
        )
        if not staff.groups.filter(name=role.value).exists():
            staff.groups.add(Group.objects.get(name=role.value))
        TOTPDevice.objects.update_or_create(
            user=staff, name="데모 인증 앱", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True}
        )
        return staff

    def _print_totp(self, device: TOTPDevice) -> None:
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        self.stdout.write("  Admin two-factor: add this to an authenticator app (Google/Microsoft Authenticator),")
        self.stdout.write(f"    secret {totp_secret_text(device)}  (time-based, 6 digits, 30 s)")
        self.stdout.write(f"    or scan the QR code below / open {device.config_url}")
        self.stdout.write(f"    code right now: {code:0{device.digits}d} (changes every 30 s)")
        qr = io.StringIO()
        segno.make(device.config_url, error="m").terminal(out=qr, compact=True)
        self.stdout.write(qr.getvalue())
