"""``{{ district|local }}``: a jurisdiction's or sector's name in the page's language (its English name on an
English page when it has one, else its Chinese name). A built-in of every template (see settings)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def local(thing: Any) -> str:
    if thing is None or thing == "":
        return ""
    display = getattr(thing, "display_name", None)
    if callable(display):
        return str(display(get_language() or ""))
    return str(getattr(thing, "name", thing))
