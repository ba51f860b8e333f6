"""Reads of core's own records."""

from django.conf import settings
from django.core.cache import cache

from core.models import FirmProfile

FIRM_PROFILE_CACHE_SECONDS = 60 * 60


def firm_profile_cache_key() -> str:
    return settings.FIRM_PROFILE_CACHE_KEY


def firm_profile() -> FirmProfile:
    """The firm's profile, from the cache (one query when the cache is cold, none after): the saved row, or an
    unsaved one with empty fields while staff have not filled it in (`FirmProfile.display_name` then falls back to
    the site's name). core.services.firm_profile_update empties the cache when the profile changes."""
    key = firm_profile_cache_key()
    profile = cache.get(key)
    if profile is None:
        profile = FirmProfile.objects.filter(pk=FirmProfile.SINGLETON_PK).first() or FirmProfile()
        cache.set(key, profile, FIRM_PROFILE_CACHE_SECONDS)
    return profile
