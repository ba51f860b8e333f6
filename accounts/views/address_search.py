"""Road-name address search for the profile form (docs/accounts.md, "Profile"): the JSON endpoint the page's
script asks, and the search the page itself runs when the browser has no JavaScript. Both go through
`address_search_run`, which counts every search against the same limits."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from accounts.views.auth import client_ip_key
from core.exceptions import ProviderError
from integrations.address import (
    AddressQueryError,
    AddressSearchPage,
    UnconfiguredAddressSearch,
    address_search_backend,
)

# Each search may be one call to the government's API (its key has a daily quota): a person typing and picking
# needs a few dozen an hour; more per address for carriers' NAT.
RATE_SEARCH_PER_ACCOUNT = "60/h"
RATE_SEARCH_PER_IP = "300/h"
RATE_GROUP = "address-search"
RESULTS_PER_PAGE = 10


@dataclass
class AddressSearchOutcome:
    """One search as the page shows it: the page of results, or the message to show instead, and its status."""

    page: AddressSearchPage | None = None
    problem: str = ""
    status: int = 200
    sandbox: bool = False


def address_search_available() -> bool:
    """False for a deployment that names no address provider: the page then asks for the address typed in."""
    return not isinstance(address_search_backend(), UnconfiguredAddressSearch)


def _limited(request: HttpRequest) -> bool:
    by_account = is_ratelimited(
        request, group=RATE_GROUP, key="user", rate=RATE_SEARCH_PER_ACCOUNT, method=ALL, increment=True
    )
    by_ip = is_ratelimited(
        request, group=RATE_GROUP, key=client_ip_key, rate=RATE_SEARCH_PER_IP, method=ALL, increment=True
    )
    return by_account or by_ip


def address_search_run(request: HttpRequest, *, query: str, page: int) -> AddressSearchOutcome:
    """Search once for the signed-in person, within the limits; every failure becomes a translated message."""
    if _limited(request):
        problem = _("주소 검색을 너무 자주 하셨습니다. 잠시 뒤 다시 검색하거나 주소를 직접 입력해 주세요.")
        return AddressSearchOutcome(problem=problem, status=429)
    backend = address_search_backend()
    try:
        found = backend.address_search(query, page=page, per_page=RESULTS_PER_PAGE)
    except AddressQueryError as error:
        return AddressSearchOutcome(problem=str(error.message), status=400)
    except ProviderError:
        problem = _("지금은 주소를 검색할 수 없습니다. 잠시 뒤 다시 시도하거나 주소를 직접 입력해 주세요.")
        return AddressSearchOutcome(problem=problem, status=503)
    return AddressSearchOutcome(page=found, sandbox=backend.sandbox)


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() else 1


@never_cache
@login_required
@require_GET
def address_search(request: HttpRequest) -> JsonResponse:
    """`?q=판교역로&page=1`: {results: [{road_address, jibun_address, postal_code, building_name}], total, page,
    page_count, sandbox}, or {error} with 400 (the query), 429 (too many searches) or 503 (the provider)."""
    page = _page_number(request.GET.get("page", ""))
    outcome = address_search_run(request, query=request.GET.get("q", ""), page=page)
    if outcome.page is None:
        return JsonResponse({"error": outcome.problem}, status=outcome.status)
    return JsonResponse(
        {
            "results": [
                {
                    "road_address": address.road_address,
                    "jibun_address": address.jibun_address,
                    "postal_code": address.postal_code,
                    "building_name": address.building_name,
                }
                for address in outcome.page.results
            ],
            "total": outcome.page.total,
            "page": outcome.page.page,
            "page_count": outcome.page.page_count,
            "sandbox": outcome.sandbox,
        }
    )
