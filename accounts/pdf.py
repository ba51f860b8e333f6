"""A signed document (the power of attorney, the 선정서) as a PDF (WeasyPrint, Korean NanumMyeongjo/NanumGothic
fonts via fontconfig).

Nothing is fetched while rendering: the stylesheet is inline and the signature is embedded as a data URI; any
other URL stops the rendering.
"""

import base64
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML, URLFetcher

from core.models import FirmProfile
from core.selectors import firm_profile
from integrations.identity import IdentityMethod

KST = ZoneInfo("Asia/Seoul")
PDF_TEMPLATE = "accounts/consents/signed_document_pdf.html"


def kst(moment: dt.datetime | str | None) -> str:
    """`2022-10-15 15:19:00 (KST)` for an aware datetime or its ISO string; empty for none."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S (KST)")


def firm_logo_data_uri(firm: FirmProfile) -> str:
    """The firm's logo (a PNG this site drew: core.services.firm_logo_prepare) as a data URI, "" without one."""
    if not firm.logo:
        return ""
    try:
        with default_storage.open(firm.logo.name, "rb") as handle:
            return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")
    except OSError:
        return ""


def signed_document_pdf(*, record: Any, document: Any, signature_png: bytes | None, verify_url: str) -> bytes:
    """Pages 1..n: the firm's letterhead, the filled-in text and the signature; last page: the audit certificate
    (which names the firm too). `record` is the signed record (a PowerOfAttorney or a 선정서), `document` its
    accounts.services.signing.SignedDocumentText."""
    authentication = record.authentication
    certified = record.certified_signature
    firm = firm_profile()
    context = {
        "firm": firm,
        "firm_logo_data_uri": firm_logo_data_uri(firm),
        "record": record,
        "document": document,
        "signer": record.signer_snapshot,
        "text": document.text,
        "signature_data_uri": (
            "data:image/png;base64," + base64.b64encode(signature_png).decode("ascii") if signature_png else ""
        ),
        "signed_at": kst(record.signed_at),
        "published_at": kst(document.published_at),
        "email_verified_at": kst(authentication.get("email_verified_at")),
        "login_at": kst(authentication.get("login_at")),
        "verify_url": verify_url,
        "certified": certified,
        "certified_at": kst(certified and certified.verified_at),
        "method_label": IdentityMethod(certified.method).label if certified else "",
    }
    with translation.override("ko"):
        html = render_to_string(PDF_TEMPLATE, context)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).write_pdf()
