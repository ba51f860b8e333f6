"""The staff dashboard's cached copy (queue `celery`, every DASHBOARD_REFRESH_SECONDS from beat), so that no staff
request computes it: claims/selectors/dashboard.py."""

from celery import shared_task

from claims.selectors.dashboard import dashboard_summary_refresh


@shared_task(acks_late=True, ignore_result=True)
def dashboard_summary_refresh_task() -> None:
    """Compute the summary and replace the cached copy (one per language); repeating it changes nothing."""
    dashboard_summary_refresh()
