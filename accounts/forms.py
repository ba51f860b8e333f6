"""Account forms: input shape only. Rules that involve other records live in accounts/services/."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import tasks
from accounts.models import DeletionRequest, User, bank_account_number_validator
from accounts.services.auth import EMAIL_TAKEN
from accounts.validators import (
    date_of_birth_validate,
    mobile_phone_format,
    mobile_phone_normalize,
    postal_code_validate,
)

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y%m%d", "%Y.%m.%d", "%Y. %m. %d", "%Y. %m. %d.", "%Y/%m/%d"]
RRN_WARNING = _("주민등록번호는 받지 않습니다. 올리는 서류에 주민등록번호가 보이면 뒷자리를 가린 뒤 올려 주세요.")


def _email_normalize(value: str) -> str:
    return (value or "").strip().lower()


class DateOfBirthField(forms.DateField):
    """A date of birth typed as digits (`19800131`, `1980-01-31`, `1980.1.31`): easier than a picker on a phone."""

    default_validators = [date_of_birth_validate]

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("생년월일"))
        kwargs.setdefault("help_text", _("예: 1980-01-31 또는 19800131"))
        kwargs.setdefault("input_formats", DATE_INPUT_FORMATS)
        kwargs.setdefault("error_messages", {"invalid": _("생년월일을 1980-01-31 형식으로 입력해 주세요.")})
        kwargs.setdefault(
            "widget",
            forms.DateInput(
                format="%Y-%m-%d", attrs={"inputmode": "numeric", "autocomplete": "bday", "placeholder": "1980-01-31"}
            ),
        )
        super().__init__(**kwargs)


class SignupForm(auth_forms.BaseUserCreationForm):
    password1, password2 = auth_forms.SetPasswordMixin.create_password_fields(
        label1=_("비밀번호"), label2=_("비밀번호 확인")
    )
    date_of_birth = DateOfBirthField(
        help_text=_("예: 1980-01-31. 만 14세 미만은 법정대리인의 동의가 필요해 혼자 가입할 수 없습니다.")
    )

    error_messages = {"password_mismatch": _("두 비밀번호가 서로 다릅니다. 같은 비밀번호를 두 번 입력해 주세요.")}

    class Meta:
        model = User
        fields = ("email", "date_of_birth")
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email"})}
        help_texts = {"email": _("인증 메일을 받을 수 있는 주소를 입력해 주세요.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password2"].help_text = _("확인을 위해 같은 비밀번호를 한 번 더 입력해 주세요.")

    def clean_email(self) -> str:
        email = _email_normalize(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def validate_password_for_user(self, user, password_field_name: str = "password1") -> None:  # noqa: S107
        """The password rules (too short, too common, all digits, like the email) are checked on the first field,
        so they are reported even when the confirmation differs (Django checks the second field, which a mismatch
        has already removed)."""
        super().validate_password_for_user(user, password_field_name=password_field_name)

    def validate_unique(self) -> None:
        """The email check above already gives the clear message."""


class LoginForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label=_("이메일"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("비밀번호"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": _(
            "이메일 또는 비밀번호가 맞지 않습니다. 같은 이메일로 5번 틀리면 30분 동안 로그인할 수 없습니다."
        ),
        "inactive": _("사용이 중지된 계정입니다."),
    }

    def clean_username(self) -> str:
        return _email_normalize(self.cleaned_data["username"])


class StaffAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """Email, password and the 6-digit code of the staff member's one authenticator app."""

    username = forms.EmailField(
        label=_("이메일"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    otp_token = forms.CharField(
        label=_("인증 코드"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6}),
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("인증 앱에 표시된 6자리 코드를 입력해 주세요."),
        "invalid_token": _("인증 코드가 맞지 않습니다. 인증 앱의 새 코드를 입력해 주세요."),
        "verification_not_allowed": _("잠시 후 다시 시도해 주세요."),
        "n_failed_attempts": _("코드를 잘못 입력해 잠시 확인을 멈췄습니다. 몇 초 뒤 새 코드로 다시 시도해 주세요."),
    }

    def clean_username(self) -> str:
        return _email_normalize(self.cleaned_data["username"])

    def _chosen_device(self, user):
        """Staff have exactly one confirmed TOTP device; without one they must enrol first."""
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            raise ValidationError(
                format_html(
                    _('아직 인증 앱을 등록하지 않았습니다. 먼저 <a href="{}">2단계 인증 등록</a>을 마쳐 주세요.'),
                    reverse("accounts:staff_two_factor"),
                ),
                code="no_device",
            )
        return device


def bank_account_mask(value: str) -> str:
    """A stored account number shown back only by its last 4 digits: `****5678`."""
    digits = "".join(character for character in value if character.isdigit())
    return f"****{digits[-4:]}" if digits else ""


class ProfileForm(forms.ModelForm):
    BANK_FIELDS = ("bank_name", "bank_account", "bank_account_remove")

    date_of_birth = DateOfBirthField()
    phone = forms.CharField(
        label=_("휴대전화"),
        max_length=20,
        help_text=_("예: 010-1234-5678"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "010-1234-5678"}),
    )
    postal_code = forms.CharField(
        label=_("우편번호"),
        max_length=5,
        validators=[postal_code_validate],
        help_text=_("숫자 5자리 (예: 13487)"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    bank_name = forms.CharField(
        label=_("은행"),
        max_length=50,
        required=False,
        help_text=_("예: 국민은행, 카카오뱅크"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # Never filled from the stored value: the page shows only the last 4 digits (see `bank_account_masked`).
    bank_account = forms.CharField(
        label=_("계좌번호"),
        max_length=30,
        required=False,
        validators=[bank_account_number_validator],
        help_text=_("숫자만 또는 하이픈을 넣어 입력해 주세요. 예: 123-456-789012"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    bank_account_remove = forms.BooleanField(label=_("등록된 계좌 정보 삭제"), required=False)

    class Meta:
        model = User
        fields = ("legal_name", "date_of_birth", "phone", "postal_code", "address", "address_detail")
        widgets = {
            "legal_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "address": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_detail": forms.TextInput(attrs={"autocomplete": "address-line2"}),
        }
        help_texts = {
            "legal_name": _("소장에 원고로 적히는 이름입니다. 신분증에 적힌 실명을 입력해 주세요."),
            "address": _("소장에 적히는 주소입니다. 도로명 주소를 입력해 주세요."),
            "address_detail": _("동·호수 등 (없으면 비워 두세요)"),
        }

    def __init__(self, *args, address_picked: bool = False, **kwargs):
        """`initial` holds what was typed before an address search (kept as typed); `address_picked` puts the
        cursor on 상세주소 after a search result filled 주소 and 우편번호."""
        phone_typed = "phone" in kwargs.get("initial", {})
        super().__init__(*args, **kwargs)
        for name in ("legal_name", "address"):
            self.fields[name].required = True
        if address_picked:
            self.fields["address_detail"].widget.attrs["autofocus"] = True
        if not self.is_bound and self.instance.phone and not phone_typed:
            self.initial["phone"] = mobile_phone_format(self.instance.phone)
        self.bank_account_masked = bank_account_mask(self.instance.bank_account)
        if self.bank_account_masked:
            self.fields["bank_account"].help_text = _(
                "바꾸려면 새 계좌번호를 입력하고, 그대로 두려면 비워 두세요. 예: 123-456-789012"
            )
        else:
            del self.fields["bank_account_remove"]
        self.initial.setdefault("bank_name", self.instance.bank_name)

    def clean_phone(self) -> str:
        return mobile_phone_normalize(self.cleaned_data["phone"])

    def clean_legal_name(self) -> str:
        return " ".join(self.cleaned_data["legal_name"].split())

    def clean_bank_name(self) -> str:
        return " ".join(self.cleaned_data["bank_name"].split())

    def clean(self) -> dict:
        cleaned = super().clean()
        removing = cleaned.get("bank_account_remove", False)
        has_account = bool(cleaned.get("bank_account") or self.instance.bank_account)
        if not removing and has_account and not cleaned.get("bank_name") and "bank_name" not in self.errors:
            self.add_error("bank_name", ValidationError(_("계좌의 은행 이름을 입력해 주세요."), code="bank_name"))
        return cleaned


class StaffTwoFactorForm(forms.Form):
    token = forms.CharField(
        label=_("인증 코드 6자리"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise ValidationError(_("숫자 6자리를 입력해 주세요."), code="not_digits")
        return token


class PasswordResetForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label=_("가입한 이메일"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs) -> None:
        """Queue the email with the user's id: the token is made in the worker, no address in the broker."""
        tasks.password_reset_email_send.delay_on_commit(context["user"].pk)


class DeletionRequestForm(forms.ModelForm):
    password = forms.CharField(
        label=_("현재 비밀번호"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("본인 확인을 위해 비밀번호를 입력해 주세요."),
    )
    understood = forms.BooleanField(
        label=_(
            "삭제 후에는 되돌릴 수 없고, 제출한 참여 신청은 소송 기록으로 익명 처리되어 남는다는 것을 이해했습니다."
        ),
    )

    class Meta:
        model = DeletionRequest
        fields = ("reason",)
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"reason": _("선택 사항입니다.")}

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("비밀번호가 맞지 않습니다."), code="wrong_password")
        return password
