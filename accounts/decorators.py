"""Guards for claimant pages: send the claimant to the first step they still have to complete."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import claimant_readiness_cached


def _step(name: str, request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


def claimant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in, email verified, profile complete, current consents accepted and power of attorney signed."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        readiness = claimant_readiness_cached(user=request.user)
        if not readiness.email_verified:
            return redirect("accounts:verify_email_sent")
        if not readiness.profile_complete:
            return _step("accounts:profile", request)
        if readiness.consents_missing:
            return _step("accounts:consents", request)
        if not readiness.power_of_attorney_signed:
            return _step("accounts:power_of_attorney_sign", request)
        request.claimant_readiness = readiness  # for the page, so it is not read twice
        return view(request, *args, **kwargs)

    return guarded
