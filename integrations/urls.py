"""Pages of the local sandbox backends (a page that plays the identity app on the phone, the payment window):
each answers 404 unless its sandbox backend is the configured one."""

from django.urls import path

from integrations.identity import views as identity_views
from integrations.payments import views as payment_views

app_name = "integrations"

urlpatterns = [
    path("identity/", identity_views.sandbox_phone_list, name="sandbox_phone_list"),
    path("identity/<str:receipt_id>/", identity_views.sandbox_phone, name="sandbox_phone"),
    path("payments/<str:payment_id>/checkout", payment_views.payment_checkout, name="payment_checkout"),
]
