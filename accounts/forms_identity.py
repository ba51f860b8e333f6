"""The identity check form (간편인증): which app, and the name, birth date and phone to send. Input shape only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import DateOfBirthField
from accounts.models import User
from accounts.validators import mobile_phone_format, mobile_phone_normalize
from integrations.identity import NAME_MAX_LENGTH, IdentityMethod


class IdentityCheckForm(forms.Form):
    method = forms.ChoiceField(
        label=_("인증할 앱"), choices=IdentityMethod.choices, initial=IdentityMethod.KAKAO, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("이름 (실명)"), max_length=NAME_MAX_LENGTH)
    birth_date = DateOfBirthField()
    phone = forms.CharField(
        label=_("휴대전화"),
        max_length=20,
        help_text=_("인증 앱에 가입한 본인 명의의 휴대전화 번호"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "010-1234-5678"}),
    )

    @classmethod
    def from_profile(cls, user: User, data=None) -> "IdentityCheckForm":
        """The form, its details prefilled from the profile."""
        initial = {
            "name": user.legal_name,
            "birth_date": user.date_of_birth,
            "phone": mobile_phone_format(user.phone) if user.phone else "",
        }
        return cls(data, initial=initial)

    def clean_phone(self) -> str:
        return mobile_phone_normalize(self.cleaned_data["phone"])

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())
