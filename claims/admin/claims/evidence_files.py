"""Evidence files for staff: private responses (sandboxed, never cached, every one audited) of a claim's files
and of the page images drawn from its PDFs."""

from collections.abc import Callable

from csp.decorators import csp_update
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _

from claims.models import Claim, Evidence
from claims.selectors.review import evidence_for_staff
from claims.services.evidence import evidence_download_name
from core.audit import RequestMeta, audit_record
from core.models import AuditEntry

# Shown inline only when the bytes were checked at upload (claims/validators.py) or re-encoded by us. Never a PDF:
# a browser's PDF viewer runs the file's scripts. Staff read PDFs as page images drawn on the server
# (claims/services/evidence_previews.py) and download the original as an attachment.
INLINE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png"})
# Evidence responses are sandboxed documents: opened on their own they run no script and reach no origin.
EVIDENCE_SANDBOX = csp_update({"sandbox": True})


def _evidence_file_response(
    request: HttpRequest,
    *,
    claim: Claim,
    evidence: Evidence,
    open_file: Callable[[], File],
    audit: dict,
    **response_options,
) -> FileResponse:
    """A stored evidence file (404 once the retention rules removed it), its view audited, never cached."""
    try:
        handle = open_file()
    except FileNotFoundError:  # removed by the retention rules after the claim was closed
        raise Http404(_("파일이 더 이상 보관되어 있지 않습니다.")) from None
    audit_record(
        actor=request.user,
        action=AuditEntry.Action.VIEWED_EVIDENCE,
        target=evidence,
        claim=claim,
        meta=RequestMeta.from_request(request),
        data={"evidence": evidence.pk, **audit},
    )
    response = FileResponse(handle, **response_options)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class ClaimEvidenceFiles:
    """Mixed into ClaimAdmin (needs ClaimAccess.claim_or_404); routed in ClaimAdmin.get_urls under
    EVIDENCE_SANDBOX."""

    def evidence_view(self, request: HttpRequest, object_id: str, evidence_id: int) -> FileResponse:
        """An evidence file for staff: pictures as their metadata-free copy; PDFs (read on the review page as page
        images), anything else, or `?download=1`, as an attachment of type application/octet-stream, which no
        browser hands to its PDF viewer. Every request is audited."""
        claim = self.claim_or_404(request, object_id)
        evidence = evidence_for_staff(claim_id=claim.pk, evidence_id=evidence_id)
        if evidence is None:
            raise Http404
        download = request.GET.get("download") == "1"
        display = not download and bool(evidence.display_file)
        stored = evidence.display_file if display else evidence.file
        content_type = evidence.content_type
        if display:
            content_type = "image/png" if evidence.content_type == "image/png" else "image/jpeg"
        inline = display and content_type in INLINE_CONTENT_TYPES  # an upload itself is only ever a download
        return _evidence_file_response(
            request,
            claim=claim,
            evidence=evidence,
            open_file=lambda: stored.open("rb"),
            audit={"variant": "display" if display else "original", "inline": inline},
            as_attachment=not inline,
            filename=evidence_download_name(evidence=evidence, display=display),
            content_type=content_type if inline else "application/octet-stream",
        )

    def evidence_preview_view(self, request: HttpRequest, object_id: str, evidence_id: int, page: int) -> FileResponse:
        """One page of a PDF's preview, a PNG drawn on the server (never the PDF itself); same permission and
        audit as the file."""
        claim = self.claim_or_404(request, object_id)
        evidence = evidence_for_staff(claim_id=claim.pk, evidence_id=evidence_id)
        pages = evidence.preview_pages if evidence is not None else []
        if not 1 <= page <= len(pages):
            raise Http404
        return _evidence_file_response(
            request,
            claim=claim,
            evidence=evidence,
            open_file=lambda: default_storage.open(pages[page - 1]["name"], "rb"),
            audit={"variant": "preview", "page": page, "inline": True},
            content_type="image/png",
        )
