"""Liveness and readiness for load balancers and orchestrators: `/healthz` says the process is alive, `/readyz`
that it can take traffic (checks in core.health); the firm's logo and the favicon."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health
from core.selectors import firm_profile


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


@require_GET
def firm_logo(request: HttpRequest) -> FileResponse:
    """The firm's logo: a PNG this site drew itself (core.services.firm_logo_prepare), served as an image only
    (nosniff, no scripts even if opened on its own), cached by browsers for a day (its URL changes with it)."""
    profile = firm_profile()
    if not profile.logo:
        raise Http404
    try:
        handle = default_storage.open(profile.logo.name, "rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers ask for by themselves: the firm's logo when there is one, else the site's."""
    target = firm_profile().logo_url or static("img/favicon-48.png")
    return HttpResponseRedirect(target)
