from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.selectors import firm_profile


def firm(request: HttpRequest) -> dict:
    """`firm` in every template: the firm's profile, read (from the cache) only when a template uses it."""
    return {"firm": SimpleLazyObject(firm_profile)}
