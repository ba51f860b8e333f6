"""Channel backends, chosen by settings.NOTIFICATION_BACKENDS ({"email": ..., "sms": ..., "alimtalk": ...}) like
EMAIL_BACKEND: each sends one rendered message and reports the provider's id, the cost and whether a 알림톡 fell back
to SMS. A failure is a core.exceptions.ProviderError: `retryable` when trying again later may work (a provider or
network fault), not when the message itself is refused (docs/providers/messages.md).

The message a backend gets depends on its channel, and says nothing about any one provider:
- email: RenderedMessage (subject and body);
- sms: TextMessage (the text, and a subject used only when the text is long enough to go as LMS);
- alimtalk: AlimtalkMessage (the template code the provider approved, its variables, buttons, and the SMS text
  sent instead when the 알림톡 cannot be delivered)."""

from dataclasses import dataclass, field

from core.backends import ProviderBackend, backend_from_setting


@dataclass(frozen=True)
class RenderedMessage:
    """An email."""

    subject: str
    body: str


@dataclass(frozen=True)
class TextMessage:
    """An SMS: sent as SMS up to 90 bytes (notifications.sms.sms_kind), else as LMS with `subject` as its title."""

    text: str
    subject: str = ""


@dataclass(frozen=True)
class AlimtalkButton:
    """A button of an approved 알림톡 template. `kind` is Kakao's button type (WL web link, AL app link, ...), the
    same code at every provider; `name` and the links must be the ones registered with the template."""

    kind: str
    name: str
    url_mobile: str = ""
    url_pc: str = ""


@dataclass(frozen=True)
class AlimtalkMessage:
    """A 알림톡: the code of the template Kakao approved, the values of its #{variables} (names without #{}), its
    buttons, and `fallback`, the SMS sent instead when the 알림톡 is not delivered (no KakaoTalk, blocked...)."""

    template_code: str
    variables: dict[str, str]
    fallback: TextMessage
    buttons: tuple[AlimtalkButton, ...] = field(default=())


Message = RenderedMessage | TextMessage | AlimtalkMessage

# The message each channel's renderers return (checked before sending).
CHANNEL_MESSAGES: dict[str, type] = {"email": RenderedMessage, "sms": TextMessage, "alimtalk": AlimtalkMessage}


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str = ""
    cost: int = 0  # whole won
    fell_back: bool = False  # a 알림톡 delivered as its fallback SMS


@dataclass(frozen=True)
class DeliveryReport:
    """What the provider reports about a message it accepted: `state` is "delivered", "fell_back" (a 알림톡 that
    reached the phone as its SMS), "failed", or "pending" (no final result yet); `code` is the provider's status."""

    state: str
    code: str = ""


class BaseBackend(ProviderBackend):
    """Send `message` to `notification.addresses`; raise core.exceptions.ProviderError on failure."""

    def send(self, *, notification, message: Message) -> SendResult:
        raise NotImplementedError

    def delivery_reports(self, *, notifications: list) -> dict[int, DeliveryReport]:
        """The provider's reports on sent messages, by notification id; a channel without reports (email) has none."""
        return {}


def backend_for(channel: str) -> BaseBackend:
    return backend_from_setting("NOTIFICATION_BACKENDS", channel)
