from django import template
from django.utils.translation import gettext

register = template.Library()


def format_won(value: int | None) -> str:
    """Whole won with thousands separators, in the active language: '1,234,000원' (ko), '1,234,000 won' (en)."""
    if value is None or value == "":
        return "-"
    return gettext("%(amount)s원") % {"amount": f"{int(value):,}"}


register.filter("won", format_won)
