"""Where a visitor came from: the `utm_source`, `utm_medium`, `utm_campaign` and `?ref=` (a referral code) of the
first visit that carries any of them, kept in a signed cookie (ReferralCaptureMiddleware) and stored on the account
at sign-up (accounts.services.auth.user_signup). The first visit wins: a later link with other parameters changes
nothing. Values are checked and capped here; a value that fails is dropped, never stored.

No personal data: the values name a campaign or a partner, and the cookie holds only them and the first visit's time.
The funnel (filing/selectors/funnel.py) counts sign-ups per source and the fraud sweep
(claims/services/fraud.py) flags bursts of sign-ups from one source or one referral code."""

import datetime as dt
import re
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

REFERRAL_FIELD_MAX = 64
REFERRAL_CODE_MAX = 32
COOKIE_SALT = "accounts.referral"
# Letters (Korean included), digits and . _ - + and spaces inside, as campaign tools write them.
_VALUE = re.compile(r"[\w.+\-]([\w.+\- ]*[\w.+\-])?")
_CODE = re.compile(rf"[A-Za-z0-9_-]{{3,{REFERRAL_CODE_MAX}}}")
PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "ref")


@dataclass(frozen=True)
class Referral:
    source: str = ""
    medium: str = ""
    campaign: str = ""
    code: str = ""
    first_visit_at: dt.datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.source or self.medium or self.campaign or self.code)


def referral_value_clean(value: str | None, *, lower: bool = False) -> str:
    """The value stripped, or "" if it is empty, longer than REFERRAL_FIELD_MAX or has other characters."""
    value = (value or "").strip()
    if not value or len(value) > REFERRAL_FIELD_MAX or not _VALUE.fullmatch(value):
        return ""
    return value.lower() if lower else value


def referral_code_clean(value: str | None) -> str:
    """A referral code: 3 to REFERRAL_CODE_MAX letters, digits, _ or -, compared in lower case; else ""."""
    value = (value or "").strip()
    return value.lower() if _CODE.fullmatch(value) else ""


def referral_from_query(query, *, now: dt.datetime | None = None) -> Referral:
    """The referral a request's query string names (each value checked on its own); empty if none is valid."""
    referral = Referral(
        source=referral_value_clean(query.get("utm_source"), lower=True),
        medium=referral_value_clean(query.get("utm_medium"), lower=True),
        campaign=referral_value_clean(query.get("utm_campaign")),
        code=referral_code_clean(query.get("ref")),
    )
    if not referral:
        return Referral()
    return Referral(**{**asdict(referral), "first_visit_at": now or timezone.now()})


def referral_clean(referral: Referral) -> Referral:
    """The same checks again (a service is given a Referral from anywhere)."""
    return Referral(
        source=referral_value_clean(referral.source, lower=True),
        medium=referral_value_clean(referral.medium, lower=True),
        campaign=referral_value_clean(referral.campaign),
        code=referral_code_clean(referral.code),
        first_visit_at=referral.first_visit_at,
    )


def referral_from_cookie(request: HttpRequest) -> Referral:
    """The referral kept for this browser (an empty one when there is none, it is too old or was tampered with)."""
    data = request.COOKIES.get(settings.REFERRAL_COOKIE_NAME)
    if not data:
        return Referral()
    try:
        values = signing.loads(data, salt=COOKIE_SALT, max_age=dt.timedelta(days=settings.REFERRAL_COOKIE_DAYS))
        first_visit = dt.datetime.fromisoformat(values.pop("first_visit_at"))
        return referral_clean(Referral(**values, first_visit_at=first_visit))
    except (signing.BadSignature, TypeError, ValueError, KeyError, AttributeError):
        return Referral()


def referral_cookie_set(response: HttpResponse, referral: Referral) -> None:
    values = {**asdict(referral), "first_visit_at": referral.first_visit_at.isoformat()}
    response.set_cookie(
        settings.REFERRAL_COOKIE_NAME,
        signing.dumps(values, salt=COOKIE_SALT, compress=True),
        max_age=settings.REFERRAL_COOKIE_DAYS * 24 * 60 * 60,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class ReferralCaptureMiddleware:
    """Keeps the referral of the first visit carrying `utm_*` or `ref` parameters (visitors not signed in, pages
    outside the admin). A browser that already has one keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method == "GET"
            and any(name in request.GET for name in PARAMETERS)
            and settings.REFERRAL_COOKIE_NAME not in request.COOKIES
            and not request.path.startswith("/admin/")
            and not getattr(getattr(request, "user", None), "is_authenticated", False)
        ):
            referral = referral_from_query(request.GET)
            if referral:
                referral_cookie_set(response, referral)
        return response
