"""Labels for evidence on the review page: what active content a PDF holds, and why a PDF has no preview or a
picture no display copy."""

from django import template
from django.utils.translation import gettext as _

from claims import pdfs
from claims.models import Evidence
from claims.services import evidence_previews
from claims.validators import PDF_FINDING_LABELS

register = template.Library()


def _failure_labels() -> dict[str, str]:
    return {
        pdfs.DAMAGED: _("PDF가 손상되어 페이지를 그릴 수 없습니다."),
        pdfs.PASSWORD: _("암호가 걸린 PDF라 페이지를 그릴 수 없습니다."),
        pdfs.NO_PAGES: _("페이지가 없는 PDF입니다."),
        pdfs.TOO_COMPLEX: _("PDF 구조가 너무 복잡해서 그리지 않았습니다."),
        pdfs.TIMEOUT: _("페이지를 그리는 데 너무 오래 걸려 멈췄습니다."),
        evidence_previews.FAILURE_MISSING: _("원본 파일이 더 이상 보관되어 있지 않습니다."),
        evidence_previews.FAILURE_CRASHED: _("이 파일을 그리다가 작업이 여러 번 중단되어 그만두었습니다."),
        evidence_previews.FAILURE_ERROR: _("페이지를 그리는 중에 오류가 났습니다."),
    }


@register.filter
def pdf_finding_labels(evidence: Evidence) -> list[str]:
    return [str(PDF_FINDING_LABELS.get(finding, finding)) for finding in evidence.pdf_findings or []]


def _image_failure_labels() -> dict[str, str]:
    return {
        evidence_previews.FAILURE_UNREADABLE: _("사진을 읽을 수 없어 표시용 사본을 만들지 못했습니다."),
        evidence_previews.FAILURE_MISSING: _("원본 파일이 더 이상 보관되어 있지 않습니다."),
        evidence_previews.FAILURE_CRASHED: _("이 파일을 그리다가 작업이 여러 번 중단되어 그만두었습니다."),
    }


@register.filter
def preview_failure_label(evidence: Evidence) -> str:
    if evidence.content_type != evidence_previews.PDF:
        return _image_failure_labels().get(evidence.preview_failure, _("표시용 사본을 만드는 중에 오류가 났습니다."))
    return _failure_labels().get(evidence.preview_failure, _("페이지를 그리는 중에 오류가 났습니다."))
