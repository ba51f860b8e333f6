"""SMS, LMS and 알림톡 through Solapi (solapi.com), REST API v4.

Sources: the provider's own SDKs, solapi/solapi-python (solapi/lib/authenticator.py, services/message_service.py,
model/request/message.py, model/kakao/kakao_option.py, model/response/send_message_response.py, lib/fetcher.py),
solapi/solapi-nodejs (src/lib/authenticator.ts, src/models/base/kakao/kakaoOption.ts) and solapi/solapi-asp
(examples/send_replacement.asp: a 알림톡's own fallback text in `replacements`).

- `POST {SOLAPI_API_URL}/messages/v4/send-many/detail` with `{"messages": [...], "showMessageList": true}`; each
  message has `to`, `from` (SOLAPI_SENDER, a sender number registered with Solapi), `type` (SMS, LMS or ATA),
  `text` and `subject` (LMS), or for 알림톡 `kakaoOptions` {`pfId` (SOLAPI_PFID), `templateId`, `variables` keyed
  `#{name}`, `buttons`, `disableSms`: false} and `replacements` [{`to`, `from`, `text`}], the SMS sent when the
  알림톡 is not delivered; `customFields` {"notificationId"} lets delivery reports be matched with the outbox row.
- `Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<random>, signature=<hex HMAC-SHA256 of date +
  salt with the API secret>`.
- 200: `messageList` [{`messageId`, `statusCode`, `statusMessage`}] for the messages accepted, `failedMessageList`
  [{..., `statusCode`, `statusMessage`}] for those refused at registration; 4xx: `{"errorCode", "errorMessage"}`.

Acceptance is not delivery: whether the message arrived, or the 알림톡 fell back to SMS, comes later, so a send
reports `fell_back` False and cost 0. The delivery reports are polled (`delivery_reports`, run by
notification_reports_task): `GET {SOLAPI_API_URL}/messages/v4/list?criteria=messageId&cond=eq&value=<id>`
(solapi/documents api-reference/messages/getmessagelist.md), whose `messageList` is keyed by message id, each with
its `statusCode` and `replacement` ("대체 발송 여부": the message reached the phone as its replacement SMS). The
status codes (the coolsms/Solapi code table): 2xxx at Solapi (2000 accepted, 2100 reserved; others refused there),
3xxx at the carrier (3000 accepted; others failed: no subscriber, phone off, spam...), 4000 received.

The POST is not retried inside the request (core.http retries idempotent methods only); a time-out, 429 or
5xx is a retryable ProviderError for the task, which may send a message twice if Solapi had accepted it before the
time-out."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ProviderError
from core.http import RETRY_STATUSES, provider_session, retry_after_seconds
from notifications.backends import AlimtalkMessage, BaseBackend, DeliveryReport, SendResult, TextMessage
from notifications.sms import sms_kind

SEND_PATH = "/messages/v4/send-many/detail"
LIST_PATH = "/messages/v4/list"
RECEIVED_CODE = "4000"
PENDING_CODES = frozenset({"2000", "2100", "3000"})  # accepted by Solapi, reserved, accepted by the carrier


def solapi_authorization(*, api_key: str, api_secret: str, date: str, salt: str) -> str:
    """The Authorization header's value for one request (a new date and salt each time)."""
    signature = hmac.new(api_secret.encode(), f"{date}{salt}".encode(), hashlib.sha256).hexdigest()
    return f"HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={signature}"


def _text_fields(message: TextMessage) -> dict[str, str]:
    kind = sms_kind(message.text)  # refuses a text longer than an LMS holds
    fields = {"type": kind, "text": message.text}
    if kind == "LMS" and message.subject:
        fields["subject"] = message.subject
    return fields


class SolapiBackend(BaseBackend):
    provider = "solapi"

    def __init__(self) -> None:
        self.session = provider_session(self.provider)

    def send(self, *, notification, message: TextMessage | AlimtalkMessage) -> SendResult:
        sender = settings.SOLAPI_SENDER
        messages = []
        for number in notification.addresses:
            item = {"to": number, "from": sender, "customFields": {"notificationId": str(notification.pk)}}
            if isinstance(message, TextMessage):
                item.update(_text_fields(message))
            else:
                item.update(type="ATA", kakaoOptions=self._kakao_options(message))
                item["replacements"] = [{"to": number, "from": sender, **_text_fields(message.fallback)}]
            messages.append(item)
        response = self.session.post(
            f"{settings.SOLAPI_API_URL.rstrip('/')}{SEND_PATH}",
            json={"messages": messages, "showMessageList": True},
            headers={"Authorization": self._authorization()},
            raise_for_status=False,
        )
        return self._result(response)

    def delivery_reports(self, *, notifications: list) -> dict[int, DeliveryReport]:
        """Each message's report (one request per Solapi message id); a message sent to several numbers is
        delivered when all arrived, failed when one failed, and pending while one is pending. A 429 or 5xx raises
        a retryable ProviderError: the task asks again at its next run."""
        reports = {}
        for notification in notifications:
            parts = [
                self._report(message_id) for message_id in notification.provider_message_id.split(",") if message_id
            ]
            if not parts or any(part.state == "pending" for part in parts):
                continue
            failed = next((part for part in parts if part.state == "failed"), None)
            fell_back = any(part.state == "fell_back" for part in parts)
            reports[notification.pk] = failed or DeliveryReport(
                state="fell_back" if fell_back else "delivered", code=parts[0].code
            )
        return reports

    def _report(self, message_id: str) -> DeliveryReport:
        response = self.session.get(
            f"{settings.SOLAPI_API_URL.rstrip('/')}{LIST_PATH}",
            params={"criteria": "messageId", "cond": "eq", "value": message_id},
            headers={"Authorization": self._authorization()},
            raise_for_status=False,
        )
        if response.status_code in RETRY_STATUSES or response.status_code >= 500:
            raise self._unavailable(response)
        body = self._json(response)
        if response.status_code >= 400:
            raise self._refused(f"solapi_{body.get('errorCode') or response.status_code}")
        listed = body.get("messageList") or {}
        message = listed.get(message_id) if isinstance(listed, dict) else None
        code = str((message or {}).get("statusCode") or "")
        if not code or code in PENDING_CODES:
            return DeliveryReport(state="pending", code=code)
        if code == RECEIVED_CODE:
            return DeliveryReport(state="fell_back" if message.get("replacement") else "delivered", code=code)
        return DeliveryReport(state="failed", code=code)

    @staticmethod
    def _kakao_options(message: AlimtalkMessage) -> dict:
        options = {
            "pfId": settings.SOLAPI_PFID,
            "templateId": message.template_code,
            "variables": {f"#{{{name}}}": str(value) for name, value in message.variables.items()},
            "disableSms": False,  # not delivered as 알림톡: the replacement SMS is sent
        }
        if message.buttons:
            options["buttons"] = [
                {"buttonType": button.kind, "buttonName": button.name, "linkMo": button.url_mobile}
                | ({"linkPc": button.url_pc} if button.url_pc else {})
                for button in message.buttons
            ]
        return options

    @staticmethod
    def _authorization() -> str:
        return solapi_authorization(
            api_key=settings.SOLAPI_API_KEY,
            api_secret=settings.SOLAPI_API_SECRET,
            date=timezone.now().isoformat(timespec="seconds"),
            salt=secrets.token_hex(16),
        )

    def _unavailable(self, response) -> ProviderError:
        return ProviderError(
            _("문자 제공자가 잠시 응답하지 않습니다. 잠시 뒤에 다시 보냅니다."),
            retryable=True,
            code=f"solapi_http_{response.status_code}",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            extra={"provider": self.provider},
        )

    def _result(self, response) -> SendResult:
        if response.status_code in RETRY_STATUSES or response.status_code >= 500:
            raise self._unavailable(response)
        body = self._json(response)
        if response.status_code >= 400:
            raise self._refused(f"solapi_{body.get('errorCode') or response.status_code}")
        failed = body.get("failedMessageList") or []
        if failed:  # refused at registration (a number, the template...): the same message would be refused again
            raise self._refused(f"solapi_{failed[0].get('statusCode', 'failed')}")
        accepted = [item["messageId"] for item in body.get("messageList") or [] if item.get("messageId")]
        if not accepted:
            raise self._refused("solapi_bad_response")
        return SendResult(provider_message_id=",".join(accepted), cost=0, fell_back=False)

    def _json(self, response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self._refused("solapi_bad_response")
        return body

    def _refused(self, code: str) -> ProviderError:
        # Solapi's statusMessage and errorMessage may quote the number or the text: only their codes are kept.
        return ProviderError(
            _("문자 제공자가 메시지를 받지 않았습니다."), retryable=False, code=code, extra={"provider": self.provider}
        )
