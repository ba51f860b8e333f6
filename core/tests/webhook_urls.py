"""A webhook endpoint for a test provider (core/tests/test_webhooks.py)."""

from django.urls import path

from core.webhooks import WebhookView


class TestProviderWebhook(WebhookView):
    provider = "test"


class KeepingWebhook(WebhookView):
    provider = "test"
    store_invalid = True


class OtherProviderWebhook(WebhookView):
    provider = "other"
    signature_header = "X-Other-Signature"

    def event_id(self, payload):
        return payload.get("event", {}).get("uid", "")


urlpatterns = [
    path("webhooks/test", TestProviderWebhook.as_view()),
    path("webhooks/test-keeping", KeepingWebhook.as_view()),
    path("webhooks/other", OtherProviderWebhook.as_view()),
]
