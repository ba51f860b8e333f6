"""Forms of phone verification, phone sign-in and the message preferences: input shape only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import mobile_phone_normalize
from notifications.models import ContactPreference


class PhoneCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("인증번호"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("문자로 받은 6자리 숫자를 입력해 주세요.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}),
    )


class PhoneNumberForm(forms.Form):
    phone = forms.CharField(
        label=_("휴대전화"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "010-1234-5678"}),
    )

    def clean_phone(self) -> str:
        return mobile_phone_normalize(self.cleaned_data["phone"])


class ContactPreferenceForm(forms.Form):
    case_news = forms.ChoiceField(
        label=_("사건 소식 받는 방법"), choices=ContactPreference.CaseNews.choices, widget=forms.RadioSelect
    )
    marketing = forms.BooleanField(
        label=_("(선택) 광고성 정보(새 소송 안내 등)를 문자로 받겠습니다."),
        help_text=_("동의하지 않아도 참여에 불이익이 없습니다. 광고성 문자는 밤 9시부터 아침 8시까지 보내지 않습니다."),
        required=False,
    )
