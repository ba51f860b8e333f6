"""The admin site: staff sign in with email, password and a code from their authenticator app (TOTP).

It replaces Django's default site (see `StaffAdminConfig`), so `admin.site` and `@admin.register` work as usual.
A staff member without a confirmed device cannot sign in here: they enrol first at `accounts:staff_two_factor`.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite
from django_ratelimit.decorators import ratelimit

from accounts.forms import StaffAdminAuthenticationForm
from accounts.views.auth import RATE_LOGIN, client_ip_key

# The sidebar and the index list the work first, claims at the top, in this order; then the login safeguards staff
# manage (lockouts, authenticator devices); every other app (groups, Celery beat, webhook internals...) is technical,
# grouped under one heading and listed for superusers only (its pages still check permissions as before).
WORK_APPS = ("claims", "filing", "accounts", "notifications", "payments", "core")
SECURITY_APPS = ("axes", "otp_totp")
FIRST_MODELS = {"claims": ("Claim", "Flag"), "filing": ("Cohort", "FilingWave")}
TECHNICAL_APP_LABEL = "technical"


def _models_first(app: dict) -> dict:
    first = FIRST_MODELS.get(app["app_label"], ())
    rank = {name: index for index, name in enumerate(first)}
    app["models"].sort(key=lambda model: rank.get(model["object_name"], len(first)))
    return app


class StaffAdminSite(OTPAdminSite):
    site_header = _("카카오 장애 공동소송 관리")
    site_title = _("공동소송 관리")
    index_title = _("관리 화면")
    login_form = StaffAdminAuthenticationForm
    login_template = "admin/otp_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if app_label:
            return apps
        by_label = {app["app_label"]: app for app in apps}
        ordered = [_models_first(by_label.pop(label)) for label in (*WORK_APPS, *SECURITY_APPS) if label in by_label]
        if by_label and request.user.is_superuser:
            ordered.append(
                {
                    "name": _("기술 설정 (최고 관리자만)"),
                    "app_label": TECHNICAL_APP_LABEL,
                    "app_url": reverse("admin:index", current_app=self.name) + f"#app-{TECHNICAL_APP_LABEL}",
                    "has_module_perms": True,
                    "models": [
                        {**model, "name": f"{app['name']} · {model['name']}"}
                        for app in by_label.values()
                        for model in app["models"]
                    ],
                }
            )
        return ordered

    @method_decorator(ratelimit(group="admin-login", key=client_ip_key, rate=RATE_LOGIN, method="POST"))
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Axes locks one email after failures; this also limits how many logins one address may try."""
        return super().login(request, extra_context)
