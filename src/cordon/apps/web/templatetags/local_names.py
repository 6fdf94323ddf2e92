"""Names in the page's language, built-ins of every template (see settings): ``{{ district|local }}`` is a
jurisdiction's, sector's, site's or plan's name in the page's language (its English name on an English page when
it has one, else its Chinese name); ``{{ round.design|pool_design }}`` a pool design's label."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.translation import get_language, pgettext

register = template.Library()


@register.filter
def local(thing: Any) -> str:
    if thing is None or thing == "":
        return ""
    if isinstance(thing, dict):
        return str(thing.get("name", ""))
    display = getattr(thing, "display_name", None)
    if callable(display):
        return str(display(get_language() or ""))
    return str(getattr(thing, "name", thing))


@register.filter
def pool_design(label: Any) -> str:
    """A pool design's label (``10-in-1``, ``individual``, ``array 20x20``, ``nested 20-4-1``) as the page's
    language writes it; the label itself stays the machine key stations, labs and the API use."""
    text = str(label or "").strip()
    low = text.lower()
    if low == "individual":
        return pgettext("pool design", "individual")
    if m := re.fullmatch(r"(\d+)-in-1", low):
        return pgettext("pool design", "%(n)s-in-1") % {"n": m[1]}
    if m := re.fullmatch(r"array (\d+)x(\d+)", low):
        return pgettext("pool design", "array %(r)s×%(c)s") % {"r": m[1], "c": m[2]}
    if m := re.fullmatch(r"nested ((?:\d+-)+\d+)", low):
        return pgettext("pool design", "nested %(levels)s") % {"levels": m[1]}
    if m := re.fullmatch(r"hypercube (\d+)\^(\d+)", low):
        return pgettext("pool design", "hypercube %(s)s^%(d)s") % {"s": m[1], "d": m[2]}
    return text
