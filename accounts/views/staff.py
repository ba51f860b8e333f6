"""Staff enrol their authenticator app here, outside the two-factor admin they cannot enter yet."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts.exceptions import AccountError
from accounts.forms import StaffTwoFactorForm
from accounts.services import two_factor


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def staff_two_factor(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied
    if two_factor.totp_device_confirmed(user=request.user):
        return render(request, "accounts/staff_two_factor.html", {"enrolled": True})
    device = two_factor.totp_device_enrolment(user=request.user)
    form = StaffTwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.totp_device_confirm(user=request.user, device=device, token=form.cleaned_data["token"])
        except AccountError as error:
            form.add_error("token", error.message)
        else:
            otp_login(request, device)
            messages.success(
                request, _("인증 앱을 등록했습니다. 다음부터 관리 화면에 로그인할 때 인증 코드를 함께 입력합니다.")
            )
            return redirect("admin:index")
    context = {
        "form": form,
        "qr_svg": two_factor.totp_qr_svg(device),
        "secret": two_factor.totp_secret_text(device),
    }
    return render(request, "accounts/staff_two_factor.html", context)
