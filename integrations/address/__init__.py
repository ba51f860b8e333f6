"""The address-search seam: road-name (도로명) address search, shaped by the government's 도로명주소 검색 API
(business.juso.go.kr, `addrLinkApi.do`). docs/providers/address-search.md.

`address_search_backend().address_search(query, page=1, per_page=10)` gives one `AddressSearchPage`: the total
number of matches and this page's `Address`es, each carrying the API's fields under readable names. A query the API
would refuse is refused here first, with the API's own rules and a translated message (`AddressQueryError`): the
API's operator asks callers to filter queries before sending them, since its firewall may block an address that
sends SQL words. Backends:

- `integrations.address.local.LocalAddressSearchBackend` (sandbox): a bundled sample of real public addresses,
  searched the way the API searches;
- `integrations.address.juso.JusoAddressSearchBackend`: the API itself (key from JUSO_API_KEY);
- `UnconfiguredAddressSearch`: refuses every search with a non-retryable ProviderError, for a deployment that
  names no real provider.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.backends import ProviderBackend, backend_from_setting
from core.exceptions import InvalidInputError, ProviderError

# The API's limits (its error table): at least two characters (E0008); at most 80 characters, a Korean character
# counting as two (E0010: "한글 40자, 영문·숫자 80자 이하"); no run of more than 10 digits (E0011); results as far as
# the 9,000th (E0015); 1 to 100 results a page (countPerPage).
QUERY_MIN_LENGTH = 2
QUERY_MAX_WIDTH = 80
QUERY_MAX_DIGITS = 10
RESULTS_REACHABLE_MAX = 9000
PER_PAGE_MAX = 100

# The characters and SQL words the API refuses (E0013), as its own sample page filters them: %, =, >, <, [ and ];
# the SQL words when they stand alone (between spaces or plus signs).
FORBIDDEN_CHARACTERS = re.compile(r"[%=><\[\]]")
FORBIDDEN_WORDS = ("OR", "SELECT", "INSERT", "DELETE", "UPDATE", "CREATE", "DROP", "EXEC", "UNION", "FETCH")
FORBIDDEN_WORDS += ("DECLARE", "TRUNCATE")
FORBIDDEN_WORD = re.compile(r"(?:^|[\s+])(?:" + "|".join(FORBIDDEN_WORDS) + r")(?=$|[\s+])", re.IGNORECASE)
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
DIGIT_RUN = re.compile(r"\d+")
LETTER = re.compile(r"[^\W\d_]")

# A query of nothing but provinces, cities, counties and districts is too broad (E0006): "서울특별시",
# "성남시 분당구". The short forms of the provinces count too.
PROVINCE_SHORT_NAMES = frozenset(
    ("서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "충북", "충남", "전북", "전남")
) | frozenset(("경북", "경남", "제주"))
AREA_SUFFIXES = ("특별시", "광역시", "특별자치시", "특별자치도", "도", "시", "군", "구")


# What the person is told for each of the API's refusals of a query (its error codes).
QUERY_ERROR_MESSAGES = {
    "E0005": gettext_lazy("검색어를 입력해 주세요."),
    "E0006": gettext_lazy("주소를 더 자세히 입력해 주세요(예: 도로명과 건물번호, 건물 이름, 동과 번지)."),
    "E0008": gettext_lazy("검색어는 두 글자 이상 입력해 주세요."),
    "E0009": gettext_lazy("검색어는 문자와 숫자를 함께 입력해 주세요."),
    "E0010": gettext_lazy("검색어가 너무 깁니다(한글 40자, 영문·숫자 80자 이하)."),
    "E0011": gettext_lazy("검색어에 너무 긴 숫자가 들어 있습니다(숫자 10자 이하)."),
    "E0012": gettext_lazy("특수문자와 숫자만으로는 검색할 수 없습니다."),
    "E0013": gettext_lazy("특수문자(%, =, >, <, [, ])나 SQL 예약어가 들어간 검색어로는 검색할 수 없습니다."),
    "E0015": gettext_lazy("검색 범위를 넘었습니다. 검색어를 더 자세히 입력해 주세요."),
}


class AddressQueryError(InvalidInputError):
    """The query breaks one of the API's rules; `code` is the API's error code (E0005, E0008, ...)."""

    default_code = "address_query_invalid"


@dataclass(frozen=True)
class Address:
    """One result, named after the API's fields (in brackets). Codes the provider does not give are ""."""

    road_address: str  # roadAddr: the whole road-name address, with its reference part
    road_address_part1: str  # roadAddrPart1: without the reference part
    road_address_part2: str  # roadAddrPart2: the reference part, "(백현동)"
    jibun_address: str  # jibunAddr: the lot-number address
    postal_code: str  # zipNo: the five-digit postal code
    building_name: str = ""  # bdNm
    english_address: str = ""  # engAddr
    sido: str = ""  # siNm: province or metropolitan city
    sigungu: str = ""  # sggNm: city, county or district
    eupmyeondong: str = ""  # emdNm
    road_name: str = ""  # rn
    administrative_code: str = ""  # admCd: the ten-digit area code
    road_name_code: str = ""  # rnMgtSn
    building_code: str = ""  # bdMgtSn: the building management number
    apartment: bool = False  # bdKdcd: 1 for a multi-family building


@dataclass(frozen=True)
class AddressSearchPage:
    """One page of results: `total` matches in all (common.totalCount), this page's `results`."""

    total: int
    page: int
    per_page: int
    results: list[Address] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        """The pages that can be asked for: the API answers no further than the 9,000th result."""
        reachable = min(self.total, RESULTS_REACHABLE_MAX)
        return -(-reachable // self.per_page)


def _query_width(query: str) -> int:
    return len(query) + len(HANGUL.findall(query))


def _area_only(words: list[str]) -> bool:
    return all(word in PROVINCE_SHORT_NAMES or word.endswith(AREA_SUFFIXES) for word in words)


def address_query_clean(query: str) -> str:
    """The query with its spaces tidied, or AddressQueryError for one the API refuses (its codes)."""
    query = " ".join(query.split())
    if not query:
        code = "E0005"
    elif FORBIDDEN_CHARACTERS.search(query) or FORBIDDEN_WORD.search(query):
        code = "E0013"
    elif len(query) < QUERY_MIN_LENGTH:
        code = "E0008"
    elif _query_width(query) > QUERY_MAX_WIDTH:
        code = "E0010"
    elif any(len(digits) > QUERY_MAX_DIGITS for digits in DIGIT_RUN.findall(query)):
        code = "E0011"
    elif not LETTER.search(query):
        code = "E0009" if query.replace(" ", "").isdigit() else "E0012"
    elif _area_only(query.split()):
        code = "E0006"
    else:
        return query
    raise AddressQueryError(QUERY_ERROR_MESSAGES[code], code=code)


def address_paging_check(*, page: int, per_page: int) -> None:
    """AddressQueryError unless the page can be asked for: 1 to 100 a page, no further than the 9,000th result."""
    if not 1 <= per_page <= PER_PAGE_MAX:
        raise AddressQueryError(_("한 페이지에 1개에서 100개까지 볼 수 있습니다."), code="per_page")
    if page < 1 or page * per_page > RESULTS_REACHABLE_MAX:
        raise AddressQueryError(QUERY_ERROR_MESSAGES["E0015"], code="E0015")


class AddressSearchBackend(ProviderBackend):
    """Road-name address search. A backend implements `search(query, page, per_page)` for a query already
    cleaned and a page already checked; callers use `address_search`."""

    def address_search(self, query: str, *, page: int = 1, per_page: int = 10) -> AddressSearchPage:
        query = address_query_clean(query)
        address_paging_check(page=page, per_page=per_page)
        return self.search(query, page=page, per_page=per_page)

    def search(self, query: str, *, page: int, per_page: int) -> AddressSearchPage:
        raise NotImplementedError


class UnconfiguredAddressSearch(AddressSearchBackend):
    """The backend of a deployment that names no address provider: every search is refused (not retryable: the
    same search would be refused again until the setting changes)."""

    provider = "unconfigured"

    def search(self, query: str, *, page: int, per_page: int) -> AddressSearchPage:
        raise ProviderError(
            _("주소 검색을 지금 쓸 수 없습니다. 주소를 직접 입력해 주세요."),
            retryable=False,
            code="address_search_unconfigured",
        )


def address_search_backend() -> AddressSearchBackend:
    """The backend that settings.ADDRESS_SEARCH_BACKEND names."""
    return backend_from_setting("ADDRESS_SEARCH_BACKEND")
