"""The account page ("내 계정") and the profile form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import RRN_WARNING, ProfileForm
from accounts.journey import claimant_next_step, claimant_steps, journey_next_url
from accounts.models import User
from accounts.selectors import claimant_readiness
from accounts.services.data_rights import deletion_request_open
from accounts.services.profile import profile_update
from accounts.services.two_factor import totp_device_confirmed
from accounts.validators import mobile_phone_format
from accounts.views.address_search import address_search_available, address_search_run


def _safe_next(request: HttpRequest) -> str | None:
    """The `next` page from the guard that sent the person here, if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "journey": claimant_steps(user=user, readiness=claimant_readiness(user=user)),
        "phone": mobile_phone_format(user.phone),
        "deletion_request": deletion_request_open(user=user),
        "two_factor_enrolled": user.is_staff and totp_device_confirmed(user=user) is not None,
    }
    return render(request, "accounts/account.html", context)


def _typed_values(request: HttpRequest, form: ProfileForm) -> dict[str, str]:
    """What the person had typed into the profile form, to show again after a search without saving it."""
    return {name: request.POST[name] for name in form.fields if name in request.POST}


def _after_profile(*, user: User) -> str:
    """On to the next unfinished step of the journey while there is one (consents, signing, ...), else back to the
    account page the profile is edited from later."""
    return journey_next_url(user=user) if claimant_next_step(user=user) else reverse("accounts:account")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The profile form, and (without JavaScript) the address search inside it: 검색 shows results on the page and
    each result's 선택 fills 주소 and 우편번호, keeping everything else typed; neither saves."""
    next_url = _safe_next(request)
    user = User.objects.get(pk=request.user.pk)
    searching = request.method == "POST" and ("address_search" in request.POST or "address_pick" in request.POST)
    form = ProfileForm(None if searching else request.POST or None, instance=user)
    search = None
    if searching:
        typed = _typed_values(request, form)
        if "address_pick" in request.POST:
            postal_code, _separator, road_address = request.POST["address_pick"].partition("|")
            typed.update(postal_code=postal_code, address=road_address)
            form = ProfileForm(initial=typed, instance=user, address_picked=True)
        else:
            form = ProfileForm(initial=typed, instance=user)
            search = address_search_run(request, query=request.POST.get("address_query", ""), page=1)
    elif request.method == "POST" and form.is_valid():
        try:
            profile_update(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("프로필을 저장했습니다."))
            return redirect(next_url or _after_profile(user=User.objects.get(pk=request.user.pk)))
    context = {
        "form": form,
        "next": next_url,
        "rrn_warning": RRN_WARNING,
        "address_search_available": address_search_available(),
        "address_search_url": reverse("accounts:address_search"),
        "address_query": request.POST.get("address_query", "") if searching else "",
        "address_search": search,
    }
    return render(request, "accounts/profile.html", context)
