from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """The retainer (docs/payments.md): orders, the payment ledger, refunds, waivers and the daily reconciliation.
    Above accounts and claims, which never import it: it registers the journey's payment step and its refund rule
    here instead."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = _("착수금 결제")

    def ready(self) -> None:
        from accounts.journey import RETAINER
        from accounts.selectors import journey_step_check_register
        from claims.closing import claim_closed_listener_register
        from claims.review_panels import claim_review_panel_register
        from core.personal_data import personal_data_contributor_register
        from payments import services  # noqa: F401 - registers the receipt and refund emails' renderers
        from payments.personal_data import RETAINER_PERSONAL_DATA
        from payments.selectors import retainer_review_panel, retainer_step_done

        journey_step_check_register(RETAINER, retainer_step_done)
        claim_closed_listener_register(services.retainer_claim_closed)
        claim_review_panel_register("admin/payments/_claim_retainer.html", retainer_review_panel)
        personal_data_contributor_register(RETAINER_PERSONAL_DATA)  # the download and account deletion
