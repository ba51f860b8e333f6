"""SMS and 알림톡 played locally, like Django's console, locmem and file email backends: complete (SMS or LMS by the
text's bytes, a text too long refused, a 알림톡 falling back to its SMS) but nothing leaves the machine, so they
are `sandbox` backends that production refuses (core.checks).

- ConsoleMessageBackend prints each message to stdout (`make run`);
- LocmemMessageBackend appends it to `outbox` in this module (the tests; emptied before each test by conftest.py,
  read through the `message_outbox` fixture);
- FileMessageBackend writes one JSON file per message into settings.NOTIFICATION_MESSAGE_FILE_PATH.

A 알림톡 to a number ending in 0000 plays a phone without KakaoTalk: its fallback SMS is sent instead. Their delivery
reports say every message arrived (as the SMS for those that fell back)."""

import json
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from notifications.backends import AlimtalkMessage, BaseBackend, DeliveryReport, SendResult, TextMessage
from notifications.sms import sms_kind

NO_KAKAOTALK_SUFFIX = "0000"


@dataclass(frozen=True)
class LocalMessage:
    """One message as a local backend delivered it. `kind`: SMS, LMS or ALIMTALK (the kind actually sent, so a
    알림톡 that fell back is SMS or LMS with `fell_back` set and its template code kept)."""

    message_id: str
    notification_id: int
    channel: str
    to: tuple[str, ...]
    kind: str
    text: str = ""
    subject: str = ""
    template_code: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    buttons: tuple[dict[str, str], ...] = ()
    fell_back: bool = False


outbox: list[LocalMessage] = []


class LocalMessageBackend(BaseBackend):
    provider = "local"
    sandbox = True

    def send(self, *, notification, message: TextMessage | AlimtalkMessage) -> SendResult:
        delivered = self.delivered(notification=notification, message=message)
        self.record(delivered)
        return SendResult(provider_message_id=delivered.message_id, cost=0, fell_back=delivered.fell_back)

    def delivery_reports(self, *, notifications: list) -> dict[int, DeliveryReport]:
        """Every message sent locally reached its phone: as the 알림톡 itself, or as its SMS when it fell back."""
        return {
            notification.pk: DeliveryReport(state="fell_back" if notification.fell_back else "delivered", code="local")
            for notification in notifications
        }

    def delivered(self, *, notification, message: TextMessage | AlimtalkMessage) -> LocalMessage:
        """What reaches the phones: the SMS or LMS, the 알림톡, or for a phone without KakaoTalk its fallback."""
        common = {
            "message_id": f"local-{uuid.uuid4().hex}",
            "notification_id": notification.pk,
            "channel": notification.channel,
            "to": tuple(notification.addresses),
        }
        if isinstance(message, TextMessage):
            return self._text(message, **common)
        alimtalk = {
            "template_code": message.template_code,
            "variables": dict(message.variables),
            "buttons": tuple(asdict(button) for button in message.buttons),
        }
        if any(number.endswith(NO_KAKAOTALK_SUFFIX) for number in notification.addresses):
            return self._text(message.fallback, **common, **alimtalk, fell_back=True)
        return LocalMessage(kind="ALIMTALK", **common, **alimtalk)

    @staticmethod
    def _text(message: TextMessage, **fields) -> LocalMessage:
        kind = sms_kind(message.text)  # refuses a text longer than an LMS holds
        return LocalMessage(kind=kind, text=message.text, subject=message.subject if kind == "LMS" else "", **fields)

    def record(self, message: LocalMessage) -> None:
        raise NotImplementedError


class ConsoleMessageBackend(LocalMessageBackend):
    """Prints a readable message to stdout."""

    def record(self, message: LocalMessage) -> None:
        lines = [f"----- {message.kind} ({message.channel}) to {', '.join(message.to)} [{message.message_id}]"]
        if message.template_code:
            lines.append(f"template: {message.template_code}" + (" (fell back to SMS)" if message.fell_back else ""))
            lines += [f"  #{{{name}}} = {value}" for name, value in message.variables.items()]
            lines += [f"  [{button['name']}] {button['url_mobile']}" for button in message.buttons]
        if message.subject:
            lines.append(f"subject: {message.subject}")
        if message.text:
            lines.append(message.text)
        sys.stdout.write("\n".join(lines) + "\n" + "-" * 40 + "\n")
        sys.stdout.flush()


class LocmemMessageBackend(LocalMessageBackend):
    """Appends each message to `notifications.backends.local.outbox`."""

    def record(self, message: LocalMessage) -> None:
        outbox.append(message)


class FileMessageBackend(LocalMessageBackend):
    """Writes each message as a JSON file into settings.NOTIFICATION_MESSAGE_FILE_PATH (created when missing)."""

    def record(self, message: LocalMessage) -> None:
        folder = Path(settings.NOTIFICATION_MESSAGE_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{message.message_id}.json"
        (folder / name).write_text(json.dumps(asdict(message), ensure_ascii=False, indent=2), encoding="utf-8")
