"""The intake funnel's unfiltered cached copy (queue `celery`, every FUNNEL_REFRESH_SECONDS from beat), so that no
staff request opening the funnel computes it: filing/selectors/funnel.py."""

from celery import shared_task

from filing.selectors.funnel import funnel_refresh


@shared_task(acks_late=True, ignore_result=True)
def funnel_refresh_task() -> None:
    """Compute the unfiltered funnel and replace its cached copy; repeating it changes nothing."""
    funnel_refresh()
