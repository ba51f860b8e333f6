"""The identity step (간편인증) and the "approve on your phone" waiting page, shared with the certified signature of
the power of attorney (docs/identity.md)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts import journey
from accounts.forms_identity import IdentityCheckForm
from accounts.models import IdentityVerification
from accounts.selectors import (
    claimant_readiness,
    consent_documents_current,
    identity_check_latest,
    identity_verification_for_user,
    identity_verified_latest,
    power_of_attorney_current,
)
from accounts.services.consents import ConsentError
from accounts.services.identity import IdentityError, identity_check_start, identity_verification_refresh
from accounts.services.signing import power_of_attorney_certified_refresh, signature_purpose_for
from accounts.views.auth import client_ip_key
from accounts.views.consents import _earlier_step, _next_url, signed_onward_url
from core.audit import RequestMeta
from core.exceptions import ProviderError
from integrations.identity import IdentityMethod, IdentitySubjectError, identity_backend

# Requests to the provider: each one makes a phone ring, so few per account, more per address (carriers' NAT).
RATE_START_PER_ACCOUNT = "5/10m"
RATE_START_PER_IP = "30/h"
# The waiting page asks every few seconds, for at most the request's lifetime.
RATE_POLL_PER_ACCOUNT = "300/h"
POLL_INTERVAL_MS = 3000

MISMATCH_LABELS = {
    "legal_name": gettext_lazy("이름"),
    "date_of_birth": gettext_lazy("생년월일"),
    "phone": gettext_lazy("휴대전화 번호"),
}


def _step_available() -> None:
    if not identity_backend().available:
        raise Http404(_("본인인증을 사용하지 않는 사무실입니다."))


def _provider_message(error: ProviderError) -> str:
    retry = _("입력한 내용은 그대로 있습니다. 잠시 뒤 다시 시도해 주세요.") if error.retryable else ""
    return f"{error.message} {retry}".strip()


@never_cache
@login_required
@ratelimit(key="user", rate=RATE_START_PER_ACCOUNT, method="POST")
@ratelimit(key=client_ip_key, rate=RATE_START_PER_IP, method="POST")
@require_http_methods(["GET", "POST"])
def identity_verify(request: HttpRequest) -> HttpResponse:
    """Choose the app, check the details prefilled from the profile, send the request; and the result."""
    _step_available()
    next_url = _next_url(request)
    if response := _earlier_step(request, claimant_readiness(user=request.user), next_url, key=journey.IDENTITY):
        return response
    form = IdentityCheckForm.from_profile(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            verification = identity_check_start(
                user=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except ProviderError as error:
            form.add_error(None, _provider_message(error))
        except (IdentitySubjectError, IdentityError) as error:
            form.add_error(None, error.message)
        else:
            return _to_waiting(verification, next_url)
    latest = identity_check_latest(user=request.user)
    return render(
        request,
        "accounts/identity/verify.html",
        {
            "form": form,
            "verified": identity_verified_latest(user=request.user),
            "latest": latest,
            "mismatch": [MISMATCH_LABELS[field] for field in latest.profile_mismatch] if latest else [],
            "next_url": next_url,
            "sandbox": identity_backend().sandbox,
            "continue_url": signed_onward_url(request, next_url)
            if power_of_attorney_current(user=request.user)
            else next_url or reverse("accounts:power_of_attorney_sign"),
        },
    )


def _to_waiting(verification: IdentityVerification, next_url: str) -> HttpResponse:
    return _to_with_pk("accounts:identity_wait", verification.pk, next_url)


def _to_with_pk(name: str, pk: int, next_url: str) -> HttpResponse:
    url = reverse(name, args=[pk])
    return redirect(f"{url}?{_next_query(next_url)}" if next_url else url)


def _next_query(next_url: str) -> str:
    return urlencode({"next": next_url})


def _verification(request: HttpRequest, pk: int) -> IdentityVerification:
    verification = identity_verification_for_user(user=request.user, pk=pk)
    if verification is None:
        raise Http404
    return verification


def _refresh(request: HttpRequest, verification: IdentityVerification) -> tuple[IdentityVerification, str]:
    """Ask the provider (and, for a signature, sign the power of attorney once it is verified). A provider that
    does not answer leaves the request pending; the next check asks again. Returns the request and what went
    wrong, if anything."""
    problem = ""
    meta = RequestMeta.from_request(request)
    try:
        purpose = signature_purpose_for(verification=verification)
        if purpose is not None:
            purpose.complete(verification=verification, meta=meta)
        elif verification.kind == IdentityVerification.Kind.SIGNATURE:
            document = next(
                (doc for doc in consent_documents_current() if doc.kind == doc.Kind.POWER_OF_ATTORNEY), None
            )
            if document is None:
                raise Http404
            power_of_attorney_certified_refresh(verification=verification, document=document, meta=meta)
        else:
            identity_verification_refresh(verification=verification, meta=meta)
    except ProviderError as error:
        problem = _provider_message(error)
    except ConsentError as error:
        problem = str(error.message)
    verification.refresh_from_db()
    return verification, problem


def _finished_url(request: HttpRequest, verification: IdentityVerification, next_url: str) -> str:
    """A verified request goes straight on: an identity check made before signing to the signing page, one made
    after it (accounts.journey) and a certified signature to the page asked for or the next unfinished step;
    a refused or expired one back to its own page. A
    certified signature of another document (a registered purpose, such as the 선정서) goes back to its own page."""
    if (purpose := signature_purpose_for(verification=verification)) is not None:
        return purpose.finished_url(verification)
    if verification.status == IdentityVerification.Status.VERIFIED:
        if (
            verification.kind == IdentityVerification.Kind.IDENTITY
            and power_of_attorney_current(user=request.user) is None
        ):
            sign = reverse("accounts:power_of_attorney_sign")  # checked before signing: on to signing
            return f"{sign}?{_next_query(next_url)}" if next_url else sign
        return signed_onward_url(request, next_url)
    name = (
        "accounts:power_of_attorney_sign"
        if verification.kind == IdentityVerification.Kind.SIGNATURE
        else "accounts:identity_verify"
    )
    return f"{reverse(name)}?{_next_query(next_url)}" if next_url else reverse(name)


@never_cache
@login_required
@ratelimit(key="user", rate=RATE_POLL_PER_ACCOUNT, method="POST")
@require_http_methods(["GET", "POST"])
def identity_wait(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Approve the request on your phone": the page polls (identity_poll); without JavaScript the 확인 button
    (POST) asks once. An answered request goes on to its result."""
    verification = _verification(request, pk)
    next_url = _next_url(request)
    if request.method == "POST":
        verification, problem = _refresh(request, verification)
        if problem:
            messages.error(request, problem)
    if verification.status != IdentityVerification.Status.PENDING:
        _finished_message(request, verification)
        return redirect(_finished_url(request, verification, next_url))
    purpose = signature_purpose_for(verification=verification)
    return render(
        request,
        "accounts/identity/wait.html",
        {
            "verification": verification,
            "method_label": IdentityMethod(verification.method).label,
            "poll_url": reverse("accounts:identity_poll", args=[verification.pk]),
            "poll_interval_ms": POLL_INTERVAL_MS,
            "next_url": next_url,
            "purpose": purpose,
            "purpose_url": purpose.finished_url(verification) if purpose else "",
        },
    )


def _finished_message(request: HttpRequest, verification: IdentityVerification) -> None:
    status = IdentityVerification.Status
    if verification.status == status.REFUSED:
        messages.warning(request, _("휴대전화에서 요청을 거절하셨습니다. 다시 요청할 수 있습니다."))
    elif verification.status == status.EXPIRED:
        messages.warning(request, _("승인 시간이 지났습니다. 다시 요청해 주세요."))
    elif verification.status == status.FAILED:
        messages.error(request, _("인증을 확인하지 못했습니다: %(reason)s") % {"reason": verification.failure})
    elif verification.kind == IdentityVerification.Kind.IDENTITY and not verification.profile_mismatch:
        messages.success(request, _("본인인증을 마쳤습니다."))


@never_cache
@login_required
@ratelimit(key="user", rate=RATE_POLL_PER_ACCOUNT)
@require_GET
def identity_poll(request: HttpRequest, pk: int) -> JsonResponse:
    """The waiting page's poll: asks the provider and answers whether to keep waiting."""
    verification, problem = _refresh(request, _verification(request, pk))
    pending = verification.status == IdentityVerification.Status.PENDING
    return JsonResponse({"pending": pending, "status": verification.status, "problem": problem})
