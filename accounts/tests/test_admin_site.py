"""The admin's app list (index and sidebar): claims first, the other work next, login safeguards after them, and the
technical apps grouped under one heading for superusers only (accounts/admin_site.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.admin_site import TECHNICAL_APP_LABEL
from accounts.models import User
from accounts.roles import Role
from claims.tests.staff import admin_login, staff_member

pytestmark = pytest.mark.django_db


def app_labels(apps: list[dict]) -> list[str]:
    return [app["app_label"] for app in apps]


def index_apps(client: Client) -> list[dict]:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.context["app_list"]


def test_a_lawyer_sees_claims_first_with_the_claim_list_at_the_top_and_no_technical_section(client):
    apps = index_apps(admin_login(client, staff_member(Role.LAWYER)))
    assert app_labels(apps)[:2] == ["claims", "filing"]
    assert apps[0]["models"][0]["object_name"] == "Claim"
    assert TECHNICAL_APP_LABEL not in app_labels(apps)
    assert not {"auth", "django_celery_beat"} & set(app_labels(apps))
    # The login safeguards a lawyer manages (lockouts, authenticator devices) stay, after the work.
    assert app_labels(apps)[-2:] == ["axes", "otp_totp"]


def test_a_paralegal_sees_claims_first(client):
    apps = index_apps(admin_login(client, staff_member(Role.PARALEGAL)))
    assert app_labels(apps)[0] == "claims"
    assert apps[0]["models"][0]["object_name"] == "Claim"


def test_a_superuser_gets_the_technical_apps_grouped_last(client):
    superuser = staff_member(Role.LAWYER)
    User.objects.filter(pk=superuser.pk).update(is_superuser=True)
    apps = index_apps(admin_login(client, User.objects.get(pk=superuser.pk)))
    assert app_labels(apps)[0] == "claims"
    assert app_labels(apps)[-1] == TECHNICAL_APP_LABEL
    technical = apps[-1]
    grouped = {model["object_name"] for model in technical["models"]}
    assert {"PeriodicTask", "Group"} <= grouped  # Celery beat, auth groups
    assert all(" · " in model["name"] for model in technical["models"])  # each named with its app
    assert {"auth", "django_celery_beat"}.isdisjoint(app_labels(apps))
    # Each grouped model keeps its own admin pages.
    assert client.get(technical["models"][0]["admin_url"]).status_code == 200


def test_the_sidebar_follows_the_same_order(client):
    """(The claim list itself has no sidebar, to fit 1280 px: the cohort list's sidebar is checked.)"""
    client = admin_login(client, staff_member(Role.LAWYER))
    response = client.get(reverse("admin:filing_cohort_changelist"))
    assert app_labels(response.context["available_apps"])[0] == "claims"
    html = response.content.decode()
    sidebar = html.index('id="nav-sidebar"')
    assert (
        sidebar
        < html.index(reverse("admin:claims_claim_changelist"), sidebar)
        < html.index(reverse("admin:filing_cohort_changelist"), sidebar)
    )


def test_an_app_page_still_lists_only_that_app(client):
    client = admin_login(client, staff_member(Role.LAWYER))
    response = client.get(reverse("admin:app_list", args=["claims"]))
    assert app_labels(response.context["app_list"]) == ["claims"]
