"""The claimant's 선정서 page: read the 선정서 naming the wave's selected parties, sign it (with a certificate
where an identity provider is configured, or drawn/typed where the firm allows it), download the signed PDF."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.decorators import claimant_required
from accounts.services.signing import SignatureError, handwritten_signature_allowed
from accounts.views.auth import client_ip_key
from accounts.views.consents import (
    RATE_CERTIFIED_SIGNATURE_PER_ACCOUNT,
    RATE_CERTIFIED_SIGNATURE_PER_IP,
    signed_pdf_response,
)
from core.audit import RequestMeta
from core.exceptions import ApplicationError, ProviderError
from filing.forms import DesignationSignForm
from filing.models import DesignationRequest
from filing.selectors.selected_parties import designation_request_for_user
from filing.services import selected_parties as services
from integrations.identity import identity_backend


def _request(request: HttpRequest, pk: int) -> DesignationRequest:
    found = designation_request_for_user(user=request.user, pk=pk)
    if found is None:
        raise Http404
    return found


@never_cache
@claimant_required
@require_http_methods(["GET", "POST"])
def designation_sign(request: HttpRequest, pk: int) -> HttpResponse:
    designation_request = _request(request, pk)
    signed = getattr(designation_request, "designation", None)
    if request.method == "POST" and signed is None and "certified" in request.POST:
        return _certified_start(request, designation_request=designation_request)
    form = DesignationSignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and signed is None and form.is_valid():
        try:
            services.designation_sign(
                request=designation_request,
                user=request.user,
                meta=RequestMeta.from_request(request),
                signature_png=form.cleaned_data["signature_png"],
                typed_name=form.cleaned_data["typed_name"],
            )
        except SignatureError as error:
            field = "typed_name" if form.cleaned_data["signature_png"] is None else "signature"
            form.add_error(field, error.message)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("선정서 서명을 마쳤습니다. 서명된 PDF를 내려받아 보관하세요."))
            return redirect("filing:designation_sign", pk=pk)
    return render(
        request,
        "filing/designation_sign.html",
        {
            "designation_request": designation_request,
            "text": services.designation_document_to_sign(request=designation_request, user=request.user).text,
            "form": form,
            "signed": signed,
            "certified_available": identity_backend().available,
            "handwritten_allowed": handwritten_signature_allowed(),
            "sandbox": identity_backend().sandbox,
            "certified_help": _(
                "본인인증에 쓴 앱(카카오톡, PASS, 네이버, 토스)으로 위 선정서 내용의 해시값에 전자서명합니다. "
                "전자서명법에 따른 인증서 서명으로, 법원에서 가장 강한 증명이 됩니다."
            ),
        },
    )


@ratelimit(key="user", rate=RATE_CERTIFIED_SIGNATURE_PER_ACCOUNT, method="POST")
@ratelimit(key=client_ip_key, rate=RATE_CERTIFIED_SIGNATURE_PER_IP, method="POST")
def _certified_start(request: HttpRequest, *, designation_request: DesignationRequest) -> HttpResponse:
    """Send the certified signature request and go to the identity pages' "approve on your phone" page."""
    try:
        verification = services.designation_certified_start(
            request=designation_request, user=request.user, meta=RequestMeta.from_request(request)
        )
    except ProviderError as error:
        retry = _("잠시 뒤 다시 시도해 주세요.") if error.retryable else ""
        messages.error(request, f"{error.message} {retry}".strip())
        return redirect("filing:designation_sign", pk=designation_request.pk)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("filing:designation_sign", pk=designation_request.pk)
    return redirect(reverse("accounts:identity_wait", args=[verification.pk]))


@never_cache
@claimant_required
@require_GET
def designation_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed 선정서 PDF, for its signer."""
    designation = getattr(_request(request, pk), "designation", None)
    if designation is None:
        raise Http404
    return signed_pdf_response(
        request, designation, title="선정서", pending_text=_("서명한 선정서 PDF를 만들고 있습니다")
    )
