"""The one place where a view's unhandled ApplicationError becomes a page (docs/architecture.md, "core")."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, ProviderError

logger = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: _("요청을 처리할 수 없습니다"),
        403: _("권한이 없습니다"),
        404: _("찾을 수 없습니다"),
        409: _("다른 변경과 겹쳤습니다"),
        502: _("외부 서비스가 요청을 처리하지 못했습니다"),
        503: _("외부 서비스가 잠시 응답하지 않습니다"),
    }


class ApplicationErrorMiddleware:
    """Answers an ApplicationError a view did not handle with its status (400, 403, 404, 409, 502 or 503) and its
    translated message: templates/error.html, or JSON for the pages' fetch calls. Views that turn the error into
    a form error keep doing so; other exceptions are left to Django (500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        status = exception.status_code
        # The message may name the person's own data: logs get the kind, the code and the ids in `extra` only.
        log = logger.warning if isinstance(exception, ProviderError) else logger.info
        log(
            "%s (%s) answered %s on %s",
            type(exception).__name__,
            exception.code,
            status,
            request.path,
            extra={"error_extra": exception.extra},
        )
        message = str(exception.message or "")
        title = _titles().get(status, _titles()[400])
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            return JsonResponse({"ok": False, "error": message or title, "code": exception.code}, status=status)
        return render(request, "error.html", {"title": title, "message": message}, status=status)
