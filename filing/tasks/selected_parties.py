"""The 선정서 requests of a wave, one chunk of plaintiffs per task, each chunk queuing the next; and a signed 선정서's
PDF, rendered on the `documents` queue."""

from celery import shared_task
from django.utils import timezone

from accounts.selectors import signed_records_unrendered
from accounts.tasks import SIGNED_PDF_RETRY
from filing.models import Designation
from filing.services.selected_parties import designation_pdf_render, designation_requests_queue


@shared_task(acks_late=True)
def designation_requests_queue_task(wave_id: int, after_number: int = 0) -> int | None:
    """Ask one chunk of plaintiffs, then the next chunk; a chunk run twice asks nobody twice (idempotency keys)."""
    last = designation_requests_queue(wave_id=wave_id, after_number=after_number)
    if last is not None:
        designation_requests_queue_task.delay(wave_id, last)
    return last


@shared_task(**SIGNED_PDF_RETRY)
def designation_pdf_render_task(designation_id: int) -> bool:
    """Render a signed 선정서's PDF; does nothing when it is already rendered (False)."""
    return designation_pdf_render(designation_id=designation_id)


@shared_task(acks_late=True)
def designation_pdfs_sweep_task() -> int:
    """Every 10 minutes: queue again the 선정서 PDFs whose render task was lost or failed."""
    pending = signed_records_unrendered(Designation.objects.all(), now=timezone.now())
    for designation_id in pending:
        designation_pdf_render_task.delay(designation_id)
    return len(pending)
