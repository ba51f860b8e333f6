"""The retainer in the admin: the orders with their read-only ledger, a refund page per order, a waiver page, and the
reconciliation as a CSV action. Everything that changes money goes through payments/services.py."""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import RequestMeta
from core.exceptions import ApplicationError
from payments.forms import RefundForm, WaiverForm
from payments.models import PaymentEntry, RetainerOrder, RetainerTerms
from payments.reconciliation import reconciliation_csv, reconciliation_rows
from payments.services import retainer_refund, retainer_waive


class PaymentEntryInline(admin.TabularInline):
    model = PaymentEntry
    extra = 0
    can_delete = False
    fields = ("at", "kind", "amount", "method", "gateway", "sandbox", "gateway_transaction_id", "reason", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RetainerOrder)
class RetainerOrderAdmin(admin.ModelAdmin):
    list_display = ("payment_id", "claimant", "amount", "amount_refunded", "status", "paid_at", "created_at")
    list_filter = ("status",)
    search_fields = ("payment_id", "claimant__email")
    readonly_fields = (
        *("claimant", "terms", "payment_id", "amount", "amount_refunded", "status", "created_at", "paid_at"),
    )
    inlines = [PaymentEntryInline]
    actions = ["reconciliation_export"]
    change_form_template = "admin/payments/retainerorder/change_form.html"
    change_list_template = "admin/payments/retainerorder/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:order_id>/refund/", view(self.refund_view), name="payments_retainerorder_refund"),
            path("waive/", view(self.waive_view), name="payments_retainerorder_waive"),
            *super().get_urls(),
        ]

    @admin.action(description=gettext_lazy("선택한 주문 대사(CSV: 장부와 결제사 비교)"))
    def reconciliation_export(self, request, queryset):
        body = reconciliation_csv(reconciliation_rows(queryset.order_by("pk")))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        name = f"retainer-reconciliation-{timezone.localdate():%Y%m%d}-{dt.datetime.now(tz=dt.UTC):%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def _page(self, request, title, form, order=None) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "order": order,
        }
        return TemplateResponse(request, "admin/payments/retainerorder/staff_action.html", context)

    def refund_view(self, request, order_id: int):
        if not request.user.has_perm("payments.refund_retainerorder"):
            raise PermissionDenied
        order = get_object_or_404(RetainerOrder, pk=order_id)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                retainer_refund(
                    order=order,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    amount=form.cleaned_data["amount"],
                    request_id=form.cleaned_data["request_id"],
                    meta=RequestMeta.from_request(request),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("환불했습니다. 신청인에게 안내 메일을 보냅니다."))
                return redirect(reverse("admin:payments_retainerorder_change", args=[order.pk]))
        return self._page(request, _("착수금 환불"), form, order)

    def waive_view(self, request):
        if not request.user.has_perm("payments.waive_retainerorder"):
            raise PermissionDenied
        form = WaiverForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                order = retainer_waive(
                    claimant=form.cleaned_data["email"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    meta=RequestMeta.from_request(request),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("착수금을 면제했습니다."))
                return redirect(reverse("admin:payments_retainerorder_change", args=[order.pk]))
        return self._page(request, _("착수금 면제"), form)


@admin.register(RetainerTerms)
class RetainerTermsAdmin(admin.ModelAdmin):
    """The retainer of a version of the fee terms: set once with the text it belongs to, never edited."""

    list_display = ("document", "amount", "created_at")
    readonly_fields = ("created_at",)

    def get_readonly_fields(self, request, obj=None):
        return ("document", "amount", "created_at") if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        from accounts.selectors import claimant_readiness_forget_all

        super().save_model(request, obj, form, change)
        claimant_readiness_forget_all()  # the payment step may now apply to every claimant
