"""Staff in each role, signed in to the two-factor admin (the test client's session marked as verified with the
member of staff's authenticator device, as django-otp's `otp_login` does after a correct code)."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import StaffFactory


def staff_member(role: Role = Role.PARALEGAL, **kwargs) -> User:
    return StaffFactory(role=role, totp=True, **kwargs)


def admin_login(client: Client, user: User) -> Client:
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    return client
