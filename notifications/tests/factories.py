"""Test data for the message templates."""

from importlib import import_module

from django.apps import apps


def message_templates_published() -> None:
    """The first published version of every template, as the migrations write them. A transactional test (browser,
    real worker) runs after others have emptied the tables the migrations filled, so it calls this first."""
    for migration in (
        "0004_message_templates_first_versions",
        "0007_notice_template_first_version",
        "0008_designation_requested_template",
    ):
        import_module(f"notifications.migrations.{migration}").publish(apps, None)
