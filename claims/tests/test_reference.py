from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from claims.models import Incident, OutageWindow, Service
from claims.reference import reference_data_load

KST = ZoneInfo("Asia/Seoul")
pytestmark = pytest.mark.django_db


def test_migrations_load_the_2022_fire_with_every_service_window():
    incident = Incident.objects.get(slug="pangyo-dc-fire-2022")
    assert incident.is_default
    assert incident.outage_started == datetime(2022, 10, 15, 15, 30, tzinfo=KST)
    assert incident.outage_ended == datetime(2022, 10, 20, 23, 0, tzinfo=KST)
    assert incident.outage_windows.count() == 21
    kakao_t = incident.outage_windows.get(service__slug="kakao-t")
    assert kakao_t.end == datetime(2022, 10, 16, 14, 0, tzinfo=KST)
    assert kakao_t.end_kind == OutageWindow.EndKind.AS_OF
    assert kakao_t.effective_start == incident.outage_started
    assert kakao_t.hours == 22.5


def test_partial_restore_and_source_are_kept():
    window = OutageWindow.objects.get(incident__slug="pangyo-dc-fire-2022", service__slug="talk-channel")
    assert window.partial_end == datetime(2022, 10, 18, 9, 0, tzinfo=KST)
    assert window.end == datetime(2022, 10, 19, 15, 0, tzinfo=KST)
    assert window.source_url.startswith("https://")


def test_shorter_incidents_get_a_whole_service_window():
    window = OutageWindow.objects.get(incident__slug="kakaotalk-2020-03-17")
    assert window.service.slug == "kakaotalk"
    assert window.end == datetime(2020, 3, 17, 19, 16, tzinfo=KST)


def test_every_incident_and_service_has_an_english_name_for_the_english_site():
    assert not Incident.objects.filter(name_en="").exists()
    assert not Service.objects.filter(name_en="").exists()


def test_loading_again_changes_nothing_and_restores_edited_facts():
    window = OutageWindow.objects.get(incident__slug="pangyo-dc-fire-2022", service__slug="kakaotalk")
    window.note = "edited"
    window.save()
    before = (Incident.objects.count(), Service.objects.count(), OutageWindow.objects.count())
    reference_data_load(incident_model=Incident, service_model=Service, window_model=OutageWindow)
    call_command("load_reference_data", verbosity=0)
    assert (Incident.objects.count(), Service.objects.count(), OutageWindow.objects.count()) == before
    window.refresh_from_db()
    assert window.note.startswith("text only")


@pytest.mark.django_db(transaction=True)
def test_an_emptied_database_gets_its_reference_data_and_damage_model_back():
    call_command("flush", interactive=False, verbosity=0)  # what a transactional test does when it ends
    incident = Incident.objects.get(slug="pangyo-dc-fire-2022")
    assert incident.outage_windows.count() == 21
    assert incident.damage_models.get(is_active=True).version == 1


def test_staff_edits_survive_a_migrate():
    window = OutageWindow.objects.get(incident__slug="pangyo-dc-fire-2022", service__slug="kakaotalk")
    window.note = "edited by staff"
    window.save()
    call_command("migrate", verbosity=0)
    window.refresh_from_db()
    assert window.note == "edited by staff"


def test_an_incident_added_by_a_reload_gets_the_default_damage_model():
    incident = Incident.objects.get(slug="daum-mail-2022-04-21")
    incident.damage_models.all().delete()
    call_command("load_reference_data", verbosity=0)
    assert incident.damage_models.get(is_active=True).version == 1
