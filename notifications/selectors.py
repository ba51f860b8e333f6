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


# Reports are asked for until a message is this old; a report still pending then leaves it "sent".
REPORT_WINDOW = timedelta(days=3)
REPORTED_CHANNELS = (Notification.Channel.SMS, Notification.Channel.ALIMTALK)


def notifications_awaiting_report(*, now: datetime | None = None) -> list[int]:
    """Ids of SMS and 알림톡 sent within REPORT_WINDOW whose delivery report has not come yet, oldest first."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            status=Notification.Status.SENT, channel__in=REPORTED_CHANNELS, sent_at__gte=now - REPORT_WINDOW
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def notifications_for_user(*, user_id: int, limit: int = 50):
    """The messages sent to one person, newest first (the staff review page): no address, no context."""
    return (
        Notification.objects.filter(user_id=user_id)
        .only("channel", "template", "status", "created_at", "sent_at", "reported_at", "fell_back", "context")
        .order_by("-created_at", "-pk")[:limit]
    )
