"""Reads of the kept counts, and the recount they are made from."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.core import openitems
from cordon.core.actors import Actor, CityReader, WholeTree
from cordon.core.scoping import Scope

from .models import OpenItemClose, OpenItemTally

# (kind, jurisdiction id, district id) -> (open, overdue, due today)
Counts = dict[tuple[str, int, int], tuple[int, int, int]]


def recount(now: dt.datetime) -> Counts:
    """Every registered kind of open item, counted from its source tables once (every city at once), per
    district of the items and per node that sees them: an item counts at every node above (and at) any of the
    jurisdictions it is scoped by, once. Every district's own count and its city's are there, zero too."""
    up = geo.lineage()
    reader = CityReader(WholeTree())
    out: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("pk", "path"))
    for kind in openitems.kinds():
        seen: dict[tuple[int | None, ...], Collection[int]] = {}
        for (district_id, places), (n, late, due) in kind.placed(reader, now).items():
            nodes = seen.get(places)
            if nodes is None:
                nodes = seen[places] = openitems.seen_from(places, up)
            for node in nodes:
                c = out[(kind.key, node, district_id)]
                c[0] += n
                c[1] += late
                c[2] += due
        for district_id, _path in districts:
            for node in up.get(district_id, ())[-2:]:  # the city (when there is one) and the district
                out.setdefault((kind.key, node, district_id), [0, 0, 0])  # zero unless counted
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def stored() -> Counts:
    return {
        (kind, node, district): (n, late, due)
        for kind, node, district, n, late, due in OpenItemTally.objects.values_list(
            "kind", "jurisdiction_id", "district_id", "open", "overdue", "due_today"
        )
    }


def generation() -> tuple[int, dt.datetime] | None:
    """The last refresh's mark: the newest kept count's id and when it was counted. Every refresh replaces every
    row (new ids, a new time), so the mark changes with it; ``None`` before the first. Read at the newest end of
    the primary key (the replaced rows' dead index entries lie at the other)."""
    return OpenItemTally.objects.order_by("-pk").values_list("pk", "counted_at").first()


@dataclass(frozen=True)
class Kept:
    counts: dict[int, dict[str, tuple[int, int]]]  # district id -> kind -> (open, overdue)
    counted_at: dt.datetime


def board_counts(user: Actor, keys: list[str], now: dt.datetime | None = None) -> Kept | None:
    """The board's figures for a user of any jurisdiction (city, district, street, community, grid), from the
    kept counts of the user's node; ``None`` (count live instead) for users limited to an industry sector,
    before the first refresh, or when the last one is older than ``CORDON_TALLY_STALE_SECONDS`` (no worker
    running)."""
    scope = Scope.of(user)
    node = user.jurisdiction
    node_id = getattr(node, "pk", None)
    if scope.path is None or scope.sector_id is not None or node_id is None:
        return None
    rows = list(
        OpenItemTally.objects.filter(jurisdiction_id=node_id, kind__in=keys).values_list(
            "district_id", "kind", "open", "overdue", "counted_at"
        )
    )
    # Every refresh replaces every row at once: any row tells when (a node with nothing open has none).
    counted_at = rows[0][4] if rows else OpenItemTally.objects.values_list("counted_at", flat=True).first()
    if counted_at is None:
        return None
    stale = dt.timedelta(seconds=settings.CORDON_TALLY_STALE_SECONDS)
    if (now or timezone.now()) - counted_at > stale:
        return None
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for district_id, kind, n, late, _at in rows:
        out.setdefault(district_id, {})[kind] = (n, late)
    return Kept(out, counted_at)


# --- The daily-zero board: per node, summed over the districts of the items ---------------------------------

# node id -> kind -> (open, overdue, due today)
NodeCounts = dict[int, dict[str, tuple[int, int, int]]]


@dataclass(frozen=True)
class KeptNodes:
    counts: NodeCounts
    counted_at: dt.datetime


def node_counts(
    user: Actor, keys: list[str], nodes: list[int], now: dt.datetime | None = None
) -> KeptNodes | None:
    """What a user of each of ``nodes`` (the caller's own node and nodes below it) sees of each kind, from the
    kept counts; ``None`` (count live instead, ``counted_node_counts``) as for ``board_counts``: sector-limited
    users, nothing kept yet, or the last refresh too old."""
    scope = Scope.of(user)
    if scope.path is None or scope.sector_id is not None or getattr(user.jurisdiction, "pk", None) is None:
        return None
    rows = list(
        OpenItemTally.objects.filter(jurisdiction_id__in=nodes, kind__in=keys)
        .values_list("jurisdiction_id", "kind")
        .annotate(n=Sum("open"), late=Sum("overdue"), due=Sum("due_today"))
        .order_by()
    )
    # Every refresh replaces every row at once: any row tells when.
    counted_at = OpenItemTally.objects.values_list("counted_at", flat=True).first()
    if counted_at is None:
        return None
    if (now or timezone.now()) - counted_at > dt.timedelta(seconds=settings.CORDON_TALLY_STALE_SECONDS):
        return None
    out: NodeCounts = {}
    for node, kind, n, late, due in rows:
        out.setdefault(node, {})[kind] = (n, late, due)
    return KeptNodes(out, counted_at)


def counted_node_counts(
    user: Actor, kinds: list[openitems.OpenItemKind], nodes: list[int], now: dt.datetime
) -> NodeCounts:
    """The same counted now from the source tables, in the user's scope (``kind.placed``): an item counts at each
    of ``nodes`` that sees it, once."""
    up = geo.lineage()
    wanted = set(nodes)
    out: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for kind in kinds:
        for (_district, places), counted in kind.placed(user, now).items():
            for node in wanted.intersection(openitems.seen_from(places, up)):
                c = out[node][kind.key]
                for i in range(3):
                    c[i] += counted[i]
    return {node: {k: (v[0], v[1], v[2]) for k, v in by_kind.items()} for node, by_kind in out.items()}


def closes(keys: list[str], nodes: list[int], day: dt.date) -> dict[int, dict[str, tuple[int, int]]] | None:
    """The closing figures (open, overdue) of ``day`` per node and kind (a node with nothing open has no row);
    ``None`` when that day was not closed (no worker ran over its end)."""
    if not OpenItemClose.objects.filter(day=day).exists():
        return None
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for node, kind, n, late in OpenItemClose.objects.filter(
        day=day, jurisdiction_id__in=nodes, kind__in=keys
    ).values_list("jurisdiction_id", "kind", "open", "overdue"):
        out.setdefault(node, {})[kind] = (n, late)
    return out


def closing_figures(counts: Counts) -> dict[tuple[str, int], tuple[int, int]]:
    """A recount summed over the districts of the items: (kind, node) -> (open, overdue)."""
    out: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for (kind, node, _district), (n, late, _due) in counts.items():
        c = out[(kind, node)]
        c[0] += n
        c[1] += late
    return {k: (v[0], v[1]) for k, v in out.items()}
