"""The filed wave's messages, one chunk of plaintiffs per task, each chunk queuing the next."""

from celery import shared_task

from filing.services.notifications import filing_wave_filed_notify


@shared_task(acks_late=True)
def filing_wave_filed_notify_task(wave_id: int, after_number: int = 0) -> int | None:
    """Queue one chunk's messages, then the next chunk; a chunk run twice queues nothing twice (idempotency keys)."""
    last = filing_wave_filed_notify(wave_id=wave_id, after_number=after_number)
    if last is not None:
        filing_wave_filed_notify_task.delay(wave_id, last)
    return last
