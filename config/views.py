"""Readiness for load balancers and orchestrators. `/healthz` (claims.views) says the process is alive."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from claims import health


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and the file storage all answer, else 503 naming the one that does not:
    a load balancer stops sending claimants to a machine that could not save their claim or their files."""
    checks = {
        "database": health.database_status(),
        "broker": health.broker_status(),
        "storage": health.storage_status(),
    }
    ready = all(value in ("ok", "inline") for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "error", **checks}, status=200 if ready else 503)
