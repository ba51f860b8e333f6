"""Forms for the consents page, signing the power of attorney and checking a signed PDF: input shape only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentDocument, PowerOfAttorney
from accounts.services.signing import SignatureError, signature_png_from_data_url

VERIFY_MAX_BYTES = 20 * 1024 * 1024


class ConsentsForm(forms.Form):
    """One unticked checkbox per document still to accept; required documents must be ticked."""

    def __init__(self, *args, documents: list[ConsentDocument], **kwargs):
        super().__init__(*args, **kwargs)
        self.documents = documents
        for document in documents:
            self.fields[self.field_name(document)] = forms.BooleanField(
                required=document.is_required,
                label=(
                    _("위 내용을 모두 읽었으며 동의합니다 (필수)")
                    if document.is_required
                    else _("위 내용에 동의합니다 (선택)")
                ),
                error_messages={"required": _("필수 동의 항목입니다. 동의하지 않으면 소송에 참여할 수 없습니다.")},
            )

    @staticmethod
    def field_name(document: ConsentDocument) -> str:
        return f"document_{document.pk}"

    def accepted_documents(self) -> list[ConsentDocument]:
        return [document for document in self.documents if self.cleaned_data.get(self.field_name(document))]


class PowerOfAttorneySignForm(forms.Form):
    """A drawn signature (the pad's PNG data URL) or the typed legal name, and the signer's confirmation."""

    method = forms.ChoiceField(
        label=_("서명 방법"),
        choices=PowerOfAttorney.SignatureMethod.choices,
        initial=PowerOfAttorney.SignatureMethod.DRAWN,
        widget=forms.RadioSelect,
    )
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    typed_name = forms.CharField(
        label=_("실명 입력"),
        required=False,
        max_length=100,
        help_text=_("회원 정보에 적은 실명과 똑같이 입력하세요."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    confirm = forms.BooleanField(
        label=_("위 소송위임장과 보수 약정의 내용을 모두 읽고 확인했으며, 이 서명이 제 서명임을 확인합니다."),
        error_messages={"required": _("내용을 확인했다는 칸에 표시해 주세요.")},
    )

    def clean(self):
        cleaned = super().clean()
        cleaned["signature_png"] = None
        if cleaned.get("method") == PowerOfAttorney.SignatureMethod.DRAWN:
            if not cleaned.get("signature"):
                self.add_error(
                    "signature",
                    _("서명 칸에 서명을 그려 주세요. 그리기가 어렵다면 '이름 입력'을 선택하세요."),
                )
            else:
                try:
                    cleaned["signature_png"] = signature_png_from_data_url(cleaned["signature"])
                except SignatureError as error:
                    self.add_error("signature", error.message)
        elif cleaned.get("method") == PowerOfAttorney.SignatureMethod.TYPED and not cleaned.get("typed_name"):
            self.add_error("typed_name", _("실명을 입력해 주세요."))
        return cleaned


class PdfVerifyForm(forms.Form):
    document = forms.FileField(
        label=_("확인할 소송위임장 PDF"),
        help_text=_("이 사이트에서 내려받은 서명된 PDF 파일을 그대로 올려 주세요 (20MB 이하)."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_document(self):
        document = self.cleaned_data["document"]
        if document.size > VERIFY_MAX_BYTES:
            raise forms.ValidationError(_("파일이 너무 큽니다. 20MB 이하의 PDF 파일을 올려 주세요."))
        document.seek(0)
        if document.read(5) != b"%PDF-":
            raise forms.ValidationError(_("PDF 파일이 아닙니다. 내려받은 소송위임장 PDF를 그대로 올려 주세요."))
        document.seek(0)
        return document
