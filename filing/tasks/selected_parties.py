"""The 선정서 requests of a wave, one chunk of plaintiffs per task, each chunk queuing the next."""

from celery import shared_task

from filing.services.selected_parties import designation_requests_queue


@shared_task(acks_late=True)
def designation_requests_queue_task(wave_id: int, after_number: int = 0) -> int | None:
    """Ask one chunk of plaintiffs, then the next chunk; a chunk run twice asks nobody twice (idempotency keys)."""
    last = designation_requests_queue(wave_id=wave_id, after_number=after_number)
    if last is not None:
        designation_requests_queue_task.delay(wave_id, last)
    return last
