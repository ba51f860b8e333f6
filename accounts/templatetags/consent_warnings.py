"""`{% consent_example_warning %}` on the admin index (templates/admin/index.html): a warning, for staff who may
publish consent documents, while a current one still names the seeded example firm."""

from django import template

from accounts.selectors import consent_documents_with_examples

register = template.Library()

PERMISSION_PUBLISH = "accounts.change_consentdocument"


@register.inclusion_tag("admin/accounts/consent_example_warning.html", takes_context=True)
def consent_example_warning(context) -> dict:
    if not context["request"].user.has_perm(PERMISSION_PUBLISH):
        return {"documents": []}
    return {"documents": consent_documents_with_examples()}
