from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts import admin_consents  # noqa: F401  (registers the consent, ledger and power-of-attorney admin)
from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "legal_name", "is_staff", "is_active", "date_joined"]
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
                )
            },
        ),
        (_("권한"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("기록"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
