"""The user admin: lawyers manage accounts and roles, but only a superuser deletes an account or sets another
person's password."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from claims.tests.staff import admin_login, staff_member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-correct-horse-battery"


@pytest.fixture
def lawyer_client(client: Client) -> Client:
    return admin_login(client, staff_member(Role.LAWYER))


@pytest.fixture
def superuser_client(client: Client) -> Client:
    superuser = staff_member(Role.LAWYER)
    User.objects.filter(pk=superuser.pk).update(is_superuser=True)
    return admin_login(client, User.objects.get(pk=superuser.pk))


def test_a_lawyer_can_open_and_list_users_but_not_delete_them(lawyer_client):
    claimant = UserFactory()

    assert lawyer_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    change = lawyer_client.get(reverse("admin:accounts_user_change", args=[claimant.pk]))
    assert change.status_code == 200
    assert reverse("admin:accounts_user_delete", args=[claimant.pk]) not in change.content.decode()
    assert lawyer_client.get(reverse("admin:accounts_user_add")).status_code == 200

    assert (
        lawyer_client.post(reverse("admin:accounts_user_delete", args=[claimant.pk]), {"post": "yes"}).status_code
        == 403
    )
    lawyer_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [claimant.pk], "post": "yes"},
    )
    assert User.objects.filter(pk=claimant.pk).exists()


def test_a_lawyer_cannot_set_another_users_password(lawyer_client):
    claimant = UserFactory()
    url = reverse("admin:auth_user_password_change", args=[claimant.pk])

    change = lawyer_client.get(reverse("admin:accounts_user_change", args=[claimant.pk])).content.decode()
    assert 'href="../password/"' not in change  # no button that leads to a refusal
    assert lawyer_client.get(url).status_code == 403
    response = lawyer_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 403
    claimant.refresh_from_db()
    assert not claimant.check_password(NEW_PASSWORD)


def test_a_superuser_deletes_users_and_sets_passwords(superuser_client):
    claimant, other = UserFactory(), UserFactory()
    url = reverse("admin:auth_user_password_change", args=[claimant.pk])

    change = superuser_client.get(reverse("admin:accounts_user_change", args=[claimant.pk])).content.decode()
    assert 'href="../password/"' in change  # the button to the page below
    assert superuser_client.get(url).status_code == 200
    response = superuser_client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 302
    claimant.refresh_from_db()
    assert claimant.check_password(NEW_PASSWORD)

    response = superuser_client.post(reverse("admin:accounts_user_delete", args=[other.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=other.pk).exists()


def test_the_payout_account_shows_its_bank_and_last_four_digits_only(lawyer_client):
    claimant = UserFactory(bank_name="국민은행", bank_account="123456-78-901234")
    html = lawyer_client.get(reverse("admin:accounts_user_change", args=[claimant.pk])).content.decode()
    assert "국민은행 ****1234" in html
    assert "901234" not in html and "12345678901234" not in html
    without = UserFactory()
    html = lawyer_client.get(reverse("admin:accounts_user_change", args=[without.pk])).content.decode()
    assert "****" not in html
