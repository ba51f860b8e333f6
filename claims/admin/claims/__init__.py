"""The claim review workspace in the admin, one module per part:

- claim.py: ClaimAdmin, the claim list (columns, normalised search) and the routes it adds;
- access.py: who may see, review, decide and read personal data; the claim a staff page is about;
- filters.py: the list's filters; paginator.py: counts that stay fast on a large table;
- bulk_actions.py: assigning a reviewer and accepting many claims at once;
- review.py: the review page and the review actions on one claim;
- evidence_files.py: the private, audited responses of evidence files and PDF page images;
- flags.py and rejection_reasons.py: the flag list and the rejection reasons.

Importing this package registers the three admins."""

from claims.admin.claims.claim import ClaimAdmin
from claims.admin.claims.flags import FlagAdmin
from claims.admin.claims.paginator import EstimatedCountPaginator
from claims.admin.claims.rejection_reasons import RejectionReasonAdmin

__all__ = ["ClaimAdmin", "EstimatedCountPaginator", "FlagAdmin", "RejectionReasonAdmin"]
