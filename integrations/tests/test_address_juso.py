"""Contract tests of the 도로명주소 API backend against a local server speaking the API's documented answers: results
and paging, its error codes (common.errorCode) as the project's errors, 5xx and a server that never answers."""

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from core.exceptions import ProviderError
from core.http import provider_session
from integrations.address import AddressQueryError
from integrations.address.juso import JusoAddressSearchBackend
from integrations.tests.production import production_setting

KEY = "contract-test-key"
PATH = "/addrlink/addrLinkApi.do"
# An entry as the API documents and returns it (every field a string; "" where there is nothing).
GURYE = {
    "roadAddr": "전라남도 구례군 광의면 한국통신로 83-22",
    "roadAddrPart1": "전라남도 구례군 광의면 한국통신로 83-22",
    "roadAddrPart2": "",
    "jibunAddr": "전라남도 구례군 광의면 수월리 41-2",
    "engAddr": "83-22 Hanguktongsin-ro, Gwangui-myeon, Gurye-gun, Jeollanam-do",
    "zipNo": "57615",
    "admCd": "4673035025",
    "rnMgtSn": "467303288019",
    "bdMgtSn": "4673035025100410002000001",
    "detBdNmList": "",
    "bdNm": "",
    "bdKdcd": "0",
    "siNm": "전라남도",
    "sggNm": "구례군",
    "emdNm": "광의면",
    "liNm": "수월리",
    "rn": "한국통신로",
    "udrtYn": "0",
    "buldMnnm": "83",
    "buldSlno": "22",
    "mtYn": "0",
    "lnbrMnnm": "41",
    "lnbrSlno": "2",
    "emdNo": "02",
}
ROAD = [
    {**GURYE, "buldSlno": str(number), "roadAddr": f"전라남도 구례군 광의면 한국통신로 83-{number}"}
    for number in range(1, 24)
]
ERROR_MESSAGES = {
    "E0001": "승인되지 않은 KEY 입니다.",
    "E0006": "주소를 상세히 입력해 주시기 바랍니다.",
    "E0014": "개발승인키 기간이 만료되어 서비스를 이용하실 수 없습니다.",
    "-999": "시스템에러",
}


class JusoStandIn:
    """What the server received, and the answers a test scripts: a code, a status, raw bytes or a hang."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[tuple[str, object]] = []
        self.release = threading.Event()


def common(code: str, *, total: int = 0, page: str = "1", per_page: str = "10") -> dict:
    return {
        "errorCode": code,
        "errorMessage": ERROR_MESSAGES.get(code, "정상"),
        "totalCount": str(total),
        "currentPage": page,
        "countPerPage": per_page,
    }


@pytest.fixture
def juso(settings) -> Iterator[JusoStandIn]:
    stand_in = JusoStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            stand_in.received.append({"path": url.path, "query": query, "headers": dict(self.headers)})
            kind, value = stand_in.answers.pop(0) if stand_in.answers else ("search", None)
            if kind == "hang":
                stand_in.release.wait()
                return
            if kind == "status":
                self._send(value, b"{}")
                return
            if kind == "raw":
                self._send(200, value)
                return
            if kind == "code":
                body = {"results": {"common": common(value), "juso": None}}
            elif query.get("confmKey") != KEY:
                body = {"results": {"common": common("E0001"), "juso": None}}
            else:
                page, per_page = int(query["currentPage"]), int(query["countPerPage"])
                found = [
                    entry for entry in ROAD if query["keyword"].replace(" ", "") in entry["roadAddr"].replace(" ", "")
                ]
                shown = found[(page - 1) * per_page : page * per_page]
                body = {
                    "results": {
                        "common": common("0", total=len(found), page=str(page), per_page=str(per_page)),
                        "juso": shown,
                    }
                }
            self._send(200, json.dumps(body, ensure_ascii=False).encode())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.JUSO_API_URL = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    settings.JUSO_API_KEY = KEY
    yield stand_in
    stand_in.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def backend() -> JusoAddressSearchBackend:
    return JusoAddressSearchBackend(session=provider_session("juso", retries=0, read_timeout=0.5))


def test_a_search_sends_the_documented_parameters_and_reads_the_results(juso, backend):
    found = backend.address_search("한국통신로 83-22")

    [request] = juso.received
    assert request["path"] == PATH
    assert request["query"] == {
        "confmKey": KEY,
        "currentPage": "1",
        "countPerPage": "10",
        "keyword": "한국통신로 83-22",
        "resultType": "json",
    }
    assert found.total == 1
    [address] = found.results
    assert address.road_address == "전라남도 구례군 광의면 한국통신로 83-22"
    assert address.jibun_address == "전라남도 구례군 광의면 수월리 41-2"
    assert (address.postal_code, address.administrative_code, address.road_name_code) == (
        "57615", "4673035025", "467303288019",
    )  # fmt: skip
    assert address.building_code == "4673035025100410002000001"
    assert (address.sido, address.sigungu, address.eupmyeondong, address.road_name) == (
        "전라남도", "구례군", "광의면", "한국통신로",
    )  # fmt: skip
    assert address.english_address.startswith("83-22 Hanguktongsin-ro")
    assert not address.apartment


def test_pages_come_from_the_api(juso, backend):
    second = backend.address_search("한국통신로", page=2, per_page=10)
    third = backend.address_search("한국통신로", page=3, per_page=10)

    assert (second.total, len(second.results), len(third.results), second.page_count) == (23, 10, 3, 3)
    assert juso.received[0]["query"]["currentPage"] == "2"


def test_a_query_the_api_refuses_becomes_the_same_refusal_as_here(juso, backend):
    juso.answers.append(("code", "E0006"))
    with pytest.raises(AddressQueryError) as refused:
        backend.address_search("여의도")
    assert refused.value.code == "E0006"
    assert refused.value.status_code == 400


def test_a_query_broken_here_never_reaches_the_api(juso, backend):
    with pytest.raises(AddressQueryError):
        backend.address_search("세종대로 union select")
    assert juso.received == []


@pytest.mark.parametrize("code", ["E0001", "E0014", "E9999"])
def test_a_refused_key_is_a_provider_error_that_is_not_retried(juso, backend, code):
    juso.answers.append(("code", code))
    with pytest.raises(ProviderError) as refused:
        backend.address_search("한국통신로")
    assert (refused.value.code, refused.value.retryable, refused.value.status_code) == (f"juso_{code}", False, 502)


def test_a_wrong_key_is_refused_by_the_api(juso, backend, settings):
    settings.JUSO_API_KEY = "not-the-key"
    with pytest.raises(ProviderError) as refused:
        backend.address_search("한국통신로")
    assert refused.value.code == "juso_E0001"


def test_without_a_key_nothing_is_sent(juso, backend, settings):
    settings.JUSO_API_KEY = ""
    with pytest.raises(ProviderError) as refused:
        backend.address_search("한국통신로")
    assert (refused.value.code, refused.value.retryable) == ("juso_key_missing", False)
    assert juso.received == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (("code", "-999"), "juso_system_error"),
        (("raw", b"<html>maintenance</html>"), "juso_bad_answer"),
        (("raw", b'{"results": {"common": {"errorCode": "0", "totalCount": "many"}}}'), "juso_bad_answer"),
        (("status", 503), "http_503"),
    ],
)
def test_a_failing_api_is_a_provider_error_to_retry(juso, backend, answer, code):
    juso.answers.append(answer)
    with pytest.raises(ProviderError) as failed:
        backend.address_search("한국통신로")
    assert (failed.value.code, failed.value.retryable, failed.value.status_code) == (code, True, 503)


def test_an_api_that_never_answers_times_out_and_is_retried_later(juso, backend):
    juso.answers.append(("hang", None))
    with pytest.raises(ProviderError) as failed:
        backend.address_search("한국통신로")
    assert (failed.value.code, failed.value.retryable) == ("timeout", True)


def test_the_query_and_the_key_never_reach_the_logs(juso, backend, caplog):
    caplog.set_level(logging.DEBUG)
    backend.address_search("한국통신로 83-22")
    assert caplog.records
    assert "한국통신로" not in caplog.text
    assert KEY not in caplog.text


def test_production_searches_the_api_when_its_key_is_set(tmp_path):
    chosen = {key: production_setting("ADDRESS_SEARCH_BACKEND", tmp_path, JUSO_API_KEY=key) for key in ("", KEY)}
    assert chosen == {
        "": "integrations.address.UnconfiguredAddressSearch",
        KEY: "integrations.address.juso.JusoAddressSearchBackend",
    }
