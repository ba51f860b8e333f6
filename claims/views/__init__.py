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
    """Liveness: 503 only when the database does not answer; Redis down is "degraded", 200 (claims.health)."""
    broker = health.broker_status()
    checks = {"database": health.database_status(), "broker": broker, "redis": health.redis_status(broker=broker)}
    status, http_status = health.site_status(checks)
    return JsonResponse({"status": status, **checks}, status=http_status)
