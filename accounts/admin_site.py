"""The admin site: staff sign in with email, password and a code from their authenticator app (TOTP).

It replaces Django's default site (see `StaffAdminConfig`), so `admin.site` and `@admin.register` work as usual.
A staff member without a confirmed device cannot sign in here: they enrol first at `accounts:staff_two_factor`.
"""

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite
from django_ratelimit.decorators import ratelimit

from accounts.forms import StaffAdminAuthenticationForm
from accounts.views.auth import RATE_LOGIN, client_ip_key


class StaffAdminSite(OTPAdminSite):
    site_header = _("카카오 장애 공동소송 관리")
    site_title = _("공동소송 관리")
    index_title = _("관리 화면")
    login_form = StaffAdminAuthenticationForm
    login_template = "admin/otp_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    @method_decorator(ratelimit(group="admin-login", key=client_ip_key, rate=RATE_LOGIN, method="POST"))
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Axes locks one email after failures; this also limits how many logins one address may try."""
        return super().login(request, extra_context)
