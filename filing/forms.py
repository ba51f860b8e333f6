"""Forms of the claimant's 선정서 page: input shape only (the signing form is the power of attorney's)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms_consents import PowerOfAttorneySignForm


class DesignationSignForm(PowerOfAttorneySignForm):
    """A drawn signature or the typed legal name, and the signer's confirmation of the 선정서."""

    confirm = forms.BooleanField(
        label=_("위 선정서의 내용을 모두 읽고 확인했으며, 이 서명이 제 서명임을 확인합니다."),
        error_messages={"required": _("내용을 확인했다는 칸에 표시해 주세요.")},
    )
