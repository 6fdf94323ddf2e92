from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

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


@register.simple_tag
def clock_rows(clocks: list[tuple[Any, Any]], link_cases: bool) -> str:
    """The rows of case clocks (``selectors.recent_cases_with_clocks``), built in Python: the board shows them
    on every request, the clocks page up to 500."""
    language = get_language() or ""
    warn = '<span class="pill warn">{}</span>'
    rows = []
    for case, k in clocks:
        code = (
            format_html('<a href="{}">{}</a>', reverse("tracing:case", args=[case.pk]), case.code)
            if link_cases
            else case.code
        )
        if k.judge_hours is not None:
            judged = format_html("{} h", k.judge_hours)
        elif not k.traced:
            judged = format_html(warn, _("not traced"))
        else:
            judged = format_html(warn, _("%(n)s to judge") % {"n": k.to_judge})
        if k.transfer_hours is not None:
            transferred = format_html("{} h", k.transfer_hours)
        else:
            transferred = format_html(warn, f"{k.close_transferred}/{k.close_confirmed}")
        isolated = (
            format_html("{} h", k.isolate_hours)
            if k.isolate_hours is not None
            else format_html(warn, _("open"))
        )
        rows.append(
            format_html(
                '<tr data-testid="clock-row" data-case="{}">\n      <td class="mono">{}</td>\n      <td>{}</td>'
                '<td>{}</td>\n      <td class="num" data-clock="judged">{}</td>\n'
                '      <td class="num" data-clock="transferred">{}</td>\n'
                '      <td class="num" data-clock="isolated">{}</td>\n      <td class="num">{}/{}</td></tr>',
                case.code,
                code,
                case.district.display_name(language) if case.district is not None else "",
                dateformat.format(timezone.localtime(k.confirmed_at), "m-d H:i"),
                judged,
                transferred,
                isolated,
                k.controlled,
                k.confirmed,
            )
        )
    return mark_safe("".join(rows))
