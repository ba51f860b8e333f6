import json

import pytest

from core.exceptions import ProviderError
from core.models import WebhookEvent
from core.tasks import webhook_event_process_task
from core.webhooks import webhook_signature

pytestmark = [pytest.mark.django_db, pytest.mark.urls("core.tests.webhook_urls")]

SECRET = "test-secret-0123456789"
handled: list[tuple[str, dict]] = []


def handle_test_event(*, event: WebhookEvent) -> None:
    handled.append((event.event_id, event.payload))


def handle_busy(*, event: WebhookEvent) -> None:
    raise ProviderError("외부 서비스가 잠시 응답하지 않습니다", retryable=False)


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    handled.clear()
    settings.WEBHOOK_SECRETS = {"test": SECRET, "other": "other-secret-0123"}
    settings.WEBHOOK_HANDLERS = {
        "test": "core.tests.test_webhooks.handle_test_event",
        "other": "core.tests.test_webhooks.handle_test_event",
    }


def deliver(client, payload, *, path="/webhooks/test", secret=SECRET, header="HTTP_X_SIGNATURE", prefix=""):
    body = json.dumps(payload).encode()
    signature = prefix + webhook_signature(secret=secret, body=body)
    return client.post(path, body, content_type="application/json", **{header: signature})


def test_a_signed_delivery_is_stored_and_processed_after_commit(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, {"id": "evt_1", "status": "paid"})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_id, event.signature_valid) == ("test", "evt_1", True)
    assert event.payload == {"id": "evt_1", "status": "paid"}
    assert event.processed_at is not None
    assert handled == [("evt_1", {"id": "evt_1", "status": "paid"})]


def test_processing_is_queued_only_when_the_event_is_committed(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliver(client, {"id": "evt_1"})
    assert len(callbacks) == 1
    assert handled == []


def test_a_github_style_sha256_prefix_is_accepted(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, {"id": "evt_1"}, prefix="sha256=").status_code == 200
    assert len(handled) == 1


def test_a_repeated_delivery_is_answered_200_and_not_processed_again(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, {"id": "evt_1"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(client, {"id": "evt_1", "changed": True})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": True}
    assert callbacks == []
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().payload == {"id": "evt_1"}
    assert len(handled) == 1


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_a_wrong_signature_is_refused_and_nothing_is_kept(client, django_capture_on_commit_callbacks, secret):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, {"id": "evt_1"}, secret=secret)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert handled == []


def test_a_missing_signature_is_refused(client):
    response = client.post("/webhooks/test", json.dumps({"id": "evt_1"}), content_type="application/json")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_a_kept_forgery_is_never_processed_and_does_not_shadow_the_real_event(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, {"id": "evt_1"}, path="/webhooks/test-keeping", secret="forged").status_code == 403
        assert deliver(client, {"id": "evt_1"}, path="/webhooks/test-keeping").status_code == 200
    assert sorted(WebhookEvent.objects.values_list("signature_valid", flat=True)) == [False, True]
    assert len(handled) == 1
    forged = WebhookEvent.objects.get(signature_valid=False)
    assert webhook_event_process_task(forged.pk) is False


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"no_id": 1}'])
def test_a_body_without_an_event_id_is_a_bad_request(client, body):
    signature = webhook_signature(secret=SECRET, body=body)
    response = client.post("/webhooks/test", body, content_type="application/json", HTTP_X_SIGNATURE=signature)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_without_a_configured_secret_the_delivery_is_left_for_later(client, settings):
    settings.WEBHOOK_SECRETS = {}
    response = deliver(client, {"id": "evt_1"})
    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()


def test_only_post_is_answered(client):
    assert client.get("/webhooks/test").status_code == 405


def test_a_provider_names_its_own_header_and_event_id(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(
            client,
            {"event": {"uid": "evt_1"}},
            path="/webhooks/other",
            secret="other-secret-0123",
            header="HTTP_X_OTHER_SIGNATURE",
        )
        assert response.status_code == 200
        # The same id from another provider is another event.
        assert deliver(client, {"id": "evt_1"}).json() == {"ok": True, "duplicate": False}
    assert sorted(WebhookEvent.objects.values_list("provider", "event_id")) == [("other", "evt_1"), ("test", "evt_1")]


def test_the_task_processes_an_event_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, {"id": "evt_1"})
    event = WebhookEvent.objects.get()
    assert webhook_event_process_task(event.pk) is False
    assert len(handled) == 1


def test_an_event_whose_processing_failed_stays_unprocessed(settings):
    settings.WEBHOOK_HANDLERS = {"test": "core.tests.test_webhooks.handle_busy"}
    event = WebhookEvent.objects.create(provider="test", event_id="evt_1", payload={}, signature_valid=True)
    with pytest.raises(ProviderError):
        webhook_event_process_task.apply(args=(event.pk,))
    event.refresh_from_db()
    assert event.processed_at is None
