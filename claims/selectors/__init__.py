"""Reads for claims and their reference data."""

import uuid

from django.core.cache import cache
from django.db.models import QuerySet

from claims.models import Incident, OutageWindow

_REFERENCE_DATA_STAMP_KEY = "reference-data:stamp"


def incident_default() -> Incident | None:
    return Incident.objects.filter(is_default=True).first()


def outage_windows_for_timeline(*, incident: Incident) -> QuerySet[OutageWindow]:
    """The incident's per-service windows, earliest restoration first."""
    return incident.outage_windows.select_related("service", "incident").order_by("end", "service__name_ko")


def reference_data_stamp() -> str:
    """Part of the cache key of pages built from the incidents, services and outage windows (the landing page's
    table): it changes whenever one of them is saved or deleted (`reference_data_changed`)."""
    return cache.get(_REFERENCE_DATA_STAMP_KEY) or "initial"


def reference_data_changed() -> None:
    cache.set(_REFERENCE_DATA_STAMP_KEY, uuid.uuid4().hex, None)
