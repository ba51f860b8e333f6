"""The sandbox's phone: the page a person would see in the Kakao, PASS, Naver or Toss app, with 승인 and 거절.
Both pages answer 404 unless the sandbox is the configured identity backend (docs/providers/identity.md)."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from core.phones import phone_number_masked
from integrations.identity import IdentityReceiptError, IdentityState, identity_backend
from integrations.identity.sandbox import (
    SandboxIdentityBackend,
    sandbox_request_answer,
    sandbox_request_for_phone,
    sandbox_request_state,
    sandbox_requests_waiting,
)

WAITING_SHOWN_MAX = 50


class SandboxAnswerForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("승인")), ("refuse", _("거절"))])


def _sandbox_configured() -> None:
    if not isinstance(identity_backend(), SandboxIdentityBackend):
        raise Http404


@require_GET
def sandbox_phone_list(request: HttpRequest) -> HttpResponse:
    _sandbox_configured()
    waiting = [
        {"request": item, "phone": phone_number_masked(item.phone)}
        for item in sandbox_requests_waiting()[:WAITING_SHOWN_MAX]
    ]
    return render(request, "integrations/identity/phone_list.html", {"waiting": waiting})


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@require_http_methods(["GET", "POST"])
def sandbox_phone(request: HttpRequest, receipt_id: str) -> HttpResponse:
    """The request with 승인 and 거절. The page's script posts the answer and shows the result in place (one page
    load, as in the real app); without JavaScript the form posts and the page reloads with it."""
    _sandbox_configured()
    identity_request = sandbox_request_for_phone(receipt_id)
    if identity_request is None:
        raise Http404
    form = SandboxAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        problem = ""
        try:
            identity_request = sandbox_request_answer(
                receipt_id=receipt_id, approve=form.cleaned_data["decision"] == "approve"
            )
        except IdentityReceiptError as error:
            problem = str(error.message)
        if _wants_json(request):  # the page's script (static/js/sandbox-phone.js): the answer shown in place
            identity_request = sandbox_request_for_phone(receipt_id)
            state = sandbox_request_state(identity_request)
            return JsonResponse({"state": state, "state_label": str(IdentityState(state).label), "problem": problem})
        if problem:
            messages.error(request, problem)
        return redirect("integrations:sandbox_phone", receipt_id=receipt_id)
    state = sandbox_request_state(identity_request)
    return render(
        request,
        "integrations/identity/phone.html",
        {
            "identity_request": identity_request,
            "state": state,
            "state_label": IdentityState(state).label,
            "phone": phone_number_masked(identity_request.phone),
            "answerable": state == IdentityState.PENDING,
        },
    )
