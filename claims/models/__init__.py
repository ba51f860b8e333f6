"""Reference data (incidents, services, outage windows), claims with their loss items and evidence,
the claim timeline, damage-model versions and estimates, review flags, cohorts, filing waves and exports.

One module per part (reference, claims, estimates, review, filing); every model and helper is re-exported here, so
`from claims.models import Claim` and the migrations' `claims.models.evidence_path` keep working.
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
    Evidence,
    InformationRequest,
    LossItem,
    evidence_path,
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
from claims.models.filing import (
    Cohort,
    ExportJob,
    FilingWave,
    WaveMember,
    export_path,
)
# isort: on

__all__ = [
    "Claim",
    "ClaimEvent",
    "Cohort",
    "DamageModelVersion",
    "Estimate",
    "Evidence",
    "ExportJob",
    "FilingWave",
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
    "WaveMember",
    "evidence_path",
    "export_path",
    "new_reference_code",
]
