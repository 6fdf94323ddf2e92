"""The board's kept site table and capacity (``SiteTally``, ``SiteCapacity``): recounted from the source tables
and replaced whole, like the kept open-item counts (derived rows: not audited)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone

from cordon.core import bulk
from cordon.core.actions import action

from .. import selectors
from ..models import SiteCapacity, SiteTally

CAPACITY = [f.name for f in dataclasses.fields(selectors.Capacity)]


@action(atomic=False)
def refresh_board_tables(*, now: dt.datetime | None = None) -> int:
    """Recount the site table at every node and the capacity of every site (reads only, outside any
    transaction), then replace each kept table in one short transaction. Returns how many rows were written."""
    now = now or timezone.now()
    sites = selectors.site_recount(now)
    capacity = selectors.capacity_recount()
    n = bulk.replace_rows(
        SiteTally,
        ["jurisdiction_id", "site_id", "missed_tests", "alerts", "counted_at"],
        ((node, site, m, a, now) for (node, site), (m, a) in sites.items()),
        lock="control.site_tallies",
    )
    return n + bulk.replace_rows(
        SiteCapacity,
        ["site_id", *CAPACITY, "counted_at"],
        ((site, *(getattr(c, f) for f in CAPACITY), now) for site, c in capacity.items()),
        lock="control.site_capacity",
    )
