"""Reads for claims and their reference data."""

from django.db.models import QuerySet

from claims.models import Incident, OutageWindow


def incident_default() -> Incident | None:
    return Incident.objects.filter(is_default=True).first()


def outage_windows_for_timeline(*, incident: Incident) -> QuerySet[OutageWindow]:
    """The incident's per-service windows, earliest restoration first."""
    return incident.outage_windows.select_related("service", "incident").order_by("end", "service__name_ko")
