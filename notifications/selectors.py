"""Reads for the outbox."""

from datetime import datetime, timedelta

from django.utils import timezone

from notifications.models import Notification

# A queued message is looked for again once its task had this long to run, and given up after a week.
SEND_GRACE = timedelta(minutes=5)
SEND_GIVE_UP = timedelta(days=7)


def notifications_unsent(*, now: datetime | None = None) -> list[int]:
    """Ids of messages still queued SEND_GRACE after they were created (their task was lost), oldest first; held
    messages (not_before set) are left to notification_held_release."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            status=Notification.Status.QUEUED,
            created_at__lt=now - SEND_GRACE,
            created_at__gte=now - SEND_GIVE_UP,
            not_before__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
