"""The base of every provider's webhook endpoint (docs/architecture.md, "core").

A provider's view subclasses WebhookView and names its `provider`; the secret is settings.WEBHOOK_SECRETS[provider]
and the function that processes an event is settings.WEBHOOK_HANDLERS[provider] (a dotted path to
`handler(*, event: WebhookEvent) -> None`). A delivery is:
1. checked: an HMAC-SHA256 of the raw body with the secret, hex, in `signature_header` (a `sha256=` prefix is
   accepted), compared in constant time; a wrong or missing signature is answered 403 and not processed;
2. stored as a WebhookEvent, unique per (provider, event id): a repeated delivery is answered 200 and nothing
   more, however often and however concurrently it comes;
3. processed by core.tasks.webhook_event_process_task, queued when the row is committed; the task processes an
   event once (processed_at) and retries what a provider error says is passing.
"""

import hashlib
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from core.models import WebhookEvent

logger = logging.getLogger(__name__)

EVENT_ID_MAX_LENGTH = 200


def webhook_signature(*, secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@method_decorator(csrf_exempt, name="dispatch")  # the signature authenticates the sender; there is no session
class WebhookView(View):
    provider: str = ""
    signature_header = "X-Signature"
    # Keep deliveries with a wrong signature (signature_valid=False, never processed) to investigate a secret
    # that does not match; off by default, so nobody can fill the table without the secret.
    store_invalid = False
    http_method_names = ["post"]

    def event_id(self, payload: dict[str, Any]) -> str:
        """The provider's id of the event; override when the provider names it otherwise."""
        return str(payload.get("id") or "")

    def post(self, request: HttpRequest) -> JsonResponse:
        secret = settings.WEBHOOK_SECRETS.get(self.provider)
        if not secret:
            logger.error("Webhook for %s received but no secret is configured (WEBHOOK_SECRETS)", self.provider)
            return JsonResponse({"ok": False}, status=503)  # the provider delivers again once it is configured
        body = request.body
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        event_id = self.event_id(payload) if isinstance(payload, dict) else ""
        if not event_id or len(event_id) > EVENT_ID_MAX_LENGTH:
            logger.warning("Webhook for %s without a readable event id", self.provider)
            return JsonResponse({"ok": False}, status=400)
        given = request.headers.get(self.signature_header, "").strip().removeprefix("sha256=")
        if not hmac.compare_digest(given.encode(), webhook_signature(secret=secret, body=body).encode()):
            logger.warning("Webhook for %s with a wrong signature (event %s)", self.provider, event_id)
            if self.store_invalid:
                WebhookEvent.objects.create(
                    provider=self.provider, event_id=event_id, payload=payload, signature_valid=False
                )
            return JsonResponse({"ok": False}, status=403)
        created = webhook_event_store(provider=self.provider, event_id=event_id, payload=payload)
        return JsonResponse({"ok": True, "duplicate": not created})


def webhook_event_store(*, provider: str, event_id: str, payload: dict[str, Any]) -> bool:
    """Keep a signed delivery and queue its processing on commit; False when it was already received."""
    from core.tasks import webhook_event_process_task

    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            provider=provider, event_id=event_id, signature_valid=True, defaults={"payload": payload}
        )
        if created:
            webhook_event_process_task.delay_on_commit(event.pk)
    if not created:
        logger.info("Webhook %s event %s delivered again; already received", provider, event_id)
    return created
