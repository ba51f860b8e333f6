from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from claims import selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    incident = selectors.incident_default()
    # The windows are read only when the table is not in the cache (templates/claims/home.html).
    windows = selectors.outage_windows_for_timeline(incident=incident) if incident else []
    context = {"incident": incident, "windows": windows, "reference_stamp": selectors.reference_data_stamp()}
    return render(request, "claims/home.html", context)
