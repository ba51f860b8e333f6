from django.urls import path

from claims.views import evidence, portal, wizard

app_name = "claims"

urlpatterns = [
    path("", portal.index, name="index"),
    path("check/", wizard.eligibility_check, name="eligibility_check"),
    path("start/", wizard.start, name="start"),
    path("<int:pk>/", portal.detail, name="detail"),
    path("<int:pk>/resume/", wizard.resume, name="resume"),
    path("<int:pk>/wizard/eligibility/", wizard.wizard_eligibility, name="wizard_eligibility"),
    path("<int:pk>/wizard/claimant/", wizard.wizard_claimant, name="wizard_claimant"),
    path("<int:pk>/wizard/losses/", wizard.wizard_losses, name="wizard_losses"),
    path("<int:pk>/wizard/losses/<slug:service>/", wizard.wizard_losses_service, name="wizard_losses_service"),
    path("<int:pk>/wizard/evidence/", wizard.wizard_evidence, name="wizard_evidence"),
    path("<int:pk>/wizard/review/", wizard.wizard_review, name="wizard_review"),
    path("<int:pk>/submitted/", wizard.submitted, name="submitted"),
    path("<int:pk>/evidence/upload/", evidence.evidence_upload, name="evidence_upload"),
    path("<int:pk>/evidence/<int:evidence_pk>/finding/", evidence.evidence_finding, name="evidence_finding"),
    path("<int:pk>/evidence/<int:evidence_pk>/remove/", evidence.evidence_remove, name="evidence_remove"),
    path("<int:pk>/evidence/<int:evidence_pk>/download/", evidence.evidence_download, name="evidence_download"),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/display/",
        evidence.evidence_download,
        {"display": True},
        name="evidence_display",
    ),
    path("<int:pk>/evidence/<int:evidence_pk>/thumbnail/", evidence.evidence_thumbnail, name="evidence_thumbnail"),
    path("<int:pk>/requests/<int:request_pk>/", portal.information_request, name="information_request"),
    path("<int:pk>/add/", portal.additions, name="additions"),
    path("<int:pk>/withdraw/", portal.withdraw, name="withdraw"),
    path("<int:pk>/rejoin/", portal.rejoin, name="rejoin"),
    path("staff/evidence/<int:evidence_pk>/", evidence.staff_evidence_download, name="staff_evidence_download"),
    path(
        "staff/evidence/<int:evidence_pk>/display/",
        evidence.staff_evidence_download,
        {"display": True},
        name="staff_evidence_display",
    ),
]
