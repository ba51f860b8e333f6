import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_page_is_korean_and_lists_every_service_window(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ko">' in html
    assert "카카오 서비스 장애 피해 공동소송 참여 신청" in html
    assert html.count('<th scope="row">') == 21
    assert "카카오T (택시·대리 등)" in html
    assert "10-16 14:00" in html  # Kakao T restored, shown in Seoul time
    assert 'href="#main"' in html


def test_landing_page_keeps_its_outage_table_in_the_cache_until_the_reference_data_changes(
    client, django_assert_num_queries
):
    from claims.models import OutageWindow, Service

    client.get(reverse("home"))
    with django_assert_num_queries(1):  # the incident; the windows only when the table is built
        cached = client.get(reverse("home")).content.decode()
    assert cached.count('<th scope="row">') == 21

    kakao_t = Service.objects.get(slug="kakao-t")
    kakao_t.name_ko = "카카오T (택시·대리·퀵)"
    kakao_t.save(update_fields=["name_ko"])
    assert "카카오T (택시·대리·퀵)" in client.get(reverse("home")).content.decode()

    OutageWindow.objects.filter(service=kakao_t).delete()  # a queryset delete sends post_delete per row too
    assert client.get(reverse("home")).content.decode().count('<th scope="row">') == 20


def test_landing_page_switches_to_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Join the collective suit over the Kakao outage" in html
    assert "Kakao T (taxi, designated driver)" in html


def test_healthz_reports_database_and_broker(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "redis": "ok"}


def test_healthz_is_degraded_but_200_when_the_broker_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(reverse("healthz"))
    assert response.status_code == 200  # the site still serves: see config/tests/test_redis_down.py
    assert response.json()["status"] == "degraded" and response.json()["broker"] == "down"


def test_healthz_says_inline_when_no_broker_is_configured(client, settings):
    settings.REDIS_URL = ""
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["broker"] == "inline"
