"""The address-search seam: the API's query rules, and the local backend's matching, paging and place in production."""

import pytest

from core.checks import provider_backends_check
from core.exceptions import ProviderError
from integrations.address import (
    AddressQueryError,
    AddressSearchPage,
    UnconfiguredAddressSearch,
    address_query_clean,
    address_search_backend,
)
from integrations.address.local import LocalAddressSearchBackend, sample_addresses

LOCAL = "integrations.address.local.LocalAddressSearchBackend"


@pytest.fixture
def backend(settings):
    settings.ADDRESS_SEARCH_BACKEND = LOCAL
    return address_search_backend()


def test_the_configured_backend_is_the_local_one_outside_production(backend):
    assert isinstance(backend, LocalAddressSearchBackend)
    assert backend.sandbox


def test_a_road_name_and_building_number_find_the_building(backend):
    found = backend.address_search("판교역로 166")

    assert found.total == 1
    [kakao] = found.results
    assert kakao.road_address == "경기도 성남시 분당구 판교역로 166 (백현동)"
    assert kakao.road_address_part1 == "경기도 성남시 분당구 판교역로 166"
    assert kakao.road_address_part2 == "(백현동)"
    assert kakao.jibun_address == "경기도 성남시 분당구 백현동 532"
    assert kakao.postal_code == "13529"
    assert (kakao.sido, kakao.sigungu, kakao.eupmyeondong, kakao.road_name) == (
        "경기도", "성남시 분당구", "백현동", "판교역로",
    )  # fmt: skip


def test_a_lot_number_address_finds_the_same_building(backend):
    [found] = backend.address_search("백현동 532").results
    assert found.road_address_part1 == "경기도 성남시 분당구 판교역로 166"


def test_every_word_must_match_and_all_in_the_road_or_all_in_the_lot_address(backend):
    assert backend.address_search("판교역로 167").total == 0
    # The road from one address and the lot number from the other: the API finds nothing.
    assert backend.address_search("판교역로 532").total == 0


def test_a_building_name_finds_the_building(backend):
    [found] = backend.address_search("국립중앙박물관").results
    assert (found.road_address_part1, found.postal_code) == ("서울특별시 용산구 서빙고로 137", "04383")


def test_spaces_inside_the_address_do_not_count(backend):
    [found] = backend.address_search("판교역로166").results
    assert found.postal_code == "13529"


def test_a_number_matches_a_whole_building_number_not_part_of_one(backend):
    assert [address.building_name for address in backend.address_search("세종대로 1").results] == []
    assert [address.building_name for address in backend.address_search("세종대로 110").results] == ["서울특별시청"]
    # A lot's main number finds the lot with a sub-number.
    assert [address.building_name for address in backend.address_search("세종로 77").results] == ["정부서울청사"]


def test_results_are_paged_with_the_total_of_all_pages(backend):
    first = backend.address_search("세종대로", page=1, per_page=3)
    second = backend.address_search("세종대로", page=2, per_page=3)
    third = backend.address_search("세종대로", page=3, per_page=3)

    assert (first.total, second.total, first.page_count) == (4, 4, 2)
    # Address order, numbers as numbers: 67 before 110; the districts in the sample's order (중구 < 종로구).
    assert [address.road_address_part1 for address in first.results + second.results] == [
        "서울특별시 종로구 세종대로 175",
        "서울특별시 종로구 세종대로 209",
        "서울특별시 중구 세종대로 67",
        "서울특별시 중구 세종대로 110",
    ]
    assert third.results == []


def test_the_page_count_stops_at_the_last_result_the_api_answers():
    assert AddressSearchPage(total=12000, page=1, per_page=100).page_count == 90


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "E0005"),
        ("   ", "E0005"),
        ("판", "E0008"),
        ("12345", "E0009"),
        ("1-2", "E0012"),
        ("가" * 41, "E0010"),
        ("a" * 81, "E0010"),
        ("세종대로 12345678901", "E0011"),
        ("세종대로 100%", "E0013"),
        ("판교역로=1", "E0013"),
        ("세종대로 [1]", "E0013"),
        ("세종대로 or 1", "E0013"),
        ("판교역로+UNION+1", "E0013"),
        ("서울특별시", "E0006"),
        ("성남시 분당구", "E0006"),
        ("부산", "E0006"),
    ],
)
def test_a_query_the_api_refuses_is_refused_with_its_code_and_a_message(backend, query, code):
    with pytest.raises(AddressQueryError) as refused:
        backend.address_search(query)
    assert refused.value.code == code
    assert refused.value.status_code == 400
    assert str(refused.value.message)


@pytest.mark.parametrize("query", ["가" * 40, "a" * 80, "Orange-ro 5", "세종대로 1234567890", "63로 50", "APEC로"])
def test_queries_within_the_rules_are_accepted(query):
    assert address_query_clean(query) == query


def test_spaces_are_tidied_before_the_rules(backend):
    assert address_query_clean("  판교역로   166 ") == "판교역로 166"


@pytest.mark.parametrize(("page", "per_page", "code"), [(0, 10, "E0015"), (91, 100, "E0015"), (1, 101, "per_page")])
def test_a_page_past_what_the_api_answers_is_refused(backend, page, per_page, code):
    with pytest.raises(AddressQueryError) as refused:
        backend.address_search("세종대로", page=page, per_page=per_page)
    assert refused.value.code == code


def test_the_last_page_the_api_answers_can_be_asked_for(backend):
    assert backend.address_search("세종대로", page=90, per_page=100).results == []


def test_the_sample_has_real_postal_codes_and_whole_addresses():
    addresses = sample_addresses()
    assert len(addresses) >= 30
    assert all(len(address.postal_code) == 5 and address.postal_code.isdigit() for address in addresses)
    assert all(address.road_address.startswith(address.sido) for address in addresses)
    assert len({address.road_address for address in addresses}) == len(addresses)


def test_production_refuses_the_local_sample(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = False
    settings.ADDRESS_SEARCH_BACKEND = LOCAL
    refused = {error.msg.split()[0]: error.id for error in provider_backends_check(None)}
    assert refused["ADDRESS_SEARCH_BACKEND"] == "core.E002"


def test_the_unconfigured_backend_refuses_every_search_for_good(settings):
    settings.SANDBOX_BACKENDS_ALLOWED = False
    settings.ADDRESS_SEARCH_BACKEND = "integrations.address.UnconfiguredAddressSearch"
    assert "ADDRESS_SEARCH_BACKEND" not in {error.msg.split()[0] for error in provider_backends_check(None)}
    backend = address_search_backend()
    assert isinstance(backend, UnconfiguredAddressSearch)
    with pytest.raises(ProviderError) as refused:
        backend.address_search("판교역로 166")
    assert not refused.value.retryable
    assert refused.value.status_code == 502


def test_the_unconfigured_backend_still_checks_the_query_first(settings):
    settings.ADDRESS_SEARCH_BACKEND = "integrations.address.UnconfiguredAddressSearch"
    with pytest.raises(AddressQueryError):
        address_search_backend().address_search("판")
