"""Admin for consent documents (drafts editable, published versions frozen), the consent ledger and signed powers
of attorney (both read-only)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import ConsentDocument, ConsentRecord, PowerOfAttorney
from accounts.selectors import signed_document_pdf_ready
from accounts.services.consents import (
    CONSENT_PLACEHOLDERS,
    ConsentError,
    consent_document_new_version,
    consent_document_publish,
)
from core.admin import ReadOnlyModelAdmin

DOCUMENT_FIELDS = ["kind", "version", "title", "body", "is_required", "text_sha256", "published_at", "created_at"]


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "version", "is_required", "is_published", "published_at"]
    list_filter = ["kind", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body"]
    fields = DOCUMENT_FIELDS
    actions = ["publish", "new_version"]

    @admin.display(boolean=True, description=_("게시됨"))
    def is_published(self, document: ConsentDocument) -> bool:
        return document.published_at is not None

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentDocument | None = None) -> list[str]:
        if obj is not None and obj.published_at is not None:
            return DOCUMENT_FIELDS
        return ["text_sha256", "published_at", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: ConsentDocument | None = None) -> bool:
        return super().has_delete_permission(request, obj) and obj is not None and obj.published_at is None

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "body":
            formfield.help_text = _(
                "게시하면 더 이상 고칠 수 없습니다. 신청인 정보로 채워지는 자리표시자: %(names)s"
            ) % {"names": ", ".join(f"{{{{ {name} }}}}" for name in CONSENT_PLACEHOLDERS)}
        return formfield

    @admin.action(description=_("선택한 초안 게시 (게시 후에는 고칠 수 없음)"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[ConsentDocument]) -> None:
        for document in queryset.order_by("kind", "version"):
            try:
                consent_document_publish(document=document)
            except ConsentError as error:
                self.message_user(request, f"{document}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(document)s을(를) 게시했습니다. 필수 문서라면 신청인은 다시 동의해야 합니다.")
                    % {"document": document},
                    messages.SUCCESS,
                )

    @admin.action(description=_("선택한 문서의 최신 버전을 복사해 새 초안 만들기"), permissions=["add"])
    def new_version(self, request: HttpRequest, queryset: QuerySet[ConsentDocument]) -> None:
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            try:
                draft = consent_document_new_version(kind=kind)
            except ConsentError as error:
                self.message_user(request, f"{ConsentDocument.Kind(kind).label}: {error.message}", messages.ERROR)
            else:
                url = reverse("admin:accounts_consentdocument_change", args=[draft.pk])
                self.message_user(
                    request,
                    format_html(_('새 초안 <a href="{}">{}</a>을(를) 만들었습니다.'), url, draft),
                    messages.SUCCESS,
                )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "user", "document", "action", "ip", "text_sha256"]
    list_filter = ["action", "document__kind", "document"]
    search_fields = ["user__email", "user__legal_name"]
    list_select_related = ["user", "document"]
    date_hierarchy = "at"
    fields = [
        "user",
        "document",
        "action",
        "at",
        "ip",
        "user_agent",
        "text_sha256",
        "signed_content_sha256",
        "signed_document_sha256",
    ]
    readonly_fields = fields


class WithdrawnFilter(admin.SimpleListFilter):
    title = _("철회 여부")
    parameter_name = "withdrawn"

    def lookups(self, request, model_admin):
        return [("yes", _("철회됨")), ("no", _("유효"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(withdrawn_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(withdrawn_at__isnull=True)
        return queryset


@admin.register(PowerOfAttorney)
class PowerOfAttorneyAdmin(ReadOnlyModelAdmin):
    list_display = ["number", "user", "document", "signature_method", "signed_at", "is_withdrawn", "withdrawn_at"]
    list_filter = [WithdrawnFilter, "signature_method", "document"]
    search_fields = ["user__email", "user__legal_name", "pdf_sha256"]
    list_select_related = ["user", "document"]
    date_hierarchy = "signed_at"
    fields = [
        "number",
        "user",
        "document",
        "signature_method",
        "typed_name",
        "signed_at",
        "withdrawn_at",
        "ip",
        "user_agent",
        "authentication",
        "signer_snapshot",
        "content_sha256",
        "pdf_sha256",
        "pdf_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("문서 번호"), ordering="pk")
    def number(self, power_of_attorney: PowerOfAttorney) -> str:
        return power_of_attorney.document_number

    @admin.display(boolean=True, description=_("철회됨"))
    def is_withdrawn(self, power_of_attorney: PowerOfAttorney) -> bool:
        return power_of_attorney.withdrawn_at is not None

    @admin.display(description=_("서명된 PDF"))
    def pdf_link(self, power_of_attorney: PowerOfAttorney) -> str:
        if not signed_document_pdf_ready(power_of_attorney):
            return _("서명한 위임장 PDF를 만들고 있습니다")
        url = reverse("accounts:power_of_attorney_download", args=[power_of_attorney.pk])
        return format_html('<a href="{}">{}</a>', url, _("내려받기"))
