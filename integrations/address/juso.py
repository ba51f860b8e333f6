"""The 도로명주소 검색 API (business.juso.go.kr, `addrLinkApi.do`): the real address-search backend.
docs/providers/address-search.md, "The API".

One GET per search through core.http's provider session (time-outs, retries on 429/5xx and time-outs, logs that
name the host only: the query, which is an address, and the key never reach a log), with the key from JUSO_API_KEY:

    GET addrLinkApi.do?confmKey=…&currentPage=1&countPerPage=10&keyword=…&resultType=json
    200 {"results": {"common": {"errorCode": "0", "errorMessage": "정상", "totalCount": "1",
                                "currentPage": "1", "countPerPage": "10"},
                     "juso": [{"roadAddr": …, "roadAddrPart1": …, "jibunAddr": …, "zipNo": …, …}]}}

The API answers its refusals with 200 and common.errorCode: a refused query (E0005 … E0013, E0015) becomes
AddressQueryError with the project's message for that code; a refused key or site (E0001, E0002, E0003, E0014) a
ProviderError that is not retried (the same call would be refused again); its system error (-999) and an answer
that is not its JSON a retryable ProviderError.
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.exceptions import ProviderError
from core.http import ProviderSession, provider_session
from integrations.address import (
    QUERY_ERROR_MESSAGES,
    Address,
    AddressQueryError,
    AddressSearchBackend,
    AddressSearchPage,
)

SUCCESS = "0"
SYSTEM_ERROR = "-999"


def _refused(code: str) -> ProviderError:
    return ProviderError(
        _("주소 검색을 지금 쓸 수 없습니다. 주소를 직접 입력해 주세요."),
        retryable=False,
        code=f"juso_{code}",
        extra={"provider": "juso"},
    )


def _failed(code: str) -> ProviderError:
    return ProviderError(
        _("주소 검색 서비스가 잠시 응답하지 않습니다. 잠시 뒤에 다시 시도해 주세요."),
        retryable=True,
        code=f"juso_{code}",
        extra={"provider": "juso"},
    )


def address_from_juso(item: dict[str, Any]) -> Address:
    """One `juso` entry of the API's answer as an Address."""
    return Address(
        road_address=item.get("roadAddr") or "",
        road_address_part1=item.get("roadAddrPart1") or "",
        road_address_part2=item.get("roadAddrPart2") or "",
        jibun_address=item.get("jibunAddr") or "",
        postal_code=item.get("zipNo") or "",
        building_name=item.get("bdNm") or "",
        english_address=item.get("engAddr") or "",
        sido=item.get("siNm") or "",
        sigungu=item.get("sggNm") or "",
        eupmyeondong=item.get("emdNm") or "",
        road_name=item.get("rn") or "",
        administrative_code=item.get("admCd") or "",
        road_name_code=item.get("rnMgtSn") or "",
        building_code=item.get("bdMgtSn") or "",
        apartment=item.get("bdKdcd") == "1",
    )


class JusoAddressSearchBackend(AddressSearchBackend):
    """The 도로명주소 API; see the module's docstring. `session` is for tests that need other time-outs."""

    provider = "juso"

    def __init__(self, *, session: ProviderSession | None = None) -> None:
        self.session = session or provider_session(self.provider)

    def search(self, query: str, *, page: int, per_page: int) -> AddressSearchPage:
        if not settings.JUSO_API_KEY:
            raise _refused("key_missing")
        response = self.session.get(
            settings.JUSO_API_URL,
            params={
                "confmKey": settings.JUSO_API_KEY,
                "currentPage": page,
                "countPerPage": per_page,
                "keyword": query,
                "resultType": "json",
            },
        )
        try:
            results = response.json()["results"]
            common = results["common"]
            code = str(common["errorCode"])
        except (ValueError, KeyError, TypeError) as error:
            raise _failed("bad_answer") from error
        if code in QUERY_ERROR_MESSAGES:
            raise AddressQueryError(QUERY_ERROR_MESSAGES[code], code=code)
        if code == SYSTEM_ERROR:
            raise _failed("system_error")
        if code != SUCCESS:
            raise _refused(code)
        try:
            total = int(common["totalCount"])
            found = [address_from_juso(item) for item in results.get("juso") or []]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise _failed("bad_answer") from error
        return AddressSearchPage(total=total, page=page, per_page=per_page, results=found)
