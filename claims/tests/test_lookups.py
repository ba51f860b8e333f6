"""`__any_of`: the same rows as `__in`, with the list sent as one array parameter on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def test_any_of_finds_what_in_finds_with_one_parameter():
    users = UserFactory.create_batch(3)
    wanted = [users[0].pk, users[2].pk, 10**12]
    model = type(users[0])
    with CaptureQueriesContext(connection) as captured:
        found = set(model.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
    assert found == set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == {users[0].pk, users[2].pk}
    assert "= ANY(" in captured.captured_queries[0]["sql"]
    assert model.objects.filter(pk__any_of=[]).count() == 0


def test_any_of_prepares_values_like_the_field():
    user = UserFactory(email="Kim@Example.com")
    model = type(user)
    assert list(model.objects.filter(email__any_of=[user.email, "x@example.com"])) == [user]


def test_any_of_works_on_foreign_keys():
    claims = ClaimFactory.create_batch(2)
    assert Claim.objects.filter(claimant_id__any_of=[claims[1].claimant_id]).get() == claims[1]
    assert Claim.objects.filter(claimant__any_of=[claims[0].claimant_id]).get() == claims[0]
