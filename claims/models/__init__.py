"""Reference data (incidents, services, outage windows), claims with their loss items and evidence,
the claim timeline, damage-model versions and estimates, and review flags.

One module per part (reference, claims, estimates, review); every model and helper is re-exported here, so
`from claims.models import Claim` and the migrations' `claims.models.evidence_path` and `export_path` keep working.
Cohorts, filing waves and export jobs moved to the filing app (claims migration 0017, filing migration 0001).
"""

# In definition order: Django registers the models in the order they are imported.
# isort: off
from claims.models.reference import (
    Incident,
    OutageWindow,
    OutageWindowRevision,
    Service,
)
from claims.models.claims import (
    REFERENCE_ALPHABET,
    Claim,
    ClaimEvent,
    EligibilityCheck,
    Evidence,
    InformationRequest,
    LossItem,
    evidence_path,
    export_path,
    new_reference_code,
)
from claims.models.estimates import (
    DamageModelVersion,
    Estimate,
    RecomputeChunk,
    RecomputeJob,
)
from claims.models.review import (
    Flag,
    RejectionReason,
)
from claims.models.evidence_reading import EvidenceFinding
# isort: on

__all__ = [
    "Claim",
    "ClaimEvent",
    "DamageModelVersion",
    "EligibilityCheck",
    "Estimate",
    "Evidence",
    "EvidenceFinding",
    "Flag",
    "Incident",
    "InformationRequest",
    "LossItem",
    "OutageWindow",
    "OutageWindowRevision",
    "REFERENCE_ALPHABET",
    "RecomputeChunk",
    "RecomputeJob",
    "RejectionReason",
    "Service",
    "evidence_path",
    "export_path",
    "new_reference_code",
]
