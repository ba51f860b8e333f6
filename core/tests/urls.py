"""The site's URLs plus views that raise each kind of ApplicationError (core/tests/test_exceptions.py)."""

from django.urls import path

from config.urls import urlpatterns as site_urlpatterns
from core.exceptions import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
)

ERRORS = {
    "invalid": lambda: InvalidInputError("입력이 규칙에 맞지 않습니다."),
    "denied": lambda: PermissionDeniedError("권한이 없습니다"),
    "missing": lambda: NotFoundError("찾을 수 없습니다"),
    "conflict": lambda: ConflictError("다른 변경과 겹쳤습니다"),
    "provider": lambda: ProviderError("외부 서비스가 요청을 처리하지 못했습니다", retryable=False),
    "provider-busy": lambda: ProviderError("외부 서비스가 잠시 응답하지 않습니다", retryable=True),
    "other": lambda: RuntimeError("not an application error"),
}


def raising_view(request, kind: str):
    raise ERRORS[kind]()


urlpatterns = [*site_urlpatterns, path("test-raise/<str:kind>", raising_view)]
