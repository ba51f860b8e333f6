"""Phone verification, phone sign-in (phone + one-time code instead of the password) and the message preferences.

Sending a code is rate-limited per client IP and per number; wrong codes count towards the site's login lockout
(axes: the phone number is the username)."""

from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.exceptions import AccountError
from accounts.forms_phone import ContactPreferenceForm, PhoneCodeForm, PhoneNumberForm
from accounts.journey import journey_next_url
from accounts.models import User
from accounts.services import phone as phone_services
from accounts.validators import mobile_phone_format, mobile_phone_normalize
from accounts.views.auth import RATE_LOGIN, client_ip_key
from core.exceptions import InvalidInputError
from notifications.messages import contact_preference_update
from notifications.models import ContactPreference

RATE_CODE_PER_IP = "20/h"
RATE_CODE_PER_NUMBER = "5/h"
SIGN_IN_PHONE_SESSION_KEY = "phone_sign_in_number"


def posted_phone_key(group: str, request: HttpRequest) -> str:
    try:
        return mobile_phone_normalize(request.POST.get("phone", ""))
    except ValidationError:
        return request.POST.get("phone", "").strip()


def user_phone_key(group: str, request: HttpRequest) -> str:
    return request.user.phone or f"user:{request.user.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def phone_verify(request: HttpRequest) -> HttpResponse:
    """The number on the profile, a button that sends a code, and the form that checks it."""
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone_services.phone_verify(user=request.user, code=form.cleaned_data["code"])
        except AccountError as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, _("휴대전화 번호를 인증했습니다."))
            return redirect("accounts:message_preferences")
    context = {"form": form, "phone": mobile_phone_format(request.user.phone)}
    return render(request, "accounts/phone_verify.html", context)


@require_POST
@login_required
@ratelimit(key=client_ip_key, rate=RATE_CODE_PER_IP, method="POST")
@ratelimit(key=user_phone_key, rate=RATE_CODE_PER_NUMBER, method="POST")
def phone_verify_send(request: HttpRequest) -> HttpResponse:
    try:
        phone_services.phone_verification_send(user=request.user)
    except AccountError as error:
        messages.info(request, error.message)
        return redirect("accounts:profile" if error.code == "no_phone" else "accounts:account")
    messages.success(request, _("인증번호를 문자로 보냈습니다. 5분 안에 입력해 주세요."))
    return redirect("accounts:phone_verify")


@require_http_methods(["GET", "POST"])
@ratelimit(key=client_ip_key, rate=RATE_CODE_PER_IP, method="POST")
@ratelimit(key=posted_phone_key, rate=RATE_CODE_PER_NUMBER, method="POST")
def phone_login(request: HttpRequest) -> HttpResponse:
    """Step 1 of phone sign-in: the number. The next page is the same whether or not an account has it verified."""
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = PhoneNumberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone_services.phone_sign_in_send(phone=form.cleaned_data["phone"])
        request.session[SIGN_IN_PHONE_SESSION_KEY] = form.cleaned_data["phone"]
        return redirect("accounts:phone_login_code")
    return render(request, "accounts/phone_login.html", {"form": form})


@require_http_methods(["GET", "POST"])
@ratelimit(key=client_ip_key, rate=RATE_LOGIN, method="POST")
def phone_login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code. authenticate() goes through axes, so wrong codes lock out like wrong passwords (axes'
    middleware answers with the lockout page)."""
    phone = request.session.get(SIGN_IN_PHONE_SESSION_KEY)
    if not phone:
        return redirect("accounts:phone_login")
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=phone, phone_code=form.cleaned_data["code"])
        if user is not None:
            request.session.pop(SIGN_IN_PHONE_SESSION_KEY, None)
            login(request, user)
            return redirect(journey_next_url(user=user))  # the next unfinished step, as after a password
        form.add_error("code", str(phone_services.WRONG_CODE))
    return render(request, "accounts/phone_login_code.html", {"form": form, "phone": mobile_phone_format(phone)})


@login_required
@require_http_methods(["GET", "POST"])
def message_preferences(request: HttpRequest) -> HttpResponse:
    """How case news reaches the claimant, and the separate marketing consent."""
    user: User = request.user
    preference = ContactPreference.objects.filter(user=user).first()
    initial = {
        "case_news": preference.case_news if preference else ContactPreference.CaseNews.EMAIL,
        "marketing": bool(preference and preference.marketing_consented_at),
    }
    form = ContactPreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact_preference_update(
                user=user, case_news=form.cleaned_data["case_news"], marketing=form.cleaned_data["marketing"]
            )
        except InvalidInputError as error:
            form.add_error("case_news", error.message)
        else:
            messages.success(request, _("알림 설정을 저장했습니다."))
            return redirect("accounts:account")
    context = {"form": form, "phone": mobile_phone_format(user.phone), "phone_verified": user.phone_verified_at}
    return render(request, "accounts/message_preferences.html", context)
