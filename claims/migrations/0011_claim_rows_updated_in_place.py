"""Recomputing estimates rewrites every claim's copy of its estimate; this lets PostgreSQL do it in place.

- The index on `estimate_total` goes: an update that changes an indexed column cannot be a heap-only (HOT) update,
  so every recompute inserted a new entry into all of the claim table's indexes. The index served little: the
  admin's estimate buckets match a large share of the table (PostgreSQL reads the table for them either way), and
  the sort by estimate orders NULLS LAST, which the index did not give. Measured at 200,000 claims: both take the
  same 40-50 ms with and without it, while 20,000 claim updates take 1.7 s with it and 0.3 s without.
- The claim table keeps a fifth of each page free (fillfactor 80), so an updated row fits beside the old one and
  needs no new index entries. It applies to pages written from now on; `VACUUM FULL claims_claim` in a quiet hour
  rewrites the existing ones.
"""

from django.db import migrations

FILLFACTOR = 80


def set_fillfactor(apps, schema_editor, value: int | None = FILLFACTOR) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("claims", "Claim")._meta.db_table)
    schema_editor.execute(
        f"ALTER TABLE {table} SET (fillfactor = {value})" if value else f"ALTER TABLE {table} RESET (fillfactor)"
    )


def reset_fillfactor(apps, schema_editor) -> None:
    set_fillfactor(apps, schema_editor, value=None)


class Migration(migrations.Migration):
    dependencies = [("claims", "0010_bank_account_flag")]

    operations = [
        migrations.RemoveIndex(model_name="claim", name="claim_estimate_total"),
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
