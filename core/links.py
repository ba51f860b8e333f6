"""Links that leave the site (in messages, PDFs and exports): the path on SITE_URL, the address people reach."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (from reverse()) on SITE_URL: https://claims.example.com/claims/12/."""
    return settings.SITE_URL.rstrip("/") + path
