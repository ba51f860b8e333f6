from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FilingConfig(AppConfig):
    """Cohorts, filing waves, the court exports and the standing packs (docs/filing.md); above claims."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "filing"
    verbose_name = _("소 제기")

    def ready(self) -> None:
        from claims.closing import claim_filed_check_register, filed_claim_check_register
        from claims.services.recovery import stale_job_kind_register
        from filing.selectors.cohorts import claim_is_plaintiff_of_filed_wave, claimant_is_plaintiff_of_filed_wave
        from filing.services import notifications  # noqa: F401 - registers the cohort and wave audiences
        from filing.services.recovery import EXPORT_JOBS

        stale_job_kind_register(EXPORT_JOBS)  # export jobs whose worker died are queued again, or failed
        filed_claim_check_register(claimant_is_plaintiff_of_filed_wave)  # the retainer's refund rule asks
        claim_filed_check_register(claim_is_plaintiff_of_filed_wave)  # additions after submission ask
