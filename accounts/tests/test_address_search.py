"""The profile's road-name address search: the JSON endpoint for the page's script, and the same search without
JavaScript (search, pick, nothing typed lost), the limits, and the page when no provider is configured."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.views import address_search as address_search_views
from core.exceptions import ProviderError
from integrations.address.local import LocalAddressSearchBackend

pytestmark = pytest.mark.django_db

LOCAL = "integrations.address.local.LocalAddressSearchBackend"
UNCONFIGURED = "integrations.address.UnconfiguredAddressSearch"
PANGYO = "경기도 성남시 분당구 판교역로 166 (백현동)"


@pytest.fixture(autouse=True)
def _local_backend(settings):
    settings.ADDRESS_SEARCH_BACKEND = LOCAL


@pytest.fixture
def signed_in(client):
    user = UserFactory()
    client.force_login(user)
    return user


def _search(client, **params):
    return client.get(reverse("accounts:address_search"), params)


def test_the_endpoint_answers_results_total_page_and_marks_the_sandbox(client, signed_in):
    response = _search(client, q="판교역로 166")

    assert response.status_code == 200
    answer = response.json()
    assert answer["total"] == 1
    assert answer["page"] == 1
    assert answer["sandbox"] is True
    assert answer["results"][0]["road_address"] == PANGYO
    assert answer["results"][0]["postal_code"] == "13529"


def test_a_query_the_api_would_refuse_is_a_400_with_its_translated_message(client, signed_in):
    response = _search(client, q="서울특별시")

    assert response.status_code == 400
    assert response.json() == {"error": "주소를 더 자세히 입력해 주세요(예: 도로명과 건물번호, 건물 이름, 동과 번지)."}
    client.post(reverse("set_language"), {"language": "en", "next": "/accounts/"})
    english = _search(client, q="a")
    assert english.status_code == 400
    assert english.json() == {"error": "Enter at least two characters."}


def test_a_provider_failure_is_a_503_that_says_to_type_the_address(client, signed_in, monkeypatch):
    def failing(self, query, *, page, per_page):
        raise ProviderError("timeout", retryable=True)

    monkeypatch.setattr(LocalAddressSearchBackend, "search", failing)

    response = _search(client, q="판교역로")

    assert response.status_code == 503
    assert "주소를 직접 입력해 주세요" in response.json()["error"]


def test_without_a_configured_provider_the_endpoint_refuses_and_the_page_asks_for_the_address(
    client, signed_in, settings
):
    settings.ADDRESS_SEARCH_BACKEND = UNCONFIGURED

    assert _search(client, q="판교역로").status_code == 503
    page = client.get(reverse("accounts:profile")).content.decode()
    assert 'data-testid="address-search-unavailable"' in page
    assert 'name="address_query"' not in page
    assert "js/address-search.js" not in page


def test_the_endpoint_needs_a_login(client):
    response = _search(client, q="판교역로")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_searches_are_limited_per_account(client, signed_in, monkeypatch):
    monkeypatch.setattr(address_search_views, "RATE_SEARCH_PER_ACCOUNT", "2/h")

    assert [_search(client, q="판교역로").status_code for _ in range(3)] == [200, 200, 429]
    assert "너무 자주" in _search(client, q="판교역로").json()["error"]


def test_searches_are_limited_per_address_across_accounts(client, monkeypatch):
    monkeypatch.setattr(address_search_views, "RATE_SEARCH_PER_IP", "2/h")
    statuses = []
    for _ in range(3):
        client.force_login(UserFactory())
        statuses.append(_search(client, q="판교역로").status_code)

    assert statuses == [200, 200, 429]


TYPED = {
    "legal_name": "홍길동",
    "date_of_birth": "19800131",
    "phone": "010-2345-6789",
    "postal_code": "",
    "address": "",
    "address_detail": "",
}


def test_without_javascript_search_shows_results_pick_fills_the_address_and_save_stores_it(client, signed_in):
    url = reverse("accounts:profile")

    searched = client.post(url, {**TYPED, "address_query": "판교역로", "address_search": "1"})

    page = searched.content.decode()
    assert searched.status_code == 200
    assert PANGYO in page
    assert 'data-testid="address-sandbox"' in page
    assert 'value="홍길동"' in page and 'value="010-2345-6789"' in page  # typed, kept, not saved
    assert 'value="판교역로"' in page
    assert "invalid-feedback" not in page  # a search is no attempt to save: no errors yet
    assert "autofocus" not in page
    signed_in.refresh_from_db()
    assert signed_in.legal_name == ""

    picked = client.post(url, {**TYPED, "address_query": "판교역로", "address_pick": f"13529|{PANGYO}"})

    page = picked.content.decode()
    assert 'value="13529"' in page
    assert f'value="{PANGYO}"' in page
    assert 'value="홍길동"' in page
    assert re.search(r'<input[^>]*name="address_detail"[^>]*autofocus', page)  # the cursor waits on 상세주소
    assert page.count("autofocus") == 1

    saved = client.post(url, {**TYPED, "postal_code": "13529", "address": PANGYO, "address_detail": "3층"})

    assert saved.status_code == 302
    user = User.objects.get(pk=signed_in.pk)
    assert (user.postal_code, user.address, user.address_detail) == ("13529", PANGYO, "3층")


def test_without_javascript_a_refused_query_shows_its_message_and_keeps_the_form(client, signed_in):
    response = client.post(reverse("accounts:profile"), {**TYPED, "address_query": "x", "address_search": "1"})

    page = response.content.decode()
    assert "검색어는 두 글자 이상 입력해 주세요." in page
    assert 'value="홍길동"' in page


def test_without_javascript_a_provider_failure_says_to_type_the_address_and_keeps_the_form(
    client, signed_in, monkeypatch
):
    def failing(self, query, *, page, per_page):
        raise ProviderError("timeout", retryable=True)

    monkeypatch.setattr(LocalAddressSearchBackend, "search", failing)

    response = client.post(reverse("accounts:profile"), {**TYPED, "address_query": "판교역로", "address_search": "1"})

    page = response.content.decode()
    assert "잠시 뒤 다시 시도하거나 주소를 직접 입력해 주세요." in page
    assert 'value="홍길동"' in page
    assert 'name="address"' in page and 'name="postal_code"' in page  # the manual fields stay
