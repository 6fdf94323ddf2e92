"""Scoped reads of the jurisdiction tree and buildings."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone, translation

from cordon.core import rollups
from cordon.core.actors import Actor, CityReader, Narrowed
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.engine import outlines as engine

from .models import Building, IndustrySector, Jurisdiction, Level, Outline, RollupTally


def jurisdictions_visible_to(user: Actor) -> QuerySet[Jurisdiction]:
    scope = Scope.of(user)
    if scope.path is None:
        return Jurisdiction.objects.none()
    return Jurisdiction.objects.filter(path__startswith=scope.path)


def get_jurisdiction_for(user: Actor, key: int | str) -> Jurisdiction:
    """By id (int) or code (str); NotFound when missing or out of scope."""
    qs = jurisdictions_visible_to(user)
    try:
        if isinstance(key, int):
            return qs.get(pk=key)
        return qs.get(code=key)
    except Jurisdiction.DoesNotExist:
        raise NotFound from None


def narrowed_to(user: Actor, area: str) -> Actor:
    """The user seen through the node ``area`` (a code) of their territory: the lists the commander's home links
    to with ``?area=`` read as a user of that node would. The user themselves when ``area`` is empty;
    ``NotFound`` for a node outside their territory."""
    if not area:
        return user
    node = get_jurisdiction_for(user, area[:32])
    if Scope.of(user).path == node.path:
        return user
    return Narrowed(user, node)


def root_for(user: Actor) -> Jurisdiction | None:
    """The user's own node (the root of what they see); ``None`` for a user without a jurisdiction."""
    root: Jurisdiction | None = getattr(user, "jurisdiction", None)
    return root if Scope.of(user).path else None


def children_of(user: Actor, node: Jurisdiction) -> QuerySet[Jurisdiction]:
    """The nodes directly under ``node`` that the user sees (all of them when ``node`` is in scope)."""
    return jurisdictions_visible_to(user).filter(parent=node).select_related("parent")


def ancestors_within(user: Actor, node: Jurisdiction) -> list[Jurisdiction]:
    """The nodes above ``node`` up to the user's root (included), top first: the page's breadcrumbs."""
    root = root_for(user)
    ancestors = []
    parent = node.parent
    while parent is not None and root is not None and root.contains(parent):
        ancestors.append(parent)
        parent = parent.parent
    ancestors.reverse()
    return ancestors


def buildings_visible_to(user: Actor) -> QuerySet[Building]:
    return Scope.of(user).filter(Building.objects.select_related("jurisdiction"))


def get_building_for(user: Actor, key: int | str) -> Building:
    qs = buildings_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except Building.DoesNotExist:
        raise NotFound from None


def building_points(user: Actor, node: Jurisdiction, *, limit: int = 2000) -> list[dict[str, Any]]:
    """Buildings with coordinates under ``node`` (among its first ``limit`` buildings), for the map."""
    rows = buildings_visible_to(user).filter(jurisdiction__path__startswith=node.path)[:limit]
    return [
        {
            "code": b.code,
            "address": b.address,
            "lat": b.latitude,
            "lon": b.longitude,
            "footprint": b.footprint,
        }
        for b in rows
        if b.latitude is not None
    ]


def city_root() -> Jurisdiction | None:
    """Unscoped: the root of the jurisdiction tree (the city), which owns the city-wide records (quarantine
    plans, the city's frequency rules); ``None`` before a city is loaded."""
    return Jurisdiction.objects.filter(parent__isnull=True).order_by("path").first()


def lineage() -> dict[int, tuple[int, ...]]:
    """Every node's id -> the ids of every node above it, from the top, and its own (for the kept counts, which
    count an item at every node that sees it)."""
    nodes = list(Jurisdiction.objects.values_list("pk", "code", "path"))
    by_code = {code: pk for pk, code, _path in nodes}
    return {
        pk: tuple(by_code[c] for c in path.strip("/").split("/") if c in by_code) for pk, _code, path in nodes
    }


def district_of(node: Jurisdiction) -> Jurisdiction:
    """The district (second level of the tree) a jurisdiction lies in; the node itself above that level."""
    codes = [c for c in node.path.split("/") if c]
    if len(codes) <= 2:
        return node
    return Jurisdiction.objects.get(code=codes[1])


def sectors() -> QuerySet[IndustrySector]:
    """Sectors are reference data, visible to every signed-in user."""
    return IndustrySector.objects.all()


def get_sector(code: str) -> IndustrySector:
    """A sector by code (reference data, unscoped); ``NotFound`` when there is none."""
    try:
        return sectors().get(code=code)
    except IndustrySector.DoesNotExist:
        raise NotFound from None


def subtree_counts(user: Actor, node: Jurisdiction) -> dict[int, dict[str, int]]:
    """Rolled-up figures (persons, households, buildings, venues: whatever the apps register in
    ``cordon.core.rollups``) for ``node`` and the nodes under it in the user's scope, keyed by jurisdiction id:
    from the kept roll-ups (``kept_subtree_counts``: ``node`` and its children) when they are fresh, else counted
    now (``counted_subtree_counts``: every node under it)."""
    kept = kept_subtree_counts(user, node)
    return kept if kept is not None else counted_subtree_counts(user, node)


def counted_subtree_counts(user: Actor, node: Jurisdiction) -> dict[int, dict[str, int]]:
    """``subtree_counts`` counted from the records now: one grouped query per figure, summed up the tree in
    Python."""
    scope = Scope.of(user)
    nodes = list(jurisdictions_visible_to(user).filter(path__startswith=node.path).values("id", "parent_id"))
    parents = {n["id"]: n["parent_id"] for n in nodes}
    shown = [f for f in rollups.figures() if scope.can(f.capability)]
    totals: dict[int, dict[str, int]] = defaultdict(lambda: {f.key: 0 for f in shown})
    for figure in shown:
        for jid, n in figure.count(user, node.path).items():
            at: int | None = jid
            while at is not None and at in parents:
                totals[at][figure.key] += n
                at = parents[at]
    return totals


def buildings_by_jurisdiction(user: Actor, path: str) -> dict[int, int]:
    """Buildings placed directly at each jurisdiction under ``path`` (a figure of ``subtree_counts``)."""
    rows = (
        buildings_visible_to(user)
        .filter(jurisdiction__path__startswith=path)
        .values("jurisdiction_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["jurisdiction_id"]: r["n"] for r in rows}


def kept_subtree_counts(
    user: Actor, node: Jurisdiction, now: dt.datetime | None = None
) -> dict[int, dict[str, int]] | None:
    """The kept roll-ups (``RollupTally``, recounted by workers) of ``node`` and its children, or ``None`` (count
    now instead) for a sector-limited user, before the first recount, or when the last one is older than
    ``CORDON_ROLLUP_STALE_SECONDS``. A node's kept total is every record under it: the same as the user's count
    for any node inside the user's scope."""
    scope = Scope.of(user)
    if scope.path is None or scope.sector_id is not None or not node.path.startswith(scope.path):
        return None
    shown = [f.key for f in rollups.figures() if scope.can(f.capability)]
    latest = (  # the city's rows carry the time of the recount (every figure has one, zero or not)
        RollupTally.objects.filter(figure__in=shown, jurisdiction__path=_city_path(node.path))
        .order_by("-counted_at")
        .values_list("counted_at", flat=True)
        .first()
    )
    stale = dt.timedelta(seconds=settings.CORDON_ROLLUP_STALE_SECONDS)
    if latest is None or (now or timezone.now()) - latest > stale:
        return None
    ids = [node.pk, *children_of(user, node).values_list("pk", flat=True)]
    out: dict[int, dict[str, int]] = {i: dict.fromkeys(shown, 0) for i in ids}
    for row in RollupTally.objects.filter(jurisdiction_id__in=ids, figure__in=shown):
        out[row.jurisdiction_id][row.figure] = row.n
    return out


def _depth(path: str) -> int:
    """How deep a node at ``path`` lies: 1 for a city, 2 for a district, 3 for a street, ..."""
    return len(path.strip("/").split("/"))


def _city_path(path: str) -> str:
    """The path of the city a node at ``path`` lies in (a plain computation over the path)."""
    return "/" + path.strip("/").split("/")[0] + "/"


def rollup_recount(*, fast: bool | None = None) -> dict[tuple[str, int], int]:
    """Every registered figure and group summed over every node's subtree, for every city (read as the whole
    city): ``fast=None`` everything, ``False`` the figures and the groups kept with them, ``True`` only the
    groups recounted every few seconds. Every figure has a row at every city even when zero (readers take the
    city's row as the time of the recount, one row read by index)."""
    nodes = list(Jurisdiction.objects.values_list("id", "parent_id", "path"))
    parents = {pk: parent for pk, parent, _path in nodes}
    depths = {pk: _depth(path) for pk, _parent, path in nodes}
    out: dict[tuple[str, int], int] = defaultdict(int)

    def add(key: str, counts: Mapping[int, int], depth: int | None = None) -> None:
        for jid, n in counts.items():
            at: int | None = jid
            while at is not None:
                if depth is None or depths.get(at, 0) <= depth:
                    out[(key, at)] += n
                at = parents.get(at)

    shown_groups = [g for g in rollups.groups() if fast is None or g.fast == fast]
    for city in Jurisdiction.objects.filter(level=Level.CITY):
        reader = CityReader(city)
        if not fast:
            for figure in rollups.figures():
                out[(figure.key, city.pk)] += 0
                add(figure.key, figure.count(reader, city.path))
        for group in shown_groups:
            counted = group.count(reader, city.path)
            for key in group.keys:
                out[(key, city.pk)] += 0
                if group.summed:
                    add(key, counted.get(key, {}), group.depth)
                else:
                    for jid, n in counted.get(key, {}).items():
                        if group.depth is None or depths.get(jid, 0) <= group.depth:
                            out[(key, jid)] += n
    return dict(out)


def rollup_stored(keys: Iterable[str] | None = None) -> dict[tuple[str, int], int]:
    """The kept roll-ups as they are (all, or those of these figure keys)."""
    qs = RollupTally.objects.all() if keys is None else RollupTally.objects.filter(figure__in=list(keys))
    return {(f, j): n for f, j, n in qs.values_list("figure", "jurisdiction_id", "n")}


def kept_group(user: Actor, key: str, now: dt.datetime | None = None) -> dict[str, int] | None:
    """The kept figures of a roll-up group (``rollups.Group``) over the user's whole territory, or ``None``
    (count live instead) for a user without the group's capability, a sector-limited one, one deeper than the
    group is kept (``Group.depth``), before the first recount, when the last one is too old
    (``CORDON_TALLY_STALE_SECONDS`` for a fast group, ``CORDON_ROLLUP_STALE_SECONDS`` otherwise), or, for a
    daily group, when the city's day has turned since. One query: the rows of the user's node and of its city
    (whose row carries the time of the recount)."""
    return kept_groups(user, [key], now)[key]


def kept_groups(
    user: Actor, keys: Sequence[str], now: dt.datetime | None = None
) -> dict[str, dict[str, int] | None]:
    """``kept_group`` of several groups at once, in one query."""
    scope = Scope.of(user)
    out: dict[str, dict[str, int] | None] = dict.fromkeys(keys)
    if scope.path is None or scope.sector_id is not None:
        return out
    groups = [
        g
        for g in map(rollups.group, keys)
        if scope.can(g.capability) and (g.depth is None or _depth(scope.path) <= g.depth)
    ]
    if not groups:
        return out
    city_path = _city_path(scope.path)
    rows = list(
        RollupTally.objects.filter(
            figure__in=[k for g in groups for k in g.keys],
            jurisdiction__path__in=sorted({scope.path, city_path}),
        ).values_list("figure", "jurisdiction__path", "n", "counted_at")
    )
    now = now or timezone.now()
    for group in groups:
        mine = [r for r in rows if r[0] in group.keys]
        marks = [at for _f, path, _n, at in mine if path == city_path]
        if len(marks) < len(group.keys):
            continue
        counted_at = min(marks)
        seconds = settings.CORDON_TALLY_STALE_SECONDS if group.fast else settings.CORDON_ROLLUP_STALE_SECONDS
        if now - counted_at > dt.timedelta(seconds=seconds):
            continue
        if group.daily and timezone.localdate(counted_at) != timezone.localdate(now):
            continue
        figures = dict.fromkeys(group.keys, 0)
        for figure, path, n, _at in mine:
            if path == scope.path:
                figures[figure] = n
        out[group.key] = figures
    return out


# --- Outlines: computed from the buildings' points, read by the maps ------------------------------------------

OUTLINE_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID)
OUTLINE_LIMIT = 3000  # outlines served at once; more: zoom in or choose a district


def outline_recount() -> list[dict[str, Any]]:
    """The outline of every district, street, community and grid from the points of the buildings under it
    (unscoped: for ``actions.refresh_outlines``). Bottom-up: a node's hull is that of its own buildings' points
    and its children's hull corners, so every building is read once (one query, streamed)."""
    nodes = {
        pk: (parent, level)
        for pk, parent, level in Jurisdiction.objects.values_list("pk", "parent_id", "level")
    }
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    rows = Building.objects.filter(longitude__isnull=False, latitude__isnull=False).values_list(
        "jurisdiction_id", "longitude", "latitude"
    )
    for node, x, y in rows.iterator(chunk_size=20_000):
        if x is None or y is None:
            continue
        points[node].append((x, y))
        counts[node] += 1
    out = []
    for pk in sorted(nodes, key=lambda k: -nodes[k][1]):  # grids first, the city last
        parent, level = nodes[pk]
        pts = points.pop(pk, None)
        if not pts:
            continue
        corners = engine.hull_corners(pts)
        if parent is not None:
            points[parent].extend(corners)
            counts[parent] += counts[pk]
        if level not in OUTLINE_LEVELS:
            continue
        ring = engine.outline(corners)
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        cx, cy = engine.centre(ring)
        out.append(
            {
                "jurisdiction_id": pk,
                "level": level,
                "ring": ring,
                "buildings": counts[pk],
                "west": min(xs),
                "south": min(ys),
                "east": max(xs),
                "north": max(ys),
                "x": cx,
                "y": cy,
            }
        )
    return out


def outlines_for(
    user: Actor,
    *,
    level: int,
    bbox: tuple[float, float, float, float] | None = None,
    under: Jurisdiction | None = None,
    limit: int = OUTLINE_LIMIT,
) -> tuple[list[dict[str, Any]], bool]:
    """The kept outlines of one level that the user sees (their own node and below), within the box (west,
    south, east, north) and under ``under`` when given, as GeoJSON features simplified to the box's scale
    (about a pixel); and whether more than ``limit`` matched. Needs ``view_jurisdictions``."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_JURISDICTIONS)
    if scope.path is None:
        return [], False
    qs = Outline.objects.filter(level=level, jurisdiction__path__startswith=scope.path)
    if under is not None:
        qs = qs.filter(jurisdiction__path__startswith=under.path)
    step = 0.00005
    if bbox is not None:
        w, s, e, n = bbox
        qs = qs.filter(east__gte=w, west__lte=e, north__gte=s, south__lte=n)
        step = max(e - w, n - s) / 2000
    rows = list(
        qs.order_by("jurisdiction__path").values_list(
            "jurisdiction__code", "jurisdiction__name", "jurisdiction__name_en", "ring", "buildings", "x", "y"
        )[: limit + 1]
    )
    language = translation.get_language()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [engine.simplified(ring, step)]},
            "properties": {
                "code": code,
                "name": name_en if language and language.startswith("en") and name_en else name,
                "level": level,
                "buildings": buildings,
                "centre": [round(x, 5), round(y, 5)],
            },
        }
        for code, name, name_en, ring, buildings, x, y in rows[:limit]
    ]
    return features, len(rows) > limit


def outline_centres(user: Actor, *, level: int) -> dict[int, tuple[float, float]]:
    """The centre of every kept outline of one level the user sees, by jurisdiction id: where a map puts an
    area's figures."""
    scope = Scope.of(user)
    if scope.path is None:
        return {}
    return {
        pk: (x, y)
        for pk, x, y in Outline.objects.filter(
            level=level, jurisdiction__path__startswith=scope.path
        ).values_list("jurisdiction_id", "x", "y")
    }
