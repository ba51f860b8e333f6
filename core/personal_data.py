"""A person's data kept by other apps, reached without importing them.

The account app answers for the person's data (the download, the deletion, profile changes) but the claims (and
later other apps) hold part of it. Each such app registers one contributor here from its `AppConfig.ready()`;
the account services call every registered contributor, in registration order.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

# attach(file, *path, opener=None) -> the file's name inside the download ZIP, or None when the file is not stored.
# `opener`, when given, is called while the ZIP is written and its stream goes in instead of the stored file (the
# claimant's original of an evidence file whose stored copy was masked, decrypted).
Attach = Callable[..., str | None]


@dataclass(frozen=True)
class PersonalDataErasure:
    """What a contributor did when the person's account was deleted: counts and references for the deletion
    request's outcome, and stored files to delete once the deletion is committed."""

    outcome: dict[str, Any]
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PersonalDataContributor:
    """`key`: the person's rows under this key of the download's data.json.
    `export(user=, attach=)`: those rows (`attach` puts a stored file into the ZIP).
    `erase(user=, actor=)`: remove or keep-and-note the person's records when their account is deleted, in the
    deletion's transaction; returns a PersonalDataErasure.
    `profile_changed(user=, fields=, labels=)`: the person changed these profile fields (labels: their names)."""

    key: str
    export: Callable[..., list[dict[str, Any]]]
    erase: Callable[..., PersonalDataErasure]
    profile_changed: Callable[..., None]


_contributors: dict[str, PersonalDataContributor] = {}


def personal_data_contributor_register(contributor: PersonalDataContributor) -> None:
    _contributors[contributor.key] = contributor


def personal_data_contributors() -> list[PersonalDataContributor]:
    return list(_contributors.values())


def _value(value: Any) -> Any:
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_export(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every stored field of a row, foreign keys as ids, files as their stored names."""
    skip = set(exclude)
    return {
        field.name: _value(getattr(instance, field.attname) if field.is_relation else getattr(instance, field.name))
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }
