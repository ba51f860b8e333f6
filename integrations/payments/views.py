"""The payment webhook endpoint (any gateway) and the sandbox gateway's checkout window (docs/providers/payments.md)."""

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.webhooks import webhook_event_store
from integrations.payments import PAYMENT_WEBHOOK_PROVIDER, PaymentRefusedError, PaymentWebhookError, payment_gateway
from integrations.payments.forms import CheckoutActionForm, CheckoutOpenForm
from integrations.payments.models import PAYMENT_ID_MAX_LENGTH
from integrations.payments.sandbox import (
    FAILURE_CODE,
    sandbox_gateway_active,
    sandbox_payment_fail,
    sandbox_payment_open,
    sandbox_payment_pay,
)

logger = logging.getLogger(__name__)

CHECKOUT_TEMPLATE = "integrations/payments/sandbox_checkout.html"
# Verification failures that say the sender does not hold the secret (or replays an old message), answered 403;
# the others (no headers, an unreadable body) 400.
FORBIDDEN_WEBHOOK_CODES = frozenset({"no_matching_signature", "timestamp_too_old", "timestamp_too_new"})


@csrf_exempt  # the signature authenticates the gateway; there is no session
@require_POST
def payment_webhook(request: HttpRequest) -> JsonResponse:
    """A gateway's webhook: verified by the configured gateway, stored once per webhook id and processed by
    settings.WEBHOOK_HANDLERS["payments"] in a task (core.webhooks)."""
    if PAYMENT_WEBHOOK_PROVIDER not in settings.WEBHOOK_HANDLERS:
        logger.error("Payment webhook received but no handler is configured (WEBHOOK_HANDLERS['payments'])")
        return JsonResponse({"ok": False}, status=503)  # the gateway delivers again once it is configured
    try:
        event = payment_gateway().webhook_verify(request.headers, request.body)
    except PaymentWebhookError as error:
        logger.warning("Payment webhook refused: %s", error.code)
        status = 403 if error.code in FORBIDDEN_WEBHOOK_CODES else 400
        return JsonResponse({"ok": False, "code": error.code}, status=status)
    created = webhook_event_store(provider=PAYMENT_WEBHOOK_PROVIDER, event_id=event.webhook_id, payload=event.payload)
    return JsonResponse({"ok": True, "duplicate": not created})


def _url_with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def _webhook_url(request: HttpRequest) -> str:
    return settings.SANDBOX_PAYMENT_WEBHOOK_URL or request.build_absolute_uri(reverse("payment_webhook"))


@require_http_methods(["GET", "POST"])
def payment_checkout(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The sandbox's checkout window: opened (GET) with the order, answered (POST) with pay, fail or close."""
    if not sandbox_gateway_active():
        raise Http404
    if len(payment_id) > PAYMENT_ID_MAX_LENGTH:
        raise Http404
    if request.method == "GET":
        return _checkout_open(request, payment_id)
    form = CheckoutActionForm(request.POST, request=request)
    if not form.is_valid():
        return render(request, CHECKOUT_TEMPLATE, {"form": form, "payment_id": payment_id}, status=400)
    action, redirect_url = form.cleaned_data["action"], form.cleaned_data["redirect_url"]
    if action == CheckoutActionForm.Action.CLOSE:
        closed = {"paymentId": payment_id, "code": FAILURE_CODE, "message": _("결제를 취소했습니다.")}
        return redirect(_url_with_query(redirect_url, closed))
    try:
        if action == CheckoutActionForm.Action.PAY:
            payment = sandbox_payment_pay(payment_id=payment_id, method=form.cleaned_data["method"])
        else:
            payment = sandbox_payment_fail(payment_id=payment_id, method=form.cleaned_data["method"])
    except PaymentRefusedError as error:
        context = {"form": form, "payment_id": payment_id, "refusal": error.message}
        return render(request, CHECKOUT_TEMPLATE, context, status=409)
    params = {"paymentId": payment.payment_id, "transactionType": "PAYMENT", "txId": str(payment.transaction_id)}
    if action == CheckoutActionForm.Action.FAIL:
        message = _("카드사에서 결제를 거절했습니다.")
        params |= {"code": FAILURE_CODE, "message": message, "pgCode": payment.failure_code}
    return redirect(_url_with_query(redirect_url, params))


def _checkout_open(request: HttpRequest, payment_id: str) -> HttpResponse:
    opened = CheckoutOpenForm(request.GET, request=request)
    if not opened.is_valid():
        return render(request, CHECKOUT_TEMPLATE, {"form": opened, "payment_id": payment_id}, status=400)
    initial = {"redirect_url": opened.cleaned_data["redirect_url"]}
    if opened.cleaned_data["method"]:
        initial["method"] = opened.cleaned_data["method"]
    form = CheckoutActionForm(initial=initial, request=request)
    try:
        payment = sandbox_payment_open(
            payment_id=payment_id,
            amount=opened.cleaned_data["amount"],
            order_name=opened.cleaned_data["order_name"],
            webhook_url=_webhook_url(request),
        )
    except PaymentRefusedError as error:
        context = {"form": form, "payment_id": payment_id, "refusal": error.message}
        return render(request, CHECKOUT_TEMPLATE, context, status=409)
    return render(request, CHECKOUT_TEMPLATE, {"form": form, "payment_id": payment_id, "payment": payment})
