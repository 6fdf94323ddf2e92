from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ counts|get_item:name }}``: a dictionary value by a key held in a variable."""
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return None


@register.simple_tag
def board_cells(row: Any, overdue_word: str) -> str:
    """A board row's cells (``BoardRow.cells``), built in Python: a city's board has hundreds of them."""
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    '<td class="num" data-item="{}"><strong>{}</strong>{}</td>',
                    item,
                    n,
                    format_html(' <span class="pill warn" title="{}">{}</span>', overdue_word, late)
                    if late
                    else "",
                )
                if n
                else format_html('<td class="num" data-item="{}"><span class="muted">0</span></td>', item),
            )
            for item, n, late in row.cells
        ),
    )


@register.simple_tag
def site_rows(sites: list[dict[str, Any]]) -> str:
    """The board's rows per isolation site (a city has hundreds), built in Python."""
    return format_html_join(
        "",
        '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
        ((s["name"], s["missed_tests"], s["alerts"]) for s in sites),
    )
