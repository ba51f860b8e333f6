"""The claimant's choice of payment method, and staff input for refunds and waivers (the rules are in
payments/services.py)."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from integrations.payments import PaymentMethod
from payments.services import REASON_MAX_LENGTH


class RetainerPayForm(forms.Form):
    """결제하기: the method the gateway's window opens on (PortOne's window needs it before it opens)."""

    method = forms.ChoiceField(
        label=_("결제수단"),
        choices=[
            (PaymentMethod.CARD, _("카드")),
            (PaymentMethod.TRANSFER, _("계좌이체")),
            (PaymentMethod.EASY_PAY, _("간편결제")),
        ],
        initial=PaymentMethod.CARD,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )


class RefundForm(forms.Form):
    amount = forms.IntegerField(
        label=_("환불 금액(원)"), min_value=1, required=False, help_text=_("비워 두면 남은 금액 전부를 환불합니다.")
    )
    reason = forms.CharField(label=_("사유"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))
    # Made when the form is shown: pressing the button twice sends the same id, and the gateway refunds once.
    request_id = forms.CharField(widget=forms.HiddenInput, initial=lambda: f"staff:{uuid.uuid4().hex}", max_length=200)


class WaiverForm(forms.Form):
    email = forms.EmailField(label=_("신청인 이메일"))
    reason = forms.CharField(
        label=_("면제 사유"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("예: 국민기초생활보장 수급자 (증빙 확인함)"),
    )

    def clean_email(self) -> User:
        claimant = User.objects.filter(email__iexact=self.cleaned_data["email"], is_staff=False).first()
        if claimant is None:
            raise forms.ValidationError(_("이 이메일의 신청인이 없습니다."))
        return claimant
