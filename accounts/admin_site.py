"""The admin site: staff sign in with email, password and a code from their authenticator app (TOTP).

It replaces Django's default site (see `StaffAdminConfig`), so `admin.site` and `@admin.register` work as usual.
A staff member without a confirmed device cannot sign in here: they enrol first at `accounts:staff_two_factor`.
"""

from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from accounts.forms import StaffAdminAuthenticationForm


class StaffAdminSite(OTPAdminSite):
    site_header = _("카카오 장애 공동소송 관리")
    site_title = _("공동소송 관리")
    index_title = _("관리 화면")
    login_form = StaffAdminAuthenticationForm
    login_template = "admin/otp_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
