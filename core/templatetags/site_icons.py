"""{% icon "telephone" %}: one of the site's Bootstrap Icons (settings.SITE_ICONS, npm `bootstrap-icons`) inlined
as SVG, so it takes the text colour, needs no request and no icon font. Decorative: hidden from screen readers;
the text beside it (or a visually hidden label) says what it means."""

import functools

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils.safestring import mark_safe

register = template.Library()


@functools.cache
def _icon_svg(name: str) -> str:
    if name not in settings.SITE_ICONS:
        raise template.TemplateSyntaxError(f"Unknown icon {name!r}: add it to settings.SITE_ICONS.")
    path = finders.find(f"vendor/bootstrap-icons/{name}.svg")
    if not path:
        return ""  # the browser packages are not installed (the system checks say so)
    with open(path, encoding="utf-8") as source:
        svg = source.read().strip()
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


@register.simple_tag
def icon(name: str) -> str:
    return mark_safe(_icon_svg(name))  # noqa: S308 - a file of an installed package, listed in settings.SITE_ICONS
