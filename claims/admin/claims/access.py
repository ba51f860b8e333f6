"""Who may do what with claims in the admin, and the claim a staff page is about."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from claims.models import Claim
from claims.services.review import PERMISSION_DECIDE, PERMISSION_REVIEW

PERMISSION_PERSONAL_DATA = "claims.view_personal_data"


class ClaimAccess:
    """The claim admin's permissions, mixed into ClaimAdmin ahead of ModelAdmin. Reviewers see and correct
    submitted claims; nobody adds or deletes one here; a claim's own pages need the personal-data permission."""

    def has_view_permission(self, request, obj=None):
        user = request.user
        return super().has_view_permission(request, obj) or user.has_perm(PERMISSION_REVIEW)

    def has_change_permission(self, request, obj=None):
        """Reviewers correct submitted claims; a draft is the claimant's own until it is submitted."""
        return request.user.has_perm(PERMISSION_REVIEW) and (obj is None or obj.status != Claim.Status.DRAFT)

    def has_add_permission(self, request):
        return False  # claimants file claims

    def has_delete_permission(self, request, obj=None):
        return False  # claims are withdrawn or rejected, never deleted from here

    def has_review_permission(self, request):
        return request.user.has_perm(PERMISSION_REVIEW)

    def has_decide_permission(self, request):
        return request.user.has_perm(PERMISSION_DECIDE)

    @staticmethod
    def sees_personal_data(request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION_PERSONAL_DATA)

    def claim_or_404(self, request: HttpRequest, object_id: str) -> Claim:
        """The claim a review or evidence page is about, for staff with the personal-data permission."""
        if not self.sees_personal_data(request):
            raise PermissionDenied
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            raise Http404(_("신청을 찾을 수 없습니다."))
        return claim
