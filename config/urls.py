from django.contrib import admin
from django.urls import include, path

from accounts.views import auth as account_auth_views
from claims import views as claim_views
from core import views as core_views
from filing.admin.funnel import funnel_view
from integrations.payments import views as payment_views

urlpatterns = [
    path("", claim_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("firm/logo.png", core_views.firm_logo, name="firm_logo"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("i18n/setlang/", account_auth_views.language_set, name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("claims/", include("claims.urls")),
    path("payments/", include("payments.urls")),
    # before the admin's own URLs (its catch-all would take it); the admin's checks, then the dashboard permission
    path("admin/funnel/", admin.site.admin_view(funnel_view), name="staff_funnel"),
    path("filing/", include("filing.urls")),
    path("admin/", admin.site.urls),
    path("webhooks/payments", payment_views.payment_webhook, name="payment_webhook"),
    path("sandbox/", include("integrations.urls")),
]
