"""config.middleware.HtmlGZipMiddleware: pages are compressed for browsers that accept gzip; files, JSON and
static files are not, and nothing is compressed for a client that does not ask."""

import gzip
import io

import pytest
from django.http import FileResponse, HttpResponse, JsonResponse
from django.test import RequestFactory
from django.urls import reverse

from config.middleware import HtmlGZipMiddleware

PAGE = "<!doctype html><title>참여 신청</title>" + "<p>카카오 서비스 장애 공동소송 참여 신청</p>" * 200


def compressed(response, *, accept: str = "gzip, deflate, br"):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    return HtmlGZipMiddleware(lambda request: response)(request)


def test_a_page_is_compressed_with_a_vary_header_and_reads_back_the_same():
    response = compressed(HttpResponse(PAGE))
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content).decode() == PAGE
    assert len(response.content) < len(PAGE.encode()) / 4


def test_nothing_is_compressed_for_a_client_that_does_not_accept_gzip():
    response = compressed(HttpResponse(PAGE), accept="identity")
    assert not response.has_header("Content-Encoding") and response.content.decode() == PAGE


@pytest.mark.parametrize(
    "response",
    [
        FileResponse(io.BytesIO(PAGE.encode()), content_type="text/html"),  # a download keeps its bytes and length
        JsonResponse({"text": PAGE}),
        HttpResponse(b"%PDF-1.7" + PAGE.encode(), content_type="application/pdf"),
    ],
    ids=["file", "json", "pdf"],
)
def test_files_json_and_documents_are_left_as_they_are(response):
    assert not compressed(response).has_header("Content-Encoding")


@pytest.mark.django_db
def test_the_landing_page_reaches_a_browser_compressed(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert "공동소송" in gzip.decompress(response.content).decode()
