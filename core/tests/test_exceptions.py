from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.exceptions import AccountError
from accounts.services.consents import ConsentError
from accounts.services.signing import SignatureError
from claims.services.estimates import DamageModelError
from claims.services.intake import ClaimError
from claims.services.reference import OutageWindowError
from claims.services.review import ClaimConflictError, ReviewError
from core.exceptions import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
)
from filing.services.cohorts import CohortError
from filing.services.exports import ExportError, ExportExpiredError

pytestmark = pytest.mark.urls("core.tests.urls")


@pytest.mark.parametrize(
    ("error", "family"),
    [
        (AccountError("x", code="taken"), InvalidInputError),
        (ConsentError("x"), InvalidInputError),
        (SignatureError("x"), InvalidInputError),
        (ClaimError("x"), InvalidInputError),
        (ReviewError("x"), InvalidInputError),
        (ClaimConflictError("x"), ConflictError),
        (OutageWindowError("x"), InvalidInputError),
        (ExportError("x"), InvalidInputError),
        (ExportExpiredError("x"), NotFoundError),
        (DamageModelError("x"), InvalidInputError),
        (CohortError("x"), InvalidInputError),
    ],
)
def test_the_apps_error_roots_belong_to_the_family_and_keep_message_and_str(error, family):
    assert isinstance(error, family)
    assert isinstance(error, ApplicationError)
    assert error.message == "x"
    assert str(error) == "x"


def test_the_apps_errors_are_still_caught_where_they_were():
    with pytest.raises(ClaimError):
        raise ClaimConflictError("x")
    with pytest.raises(ReviewError):
        raise ClaimConflictError("x")
    with pytest.raises(ExportError):
        raise ExportExpiredError("x")
    with pytest.raises(ConsentError):
        raise SignatureError("x")


def test_an_account_error_keeps_its_code_and_a_claim_error_its_claim():
    assert AccountError("x", code="expired").code == "expired"
    claim = object()
    assert ClaimError("x", claim=claim).claim is claim


def test_permission_and_not_found_errors_are_also_djangos():
    with pytest.raises(PermissionDenied):
        raise PermissionDeniedError("x")
    with pytest.raises(Http404):
        raise NotFoundError("x")


def test_an_application_error_has_a_default_code_and_extra():
    error = ConflictError("x", extra={"claim_id": 7})
    assert (error.code, error.extra) == ("conflict", {"claim_id": 7})
    assert InvalidInputError("x", code="too_late").code == "too_late"


def test_a_provider_error_says_whether_it_is_retryable():
    assert ProviderError("x", retryable=True).status_code == 503
    assert ProviderError("x", retryable=False).status_code == 502
    with pytest.raises(TypeError):
        ProviderError("x")  # retryable must be said


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "status", "title"),
    [
        ("invalid", 400, "The request cannot be handled"),
        ("denied", 403, "You do not have permission"),
        ("missing", 404, "Not found"),
        ("conflict", 409, "Another change came first"),
        ("provider", 502, "An outside service could not handle the request"),
        ("provider-busy", 503, "An outside service is not answering for the moment"),
    ],
)
def test_an_unhandled_application_error_is_answered_with_its_status_and_translated_message(client, kind, status, title):
    response = client.get(f"/test-raise/{kind}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == status
    assert "error.html" in [t.name for t in response.templates]
    assert response.context["title"] == title
    assert title in response.content.decode()


@pytest.mark.django_db
def test_the_error_page_shows_the_errors_own_message_in_korean(client):
    response = client.get("/test-raise/invalid")
    assert response.status_code == 400
    assert "입력이 규칙에 맞지 않습니다." in response.content.decode()


@pytest.mark.django_db
def test_a_fetch_call_gets_the_error_as_json(client):
    response = client.get("/test-raise/conflict", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 409
    assert response.json() == {"ok": False, "error": "다른 변경과 겹쳤습니다", "code": "conflict"}


@pytest.mark.django_db
def test_other_exceptions_are_left_to_django(client):
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        client.get("/test-raise/other")


@pytest.mark.django_db
def test_the_log_line_names_the_error_not_its_message(client):
    with mock.patch("core.middleware.logger") as logger:
        client.get("/test-raise/provider")
    (call,) = logger.warning.call_args_list
    assert "ProviderError" in call.args[1:]
    assert "외부 서비스" not in " ".join(str(a) for a in call.args)
