"""Plain-text account emails rendered from `templates/accounts/email/`, in the recipient's language."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation


def templated_mail_send(*, template: str, context: dict, to: str, language: str) -> None:
    """Send `<template>_subject.txt` / `<template>.txt` rendered in `language` with the context (plus
    `site_url`)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}.txt", context)
    EmailMessage(subject=subject, body=body, to=[to]).send()
