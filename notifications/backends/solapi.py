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

Acceptance is not delivery: whether the 알림톡 arrived or fell back to SMS, and its final price, come later in
Solapi's delivery reports (issue 18 adds them through core.webhooks), so a send reports `fell_back` False and
cost 0. The POST is not retried inside the request (core.http retries idempotent methods only); a time-out, 429 or
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
from notifications.backends import AlimtalkMessage, BaseBackend, SendResult, TextMessage
from notifications.sms import sms_kind

SEND_PATH = "/messages/v4/send-many/detail"


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

    def _result(self, response) -> SendResult:
        if response.status_code in RETRY_STATUSES or response.status_code >= 500:
            raise ProviderError(
                _("문자 제공자가 잠시 응답하지 않습니다. 잠시 뒤에 다시 보냅니다."),
                retryable=True,
                code=f"solapi_http_{response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                extra={"provider": self.provider},
            )
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
