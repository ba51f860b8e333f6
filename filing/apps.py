from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FilingConfig(AppConfig):
    """Cohorts, filing waves, the court exports and the standing packs (docs/filing.md); above claims."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "filing"
    verbose_name = _("소 제기")

    def ready(self) -> None:
        from accounts.services.signing import signature_purpose_register
        from claims.closing import claim_filed_check_register, filed_claim_check_register
        from claims.portal_notices import portal_notice_source_register
        from claims.review_panels import (
            claim_list_filter_register,
            claim_portal_panel_register,
            claim_review_panel_register,
        )
        from claims.services.recovery import stale_job_kind_register
        from core.personal_data import personal_data_contributor_register
        from filing.admin.readiness import ReadinessFilter
        from filing.personal_data import DESIGNATIONS_PERSONAL_DATA
        from filing.selectors.cohorts import claim_is_plaintiff_of_filed_wave, claimant_is_plaintiff_of_filed_wave
        from filing.selectors.readiness import readiness_portal_panel, readiness_review_panel
        from filing.services import notifications  # noqa: F401 - registers the cohort and wave audiences
        from filing.services.recovery import EXPORT_JOBS
        from filing.services.selected_parties import designation_portal_notices, designation_signature_purpose

        # Filing readiness (docs/filing.md, "Readiness") on claims' pages: the review page's checklist, the claim
        # list's filter and the claimant's "아직 필요한 것".
        claim_review_panel_register("admin/filing/_claim_readiness.html", readiness_review_panel)
        claim_list_filter_register(ReadinessFilter)
        claim_portal_panel_register("filing/_claim_readiness.html", readiness_portal_panel)
        stale_job_kind_register(EXPORT_JOBS)  # export jobs whose worker died are queued again, or failed
        filed_claim_check_register(claimant_is_plaintiff_of_filed_wave)  # the retainer's refund rule asks
        claim_filed_check_register(claim_is_plaintiff_of_filed_wave)  # additions after submission ask
        signature_purpose_register(designation_signature_purpose())  # the 선정서 signed with a certificate
        portal_notice_source_register(designation_portal_notices)  # "sign the 선정서" on the portal
        personal_data_contributor_register(DESIGNATIONS_PERSONAL_DATA)  # the signed 선정서 in the download and deletion
