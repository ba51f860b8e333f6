from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from claims import health, selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    incident = selectors.incident_default()
    # The windows are read only when the table is not in the cache (templates/claims/home.html).
    windows = selectors.outage_windows_for_timeline(incident=incident) if incident else []
    context = {"incident": incident, "windows": windows, "reference_stamp": selectors.reference_data_stamp()}
    return render(request, "claims/home.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": health.database_status(), "broker": health.broker_status()}
    healthy = all(value in ("ok", "inline") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
