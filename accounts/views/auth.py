"""Sign-up, email verification, log in and out, the language switch, password reset and change, and the 429
page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.exceptions import AccountError
from accounts.forms import LoginForm, PasswordResetForm, SignupForm
from accounts.journey import journey_next_url
from accounts.referrals import referral_from_cookie
from accounts.services import auth as auth_services
from accounts.services.two_factor import totp_device_confirmed
from core.audit import client_ip

# Requests per client IP (many people share one mobile-carrier IP, so these stay generous) or per account.
RATE_SIGNUP = "20/h"
RATE_LOGIN = "30/5m"
RATE_VERIFICATION_RESEND = "5/h"
RATE_RESET_LINK = "10/h"
RATE_RESET_LINK_PER_EMAIL = "3/h"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def client_ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def posted_email_key(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None):
    """AXES_LOCKOUT_CALLABLE: too many wrong passwords for this email from this address."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "accounts/lockout.html", context, status=429)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: too many requests from this address or account."""
    return render(request, "accounts/rate_limited.html", status=429)


@require_http_methods(["GET", "POST"])
@ratelimit(key=client_ip_key, rate=RATE_SIGNUP, method="POST")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = auth_services.user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                date_of_birth=form.cleaned_data["date_of_birth"],
                ip=client_ip(request),
                language=request.LANGUAGE_CODE,
                referral=referral_from_cookie(request),
            )
        except AccountError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend=MODEL_BACKEND)
            return redirect("accounts:verify_email_sent")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def verify_email_sent(request: HttpRequest) -> HttpResponse:
    if request.user.is_email_verified:
        messages.info(request, _("이메일 인증을 이미 마쳤습니다."))
        return redirect(journey_next_url(user=request.user))
    return render(request, "accounts/verify_email_sent.html")


@require_POST
@login_required
@ratelimit(key="user", rate=RATE_VERIFICATION_RESEND, method="POST")
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    try:
        auth_services.email_verification_resend(user=request.user)
    except AccountError as error:
        messages.info(request, error.message)
        return redirect("accounts:account")
    messages.success(request, _("인증 메일을 다시 보냈습니다. 메일함과 스팸함을 확인해 주세요."))
    return redirect("accounts:verify_email_sent")


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; POST verifies. Mail scanners that open links therefore cannot use up the link. Opened in
    the session of the account it was made for (no scanner has that cookie), the GET verifies at once. Whoever is
    signed in as that account then goes straight on to their next unfinished step (accounts.journey)."""
    own_link = (
        request.user.is_authenticated
        and not request.user.is_email_verified
        and auth_services.email_verification_token_user_id(token=token) == request.user.pk
    )
    if request.method == "GET" and not own_link:
        return render(request, "accounts/verify_email.html", {"token": token})
    try:
        user = auth_services.email_verify(token=token)
    except AccountError as error:
        return render(request, "accounts/verify_email.html", {"token": token, "error": error.message}, status=400)
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, _("이메일 인증을 마쳤습니다."))
        return redirect(journey_next_url(user=user))
    return render(request, "accounts/verify_email_done.html")


@method_decorator(ratelimit(key=client_ip_key, rate=RATE_LOGIN, method="POST"), name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        """A language chosen on this device becomes the account's; without one, the site switches to the
        account's language."""
        response = super().form_valid(form)
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            auth_services.user_language_choose(user=form.get_user(), language=chosen)
        else:
            _language_cookie_set(response, form.get_user().language)
        return response

    def get_default_redirect_url(self) -> str:
        """Staff go to the admin (or first enrol their authenticator app); claimants to their next unfinished step
        (accounts.journey), or the claim wizard once every step is done."""
        user = self.request.user
        if user.is_staff:
            return reverse("admin:index" if totp_device_confirmed(user=user) else "accounts:staff_two_factor")
        return journey_next_url(user=user)


def _language_cookie_set(response: HttpResponse, language: str) -> None:
    """The cookie Django's language switch sets (django.views.i18n.set_language)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def language_set(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a signed-in person's choice is also kept on their account (emails follow it)."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        auth_services.user_language_choose(user=request.user, language=request.POST.get("language", ""))
    return response


@method_decorator(ratelimit(key=client_ip_key, rate=RATE_RESET_LINK, method="POST"), name="dispatch")
@method_decorator(ratelimit(key=posted_email_key, rate=RATE_RESET_LINK_PER_EMAIL, method="POST"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form):
        messages.success(self.request, _("비밀번호를 바꿨습니다."))
        return super().form_valid(form)
