"""/readyz: the database, the broker and the file storage, for load balancers (Redis down is only "degraded")."""

from pathlib import Path

import pytest
from django.urls import reverse

from config.tests.failing_storage import full_disk_storages


@pytest.mark.django_db
def test_ready_when_database_broker_and_storage_answer(client, settings):
    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "storage": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")
    location = settings.STORAGES["default"]["OPTIONS"]["location"]
    assert not list((Path(location) / "readiness").glob("*"))  # the probe file is removed


@pytest.mark.django_db
def test_not_ready_when_the_storage_cannot_write(client, settings):
    settings.STORAGES = full_disk_storages(settings)

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["storage"] == "down"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_still_ready_but_degraded_when_the_broker_is_down(client, settings):
    """Every machine shares the one Redis and claims are saved without it: taking machines out of the load
    balancer would take the whole site down (config/tests/test_redis_down.py)."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "down", "storage": "ok"}


@pytest.mark.django_db
def test_liveness_does_not_depend_on_storage(client, settings):
    settings.STORAGES = full_disk_storages(settings)

    assert client.get(reverse("healthz")).status_code == 200
