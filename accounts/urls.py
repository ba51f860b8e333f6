from django.contrib.auth import views as django_auth_views
from django.urls import path

from accounts.views import address_search as address_search_views
from accounts.views import auth as auth_views
from accounts.views import consents as consent_views
from accounts.views import data_rights as data_rights_views
from accounts.views import identity as identity_views
from accounts.views import phone as phone_views
from accounts.views import profile as profile_views
from accounts.views import staff as staff_views

app_name = "accounts"

urlpatterns: list = [
    path("", profile_views.account, name="account"),
    path("signup/", auth_views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("login/phone/", phone_views.phone_login, name="phone_login"),
    path("login/phone/code/", phone_views.phone_login_code, name="phone_login_code"),
    path("phone/verify/", phone_views.phone_verify, name="phone_verify"),
    path("phone/verify/send/", phone_views.phone_verify_send, name="phone_verify_send"),
    path("messages/", phone_views.message_preferences, name="message_preferences"),
    path("logout/", django_auth_views.LogoutView.as_view(), name="logout"),
    path("verify-email/", auth_views.verify_email_sent, name="verify_email_sent"),
    path("verify-email/resend/", auth_views.verify_email_resend, name="verify_email_resend"),
    path("verify-email/<str:token>/", auth_views.verify_email, name="verify_email"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("profile/", profile_views.profile, name="profile"),
    path("profile/address-search/", address_search_views.address_search, name="address_search"),
    path("my-data.zip", data_rights_views.data_export, name="data_export"),
    path("delete/", data_rights_views.deletion_request, name="deletion_request"),
    path("delete/cancel/", data_rights_views.deletion_request_cancel, name="deletion_request_cancel"),
    path("staff/two-factor/", staff_views.staff_two_factor, name="staff_two_factor"),
    path("consents/", consent_views.consents, name="consents"),
    path("consents/<int:document_id>/withdraw/", consent_views.consent_withdraw, name="consent_withdraw"),
    path("identity/", identity_views.identity_verify, name="identity_verify"),
    path("identity/<int:pk>/", identity_views.identity_wait, name="identity_wait"),
    path("identity/<int:pk>/status/", identity_views.identity_poll, name="identity_poll"),
    path("power-of-attorney/", consent_views.power_of_attorney_sign, name="power_of_attorney_sign"),
    path(
        "power-of-attorney/<int:pk>/pdf/",
        consent_views.power_of_attorney_download,
        name="power_of_attorney_download",
    ),
    path("verify-document/", consent_views.power_of_attorney_verify, name="power_of_attorney_verify"),
]
