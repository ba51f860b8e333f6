from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import admin_consents  # noqa: F401  (registers the consent, ledger and power-of-attorney admin)
from accounts.exceptions import AccountError
from accounts.forms import bank_account_mask
from accounts.models import DeletionRequest, User
from accounts.services.auth import staff_roles_record
from accounts.services.data_rights import deletion_request_confirm, deletion_request_reject


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "legal_name", "is_staff", "roles", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["email", "legal_name", "phone"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("개인 정보"),
            {
                "fields": (
                    "legal_name",
                    "date_of_birth",
                    "phone",
                    "postal_code",
                    "address",
                    "address_detail",
                    "email_verified_at",
                    "language",
                    "payout_account",
                )
            },
        ),
        (_("권한"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("기록"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("역할"))
    def roles(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())

    @admin.display(description=_("지급 계좌"))
    def payout_account(self, obj: User) -> str:
        """The bank and the last 4 digits, enough to tell whether the person gave an account: the number itself is
        needed only when an award is paid."""
        return f"{obj.bank_name} {bank_account_mask(obj.bank_account)}".strip() or "-"

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        """Only a superuser grants superuser status or one-off permissions; roles are given through groups."""
        readonly = [*super().get_readonly_fields(request, obj), "payout_account"]
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        """The password row (its hash summary and the button to set it) is the superuser's alone, as is the page
        it leads to (user_change_password)."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "password"]})
            for name, options in fieldsets
        ]

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Deleting an account loses the claimant's record: only a superuser may (claimants ask through the
        deletion request, which anonymises instead)."""
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Only a superuser sets another person's password; everyone else resets their own by email."""
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        before = set(form.instance.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.groups.values_list("name", flat=True))
        staff_roles_record(user=form.instance, actor=request.user, before=before, after=after)


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    """Lawyers confirm (anonymise and remove) or reject account deletion requests."""

    list_display = ["pk", "user", "status", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["user", "decided_by"]
    search_fields = ["user__email", "user__legal_name"]
    date_hierarchy = "requested_at"
    fields = ["user", "requested_at", "reason", "status", "decision_note", "decided_by", "decided_at", "outcome"]
    readonly_fields = ["user", "requested_at", "reason", "status", "decided_by", "decided_at", "outcome"]
    actions = ["confirm_selected", "reject_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: DeletionRequest | None = None):
        if obj is not None and obj.status != DeletionRequest.Status.REQUESTED:
            return [*self.readonly_fields, "decision_note"]
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DeletionRequest | None = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.decide_deletionrequest")

    def _decide(self, request: HttpRequest, queryset: QuerySet[DeletionRequest], decide) -> None:
        done = 0
        for deletion_request in queryset.filter(status=DeletionRequest.Status.REQUESTED).select_related("user"):
            try:
                decide(deletion_request)
            except AccountError as error:
                self.message_user(request, f"#{deletion_request.pk}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request, ngettext("%(count)d건을 처리했습니다.", "%(count)d건을 처리했습니다.", done) % {"count": done}
            )

    @admin.action(description=_("선택한 요청 확정 (익명화하고 삭제)"), permissions=["decide"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._decide(
            request,
            queryset,
            lambda deletion_request: deletion_request_confirm(deletion_request=deletion_request, actor=request.user),
        )

    @admin.action(description=_("선택한 요청 거절 (처리 메모를 먼저 저장하세요)"), permissions=["decide"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._decide(
            request,
            queryset,
            lambda deletion_request: deletion_request_reject(
                deletion_request=deletion_request, actor=request.user, note=deletion_request.decision_note
            ),
        )
