"""The sandbox checkout window's input: the order as the site opens the window with it, and the person's choice."""

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from integrations.payments.models import SandboxPayment

ORDER_NAME_MAX_LENGTH = 200
AMOUNT_MAX = 2**63 - 1  # what the amount column (and PortOne's int64) holds


class RedirectUrlForm(forms.Form):
    """The page the window sends the browser back to: this site only (never an open redirect)."""

    redirect_url = forms.CharField(max_length=2000)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_redirect_url(self) -> str:
        url = self.cleaned_data["redirect_url"]
        if not url_has_allowed_host_and_scheme(
            url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            raise forms.ValidationError(_("돌아갈 주소는 이 사이트의 주소여야 합니다."))
        return url


class CheckoutOpenForm(RedirectUrlForm):
    """GET /sandbox/payments/<payment_id>/checkout?amount=..&order_name=..&redirect_url=..&method=.. (the method
    picked on the site's page, chosen first in the window)."""

    amount = forms.IntegerField(min_value=1, max_value=AMOUNT_MAX)
    order_name = forms.CharField(max_length=ORDER_NAME_MAX_LENGTH)
    method = forms.ChoiceField(choices=SandboxPayment.Method.choices, required=False)


class CheckoutActionForm(RedirectUrlForm):
    class Action:
        PAY = "pay"
        FAIL = "fail"
        CLOSE = "close"

    method = forms.ChoiceField(
        label=_("결제수단"),
        choices=SandboxPayment.Method.choices,
        initial=SandboxPayment.Method.CARD,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        required=False,  # closing the window needs no method; paying and failing do (clean)
    )
    action = forms.ChoiceField(choices=[(action, action) for action in (Action.PAY, Action.FAIL, Action.CLOSE)])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in (self.Action.PAY, self.Action.FAIL) and not cleaned.get("method"):
            self.add_error("method", _("결제수단을 골라 주세요."))
        return cleaned
