"""Reads for the zone map and the drawing tool: the zones within a box as GeoJSON (each as its boundary, or
the outline of its buildings' points), what a drawn boundary would take (counts only), and the facts the printed
notice shows. Selectors (scoped through ``selectors.zones_visible_to``), kept apart from ``selectors``."""

from __future__ import annotations

import contextlib
import gc
import gzip
import hashlib
import json
import os
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Max, Min, Q, Sum

from cordon.apps.geo.models import Building, Jurisdiction, Level, Outline
from cordon.apps.people.models import Person
from cordon.core.actors import Actor, CityReader
from cordon.core.roles import Cap
from cordon.core.scoping import Scope
from cordon.engine import zones as engine

from .models import Kind, State, Zone, ZoneBuilding
from .selectors import LIVE, buildings_in_polygons, current_rules, population, zones_visible_to

# --- The zone map and the drawing preview -------------------------------------------------------------------

MAP_LIMIT = 25_000  # zones drawn at once; more: zoom in
MANY_IDS = 2000  # more zones kept by the box than this: read by the scoped query, not by their ids
WIDE_STEP = 0.00005  # a box wider than about 10 km (or none): zones without a boundary drawn as boxes


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull of the points, counter-clockwise (monotone chain)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _outline(points: list[tuple[float, float]], pad: float = 0.0002) -> list[list[float]]:
    """A closed ring around the buildings' points: their hull, or a small box around one or two of them."""
    hull = _hull(points)
    if len(hull) < 3:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return _box(min(xs), min(ys), max(xs), max(ys), pad)
    ring = [[round(x, 5), round(y, 5)] for x, y in hull]
    return [*ring, ring[0]]


def _box(x0: float, y0: float, x1: float, y1: float, pad: float = 0.0002) -> list[list[float]]:
    """The closed ring of the box (west, south, east, north) grown by ``pad``: what ``_outline`` gives for the
    box's two corners, without the hull (the city's view draws tens of thousands of them)."""
    w, e, s, n = round(x0 - pad, 5), round(x1 + pad, 5), round(y0 - pad, 5), round(y1 + pad, 5)
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def _simplified(ring: Sequence[Sequence[float]], step: float) -> list[list[float]]:
    """A ring with its corners rounded to 5 decimals and those closer than ``step`` to the last kept dropped."""
    out: list[list[float]] = []
    for x, y in ring:
        p = [round(float(x), 5), round(float(y), 5)]
        if not out or abs(p[0] - out[-1][0]) + abs(p[1] - out[-1][1]) >= step:
            out.append(p)
    if len(out) < 4:
        return [[round(float(x), 5), round(float(y), 5)] for x, y in ring]
    if out[-1] != out[0]:
        out.append(out[0])
    return out


@dataclass(frozen=True)
class MapZones:
    features: list[dict[str, Any]]
    truncated: bool


def map_zones(
    user: Actor,
    bbox: tuple[float, float, float, float] | None,
    *,
    states: Sequence[str] = LIVE,
    limit: int = MAP_LIMIT,
) -> MapZones:
    """The zones the user sees within the box (west, south, east, north) as GeoJSON features: a zone drawn or
    imported with a boundary as that boundary (simplified to the box's scale), another as the outline of its
    buildings' points (seen from far, no box or a box wider than about 10 km: the box around them). The box is
    tested in SQL on each zone's buildings' extent (one grouped query), then the outlines are read for the zones
    kept (one query; none from far)."""
    zones = zones_visible_to(user).filter(state__in=list(states))
    extents = (
        ZoneBuilding.objects.filter(zone__in=zones.values("pk"), building__longitude__isnull=False)
        .values("zone_id")
        .annotate(
            x0=Min("building__longitude"),
            y0=Min("building__latitude"),
            x1=Max("building__longitude"),
            y1=Max("building__latitude"),
        )
        .order_by()
    )
    step = WIDE_STEP
    if bbox is not None:
        w, s, e, n = bbox
        extents = extents.filter(x1__gte=w, x0__lte=e, y1__gte=s, y0__lte=n)
        step = max(e - w, n - s) / 2000  # about a pixel on a large screen
    boxes = {r["zone_id"]: (r["x0"], r["y0"], r["x1"], r["y1"]) for r in extents[: limit + 1]}
    truncated = len(boxes) > limit
    ids = list(boxes)[:limit]
    fields = ("pk", "code", "name", "kind", "state", "boundary", "starts_on")
    if len(ids) > MANY_IDS:
        # read by the same scoped query (not tens of thousands of ids sent), then kept by the box
        wanted = set(ids)
        found = Zone.objects.filter(pk__in=zones.values("pk")).values(*fields)
        rows = [r for r in found if r["pk"] in wanted]
    else:
        rows = list(Zone.objects.filter(pk__in=ids).values(*fields))
    wide = step >= WIDE_STEP  # a city's view: a zone without a boundary is drawn as its buildings' box
    need_points = [] if wide else [r["pk"] for r in rows if not r["boundary"]]
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for zid, x, y in ZoneBuilding.objects.filter(
        zone_id__in=need_points, building__longitude__isnull=False, building__latitude__isnull=False
    ).values_list("zone_id", "building__longitude", "building__latitude"):
        if x is not None and y is not None:
            points[zid].append((x, y))
    with _no_cyclic_gc():
        return MapZones(_features(rows, boxes, points, step, wide), truncated)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Tens of thousands of small lists and dicts made at once (a city's zones): the cyclic garbage collector,
    run again and again while they are made, took most of the time; none of them forms a cycle."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _features(
    rows: list[dict[str, Any]],
    boxes: dict[int, tuple[float, float, float, float]],
    points: dict[int, list[tuple[float, float]]],
    step: float,
    wide: bool,
) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    for r in rows:
        geometry: dict[str, Any] | None = None
        if r["boundary"]:
            try:
                polygons = engine.polygons_of(r["boundary"])
            except engine.GeometryError:
                polygons = []
            if polygons:
                geometry = {
                    "type": "MultiPolygon",
                    "coordinates": [[_simplified(ring, step) for ring in poly] for poly in polygons],
                }
        if geometry is None and wide and r["pk"] in boxes:
            x0, y0, x1, y1 = boxes[r["pk"]]
            geometry = {"type": "Polygon", "coordinates": [_box(x0, y0, x1, y1)]}
        if geometry is None and points.get(r["pk"]):
            geometry = {"type": "Polygon", "coordinates": [_outline(points[r["pk"]])]}
        if geometry is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "code": r["code"],
                    "name": r["name"],
                    "kind": r["kind"],
                    "state": r["state"],
                    "starts_on": r["starts_on"].isoformat() if r["starts_on"] else None,
                },
            }
        )
    return features


KEPT_SECONDS = 600  # how long a kept whole-area payload may serve (a newer mark replaces it sooner)


def zones_generation() -> tuple[Any, ...]:
    """A mark of everything the zone map's whole-area answer reads, which changes with every change to it: any
    zone written (each write bumps its version; a zone added or removed changes the count or the newest id; the
    count per state and per kind and the newest creation time besides, for a write that bypassed the actions), a
    zone's buildings changed (their count or newest id), the buildings' outlines recounted (replaced whole after
    every import of buildings: new ids). Three small aggregates (tens of thousands of rows at most)."""
    per = {f"{field}_{value}": Count("pk", filter=Q(**{field: value})) for field, choices in
           (("state", State), ("kind", Kind)) for value in choices.values}  # fmt: skip
    z = Zone.objects.aggregate(n=Count("pk"), last=Max("pk"), v=Sum("version"), at=Max("created_at"), **per)
    m = ZoneBuilding.objects.aggregate(n=Count("pk"), last=Max("pk"))
    o = Outline.objects.aggregate(last=Max("pk"))
    return (*(z[k] for k in sorted(z)), m["n"], m["last"], o["last"])


def _payload(found: MapZones) -> bytes:
    with _no_cyclic_gc():
        return _dumps(found)


def _dumps(found: MapZones) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", "features": found.features, "truncated": found.truncated},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def map_zones_gzip(
    user: Actor, bbox: tuple[float, float, float, float] | None, *, states: Sequence[str] = LIVE
) -> bytes:
    """``map_zones`` as a gzip-compressed GeoJSON FeatureCollection. The whole area's (no box: how the map
    opens) is kept per area, states and ``zones_generation`` mark, built once per mark (the same bytes
    ``map_zones`` gives, so what the map shows is unchanged): in this process's cache and in a file under
    ``CORDON_ZONE_MAP_DIR``, which every process reads (the workers build the city's and each district's after
    a change, ``warm_whole_areas``, so the first open after a change does not wait for it). A box's is built
    per request."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_CONTROL)
    if bbox is not None or scope.path is None:
        return gzip.compress(_payload(map_zones(user, bbox, states=states)), compresslevel=5)
    return _whole_area(user, scope.path, states)[0]


def _whole_area(user: Actor, path: str, states: Sequence[str], mark: str | None = None) -> tuple[bytes, bool]:
    """The kept whole-area answer of ``path`` and whether it was built now. One cache entry and one file per
    area and states (a newer mark replaces them: a busy day's changes keep one answer each), each holding the
    mark it was built for."""
    area = hashlib.sha256(json.dumps([path, sorted(states)]).encode()).hexdigest()
    key = "zones:map:" + area
    mark = mark or _mark()
    kept = cache.get(key)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == mark and isinstance(kept[1], bytes):
        return kept[1], False
    folder = Path(settings.CORDON_ZONE_MAP_DIR)
    file = folder / f"{area}-{hashlib.sha256(mark.encode()).hexdigest()[:32]}.json.gz"
    with contextlib.suppress(OSError):
        body = file.read_bytes()
        cache.set(key, (mark, body), KEPT_SECONDS)
        return body, False
    body = gzip.compress(_payload(map_zones(user, None, states=states)), compresslevel=5)
    cache.set(key, (mark, body), KEPT_SECONDS)
    with contextlib.suppress(OSError):  # a full disk leaves the answer to this process's cache
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{file.name}.{os.getpid()}.{threading.get_ident()}.part"  # this thread's own
        partial.write_bytes(body)
        os.replace(partial, file)  # whole or absent: readers never see half a file
        for old in folder.glob(f"{area}-*.json.gz"):
            if old != file:
                old.unlink(missing_ok=True)
    return body, True


def warm_whole_areas() -> int:
    """Build the whole-area answer of the city and of every district whose zones changed since it was last
    built (reads only; what ``map_zones_gzip`` keeps), as the system reading each node. Run by the workers every
    ``CORDON_ZONE_MAP_WARM_SECONDS``; returns how many were built."""
    nodes = Jurisdiction.objects.filter(level__in=[Level.CITY, Level.DISTRICT]).order_by("path")
    mark = _mark()
    return sum(_whole_area(CityReader(node), node.path, LIVE, mark)[1] for node in nodes)


def _mark() -> str:
    return json.dumps(list(zones_generation()), default=str)


@dataclass(frozen=True)
class Preview:
    buildings: int
    residents: int


def preview_polygon(user: Actor, owner: Jurisdiction, polygons: Sequence[Sequence[engine.Ring]]) -> Preview:
    """What a drawn boundary would take (the same selection as ``actions.create_zone``): the owner's buildings
    whose point lies inside, and their residents (counts only). ``owner`` comes from the user's scope."""
    Scope.of(user).require(Cap.VIEW_CONTROL)
    ids = buildings_in_polygons(owner, polygons)
    residents = Person.objects.filter(home_building_id__in=ids).count() if ids else 0
    return Preview(len(ids), residents)


def notice_facts(zone: Zone) -> dict[str, Any]:
    """What the printed notice needs beyond the zone: its buildings' points (the outline when it has no
    boundary), its population and the rule set in force."""
    pts = list(
        ZoneBuilding.objects.filter(
            zone=zone, building__longitude__isnull=False, building__latitude__isnull=False
        ).values_list("building__longitude", "building__latitude")[:5000]
    )
    return {
        "points": pts,
        "buildings": ZoneBuilding.objects.filter(zone=zone).count(),
        "population": population(zone.pk),
        "rules": current_rules(),
    }


def area_extent(user: Actor) -> tuple[float, float, float, float] | None:
    """The box (west, south, east, north) of the buildings in the user's area: where the maps open."""
    scope = Scope.of(user)
    scope.require(Cap.VIEW_CONTROL)
    if scope.path is None:
        return None
    r = Building.objects.filter(jurisdiction__path__startswith=scope.path).aggregate(
        w=Min("longitude"), s=Min("latitude"), e=Max("longitude"), n=Max("latitude")
    )
    if r["w"] is None or r["s"] is None:
        return None
    return r["w"], r["s"], r["e"], r["n"]


BUILDINGS_LIMIT = 3000  # buildings drawn at once under the zones (the map asks only when zoomed in)


def buildings_in_box(user: Actor, bbox: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """The buildings the user sees within the box, as points and footprints for the map (no persons)."""
    w, s, e, n = bbox
    rows = (
        Scope.of(user)
        .filter(Building.objects.all())
        .filter(longitude__gte=w, longitude__lte=e, latitude__gte=s, latitude__lte=n)
        .values_list("code", "address", "longitude", "latitude", "footprint")[:BUILDINGS_LIMIT]
    )
    return [
        {"code": code, "address": address, "lon": lon, "lat": lat, "footprint": footprint}
        for code, address, lon, lat, footprint in rows
    ]
