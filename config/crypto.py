"""Personal identifiers encrypted at rest, and keyed digests to find duplicates without decrypting.

`EncryptedTextField` stores a Fernet token (AES-128-CBC with HMAC-SHA256) made with the first key of
FIELD_ENCRYPTION_KEYS and decrypts with any of them, so keys rotate without downtime: put a new key first,
deploy, run `manage.py rotate_encryption_keys`, then drop the old key. A database dump or backup alone reveals
nothing. The value cannot be searched; `DigestField` keeps an HMAC-SHA256 (key FIELD_HASH_KEY) of the normalised
value beside it, so equal values (one bank account on two accounts) can be matched with an index.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


def derived_key(secret: str, purpose: str) -> str:
    """A Fernet-shaped key derived from `secret` for one purpose (development defaults only)."""
    digest = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must name at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        ) from error


def encrypt(text: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        message = "No key in FIELD_ENCRYPTION_KEYS decrypts this value (was a key dropped too early?)"
        raise DecryptionError(message) from error


def encrypt_bytes(data: bytes) -> bytes:
    """A Fernet token of `data` (a file kept sealed, such as an evidence original showing a resident number)."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token)
    except InvalidToken as error:
        raise DecryptionError("No key in FIELD_ENCRYPTION_KEYS decrypts this file") from error


def keyed_digest(text: str) -> str:
    """HMAC-SHA256 of `text` with FIELD_HASH_KEY, hex."""
    return hmac.new(settings.FIELD_HASH_KEY.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def digits_only(text: str) -> str:
    """Normaliser for numbers people type with hyphens or spaces (bank accounts)."""
    return "".join(character for character in text if character.isdigit())


MIN_HASH_KEY_LENGTH = 32


@checks.register(checks.Tags.security)
def encryption_keys_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Refuse to start with a malformed encryption key or a short digest key, not at the first save."""
    errors = []
    try:
        _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="config.E001"))
    if len(settings.FIELD_HASH_KEY) < MIN_HASH_KEY_LENGTH:
        errors.append(
            checks.Error(f"FIELD_HASH_KEY must be at least {MIN_HASH_KEY_LENGTH} random characters.", id="config.E002")
        )
    return errors


class EncryptedTextField(models.TextField):
    """Text stored encrypted. Empty stays empty (so "has a value" is visible); only `isnull` can be queried."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_lookup(self, lookup_name):
        # An encrypted value never equals its token: refuse lookups rather than silently match nothing.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"form_class": forms.CharField, "widget": forms.TextInput, **kwargs})


class DigestField(models.CharField):
    """The keyed digest of another field's normalised value, recomputed whenever the row is saved."""

    def __init__(self, *args, source: str, normalize: Callable[[str], str] | None = None, **kwargs):
        self.source, self.normalize = source, normalize
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.normalize is not None:
            kwargs["normalize"] = self.normalize
        return name, path, args, kwargs

    def digest_of(self, value: str | None) -> str:
        if not value:
            return ""
        normalised = self.normalize(value) if self.normalize else value
        return keyed_digest(normalised) if normalised else ""

    def pre_save(self, model_instance, add):
        value = self.digest_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
