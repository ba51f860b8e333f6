"""Plain-text account emails rendered from `templates/accounts/email/`."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string


def templated_mail_send(*, template: str, context: dict, to: str) -> None:
    """Send `<template>_subject.txt` / `<template>.txt` rendered with the context (plus `site_url`)."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    EmailMessage(subject=subject, body=body, to=[to]).send()
