"""Account emails, queued in the outbox by the `email` queue worker (notifications/ sends them). Tasks take ids; the
token is made when the message is sent, never stored nor put in the broker.

And the signed power of attorney's PDF, rendered on the `documents` queue (its worker recycles its processes:
docker-compose.yml), never in the web request."""

import smtplib

from celery import shared_task
from django.utils import timezone

from accounts.models import DeletionRequest, PowerOfAttorney, User
from accounts.selectors import signed_records_unrendered
from accounts.services import auth as auth_services
from accounts.services import data_rights as data_rights_services
from accounts.services import signing as signing_services
from core.tasks import TRANSIENT_DB_ERRORS

EMAIL_RETRY = {
    "acks_late": True,
    "autoretry_for": (smtplib.SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(bind=True, **EMAIL_RETRY)
def email_verification_send(self, user_id: int) -> None:
    """Queue the message in the outbox, once per run of this task (its id names the message)."""
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        auth_services.email_verification_send(user=user, idempotency_key=self.request.id)


@shared_task(bind=True, **EMAIL_RETRY)
def password_reset_email_send(self, user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        auth_services.password_reset_email_send(user=user, idempotency_key=self.request.id)


@shared_task(**EMAIL_RETRY)
def deletion_request_notice_send(deletion_request_id: int) -> None:
    deletion_request = DeletionRequest.objects.select_related("user").filter(pk=deletion_request_id).first()
    if deletion_request is not None:
        data_rights_services.deletion_request_notice_send(deletion_request=deletion_request)


# Rendering is CPU and memory, not I/O: a failure is retried a few times (a storage or database hiccup); a render
# that refuses (the content hash does not match) fails at once (core.tasks.ApplicationTask).
SIGNED_PDF_RETRY = {
    "acks_late": True,
    "autoretry_for": (*TRANSIENT_DB_ERRORS, OSError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(**SIGNED_PDF_RETRY)
def power_of_attorney_pdf_render_task(power_of_attorney_id: int) -> bool:
    """Render a signed power of attorney's PDF; does nothing when it is already rendered (False)."""
    return signing_services.power_of_attorney_pdf_render(power_of_attorney_id=power_of_attorney_id)


@shared_task(acks_late=True)
def power_of_attorney_pdfs_sweep_task() -> int:
    """Every 10 minutes: queue again the PDFs whose render task was lost or failed (signed_records_unrendered)."""
    pending = signed_records_unrendered(PowerOfAttorney.objects.all(), now=timezone.now())
    for power_of_attorney_id in pending:
        power_of_attorney_pdf_render_task.delay(power_of_attorney_id)
    return len(pending)
