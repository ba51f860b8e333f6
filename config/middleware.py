"""Project-wide middleware: the request id carried into logs and tasks, and the staff session's idle timeout."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpResponseBadRequest, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from config.request_context import REQUEST_ID_HEADER, new_request_id, request_id_var, sane_request_id

STAFF_LAST_SEEN_KEY = "staff_last_seen"
# The last-seen time is written at most this often, so browsing the admin does not save the session on every click.
STAFF_LAST_SEEN_RESOLUTION = 60


class RequestIdMiddleware:
    """Takes a sane `X-Request-ID` from the proxy (or makes one), exposes it to logs through a context variable
    and to Celery tasks published while handling the request, and returns it in the response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        request.request_id = request_id
        # Kept until the response is closed (request_finished below): Django logs "Not Found" and 500s after the
        # middleware chain has returned.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished)
def _request_id_clear(**kwargs) -> None:
    request_id_var.set(None)


# Where a staff member signed in with a password alone may go: the pages that complete or end the sign-in.
UNVERIFIED_STAFF_URL_NAMES = frozenset(
    {
        "admin:login",
        "admin:logout",
        "accounts:logout",
        "accounts:staff_two_factor",
        "set_language",
        "healthz",
        "readyz",
        "favicon",  # browsers ask for these by themselves on every page, the admin's sign-in pages included
        "firm_logo",
    }
)


class StaffSessionMiddleware:
    """Staff reach nothing until they have entered their authenticator code, and their sessions end when the
    browser closes and after STAFF_SESSION_IDLE_SECONDS without a request.

    Staff see thousands of people's personal data: a password alone (typed into the claimants' login page, or
    leaked) must not open an evidence file or a signed power of attorney, and a laptop left open in a meeting
    room must not stay signed in. Claimants keep the normal SESSION_COOKIE_AGE so a half-finished claim survives
    a day away.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return self.get_response(request)
        now = int(time.time())
        last_seen = request.session.get(STAFF_LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > settings.STAFF_SESSION_IDLE_SECONDS:
            logout(request)
            messages.info(request, _("오래 사용하지 않아 안전을 위해 로그아웃되었습니다. 다시 로그인해 주세요."))
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not user.is_verified() and self._needs_verification(request):
            return redirect_to_login(request.get_full_path(), self._verification_url(user))
        if last_seen is None or now - last_seen >= STAFF_LAST_SEEN_RESOLUTION:
            request.session[STAFF_LAST_SEEN_KEY] = now
            request.session.set_expiry(0)  # the cookie is dropped when the browser closes
        return self.get_response(request)

    @staticmethod
    def _needs_verification(request) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name not in UNVERIFIED_STAFF_URL_NAMES

    @staticmethod
    def _verification_url(user) -> str:
        """The admin login asks for the code; a member of staff without an authenticator enrols one first."""
        from accounts.services.two_factor import totp_device_confirmed

        return reverse("admin:login" if totp_device_confirmed(user=user) else "accounts:staff_two_factor")


class UploadRateLimitMiddleware:
    """At most UPLOAD_RATE file uploads (multipart POSTs) per person, or per client address when signed out.

    Each evidence file goes in its own request, so this counts files: generous for a claimant with thirty
    receipts and a few retries, but it stops a script from filling the disk. Answered with 429: JSON for the
    upload script (which shows the message), the usual page otherwise. Counted in RATELIMIT_USE_CACHE: Redis, or
    the database while Redis is down (config.cache.RateLimitCache).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            from django_ratelimit.core import is_ratelimited

            if is_ratelimited(request, group="uploads", key=self._key, rate=settings.UPLOAD_RATE, increment=True):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _key(group: str, request) -> str:
        from core.audit import client_ip

        user = getattr(request, "user", None)
        return f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{client_ip(request)}"

    @staticmethod
    def _refuse(request):
        message = _("짧은 시간에 파일을 너무 많이 올렸습니다. 한 시간쯤 뒤에 다시 올려 주세요.")
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            return JsonResponse({"ok": False, "error": message}, status=429)
        return render(request, "accounts/rate_limited.html", status=429)


class RejectNulBytesMiddleware:
    """A NUL byte in the path or the query string gets a 400 before any view runs.

    PostgreSQL text cannot hold NUL, so an admin search or filter value with one would end in a database error and
    a 500. Form fields already refuse NUL in posted data (Django's ProhibitNullCharactersValidator); the request
    body is not read here, so the upload size check still happens before the body is received.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return HttpResponseBadRequest(_("잘못된 요청입니다.").encode(), content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class HtmlGZipMiddleware(GZipMiddleware):
    """Pages (text/html) compressed with gzip for browsers that accept it: a claimant page is 20-25 KB of HTML, about
    a fifth of that compressed, which a phone on a slow connection waits for before it draws anything (Lighthouse).
    Django's GZipMiddleware adds up to 100 random bytes to each compressed response and masks the CSRF token per
    request (BREACH). Files (evidence, signed PDFs, exports: FileResponse), static files (WhiteNoise serves them
    compressed ahead) and JSON are left as they are, so downloads keep their length and byte ranges."""

    def process_response(self, request, response):
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
