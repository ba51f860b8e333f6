"""The first version of the notice template, the one bulk messages to a cohort or a wave are written into."""

from django.db import migrations
from django.utils import timezone

TEXT_KO = "[카카오 장애 공동소송] #{message}"
TEXT_EN = "[Kakao outage suit] #{message}"


def publish(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    MessageTemplate.objects.get_or_create(
        kind="notice", version=1, defaults={"text_ko": TEXT_KO, "text_en": TEXT_EN, "published_at": timezone.now()}
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0006_bulk_messages")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
