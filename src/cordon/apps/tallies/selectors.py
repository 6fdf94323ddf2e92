"""Reads of the kept counts, and the recount they are made from."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.core import openitems
from cordon.core.actors import Actor, CityReader, WholeTree
from cordon.core.scoping import Scope

from .models import OpenItemTally

# (kind, jurisdiction id, district id) -> (open, overdue)
Counts = dict[tuple[str, int, int], tuple[int, int]]


def recount(now: dt.datetime) -> Counts:
    """Every registered kind of open item, counted from its source tables once (every city at once), per
    district of the items and per node that sees them: an item counts at every node above (and at) any of the
    jurisdictions it is scoped by, once. Every district's own count and its city's are there, zero too."""
    up = geo.lineage()
    reader = CityReader(WholeTree())
    out: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("pk", "path"))
    for kind in openitems.kinds():
        seen: dict[tuple[int | None, ...], Collection[int]] = {}
        for (district_id, places), (n, late) in kind.placed(reader, now).items():
            nodes = seen.get(places)
            if nodes is None:
                nodes = seen[places] = openitems.seen_from(places, up)
            for node in nodes:
                c = out[(kind.key, node, district_id)]
                c[0] += n
                c[1] += late
        for district_id, _path in districts:
            for node in up.get(district_id, ())[-2:]:  # the city (when there is one) and the district
                out.setdefault((kind.key, node, district_id), [0, 0])  # zero unless counted
    return {k: (v[0], v[1]) for k, v in out.items()}


def stored() -> Counts:
    return {
        (kind, node, district): (n, late)
        for kind, node, district, n, late in OpenItemTally.objects.values_list(
            "kind", "jurisdiction_id", "district_id", "open", "overdue"
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
