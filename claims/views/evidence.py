"""Evidence files: upload (one file per request, with progress in the browser), removal, and downloads that
only the claimant and authorised staff get, always as attachments."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import claimant_required
from claims.forms import EvidenceUploadForm
from claims.models import Claim, Evidence
from claims.selectors import intake as selectors
from claims.selectors.evidence_findings import finding_feedback
from claims.services import evidence as evidence_services
from claims.services import evidence_findings
from claims.services.evidence_previews import evidence_thumbnail as thumbnail_draw
from claims.services.intake import ClaimError
from claims.views.common import missing_evidence
from core.audit import RequestMeta

# Files are sandboxed documents: opened on their own they run no script.
EVIDENCE_SANDBOX = csp_update({"sandbox": True})
# The multipart envelope around one file: boundaries, headers and the small form fields.
UPLOAD_ENVELOPE_BYTES = 64 * 1024


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _back(request: HttpRequest, claim: Claim) -> HttpResponse:
    """Back to the page the form was on (the evidence step or an information request)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("claims:wizard_evidence", pk=claim.pk)


def _refuse(request: HttpRequest, claim: Claim, message: str, status: int = 400) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=status)
    messages.error(request, message)
    return _back(request, claim)


@claimant_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_for_claimant(user=request.user, pk=pk)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.EVIDENCE_MAX_BYTES + UPLOAD_ENVELOPE_BYTES:  # refused before the body is read
        return _refuse(request, claim, evidence_services.evidence_too_large_message(), status=413)
    information_request = None
    if request.POST.get("information_request"):
        try:
            request_pk = int(request.POST["information_request"])
        except ValueError:
            raise Http404("Bad information request id.") from None
        information_request = selectors.information_request_for_claimant(
            user=request.user, claim_pk=claim.pk, pk=request_pk
        )
    form = EvidenceUploadForm(request.POST, request.FILES, loss_items=selectors.loss_items_for_claim(claim=claim))
    if not form.is_valid():
        return _refuse(request, claim, " ".join(message for errors in form.errors.values() for message in errors))
    try:
        evidence = evidence_services.evidence_attach(
            claim=claim,
            actor=request.user,
            upload=form.cleaned_data["file"],
            tag=form.cleaned_data["tag"],
            loss_item=form.loss_item_object(),
            information_request=information_request,
            meta=RequestMeta.from_request(request),
        )
    except ClaimError as error:
        return _refuse(request, claim, error.message)
    if _wants_json(request):
        # with tasks inline (make run without Redis) the display copy was made once the upload committed
        evidence.refresh_from_db(fields=["display_file", "preview_status", "preview_failure"])
        row = render_to_string(
            "claims/wizard/_evidence_row.html",
            {"claim": claim, "item": evidence, "can_remove": claim.status == Claim.Status.DRAFT},
            request=request,
        )
        return JsonResponse({"ok": True, "id": evidence.pk, "html": row, "state": _state(request, claim)}, status=201)
    messages.success(request, _("파일을 올렸습니다: %(name)s") % {"name": evidence.original_name})
    return _back(request, claim)


def _state(request: HttpRequest, claim: Claim) -> dict[str, str]:
    """The parts of the evidence page that depend on the files (their count, what is still missing), rendered
    again after an upload so the page never shows a stale count or warning."""
    loss_items = list(selectors.loss_items_for_claim(claim=claim))
    evidence = list(selectors.evidence_for_claim(claim=claim))
    checklist = selectors.claim_checklist(claim=claim, loss_items=loss_items, evidence=evidence)
    missing = missing_evidence(claim, checklist)
    context = {"claim": claim, "evidence": evidence, "checklist": checklist, "missing": missing}
    return {
        region: render_to_string(f"claims/wizard/_evidence_{region}.html", context, request=request)
        for region in ("summary", "count")
    }


@claimant_required
@require_GET
@EVIDENCE_SANDBOX
def evidence_thumbnail(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    """A small picture of one of the owner's files, drawn from its display copy or PDF preview (never the upload)."""
    evidence = selectors.evidence_for_owner(user=request.user, claim_pk=pk, evidence_pk=evidence_pk)
    data = thumbnail_draw(evidence=evidence)
    if data is None:
        raise Http404("No thumbnail.")
    response = HttpResponse(data, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@claimant_required
@require_POST
def evidence_remove(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    evidence = selectors.evidence_for_owner(user=request.user, claim_pk=pk, evidence_pk=evidence_pk)
    try:
        evidence_services.evidence_remove(evidence=evidence, actor=request.user, meta=RequestMeta.from_request(request))
    except ClaimError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("파일을 지웠습니다: %(name)s") % {"name": evidence.original_name})
    return _back(request, evidence.claim)


def _attachment(evidence: Evidence, *, display: bool, original=None) -> FileResponse:
    """One copy as an attachment: the display copy, the stored file (masked when it showed resident numbers), or
    `original`, the claimant's own upload as it was."""
    field = evidence.display_file if display else evidence.file
    if not field:
        raise Http404("No such copy.")
    content_type = ("image/png" if evidence.content_type == "image/png" else "image/jpeg") if display else None
    if evidence.content_type == "application/pdf":  # a type no browser hands to its PDF viewer (which runs scripts)
        content_type = "application/octet-stream"
    response = FileResponse(
        original or field.open("rb"),
        as_attachment=True,
        filename=evidence_services.evidence_download_name(evidence=evidence, display=display),
        content_type=content_type or evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@claimant_required
@require_GET
def evidence_finding(request: HttpRequest, pk: int, evidence_pk: int) -> JsonResponse:
    """The feedback under one of the claimant's files, polled by the evidence page while the file is read."""
    evidence = selectors.evidence_finding_for_owner(user=request.user, claim_pk=pk, evidence_pk=evidence_pk)
    feedback = finding_feedback(evidence)
    html = render_to_string(
        "claims/wizard/_evidence_finding.html", {"feedback": feedback, "evidence": evidence}, request=request
    )
    return JsonResponse({"pending": bool(feedback and feedback.pending), "html": html})


@claimant_required
@require_GET
@EVIDENCE_SANDBOX
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int, display: bool = False) -> FileResponse:
    evidence = selectors.evidence_for_owner(user=request.user, claim_pk=pk, evidence_pk=evidence_pk)
    original = None if display else evidence_findings.evidence_original_open(evidence)
    return _attachment(evidence, display=display, original=original)


@login_required
@require_GET
@EVIDENCE_SANDBOX
def staff_evidence_download(request: HttpRequest, evidence_pk: int, display: bool = False) -> FileResponse:
    """Staff with the personal-data permission; every download is recorded on the claim's audit trail."""
    if not (request.user.is_staff and request.user.has_perm("claims.view_personal_data")):
        raise Http404("Not found.")
    evidence = selectors.evidence_for_staff(evidence_pk=evidence_pk)
    evidence_services.evidence_access_record(
        evidence=evidence, actor=request.user, meta=RequestMeta.from_request(request)
    )
    return _attachment(evidence, display=display)
