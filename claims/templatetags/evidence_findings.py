"""The claimant's feedback under an uploaded file (claims/selectors/evidence_findings.py), polled while pending."""

from django import template

from claims.models import Evidence
from claims.selectors.evidence_findings import finding_feedback

register = template.Library()


@register.inclusion_tag("claims/wizard/_evidence_finding.html")
def evidence_feedback(evidence: Evidence) -> dict:
    return {"feedback": finding_feedback(evidence), "evidence": evidence}


@register.filter
def finding_boxes(finding) -> list[dict]:
    """The boxes to draw over a picture on the review page: what the proof-of-use judgement rests on ("moment")
    and the amounts read ("amount"), in the upright picture's pixels (the SVG's viewBox)."""
    boxes = [{"kind": "moment", "box": box} for part in finding.proof_reason for box in part["boxes"] if len(box) == 4]
    boxes += [{"kind": "amount", "box": box} for amount in finding.amounts for box in amount["boxes"] if len(box) == 4]
    return boxes
