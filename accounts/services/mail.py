"""Plain-text account emails rendered from `templates/accounts/email/`, in the recipient's language, sent through
the outbox (notifications/): `templated_mail_queue` creates the message, and the renderer its template registered
(`@renderer(...)` in the service that owns it) rebuilds the context from the ids when it is sent, so links and
tokens are made at sending time and never stored."""

from uuid import uuid4

from django.conf import settings
from django.template.loader import render_to_string

from accounts.models import User
from notifications.backends import RenderedMessage
from notifications.models import Notification
from notifications.services import notification_queue


def templated_mail_render(*, template: str, context: dict) -> RenderedMessage:
    """`<template>_subject.txt` / `<template>.txt` rendered with the context (plus `site_url`), in the active
    language (the outbox activates the message's)."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    return RenderedMessage(subject=subject, body=render_to_string(f"{template}.txt", context))


def templated_mail_queue(
    *,
    template: str,
    language: str,
    user: User | None = None,
    address: str = "",
    context: dict | None = None,
    idempotency_key: str | None = None,
) -> bool:
    """Queue one account email (to `address`, or the user's email). `context` holds ids only; without an
    `idempotency_key` every call is a new message. Returns whether it was queued now."""
    _notification, created = notification_queue(
        channel=Notification.Channel.EMAIL,
        template=template,
        user=user,
        address=address,
        language=language,
        context=context or {},
        idempotency_key=idempotency_key or f"{template}:{user.pk if user else '-'}:{uuid4().hex}",
    )
    return created
