"""The claimant's payment step (accounts.journey.RETAINER): the amount and what it covers, 결제하기 (the gateway's
window), the return from the window, and the receipts."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import journey
from accounts.selectors import claimant_readiness
from core.audit import RequestMeta
from core.exceptions import ApplicationError, ProviderError
from integrations.payments import CheckoutContext, PaymentMethod
from payments.forms import RetainerPayForm
from payments.models import RetainerOrder
from payments.selectors import retainer_order_of, retainer_orders_of, retainer_terms_current
from payments.services import retainer_checkout, retainer_order_create, retainer_payment_confirm

logger = logging.getLogger(__name__)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def retainer(request: HttpRequest) -> HttpResponse:
    readiness = claimant_readiness(user=request.user)
    earlier = journey.journey_step_blocker(readiness=readiness, key=journey.RETAINER)
    if earlier is not None:
        return redirect(journey.journey_step_url(earlier, next_url=request.get_full_path()))
    form = RetainerPayForm(request.POST if request.method == "POST" else None)
    context = {
        "terms": retainer_terms_current(),
        "orders": retainer_orders_of(user=request.user),
        "due": not readiness.registered_steps.get(journey.RETAINER, True),
        "shown": journey.RETAINER in readiness.registered_steps,
        "form": form,
    }
    if request.method == "POST" and context["due"] and form.is_valid():
        try:
            order = retainer_order_create(claimant=request.user, meta=RequestMeta.from_request(request))
            checkout = retainer_checkout(
                order=order,
                redirect_url=request.build_absolute_uri(reverse("payments:retainer_return")),
                method=PaymentMethod(form.cleaned_data["method"]),
            )
        except ProviderError as error:
            logger.warning("Retainer checkout: the gateway failed (%s)", error.code)
            context["error"] = _(
                "결제 서비스에 지금 연결할 수 없습니다. 잠시 뒤 다시 시도해 주세요. "
                "결제된 돈은 없고, 입력하신 내용은 그대로 있습니다."
            )
        except ApplicationError as error:
            context["error"] = error.message
        else:
            if checkout.checkout_url:
                return redirect(checkout.checkout_url)
            return _sdk_checkout_page(request, context, checkout)
    return render(request, "payments/retainer.html", context, status=503 if "error" in context else 200)


def _sdk_checkout_page(request: HttpRequest, context: dict, checkout: CheckoutContext) -> HttpResponse:
    """The page that opens a gateway's window with its browser SDK (PortOne's requestPayment, static/js/
    portone-checkout.js): the SDK's request as JSON, and the gateway's origins added to this response's Content
    Security Policy only."""
    context["sdk_checkout"] = {
        "sdkUrl": static(checkout.sdk_static_path),
        "request": checkout.sdk_request,
        "returnUrl": checkout.redirect_url,
        "unavailable": _("결제창을 불러오지 못했습니다. 잠시 뒤 다시 시도해 주세요. 결제된 돈은 없습니다."),
    }
    response = render(request, "payments/retainer.html", context)
    response._csp_update = checkout.sdk_csp
    return response


@never_cache
@login_required
@require_GET
def retainer_return(request: HttpRequest) -> HttpResponse:
    """Where the gateway's window sends the browser back. It proves nothing: the server asks the gateway."""
    payment_id = request.GET.get("paymentId", "")
    order = RetainerOrder.objects.filter(payment_id=payment_id, claimant=request.user).first()
    if order is None:
        messages.error(request, _("결제 정보를 찾을 수 없습니다. 다시 결제해 주세요."))
        return redirect("payments:retainer")
    if request.GET.get("code"):
        # The window was closed or the payment refused: nothing paid; the claimant stays on the step.
        messages.warning(
            request, _("결제가 완료되지 않았습니다. 결제창을 닫았거나 결제가 거절되었습니다. 다시 결제해 주세요.")
        )
        return redirect("payments:retainer")
    try:
        order = retainer_payment_confirm(payment_id=payment_id, meta=RequestMeta.from_request(request))
    except ProviderError:
        messages.warning(
            request,
            _(
                "결제 결과를 아직 확인하지 못했습니다. 결제가 되었다면 잠시 뒤 자동으로 반영됩니다. "
                "이 화면을 새로고침해 보세요."
            ),
        )
        return redirect("payments:retainer")
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("payments:retainer")
    # Paid: straight on to the next unfinished step, the claim wizard once there is none (the journey); the receipt
    # is emailed and stays a tap away on the retainer page and in the checklist.
    messages.success(
        request,
        _(
            "착수금 %(amount)s원 결제를 확인했습니다. "
            "영수증은 이메일로 보내 드렸고 ‘착수금 결제’ 화면에서도 볼 수 있습니다."
        )
        % {"amount": intcomma(order.amount)},
    )
    return redirect(journey.journey_next_url(user=request.user))


@never_cache
@login_required
@require_GET
def receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = retainer_order_of(user=request.user, order_id=order_id)
    except RetainerOrder.DoesNotExist:
        raise Http404 from None
    return render(request, "payments/receipt.html", {"order": order, "entries": order.entries.all()})
