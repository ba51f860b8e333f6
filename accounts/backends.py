"""Signing in with a verified phone number and the one-time code sent to it (accounts/services/phone.py).

Called as `authenticate(request, username=<phone>, phone_code=<code>)`, after axes' backend: the phone number is
the username axes counts failures for, so wrong codes lock out (phone, IP) exactly as wrong passwords lock out
(email, IP)."""

from django.contrib.auth.backends import ModelBackend

from accounts.services.phone import phone_sign_in_user


class PhoneCodeBackend(ModelBackend):
    def authenticate(self, request, username=None, phone_code=None, **kwargs):
        if not username or not phone_code:
            return None
        user = phone_sign_in_user(phone=username, code=phone_code)
        return user if user is not None and self.user_can_authenticate(user) else None
