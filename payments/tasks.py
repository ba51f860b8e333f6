"""The retainer's background work: the fee terms' refund rule, run after the claim's closing is committed."""

from celery import shared_task

from payments.services import retainer_refund_by_rule


@shared_task
def retainer_refund_by_rule_task(claimant_id: int) -> int:
    """Refund what the rule gives back; a gateway that is down raises a retryable ProviderError and the task
    retries with the same request ids (never refunding twice)."""
    return len(retainer_refund_by_rule(claimant_id=claimant_id))
