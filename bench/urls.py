"""The project's URLs plus one trivial view (see bench/settings.py); never mounted outside the benchmark."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    """No database, no cache, no template: what a request costs in Django itself."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial, name="bench_trivial"), *project_urlpatterns]
