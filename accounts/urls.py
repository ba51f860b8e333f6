from django.urls import path

from accounts.views import consents as consent_views

app_name = "accounts"

urlpatterns: list = [
    path("consents/", consent_views.consents, name="consents"),
    path("consents/<int:document_id>/withdraw/", consent_views.consent_withdraw, name="consent_withdraw"),
    path("power-of-attorney/", consent_views.power_of_attorney_sign, name="power_of_attorney_sign"),
    path(
        "power-of-attorney/<int:pk>/pdf/",
        consent_views.power_of_attorney_download,
        name="power_of_attorney_download",
    ),
    path("verify-document/", consent_views.power_of_attorney_verify, name="power_of_attorney_verify"),
]
