"""The board's site table and capacity as kept by the workers (``SiteTally``, ``SiteCapacity``), the recount they
are made from, and whether they are fresh enough to read."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.tallies import selectors as tallies
from cordon.core import openitems
from cordon.core.actors import Actor, CityReader, WholeTree
from cordon.core.scoping import Scope

from ..models import IsolationSite, SiteCapacity, SiteTally
from .follow_up import missed_tests, open_alerts
from .sites import Capacity, capacity, fresh

# (jurisdiction id, site id) -> [missed tests, alerts]
SiteCounts = dict[tuple[int, int], list[int]]
_SITE_KINDS = ("missed_tests", "alerts")


def site_recount(now: dt.datetime) -> SiteCounts:
    """Tests missed and open alerts per site, at every node that sees them (the residents' jurisdictions and
    the site's, and every node above), read once for every city."""
    reader = CityReader(WholeTree())
    up = geo.lineage()
    out: SiteCounts = defaultdict(lambda: [0, 0])
    sources: tuple[QuerySet[Any], ...] = (
        missed_tests(reader, timezone.localtime(now).date()),
        open_alerts(reader),
    )
    for i, qs in enumerate(sources):
        for r in (
            qs.exclude(order__site__isnull=True)
            .values("order__site_id", "order__jurisdiction_id", "order__site__jurisdiction_id")
            .annotate(n=Count("id"))
            .order_by()
        ):
            places = (r["order__jurisdiction_id"], r["order__site__jurisdiction_id"])
            for node in openitems.seen_from(places, up):
                out[(node, r["order__site_id"])][i] += r["n"]
    return dict(out)


def capacity_recount() -> dict[int, Capacity]:
    return capacity(CityReader(WholeTree()))


def kept_site_items(user: Actor, now: dt.datetime | None = None) -> list[dict[str, Any]] | None:
    """The site table of a user of any jurisdiction from the kept counts of the user's node (as the live
    ``_site_items``, most open first); ``None`` (count live) for sector-limited users or when not fresh."""
    scope = Scope.of(user)
    node_id = getattr(user.jurisdiction, "pk", None)
    if scope.path is None or scope.sector_id is not None or node_id is None:
        return None
    rows = list(
        SiteTally.objects.filter(jurisdiction_id=node_id).values_list(
            "site__name", "missed_tests", "alerts", "counted_at"
        )
    )
    counted_at = rows[0][3] if rows else SiteTally.objects.values_list("counted_at", flat=True).first()
    if not rows and counted_at is None:
        # Nothing anywhere: fresh when the capacity (refreshed with it) is.
        counted_at = SiteCapacity.objects.values_list("counted_at", flat=True).first()
    if not fresh(counted_at, now):
        return None
    sites = [{"name": name, "missed_tests": m, "alerts": a} for name, m, a, _at in rows]
    return sorted(sites, key=lambda s: -(s["missed_tests"] + s["alerts"]))


def board_generation(user: Actor, now: dt.datetime | None = None) -> tuple[Any, ...] | None:
    """A mark of everything the board of ``user`` reads from kept counts (the open-item counts, the site table,
    the capacity), which changes with every refresh of any of them: the board's kept tables are rendered once
    per mark (``views.board``). ``None`` when any of them would be counted now instead (exactly when
    ``open_items``, ``kept_site_items`` or ``kept_capacity_by_district`` would count now): a sector-limited
    user, a kept table not fresh, a site without its kept capacity yet."""
    scope = Scope.of(user)
    node_id = getattr(user.jurisdiction, "pk", None)
    if scope.path is None or scope.sector_id is not None or node_id is None:
        return None
    counts = tallies.generation()
    if counts is None or not fresh(counts[1], now):
        return None
    # Replaced whole by each refresh (new ids, one time): the newest row stands for them all.
    sites = SiteTally.objects.order_by("-pk").values_list("pk", "counted_at").first()
    cap = SiteCapacity.objects.aggregate(n=Count("pk"), last=Max("pk"), oldest=Min("counted_at"))
    if cap["n"] != IsolationSite.objects.count():
        return None  # a site added since the last recount: its capacity is counted now
    if cap["n"] and not fresh(cap["oldest"], now):
        return None
    if not fresh(sites[1] if sites else cap["oldest"], now):
        return None  # (with no site row anywhere, the site table is as fresh as the capacity)
    return (node_id, scope.role, *counts, *(sites or (None, None)), cap["last"], cap["oldest"])
