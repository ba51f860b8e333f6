"""Identifiers encrypted at rest with rotatable keys, and keyed digests that find duplicates without decrypting."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import connection

from accounts.models import User, bank_account_number_validator
from accounts.tests.factories import ClaimantFactory
from config.crypto import DecryptionError, encryption_keys_check, keyed_digest

KEY_OLD, KEY_NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored_token(user: User) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT bank_account, bank_account_digest FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()


@pytest.fixture
def old_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_OLD]


@pytest.mark.django_db
def test_the_bank_account_is_stored_encrypted_and_read_back(old_key):
    user = ClaimantFactory(bank_name="국민은행", bank_account="123-456-78901234")

    token, digest = stored_token(user)

    assert "78901234" not in token
    assert Fernet(KEY_OLD.encode()).decrypt(token.encode()).decode() == "123-456-78901234"
    assert User.objects.get(pk=user.pk).bank_account == "123-456-78901234"
    assert digest == keyed_digest("12345678901234")


@pytest.mark.django_db
def test_an_empty_bank_account_stays_empty_and_has_no_digest():
    user = ClaimantFactory()

    assert stored_token(user) == ("", "")
    assert User.objects.get(pk=user.pk).bank_account == ""


@pytest.mark.django_db
def test_one_account_on_two_users_is_found_by_its_digest_however_it_was_typed():
    first = ClaimantFactory(bank_account="110-123-456789")
    second = ClaimantFactory(bank_account="110 123456 789")
    ClaimantFactory(bank_account="110-123-456780")

    matches = User.objects.filter(bank_account_digest=User.objects.get(pk=first.pk).bank_account_digest)

    assert set(matches.values_list("pk", flat=True)) == {first.pk, second.pk}


@pytest.mark.django_db
def test_the_digest_follows_a_changed_account_number():
    user = ClaimantFactory(bank_account="110-123-456789")
    user.bank_account = "220-123-456789"
    user.save()

    assert stored_token(user)[1] == keyed_digest("220123456789")


@pytest.mark.django_db
def test_rotating_keys_reencrypts_every_row_with_the_new_key(settings, old_key):
    users = [ClaimantFactory(bank_account=f"110-123-45678{n}") for n in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW, KEY_OLD]  # the new key first: it encrypts, both decrypt

    call_command("rotate_encryption_keys", stdout=None)

    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]  # the old key is gone
    for n, user in enumerate(users):
        token, _digest = stored_token(user)
        assert Fernet(KEY_NEW.encode()).decrypt(token.encode()).decode() == f"110-123-45678{n}"
        assert User.objects.get(pk=user.pk).bank_account == f"110-123-45678{n}"


@pytest.mark.django_db
def test_dropping_a_key_before_rotating_fails_loudly(settings, old_key):
    user = ClaimantFactory(bank_account="110-123-456789")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]

    with pytest.raises(DecryptionError):
        User.objects.get(pk=user.pk)


@pytest.mark.django_db
def test_encrypted_values_cannot_be_searched_by_mistake():
    with pytest.raises(FieldError):
        list(User.objects.filter(bank_account="110-123-456789"))
    assert not User.objects.filter(bank_account__isnull=True).exists()


@pytest.mark.parametrize("number", ["110-123-456789", "1101234567", "110 1234 567890", "1234567890123456"])
def test_bank_account_numbers_as_banks_print_them_are_accepted(number):
    bank_account_number_validator(number)


@pytest.mark.parametrize("number", ["123456789", "12345678901234567", "110-123-45678a", "계좌 110-123-456789"])
def test_other_bank_account_numbers_are_refused(number):
    with pytest.raises(ValidationError):
        bank_account_number_validator(number)


def test_a_malformed_key_or_a_short_digest_key_stops_start_up(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["change-me"]
    settings.FIELD_HASH_KEY = "short"

    errors = encryption_keys_check(None)

    assert [error.id for error in errors] == ["config.E001", "config.E002"]


def test_the_configured_keys_pass_the_check():
    assert encryption_keys_check(None) == []
