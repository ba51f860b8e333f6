"""The sandbox gateway's webhooks, sent after the change they report is committed (integrations/payments/sandbox.py).
A site that does not answer raises a retryable ProviderError, which core.tasks.ApplicationTask retries with backoff,
as a real gateway delivers again."""

from celery import shared_task


@shared_task
def sandbox_webhook_deliver_task(sandbox_payment_id: int, event_type: str) -> int:
    from integrations.payments.sandbox import sandbox_webhook_deliver

    return sandbox_webhook_deliver(payment_pk=sandbox_payment_id, event_type=event_type)
