"""The consents page, withdrawing a consent, signing and downloading the power of attorney, checking a PDF."""

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts import journey
from accounts.forms_consents import ConsentsForm, PdfVerifyForm, PowerOfAttorneySignForm
from accounts.journey import journey_next_url, journey_step_blocker, journey_step_url
from accounts.models import ConsentDocument
from accounts.names import name_masked
from accounts.selectors import (
    ClaimantReadiness,
    ConsentStatus,
    claimant_readiness,
    consent_accepted_document_ids,
    consent_overview,
    power_of_attorney_by_pdf_sha256,
    power_of_attorney_current,
    power_of_attorney_for_download,
    signed_document_pdf_ready,
)
from accounts.services import consents as consent_services
from accounts.services import signing
from accounts.services.consents import ConsentError, consent_placeholder_values, consent_text_fill
from accounts.services.signing import SignatureError
from accounts.views.auth import client_ip_key
from config.hashing import sha256_chunks
from core.audit import RequestMeta, client_ip
from core.exceptions import ProviderError
from integrations.identity import IdentityMethod, identity_backend

PERSONAL_DATA_PERMISSION = "claims.view_personal_data"
# Each certified signature request makes the claimant's phone ring (accounts/views/identity.py has the same).
RATE_CERTIFIED_SIGNATURE_PER_ACCOUNT = "5/10m"
RATE_CERTIFIED_SIGNATURE_PER_IP = "30/h"
VERIFY_RATE_ANONYMOUS = "20/h"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if allowed else ""


def signed_onward_url(request: HttpRequest, next_url: str) -> str:
    """Where a signed power of attorney goes on to: the page asked for, else the next unfinished step or the claim
    wizard (accounts.journey). A `next` back to the signing page itself (the identity step was sent there) does
    not count: the claimant is done with it."""
    if next_url and urlsplit(next_url).path != reverse("accounts:power_of_attorney_sign"):
        return next_url
    return journey_next_url(user=request.user)


def _to(name: str, next_url: str) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': next_url})}" if next_url else reverse(name))


def _earlier_step(
    request: HttpRequest, readiness: ClaimantReadiness, next_url: str, *, key: str
) -> HttpResponse | None:
    """The journey step still open before this page's step (accounts.journey), if any. The consents page goes on
    to the signing page by itself; the other pages are told to come back here."""
    earlier = journey_step_blocker(readiness=readiness, key=key)
    if earlier is None:
        return None
    back = next_url if earlier.key == journey.CONSENTS else next_url or request.get_full_path()
    return redirect(journey_step_url(earlier, next_url=back))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consents(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if response := _consents_step_elsewhere(request=request, next_url=next_url):
        return response
    overview = consent_overview(user=request.user)
    pending = [
        status.document
        for status in overview
        if not status.accepted and status.document.kind != ConsentDocument.Kind.POWER_OF_ATTORNEY
    ]
    form = ConsentsForm(request.POST if request.method == "POST" else None, documents=pending)
    if (
        request.method == "POST"
        and form.is_valid()
        and (response := _consents_accept(request=request, form=form, next_url=next_url))
    ):
        return response
    return render(
        request,
        "accounts/consents/consents.html",
        _consents_context(request=request, form=form, overview=overview, pending=pending, next_url=next_url),
    )


def _consents_step_elsewhere(*, request: HttpRequest, next_url: str) -> HttpResponse | None:
    """Where the person goes instead of this page, if anywhere: an earlier open journey step, or the signing page
    when only the power-of-attorney text is open."""
    readiness = claimant_readiness(user=request.user)
    if response := _earlier_step(request, readiness, next_url, key=journey.CONSENTS):
        return response
    # Sent here by the guard, but only the power-of-attorney text is open: signing accepts it (the identity step
    # comes after signing, accounts.journey).
    if (
        next_url
        and request.method == "GET"
        and not journey.journey_step(journey.CONSENTS).done(readiness)
        and journey_step_blocker(readiness=readiness, key=journey.POWER_OF_ATTORNEY) is None
    ):
        return _to("accounts:power_of_attorney_sign", next_url)
    return None


def _consents_accept(*, request: HttpRequest, form: ConsentsForm, next_url: str) -> HttpResponse | None:
    """Record the accepted documents and redirect on; None (with the error on the form) when the service refuses."""
    try:
        consent_services.consents_accept(
            user=request.user, documents=form.accepted_documents(), meta=RequestMeta.from_request(request)
        )
    except ConsentError as error:
        form.add_error(None, error.message)
        return None
    messages.success(request, _("동의 내용을 저장했습니다."))
    if power_of_attorney_current(user=request.user) is None:
        return _to("accounts:power_of_attorney_sign", next_url)
    return redirect(next_url or reverse("accounts:consents"))


def _consents_context(
    *,
    request: HttpRequest,
    form: ConsentsForm,
    overview: list[ConsentStatus],
    pending: list[ConsentDocument],
    next_url: str,
) -> dict[str, Any]:
    """The page's documents with their filled-in texts, required (other than the power of attorney) and optional."""
    values = consent_placeholder_values(user=request.user)
    items = [
        {
            "status": status,
            "text": consent_text_fill(document=status.document, values=values),
            "field": form[ConsentsForm.field_name(status.document)] if status.document in pending else None,
        }
        for status in overview
    ]
    return {
        "form": form,
        "required_items": [
            item
            for item in items
            if item["status"].document.is_required
            and item["status"].document.kind != ConsentDocument.Kind.POWER_OF_ATTORNEY
        ],
        "optional_items": [item for item in items if not item["status"].document.is_required],
        "power_of_attorney": power_of_attorney_current(user=request.user),
        "pending": pending,
        "next_url": next_url,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, document_id: int) -> HttpResponse:
    """A confirmation page saying what withdrawing costs, then the withdrawal (POST)."""
    document = get_object_or_404(ConsentDocument, pk=document_id, published_at__isnull=False)
    if document.pk not in consent_accepted_document_ids(user=request.user):
        messages.info(request, _("이 문서에는 동의한 상태가 아닙니다."))
        return redirect("accounts:consents")
    if request.method == "POST":
        try:
            consent_services.consent_withdraw(
                user=request.user, document=document, meta=RequestMeta.from_request(request)
            )
        except ConsentError as error:
            messages.error(request, error.message)
        else:
            if document.is_required:
                messages.warning(request, _("철회했습니다. 소송 참여가 중단되었습니다."))
            else:
                messages.success(request, _("철회했습니다. 소송 소식을 더 이상 보내 드리지 않습니다."))
        return redirect("accounts:consents")
    return render(request, "accounts/consents/withdraw_confirm.html", {"document": document})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def power_of_attorney_sign(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    readiness = claimant_readiness(user=request.user)
    if response := _earlier_step(request, readiness, next_url, key=journey.POWER_OF_ATTORNEY):
        return response
    signed = power_of_attorney_current(user=request.user)
    document = next(
        (
            status.document
            for status in consent_overview(user=request.user)
            if status.document.kind == ConsentDocument.Kind.POWER_OF_ATTORNEY
        ),
        None,
    )
    if document is None:
        raise Http404(_("아직 게시된 소송위임장이 없습니다."))
    if request.method == "POST" and signed is None and "certified" in request.POST:
        return _power_of_attorney_certified_start(request, document=document, next_url=next_url)
    form = PowerOfAttorneySignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and signed is None and form.is_valid():
        try:
            signing.power_of_attorney_sign(
                user=request.user,
                document=document,
                meta=RequestMeta.from_request(request),
                signature_png=form.cleaned_data["signature_png"],
                typed_name=form.cleaned_data["typed_name"],
            )
        except SignatureError as error:
            form.add_error(
                "typed_name" if form.cleaned_data["signature_png"] is None else "signature",
                error.message,
            )
        except ConsentError as error:
            form.add_error(None, error.message)
        else:
            # On at once to the page asked for, else the next unfinished step or the claim wizard (accounts.journey);
            # the signed PDF stays on this page, the consents page and the checklist.
            messages.success(
                request, _("소송위임장 서명을 마쳤습니다. 서명된 PDF는 ‘동의 관리’에서 언제든 내려받을 수 있습니다.")
            )
            return redirect(signed_onward_url(request, next_url))
    text = consent_text_fill(document=document, values=consent_placeholder_values(user=request.user))
    return render(
        request,
        "accounts/consents/power_of_attorney_sign.html",
        {
            "document": document,
            "text": text,
            "form": form,
            "signed": signed,
            "next_url": next_url,
            "continue_url": signed_onward_url(request, next_url),
            "certified_available": identity_backend().available,
            # No identity check yet: the claimant picks the certificate app, and the signature finishes the
            # identity step too (accounts.journey).
            "certified_methods": IdentityMethod.choices
            if identity_backend().available and not readiness.identity_verified
            else (),
            "handwritten_allowed": signing.handwritten_signature_allowed(),
            "sandbox": identity_backend().sandbox,
        },
    )


@ratelimit(key="user", rate=RATE_CERTIFIED_SIGNATURE_PER_ACCOUNT, method="POST")
@ratelimit(key=client_ip_key, rate=RATE_CERTIFIED_SIGNATURE_PER_IP, method="POST")
def _power_of_attorney_certified_start(
    request: HttpRequest, *, document: ConsentDocument, next_url: str
) -> HttpResponse:
    """Send the certified signature request and go to the "approve on your phone" page."""
    try:
        verification = signing.power_of_attorney_certified_start(
            user=request.user,
            document=document,
            meta=RequestMeta.from_request(request),
            method=request.POST.get("certified_method", ""),
        )
    except ProviderError as error:
        retry = _("잠시 뒤 다시 시도해 주세요.") if error.retryable else ""
        messages.error(request, f"{error.message} {retry}".strip())
        return _to("accounts:power_of_attorney_sign", next_url)
    except ConsentError as error:
        messages.error(request, error.message)
        return _to("accounts:power_of_attorney_sign", next_url)
    url = reverse("accounts:identity_wait", args=[verification.pk])
    return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


@never_cache
@login_required
@require_GET
def power_of_attorney_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed PDF, as an attachment: only its signer, or staff allowed to see personal data."""
    power_of_attorney = power_of_attorney_for_download(user=request.user, pk=pk)
    if power_of_attorney is None:
        raise Http404
    if power_of_attorney.user_id != request.user.pk:
        signing.power_of_attorney_access_record(
            power_of_attorney=power_of_attorney, actor=request.user, meta=RequestMeta.from_request(request)
        )
    return signed_pdf_response(
        request, power_of_attorney, title="소송위임장", pending_text=_("서명한 위임장 PDF를 만들고 있습니다")
    )


SIGNED_PDF_WAITED = "waited"
SIGNED_PDF_REFRESH_SECONDS = 2


def signed_pdf_response(request: HttpRequest, record, *, title: str, pending_text: str) -> HttpResponse:
    """A signed document's stored PDF (a power of attorney, a 선정서) as a private attachment. Until its worker has
    rendered it: a page saying so that reloads itself (a meta refresh: the CSP allows no inline script) and, once
    the PDF is there, shows the download link."""
    ready = signed_document_pdf_ready(record)
    if not ready or SIGNED_PDF_WAITED in request.GET:
        return render(
            request,
            "accounts/consents/signed_pdf_wait.html",
            {
                "title": title,
                "record": record,
                "ready": ready,
                "pending_text": pending_text,
                "download_url": request.path,
                "refresh_url": f"{request.path}?{SIGNED_PDF_WAITED}=1",
                "refresh_seconds": SIGNED_PDF_REFRESH_SECONDS,
            },
        )
    response = FileResponse(
        record.pdf.open("rb"),
        as_attachment=True,
        filename=f"{title}-{record.document_number}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _verify_rate_key(group: str, request: HttpRequest) -> str:
    return client_ip(request) or ""


def _verify_rate(group: str, request: HttpRequest) -> str | None:
    """Staff who may see personal data are not limited; everyone else may check 20 files an hour per IP."""
    return None if request.user.has_perm(PERSONAL_DATA_PERMISSION) else VERIFY_RATE_ANONYMOUS


@never_cache
@ratelimit(key=_verify_rate_key, rate=_verify_rate, method="POST", block=False)
@require_http_methods(["GET", "POST"])
def power_of_attorney_verify(request: HttpRequest) -> HttpResponse:
    """Upload a PDF and learn whether it is exactly a recorded signed power of attorney (by SHA-256)."""
    limited = request.method == "POST" and getattr(request, "limited", False)
    form = PdfVerifyForm(request.POST, request.FILES) if request.method == "POST" and not limited else PdfVerifyForm()
    result = None
    if form.is_bound and form.is_valid():
        sha256 = sha256_chunks(form.cleaned_data["document"].chunks())
        match = power_of_attorney_by_pdf_sha256(sha256=sha256)
        result = {
            "sha256": sha256,
            "match": match,
            "masked_name": name_masked(match.signer_snapshot.get("name", "")) if match else "",
            "full_details": request.user.has_perm(PERSONAL_DATA_PERMISSION),
            "certified_intact": bool(match) and signing.power_of_attorney_certified_intact(power_of_attorney=match),
            "certified_method": IdentityMethod(match.certified_signature.method).label
            if match and match.certified_signature
            else "",
        }
    return render(
        request,
        "accounts/consents/verify.html",
        {"form": form, "result": result, "limited": limited},
        status=429 if limited else 200,
    )
