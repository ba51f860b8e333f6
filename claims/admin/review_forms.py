"""Forms of the claim review page. Each carries the claim version the member of staff was looking at; the rules
(which transitions, who may, due-date limits) are the services' (claims/services/review.py)."""

import datetime as dt

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, Evidence, Flag
from claims.selectors.review import rejection_reasons_active, reviewers_eligible
from claims.services.intake import BUSINESS_TYPES
from claims.services.review import (
    INFORMATION_DUE_MAX_DAYS,
    INFORMATION_DUE_MIN_DAYS,
    STAFF_EDITABLE_FIELDS,
    conflict_message,
)
from claims.validators import business_registration_number_normalize, validate_business_registration_number

INFORMATION_DUE_DEFAULT_DAYS = 14
NOTE_MAX = 2000


class ReviewActionForm(forms.Form):
    """A review action on one claim; `service_kwargs` are passed to the action's service with the claim."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, claim: Claim, **kwargs) -> None:
        self.claim = claim
        kwargs.setdefault("initial", {}).setdefault("expected_version", claim.version)
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class StartReviewForm(ReviewActionForm):
    pass


class AdditionsSeenForm(ReviewActionForm):
    """The newest of the claimant's additions on the page the reviewer read."""

    seen_through = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _information_due_default() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=INFORMATION_DUE_DEFAULT_DAYS)


class RequestInformationForm(ReviewActionForm):
    message = forms.CharField(
        label=_("신청인에게 보낼 요청 내용"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=NOTE_MAX,
        help_text=_("무엇이 왜 필요한지 쉬운 말로 적어 주세요. 이메일로 그대로 전달됩니다."),
    )
    items = forms.MultipleChoiceField(
        label=_("요청할 자료"),
        choices=Evidence.Tag.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_items = forms.CharField(
        label=_("그 밖에 요청할 자료 (한 줄에 하나씩)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=NOTE_MAX,
    )
    due_date = forms.DateField(label=_("답변 기한"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["due_date"].initial = _information_due_default
        self.fields["due_date"].widget.attrs.update(
            min=(today + dt.timedelta(days=INFORMATION_DUE_MIN_DAYS)).isoformat(),
            max=(today + dt.timedelta(days=INFORMATION_DUE_MAX_DAYS)).isoformat(),
        )

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("items") and not (data.get("other_items") or "").strip():
            raise ValidationError(_("요청할 자료를 하나 이상 고르거나 적어 주세요."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        # The claimant reads the items in the site's language, whatever language the staff member uses.
        with translation.override(settings.LANGUAGE_CODE):
            items = [str(Evidence.Tag(value).label) for value in data["items"]]
        items += data["other_items"].splitlines()
        return {
            "expected_version": data["expected_version"],
            "message": data["message"],
            "items": items,
            "due_date": data["due_date"],
        }


class AcceptForm(ReviewActionForm):
    note = forms.CharField(
        label=_("신청인에게 보낼 메시지 (선택)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=NOTE_MAX,
    )


class RejectForm(ReviewActionForm):
    reason = forms.ModelChoiceField(label=_("반려 사유"), queryset=rejection_reasons_active(), empty_label=None)
    note = forms.CharField(
        label=_("신청인에게 보낼 설명"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=NOTE_MAX,
        help_text=_("'설명 필수' 사유는 설명을 꼭 적어야 합니다. 이메일로 그대로 전달됩니다."),
    )


class AssignForm(ReviewActionForm):
    reviewer = forms.ModelChoiceField(
        label=_("담당자"), queryset=reviewers_eligible(), required=False, empty_label=_("담당자 없음")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].initial = self.claim.reviewer_id


class FlagReviewForm(ReviewActionForm):
    expected_version = None
    flag = forms.ModelChoiceField(queryset=Flag.objects.none(), widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("검토 메모"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX,
        help_text=_("왜 문제가 없는지, 또는 어떻게 확인했는지 적어 주세요."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial.pop("expected_version", None)
        self.fields["flag"].queryset = self.claim.flags.all()


class BulkAssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        label=_("담당자"), queryset=reviewers_eligible(), required=False, empty_label=_("담당자 없음")
    )


class ClaimStaffForm(forms.ModelForm):
    """Corrections staff make to a submitted claim, guarded by the version the form was loaded with."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    business_registration_number = forms.CharField(
        label=_("사업자등록번호"), max_length=20, required=False, help_text=_("하이픈은 있어도 없어도 됩니다.")
    )

    class Meta:
        model = Claim
        fields = STAFF_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["expected_version"] = self.instance.version

    def clean_business_registration_number(self) -> str:
        number = business_registration_number_normalize(self.cleaned_data["business_registration_number"])
        if number:
            validate_business_registration_number(number)
        return number

    def clean(self) -> dict:
        data = super().clean()
        if data.get("expected_version") and data["expected_version"] != self.instance.version:
            raise ValidationError(conflict_message(), code="conflict")
        number = data.get("business_registration_number", None)
        if data.get("claimant_type") in BUSINESS_TYPES and number == "":
            self.add_error("business_registration_number", _("사업자 신청인은 사업자등록번호가 필요합니다."))
        return data

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in STAFF_EDITABLE_FIELDS}
