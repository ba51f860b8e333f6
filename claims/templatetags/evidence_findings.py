"""The claimant's feedback under an uploaded file (claims/selectors/evidence_findings.py), polled while pending."""

from django import template

from claims.models import Evidence
from claims.selectors.evidence_findings import finding_feedback

register = template.Library()


@register.inclusion_tag("claims/wizard/_evidence_finding.html")
def evidence_feedback(evidence: Evidence) -> dict:
    return {"feedback": finding_feedback(evidence), "evidence": evidence}
