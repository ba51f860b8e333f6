"""The local address-search backend (a sandbox): the 도로명주소 API's search over a bundled sample of real public
addresses, sample_addresses.json (docs/providers/address-search.md, "The sample").

Each row of the sample is [road address without its reference part, reference part, lot-number address, postal
code, building name], all as the API gives them for well-known public buildings. The province, city or district,
road name and neighbourhood are read from the addresses; the area, road and building codes the API also gives are
not in the sample and are "".

Matching follows the API: every word of the query must match, all in the road-name address or all in the
lot-number address (the building's name counts for both). A word of digits ("166", "178-1") must be a whole
building or lot number, or its main part ("178" finds "178-1"); any other word may be part of a word, and spaces
inside the address do not count ("판교역로166" finds "판교역로 166"). Results come in address order.
"""

import json
import re
from functools import cache
from pathlib import Path

from integrations.address import Address, AddressSearchBackend, AddressSearchPage

SAMPLE_PATH = Path(__file__).with_name("sample_addresses.json")
NUMBER = re.compile(r"^(?:산)?\d+(?:-\d+)?$")
QUERY_NUMBER = re.compile(r"^\d+(?:-\d+)?$")
NATURAL_PARTS = re.compile(r"(\d+)")


def _address_from_row(row: list[str]) -> Address:
    part1, part2, jibun, postal_code, building_name = row
    words = part1.split()
    sido, road_name = words[0], words[-2]
    return Address(
        road_address=f"{part1} {part2}",
        road_address_part1=part1,
        road_address_part2=part2,
        jibun_address=jibun,
        postal_code=postal_code,
        building_name=building_name,
        sido=sido,
        sigungu=" ".join(words[1:-2]),
        eupmyeondong=part2.strip("()"),
        road_name=road_name,
    )


def _natural_key(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in NATURAL_PARTS.split(text)]


@cache
def sample_addresses() -> tuple[Address, ...]:
    """The bundled sample, in address order (numbers compared as numbers)."""
    rows = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))
    return tuple(sorted(map(_address_from_row, rows), key=lambda address: _natural_key(address.road_address)))


def _word_matches(word: str, text: str) -> bool:
    if QUERY_NUMBER.match(word):
        numbers = [token.removeprefix("산") for token in text.split() if NUMBER.match(token)]
        return any(word in (number, number.split("-")[0]) for number in numbers)
    return word.casefold() in text.replace(" ", "").casefold()


def _matches(address: Address, words: list[str]) -> bool:
    for text in (address.road_address_part1, address.jibun_address):
        text = f"{text} {address.road_address_part2} {address.building_name}"
        if all(_word_matches(word, text) for word in words):
            return True
    return False


class LocalAddressSearchBackend(AddressSearchBackend):
    """Searches the bundled sample the way the API searches; see the module's docstring."""

    provider = "local"
    sandbox = True

    def search(self, query: str, *, page: int, per_page: int) -> AddressSearchPage:
        words = query.split()
        found = [address for address in sample_addresses() if _matches(address, words)]
        start = (page - 1) * per_page
        return AddressSearchPage(
            total=len(found), page=page, per_page=per_page, results=found[start : start + per_page]
        )
