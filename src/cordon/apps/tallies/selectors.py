"""Reads of the kept counts, and the recount they are made from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from cordon.apps.geo.models import Jurisdiction, Level
from cordon.core import openitems
from cordon.core.actors import Actor, CityReader
from cordon.core.scoping import Scope

from .models import OpenItemTally

# (kind, district id) -> (open, overdue)
Counts = dict[tuple[str, int], tuple[int, int]]


def recount(now: dt.datetime) -> Counts:
    """Every registered kind of open item, counted from its source tables, per district of every city."""
    out: Counts = {}
    for city in Jurisdiction.objects.filter(level=Level.CITY):
        reader = CityReader(city)
        # A city's reader may also see items of another city's districts (an order placed at a site here for
        # a resident there): each district is counted by its own city only.
        own = set(
            Jurisdiction.objects.filter(level=Level.DISTRICT, path__startswith=city.path).values_list(
                "pk", flat=True
            )
        )
        for kind in openitems.kinds():
            for district_id, (n, late) in kind.count(reader, now).items():
                if district_id not in own:
                    continue
                before = out.get((kind.key, district_id), (0, 0))
                out[(kind.key, district_id)] = (before[0] + n, before[1] + late)
    return out


def stored() -> Counts:
    return {(t.kind, t.district_id): (t.open, t.overdue) for t in OpenItemTally.objects.all()}


@dataclass(frozen=True)
class Kept:
    counts: dict[int, dict[str, tuple[int, int]]]  # district id -> kind -> (open, overdue)
    counted_at: dt.datetime


def board_counts(user: Actor, keys: list[str], now: dt.datetime | None = None) -> Kept | None:
    """The board's figures for a user whose scope is a whole city or a whole district, from the kept counts;
    ``None`` (count live instead) for narrower scopes (a street, a community, a grid, an industry sector), before
    the first refresh, or when the last one is older than ``CORDON_TALLY_STALE_SECONDS`` (no worker running)."""
    scope = Scope.of(user)
    node = user.jurisdiction
    if scope.path is None or scope.sector_id is not None or node is None:
        return None
    if getattr(node, "level", Level.GRID) > Level.DISTRICT:
        return None
    rows = list(OpenItemTally.objects.filter(kind__in=keys, district__path__startswith=scope.path))
    if not rows:
        return None
    counted_at = min(r.counted_at for r in rows)
    stale = dt.timedelta(seconds=settings.CORDON_TALLY_STALE_SECONDS)
    if (now or timezone.now()) - counted_at > stale:
        return None
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for r in rows:
        out.setdefault(r.district_id, {})[r.kind] = (r.open, r.overdue)
    return Kept(out, counted_at)
