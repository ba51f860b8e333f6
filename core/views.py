"""Liveness and readiness for load balancers and orchestrators: `/healthz` says the process is alive, `/readyz`
that it can take traffic (checks in core.health)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 503 only when the database does not answer; Redis down is "degraded", 200 (core.health)."""
    broker = health.broker_status()
    checks = {"database": health.database_status(), "broker": broker, "redis": health.redis_status(broker=broker)}
    status, http_status = health.site_status(checks)
    return JsonResponse({"status": status, **checks}, status=http_status)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the file storage answer, else 503 naming the one that does not: a load balancer
    stops sending claimants to a machine that could not save their claim or their files. Redis down is "degraded"
    but ready (200): every machine shares the one Redis, and the site saves claims without it (core.health)."""
    checks = {
        "database": health.database_status(),
        "broker": health.broker_status(),
        "storage": health.storage_status(),
    }
    status, http_status = health.site_status(checks)
    return JsonResponse({"status": status, **checks}, status=http_status)
