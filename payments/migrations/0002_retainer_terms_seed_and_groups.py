"""The seeded power of attorney (version 1, accounts/consent_texts.py) asks for a 20,000 won retainer in its fee
terms: record that amount with it, so the payment step shows in `make run`; and give the Lawyer group the new
refund and waiver permissions (accounts/roles.py)."""

from importlib import import_module

from django.db import migrations

SEEDED_RETAINER = 20_000
SEEDED_FEE_TERMS = "착수금: 금 20,000원"

staff_groups_sync = import_module("accounts.migrations.0003_auth_staff_groups").sync


def seed(apps, schema_editor):
    ConsentDocument = apps.get_model("accounts", "ConsentDocument")
    RetainerTerms = apps.get_model("payments", "RetainerTerms")
    document = ConsentDocument.objects.filter(kind="power_of_attorney", version=1).first()
    if document is not None and SEEDED_FEE_TERMS in document.body:
        RetainerTerms.objects.get_or_create(document=document, defaults={"amount": SEEDED_RETAINER})


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_retainer_orders_ledger"),
        ("accounts", "0004_consents_documents"),
        ("accounts", "0003_auth_staff_groups"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(staff_groups_sync, migrations.RunPython.noop),
    ]
