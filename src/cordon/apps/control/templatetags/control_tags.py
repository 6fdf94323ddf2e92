from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ counts|get_item:name }}``: a dictionary value by a key held in a variable."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return None
