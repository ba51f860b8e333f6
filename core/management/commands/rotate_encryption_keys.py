from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from config.crypto import DigestField, EncryptedTextField

BATCH = 500


def encrypted_fields() -> list[tuple[type, list[str], list[DigestField]]]:
    """(model, encrypted field names, digest fields) for every model with an encrypted field."""
    found = []
    for model in apps.get_models():
        fields = [field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
        if fields:
            digests = [field for field in model._meta.concrete_fields if isinstance(field, DigestField)]
            found.append((model, fields, digests))
    return found


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS and recompute the keyed "
        "digests with FIELD_HASH_KEY. Run after putting a new key first; then the old key can be removed."
    )

    def handle(self, *args, **options) -> None:
        for model, fields, digests in encrypted_fields():
            label = model._meta.label
            done = 0
            pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), BATCH):
                with transaction.atomic():
                    rows = model._default_manager.select_for_update().filter(pk__in=pks[start : start + BATCH])
                    for row in rows:
                        # Reading decrypts with whichever key made the token; saving encrypts with the first key.
                        row.save(update_fields=[*fields, *(digest.name for digest in digests)])
                        done += 1
            self.stdout.write(self.style.SUCCESS(f"{label}: {done} rows re-encrypted ({', '.join(fields)})."))
