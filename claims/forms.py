"""Input shape for the claim wizard and the claimant's portal; rules involving other records are in services."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, Evidence, LossItem, OutageWindow
from claims.services.intake import LOSS_KIND_FIGURES, LossItemData
from claims.validators import (
    business_registration_number_normalize,
    validate_business_registration_number,
    won_parse,
)

YES_NO = [("yes", _("예, 이용하고 있었습니다")), ("no", _("아니요, 이용하지 않았습니다"))]


class WonField(forms.Field):
    """Whole won typed the way people write it: '1,234,000', '1234000' or '1,234,000원'."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "class": "money", "maxlength": 20})

    def __init__(self, *args, allow_zero: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero

    def to_python(self, value) -> int | None:
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        return won_parse(text[:40], allow_zero=self.allow_zero)

    def prepare_value(self, value):
        return f"{value:,}" if isinstance(value, int) else value


class EvaluatedChoiceIterator(ModelChoiceIterator):
    """Reads the field's queryset once, with a plain query, and keeps the rows: Django's iterator() would run the
    query again on every pass, through a server-side cursor (DECLARE, FETCH and CLOSE: three round trips)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class OutageWindowChoiceField(forms.ModelMultipleChoiceField):
    """Service checkboxes labelled with the service's own outage window."""

    widget = forms.CheckboxSelectMultiple
    iterator = EvaluatedChoiceIterator

    def label_from_instance(self, obj: OutageWindow) -> str:
        return obj.service.name


class EligibilityForm(forms.Form):
    """Step 1 for one incident (chosen on the page, outside this form): the failed services and the use."""

    windows = OutageWindowChoiceField(
        label=_("장애 때 쓰지 못한 서비스를 모두 골라 주세요"),
        queryset=OutageWindow.objects.none(),
        error_messages={"required": _("피해를 입은 서비스를 하나 이상 골라 주세요.")},
    )
    was_using = forms.TypedChoiceField(
        label=_("장애 시간 동안 그 서비스를 실제로 이용하고 있었나요?"),
        help_text=_("예: 메시지를 보내려 했는데 안 됐다, 택시 호출을 받지 못했다, 예약이 들어오지 않았다."),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("장애 당시 이용 여부를 골라 주세요.")},
    )

    def __init__(self, *args, windows, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["windows"].queryset = windows

    def services(self) -> list:
        return [window.service for window in self.cleaned_data["windows"]]


class ApplicantKindForm(forms.Form):
    """On the public eligibility check only, optional: an individual answers here and skips the wizard's "who you
    are" screen (the claim starts as an individual's); businesses give their details in the wizard."""

    INDIVIDUAL, BUSINESS = "individual", "business"
    applicant_kind = forms.ChoiceField(
        label=_("누구로 신청하시나요?"),
        help_text=_("사업자는 가입한 뒤 사업자 정보를 적습니다."),
        choices=[(INDIVIDUAL, _("개인")), (BUSINESS, _("사업자 (개인사업자·법인)"))],
        required=False,
        widget=forms.RadioSelect,
    )


class ClaimantForm(forms.Form):
    claimant_type = forms.ChoiceField(
        label=_("어떤 자격으로 신청하시나요?"),
        choices=Claim.ClaimantType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("개인, 개인사업자, 법인 중 하나를 골라 주세요.")},
    )
    business_registration_number = forms.CharField(
        label=_("사업자등록번호"),
        required=False,
        max_length=14,
        help_text=_("사업자등록증에 있는 10자리 번호 (예: 123-45-67891)"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    business_name = forms.CharField(label=_("상호 (가게·회사 이름)"), required=False, max_length=200)
    business_sector = forms.CharField(
        label=_("업종"),
        required=False,
        max_length=100,
        help_text=_("예: 미용실, 개인택시, 대리운전, 온라인 쇼핑몰"),
    )

    def clean_business_registration_number(self) -> str:
        return business_registration_number_normalize(self.cleaned_data["business_registration_number"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("claimant_type") in (Claim.ClaimantType.SOLE_PROPRIETOR, Claim.ClaimantType.COMPANY):
            for name in ("business_registration_number", "business_name", "business_sector"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("사업자는 이 칸을 꼭 적어 주세요."))
            number = data.get("business_registration_number")
            if number:
                try:
                    validate_business_registration_number(number)
                except ValidationError as error:
                    self.add_error("business_registration_number", error)
        return data


class LossItemForm(forms.Form):
    """One loss item. Only the figures of the chosen kind are asked for (and kept)."""

    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("손해 종류"),
        choices=[("", _("골라 주세요")), *LossItem.Kind.choices],
        widget=forms.Select(attrs={"data-loss-kind": ""}),
    )
    monthly_fee = WonField(
        label=_("월 이용료 (원)"), required=False, help_text=_("장애 당시 내고 있던 한 달 이용료 (예: 39,000)")
    )
    comparison_revenue = WonField(
        label=_("평상시 한 주 매출 (원)"),
        required=False,
        help_text=_("9~10월 중 평소와 같았던 토요일~금요일 한 주의 매출"),
    )
    outage_revenue = WonField(
        label=_("장애 주간 매출 (원)"),
        required=False,
        allow_zero=True,  # a taxi driver with no calls at all had none
        help_text=_("장애가 있던 주(10월 15일 토요일~10월 21일 금요일)의 매출. 매출이 없었으면 0"),
    )
    amount = WonField(label=_("금액 (원)"), required=False)
    description = forms.CharField(
        label=_("무슨 일이 있었는지 적어 주세요"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("예: 10월 15일 오후부터 다음 날 오전까지 택시 호출을 한 건도 받지 못했습니다."),
        error_messages={"required": _("어떤 손해였는지 간단히 적어 주세요.")},
    )
    affected_hours = forms.DecimalField(
        label=_("피해를 본 시간 (선택, 시간 단위)"),
        required=False,
        min_value=Decimal("0.5"),
        max_value=Decimal("999"),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
    )

    REQUIRED_MESSAGES = {
        "monthly_fee": _("월 이용료를 적어 주세요."),
        "comparison_revenue": _("평상시 한 주 매출을 적어 주세요."),
        "outage_revenue": _("장애 주간 매출을 적어 주세요. 매출이 없었으면 0을 적어 주세요."),
        "amount": _("금액을 적어 주세요."),
    }

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        for name in LOSS_KIND_FIGURES[kind]:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, self.REQUIRED_MESSAGES[name])
        no_loss = kind == LossItem.Kind.BUSINESS_REVENUE and not self.errors
        if no_loss and data["outage_revenue"] >= data["comparison_revenue"]:
            self.add_error(
                "outage_revenue",
                _("장애 주간 매출이 평상시보다 적지 않으면 매출 손실이 없습니다. 두 금액을 다시 확인해 주세요."),
            )
        return data

    def to_data(self) -> LossItemData:
        data = self.cleaned_data
        return LossItemData(
            pk=data.get("pk"),
            kind=data["kind"],
            description=data["description"].strip(),
            monthly_fee=data.get("monthly_fee") or 0,
            comparison_revenue=data.get("comparison_revenue") or 0,
            outage_revenue=data.get("outage_revenue") or 0,
            amount=data.get("amount") or 0,
            affected_hours=data.get("affected_hours"),
        )


class BaseLossItemFormSet(BaseFormSet):
    """The loss items of one service; the blank extra form is ignored unless something is typed into it."""

    def items(self) -> list[LossItemData]:
        return [form.to_data() for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]

    def delete_ids(self) -> list[int]:
        return [form.cleaned_data["pk"] for form in self.deleted_forms if form.cleaned_data.get("pk")]


LossItemFormSet = formset_factory(LossItemForm, formset=BaseLossItemFormSet, extra=1, can_delete=True, max_num=20)


def loss_item_initial(item: LossItem) -> dict:
    return {
        "pk": item.pk,
        "kind": item.kind,
        "monthly_fee": item.monthly_fee or None,
        "comparison_revenue": item.comparison_revenue or None,
        "outage_revenue": item.outage_revenue if item.kind == LossItem.Kind.BUSINESS_REVENUE else None,
        "amount": item.amount or None,
        "description": item.description,
        "affected_hours": item.affected_hours,
    }


class CompensationForm(forms.Form):
    already_compensated = WonField(
        label=_("카카오에서 이미 받은 보상 (원)"),
        required=False,
        allow_zero=True,
        help_text=_(
            "카카오의 자체 보상으로 받은 돈이나 포인트를 원으로 적어 주세요. 받지 않았으면 0 또는 비워 두세요."
        ),
    )

    def clean_already_compensated(self) -> int:
        return self.cleaned_data["already_compensated"] or 0


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(
        label=_("파일"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/heic,image/heif,.heic,.pdf"}),
        error_messages={"required": _("올릴 파일을 골라 주세요.")},
    )
    tag = forms.ChoiceField(
        label=_("이 파일이 보여 주는 것"),
        choices=[("", _("골라 주세요")), *Evidence.Tag.choices],
        error_messages={"required": _("이 파일이 무엇을 보여 주는지 골라 주세요.")},
    )
    loss_item = forms.TypedChoiceField(label=_("관련 손해 항목"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, loss_items, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.loss_items = {item.pk: item for item in loss_items}
        self.fields["loss_item"].choices = [
            ("", _("신청 전체 (특정 항목 아님)")),
            *[(item.pk, f"{item.service.name} · {item.get_kind_display()}") for item in loss_items],
        ]

    def loss_item_object(self) -> LossItem | None:
        return self.loss_items.get(self.cleaned_data.get("loss_item"))


def evidence_upload_initial(query, *, loss_items) -> dict:
    """The upload form preselected from a "missing" link (`?tag=...&loss_item=...`); unknown values are ignored."""
    initial = {}
    if query.get("tag") in Evidence.Tag.values:
        initial["tag"] = query["tag"]
    known = {str(item.pk) for item in loss_items}
    if query.get("loss_item") in known:
        initial["loss_item"] = int(query["loss_item"])
    return initial


class ClaimNoteForm(forms.Form):
    text = forms.CharField(
        label=_("담당자에게 전할 메모"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("제출한 뒤 알게 된 사실이나 올린 파일에 대한 설명을 적어 주세요. 담당자가 확인합니다."),
        error_messages={"required": _("담당자에게 전할 내용을 적어 주세요.")},
    )


class InformationAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("답변"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("요청받은 내용에 대한 설명을 적어 주세요. 파일은 위에서 먼저 올려 주세요."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("철회 이유 (선택)"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm = forms.BooleanField(
        label=_("공동소송 참여를 철회한다는 것을 이해했습니다"),
        error_messages={"required": _("철회하려면 확인란에 표시해 주세요.")},
    )
