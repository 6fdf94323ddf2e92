"""Menus show only what the user may open: ``{% if user|may_open:"screening:alerts" %}`` asks the access rule
of the view behind the URL name (``cordon.core.access.may_open``), so a menu and the page's access decorator
cannot disagree."""

from __future__ import annotations

from typing import Any

from django import template

from cordon.core import homes
from cordon.core.access import may_open as _may_open

register = template.Library()


@register.filter
def may_open(user: Any, name: str) -> bool:
    return _may_open(user, name)


@register.filter
def has_own_home(user: Any) -> bool:
    """Whether the user's home (``/``) is a page another app serves for the role (``cordon.core.homes``)."""
    return homes.for_role(getattr(user, "role", "") or "") is not None
