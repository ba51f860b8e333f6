"""The plaintiff's signed 선정서 in their data download and on account deletion (core.personal_data): exported with
their PDFs; on deletion kept (the signed designation is part of the filed suit's record, like the power of
attorney) without the person's details in their signature evidence."""

from typing import Any

from accounts.models import User
from accounts.selectors import signed_document_pdf_ready
from accounts.services.data_rights import personal_values, signature_evidence_scrub
from core.personal_data import Attach, PersonalDataContributor, PersonalDataErasure, row_export
from filing.models import Designation


def designations_personal_data_export(*, user: User, attach: Attach) -> list[dict[str, Any]]:
    rows = []
    for designation in Designation.objects.filter(user=user).select_related("request__wave").order_by("signed_at"):
        row = row_export(designation, exclude=("pdf", "signature_image", "user", "request"))
        row.update(
            wave=designation.request.wave.name,
            pdf_in_zip=attach(designation.pdf, "designations", f"{designation.pk}-signed.pdf"),
            pdf_being_rendered=not signed_document_pdf_ready(designation),
        )
        rows.append(row)
    return rows


def designations_personal_data_erase(*, user: User, actor: User | None) -> PersonalDataErasure:
    kept = signature_evidence_scrub(Designation.objects.filter(user=user), personal=personal_values(user))
    return PersonalDataErasure(outcome={"designations_kept": len(kept)})


def designations_profile_changed(*, user: User, fields: list[str], labels: str) -> None:
    """A signed 선정서 keeps the details it was signed with: nothing to note."""


DESIGNATIONS_PERSONAL_DATA = PersonalDataContributor(
    key="designations",
    export=designations_personal_data_export,
    erase=designations_personal_data_erase,
    profile_changed=designations_profile_changed,
)
