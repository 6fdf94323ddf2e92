"""The daily-zero board (每日清零): for the user's node (or a node below it), one row per node one level down (a
city commander's districts, a district commander's streets) and every kind of open item the user may see
(``cordon.core.openitems``): what is overdue now, what falls due today (not overdue yet, overdue before the
local day ends) and what is open, with yesterday's closing figure and whether the kind was cleared to zero at
yesterday's close (nothing of it left open and overdue).

Read from kept rows only (``apps/tallies``): today's figures from the kept counts of each node
(``tallies.node_counts``, refreshed every ``CORDON_TALLY_SECONDS``), yesterday's from the stored closes
(``tallies.closes``); counted now in the user's scope (``tallies.counted_node_counts``) only for sector-limited
users or when no worker refreshed lately. A row counts what a user of that node sees (the items of its whole
subtree, those seen from two nodes in both), the first row is the chosen node itself. The page and the API show
the one dictionary :func:`board` returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.tallies import selectors as tallies
from cordon.core import openitems
from cordon.core.access import may_open
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

# The list each kind's cells lead to (URL name, query): it takes ``?area=`` (a row's node, through
# ``geo.narrowed_to``) and ``?state=`` (``openitems.STATES``) and then lists exactly the items the cell counts in
# that figure, filtered by the kind's own definition (``openitems.in_state`` on the kind's ``*_open``). A kind not
# named here has no list that can show its items: its cells say so and link nowhere (as do lists the user may not
# open). Not named: transfers (the transfer board is a day's board, not the open transfers), the zones (the
# proposals to decide and the zone list take no due or overdue state) and missed patrols (computed from plans,
# listed by post).
LISTS: dict[str, tuple[str, str]] = {
    "untraced": ("tracing:cases", "open=untraced"),
    "to_judge": ("tracing:contacts", "status=to_judge"),
    "linkage": ("tracing:linkage", ""),
    "waiting": ("control:queue", ""),
    "missed_tests": ("control:follow-up", "open=missed_tests"),
    "alerts": ("control:follow-up", "open=alerts"),
    "releases": ("control:orders", "view=release"),
    "temporary_controls": ("screening:alerts", "open=temporary_controls"),
    "resamples": ("screening:alerts", "open=resamples"),
}
STATE_PARAM: dict[
    str, str
] = {}  # a list whose ``state`` means something else takes the board's under this name


def _link(user: Actor, kind: str) -> str:
    """The list a kind's cells lead to, when there is one and the user may open it (``access.may_open``: never a
    link to a 403); its query ends with ``&`` or ``?``, ready for the area and the state."""
    named = LISTS.get(kind)
    if named is None or not may_open(user, named[0]):
        return ""
    url = reverse(named[0])
    return f"{url}?{named[1]}&" if named[1] else f"{url}?"


def _links(kind: str, base: str, code: str) -> dict[str, str]:
    """A cell's three links: its list narrowed to the row's node and to each figure's state."""
    if not base:
        return {}
    param = STATE_PARAM.get(LISTS[kind][0], "state")
    return {state: f"{base}{urlencode({'area': code, param: state})}" for state in openitems.STATES}


def chosen_node(user: Actor, area: str = "") -> tuple[Jurisdiction, list[Jurisdiction]]:
    """The node the board is for (the user's own, or ``area``'s code in the user's subtree) and the nodes one
    level down. ``NotFound`` for a node outside the user's subtree (another district)."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_CASES)
    root = geo.root_for(user)
    if root is None:
        raise NotFound
    node = root
    if area and area != root.code:
        node = Jurisdiction.objects.filter(code=area).first()  # type: ignore[assignment]
        if node is None or not root.contains(node) or node.pk == root.pk:
            raise NotFound
    return node, list(geo.children_of(user, node).order_by("code"))


def board(user: Actor, *, area: str = "", now: dt.datetime | None = None) -> dict[str, Any]:
    """Every figure of the daily-zero board of one node (the user's own when ``area`` is empty)."""
    now = now or timezone.now()
    node, below = chosen_node(user, area)
    scope = Scope.of(user)
    kinds = [k for k in openitems.kinds() if scope.can(k.capability)]
    keys = [k.key for k in kinds]
    ids = [node.pk, *(n.pk for n in below)]
    kept = tallies.node_counts(user, keys, ids, now)
    counts = kept.counts if kept is not None else tallies.counted_node_counts(user, kinds, ids, now)
    yesterday = timezone.localtime(now).date() - dt.timedelta(days=1)
    # The stored closes count every sector's items: a reader limited to a sector gets none (shown as not closed).
    closed = tallies.closes(keys, ids, yesterday) if scope.sector_id is None else None
    language = translation.get_language() or settings.LANGUAGE_CODE

    labels = {k.key: str(k.label) for k in kinds}
    bases = {key: _link(user, key) for key in keys}

    def row(n: Jurisdiction) -> dict[str, Any]:
        cells = []
        for key in keys:
            open_, overdue, due = counts.get(n.pk, {}).get(key, (0, 0, 0))
            close = closed.get(n.pk, {}).get(key, (0, 0)) if closed is not None else None
            links = _links(key, bases[key], n.code)
            cells.append(
                {
                    "kind": key,
                    "label": labels[key],
                    "link": links.get("open", ""),
                    "links": links,
                    "listed": key in LISTS,
                    "open": open_,
                    "overdue": overdue,
                    "due_today": due,
                    "closed_open": close[0] if close else None,
                    "closed_overdue": close[1] if close else None,
                    "cleared": close[1] == 0 if close else None,
                }
            )
        return {
            "code": n.code,
            "name": n.display_name(language),
            "overdue": sum(c["overdue"] for c in cells),
            "due_today": sum(c["due_today"] for c in cells),
            "cleared": all(c["cleared"] for c in cells) if closed is not None else None,
            "cells": cells,
        }

    return {
        "area": row(node),
        "rows": [row(n) for n in below],
        "kinds": [
            {"key": key, "label": labels[key], "link": _links(key, bases[key], node.code).get("open", "")}
            for key in keys
        ],
        "today": timezone.localtime(now).date().isoformat(),
        "yesterday": yesterday.isoformat(),
        "closed": closed is not None,
        "counted_at": kept.counted_at if kept is not None else None,
        "up": node.parent.code if node.pk != getattr(user.jurisdiction, "pk", None) and node.parent else "",
    }
