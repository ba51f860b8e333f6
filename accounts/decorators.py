"""Guards for claimant pages: send the claimant to the first step they still have to complete."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.journey import journey_next_step, journey_step_url
from accounts.selectors import claimant_readiness_cached


def claimant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in and every step of the journey (accounts.journey.JOURNEY) done: email verified, profile complete,
    current consents accepted and power of attorney signed."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        readiness = claimant_readiness_cached(user=request.user)
        step = journey_next_step(readiness=readiness)
        if step is not None:
            return redirect(journey_step_url(step, next_url=request.get_full_path()))
        request.claimant_readiness = readiness  # for the page, so it is not read twice
        return view(request, *args, **kwargs)

    return guarded
