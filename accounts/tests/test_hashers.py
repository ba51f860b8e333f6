"""Passwords hashed with Django's default Argon2 parameters keep working and are rehashed with the server's."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher

from accounts.hashers import ServerArgon2PasswordHasher
from accounts.tests.factories import ClaimantFactory

pytestmark = pytest.mark.django_db
PASSWORD = "kakao-outage-2022!"  # noqa: S105 - test password


def test_an_old_hash_verifies_and_is_upgraded_on_login(settings, rf):
    settings.PASSWORD_HASHERS = ["accounts.hashers.ServerArgon2PasswordHasher"]
    old = Argon2PasswordHasher()
    user = ClaimantFactory()
    user.password = old.encode(PASSWORD, old.salt())
    user.save(update_fields=["password"])
    assert "m=102400" in user.password

    assert authenticate(rf.post("/"), username=user.email, password=PASSWORD) == user
    user.refresh_from_db()
    assert isinstance(identify_hasher(user.password), ServerArgon2PasswordHasher)
    assert "m=19456,t=2,p=2" in user.password
    assert authenticate(rf.post("/"), username=user.email, password=PASSWORD) == user
