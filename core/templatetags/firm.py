"""{% firm_profile as firm %}: the firm's profile (cached, core.selectors.firm_profile) in templates rendered without
a request, such as the emails (templates/_email_signature.txt); pages get `firm` from core.context_processors."""

from django import template

from core.models import FirmProfile
from core.selectors import firm_profile as firm_profile_read

register = template.Library()


@register.simple_tag
def firm_profile() -> FirmProfile:
    return firm_profile_read()
