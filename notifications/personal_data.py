"""The person's messages as part of their personal data (core.personal_data): listed in the data download (what was
sent, how and when, never an address: a message's address may be someone else's), their addresses cleared when the
account is deleted. Registered in NotificationsConfig.ready()."""

from typing import Any

from core.personal_data import Attach, PersonalDataContributor, PersonalDataErasure
from notifications.models import ContactPreference, Notification


def notifications_personal_data_export(*, user, attach: Attach) -> list[dict[str, Any]]:
    """The messages sent (or to be sent) to the person, oldest first."""
    return [
        {
            "channel": notification.channel,
            "channel_label": notification.get_channel_display(),
            "template": notification.template,
            "language": notification.language,
            "status": notification.status,
            "status_label": notification.get_status_display(),
            "created_at": notification.created_at,
            "sent_at": notification.sent_at,
            "fell_back_to_sms": notification.fell_back,
        }
        for notification in Notification.objects.filter(user=user).order_by("created_at", "pk")
    ]


def notifications_personal_data_erase(*, user, actor) -> PersonalDataErasure:
    """The outbox keeps an address only until its message is sent: the person's are cleared now (a message not yet
    sent then fails). The rows stay, without the address, as the record of what was sent. Their message settings
    (channel choice, marketing consent) go."""
    cleared = Notification.objects.filter(user=user).exclude(address="").update(address="")
    ContactPreference.objects.filter(user=user).delete()
    return PersonalDataErasure(outcome={"notification_addresses_cleared": cleared})


def notifications_profile_changed(*, user, fields: list[str], labels: str) -> None:
    """Nothing to do: a message takes its address from the profile when it is queued, so later messages use the new
    email or phone, and one already queued keeps the address it was queued for."""


NOTIFICATIONS_PERSONAL_DATA = PersonalDataContributor(
    key="notifications",
    export=notifications_personal_data_export,
    erase=notifications_personal_data_erase,
    profile_changed=notifications_profile_changed,
)
