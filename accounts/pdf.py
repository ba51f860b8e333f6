"""The signed power of attorney as a PDF (WeasyPrint, Korean NanumMyeongjo/NanumGothic fonts via fontconfig).

Nothing is fetched while rendering: the stylesheet is inline and the signature is embedded as a data URI; any
other URL stops the rendering.
"""

import base64
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML, URLFetcher

from accounts.models import PowerOfAttorney
from core.models import FirmProfile
from core.selectors import firm_profile
from integrations.identity import IdentityMethod

KST = ZoneInfo("Asia/Seoul")
PDF_TEMPLATE = "accounts/consents/power_of_attorney_pdf.html"


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


def power_of_attorney_pdf(
    *, power_of_attorney: PowerOfAttorney, text: str, signature_png: bytes | None, verify_url: str
) -> bytes:
    """Pages 1..n: the firm's letterhead, the filled-in text and the signature; last page: the audit certificate
    (which names the firm too)."""
    authentication = power_of_attorney.authentication
    firm = firm_profile()
    context = {
        "firm": firm,
        "firm_logo_data_uri": firm_logo_data_uri(firm),
        "poa": power_of_attorney,
        "document": power_of_attorney.document,
        "signer": power_of_attorney.signer_snapshot,
        "text": text,
        "signature_data_uri": (
            "data:image/png;base64," + base64.b64encode(signature_png).decode("ascii") if signature_png else ""
        ),
        "signed_at": kst(power_of_attorney.signed_at),
        "published_at": kst(power_of_attorney.document.published_at),
        "email_verified_at": kst(authentication.get("email_verified_at")),
        "login_at": kst(authentication.get("login_at")),
        "verify_url": verify_url,
        "certified": power_of_attorney.certified_signature,
        "certified_at": kst(
            power_of_attorney.certified_signature and power_of_attorney.certified_signature.verified_at
        ),
        "method_label": IdentityMethod(power_of_attorney.certified_signature.method).label
        if power_of_attorney.certified_signature
        else "",
    }
    with translation.override("ko"):
        html = render_to_string(PDF_TEMPLATE, context)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).write_pdf()
