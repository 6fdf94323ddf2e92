"""The daily-zero board's cells, rendered in Python: a district's board has hundreds of them (13 kinds by about
50 streets), too many for template tags at phone-friendly speed. The figures are integers; every text is
escaped."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


@lru_cache(maxsize=1024)
def _escaped(text: str) -> str:
    return str(escape(text))


@register.simple_tag
def zero_cell(code: str, c: dict[str, Any]) -> SafeString:
    """One cell: overdue · due today · open, each a link to the kind's list narrowed to the row's area and to
    that state when there is such a list (else a note that there is none), and yesterday."""
    links = c["links"]

    def figure(state: str, testid: str, attrs: str = "") -> str:
        n = int(c[state])
        if state in links:
            return f'<a href="{_escaped(links[state])}"{attrs} data-testid="{testid}">{n}</a>'
        return f'<span{attrs} data-testid="{testid}">{n}</span>'

    warn = ' class="pill warn"' if c["overdue"] else ""
    figures = (
        f"{figure('overdue', 'overdue', warn)} · {figure('due_today', 'due')} · {figure('open', 'open')}"
    )
    if not c["listed"]:
        figures += f' <small class="muted" data-testid="no-list">{_escaped(gettext("no list"))}</small>'
    if c["cleared"] is None:
        yesterday = "—"
    elif c["cleared"]:
        yesterday = _escaped(gettext("yesterday: cleared"))
    else:
        yesterday = _escaped(gettext("yesterday: %(n)s overdue") % {"n": int(c["closed_overdue"])})
    # Every text above is escaped and the figures are integers.
    return mark_safe(
        f'<td data-label="{_escaped(c["label"])}" data-testid="zero-cell-{_escaped(code)}-{_escaped(c["kind"])}">'
        f'{figures}<br><small class="muted">{yesterday}</small></td>'
    )
