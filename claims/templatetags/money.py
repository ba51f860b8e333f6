from django import template

register = template.Library()


def format_won(value: int | None) -> str:
    """Whole won with thousands separators: 1234000 -> '1,234,000원'."""
    if value is None or value == "":
        return "-"
    return f"{int(value):,}원"


register.filter("won", format_won)
