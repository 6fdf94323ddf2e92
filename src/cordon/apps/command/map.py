"""The command map's reads (``/command/map/`` and ``GET /api/command/map``): one layer at a time, as a GeoJSON
FeatureCollection, scoped through each owning app's selectors (a district commander sees their district only)
and bounded so that a city's map opens fast: never one marker per case at city scale.

The grain follows the box asked for (west, south, east, north; none is the user's whole area):

- wider than ``WIDE`` degrees (a city or a district): cases, risk venues and zones counted per street, at the
  centre of the street's outline (``geo.Outline``, the convex hull of its buildings);
- down to ``NEAR`` degrees: cases counted per grid (or community, where there are no grids), zones per
  community (by the area owning them), risk venues one by one;
- closer: cases counted per home building, zones one by one as the box of their buildings.

Layers: ``cases`` (reported in the last ``days`` days, found in the community and under control), ``venues``
(risk venues of those days, per venue), ``zones`` (zones that apply or may apply, coloured by kind), ``sites``
(isolation sites with their capacity and occupancy), ``districts`` (the district outlines).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from cordon.apps.control import selectors as control
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Level, Outline
from cordon.apps.tracing import selectors as tracing
from cordon.apps.zones import selectors as zones
from cordon.apps.zones.models import ZoneBuilding
from cordon.core import inputs
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope

LAYERS = ("cases", "venues", "zones", "sites", "districts")
CAPS = {
    "cases": Cap.VIEW_CASES,
    "venues": Cap.VIEW_CASES,
    "zones": Cap.VIEW_CONTROL,
    "sites": Cap.VIEW_CONTROL,
    "districts": Cap.VIEW_JURISDICTIONS,
}
WIDE = 0.25  # degrees (about 25 km): wider, figures per street
NEAR = 0.04  # degrees (about 4 km): closer, cases per building
LIMIT = 5000  # features of one layer at once; more: zoom in
DAYS = 14
MAX_DAYS = 60

Box = inputs.Box


def layers_for(user: Actor) -> list[str]:
    """The layers the user may see (each needs its capability)."""
    scope = Scope.of(user)
    return [name for name in LAYERS if scope.can(CAPS[name])]


def grain(bbox: Box | None) -> str:
    if bbox is None:
        return "street"
    w, s, e, n = bbox
    size = max(e - w, n - s)
    return "street" if size > WIDE else "grid" if size > NEAR else "building"


def _inside(bbox: Box | None, x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return False
    if bbox is None:
        return True
    w, s, e, n = bbox
    return w <= x <= e and s <= y <= n


def _point(x: float, y: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
        "properties": properties,
    }


def _prefix(path: str, level: int) -> str:
    """The path of the node at ``level`` above (or at) the node of ``path``; the node itself when it is higher."""
    codes = path.strip("/").split("/")
    return "/" + "/".join(codes[:level]) + "/"


def _areas(paths: Iterable[str], level: int) -> dict[str, tuple[str, str, float, float]]:
    """Code, name and outline centre of the nodes at (or above, where the tree is shallower) ``level`` holding
    ``paths``, keyed by path; nodes without an outline (no building with a point) are left out."""
    wanted = {_prefix(p, level) for p in paths}
    out: dict[str, tuple[str, str, float, float]] = {}
    wanted_list = sorted(wanted)
    for i in range(0, len(wanted_list), 2000):
        for path, code, name, x, y in Outline.objects.filter(
            jurisdiction__path__in=wanted_list[i : i + 2000]
        ).values_list("jurisdiction__path", "jurisdiction__code", "jurisdiction__name", "x", "y"):
            out[path] = (code, name, x, y)
    return out


def _grouped(
    user: Actor, counts: dict[str, dict[str, int]], level: int, bbox: Box | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Counts keyed by a node's path, summed per area at ``level`` (never above the user's own node) and placed
    at its outline's centre."""
    root = geo.root_for(user)
    level = max(level, root.level if root is not None else level)
    areas = _areas(counts, level)
    summed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path, figures in counts.items():
        area = _prefix(path, level)
        if area in areas:
            for key, n in figures.items():
                summed[area][key] += n
    features = []
    for area, figures in sorted(summed.items(), key=lambda kv: -sum(kv[1].values())):
        code, name, x, y = areas[area]
        if _inside(bbox, x, y):
            features.append(_point(x, y, {"code": code, "name": name, **figures}))
    return features[:limit], len(features) > limit


def cases(
    user: Actor, bbox: Box | None, *, days: int = DAYS, limit: int = LIMIT, now: dt.datetime | None = None
) -> tuple[str, list[dict[str, Any]], bool]:
    """Cases reported in the last ``days`` days (today included), counted as ``community`` and ``control``
    (found under control) per area or home building: one grouped query."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    qs = tracing.cases_visible_to(user).filter(reported_at__gte=since).order_by()
    community = Count("id", filter=Q(control="community"))
    everyone = Count("id")
    g = grain(bbox)
    if g == "building":
        w, s, e, n = bbox or (-180, -90, 180, 90)
        rows = (
            qs.filter(
                person__home_building__longitude__gte=w,
                person__home_building__longitude__lte=e,
                person__home_building__latitude__gte=s,
                person__home_building__latitude__lte=n,
            )
            .values_list(
                "person__home_building__code", "person__home_building__address",
                "person__home_building__longitude", "person__home_building__latitude",
            )
            .annotate(c=community, t=everyone)
            .order_by("-t")
        )  # fmt: skip
        found = list(rows[: limit + 1])
        return (
            g,
            [
                _point(x, y, {"code": code, "name": address, "community": c, "control": t - c})
                for code, address, x, y, c, t in found[:limit]
            ],
            len(found) > limit,
        )
    counts: dict[str, dict[str, int]] = {}
    for path, c, t in qs.values_list("jurisdiction__path").annotate(c=community, t=everyone):
        counts[path] = {"community": c, "control": t - c}
    level = Level.STREET if g == "street" else Level.GRID
    features, truncated = _grouped(user, counts, level, bbox, limit)
    return g, features, truncated


def venues(
    user: Actor, bbox: Box | None, *, days: int = DAYS, limit: int = LIMIT, now: dt.datetime | None = None
) -> tuple[str, list[dict[str, Any]], bool]:
    """Risk venues visited in the last ``days`` days, one point per venue (at its building) with its cases and
    visits, the busiest first."""
    since = timezone.localtime(now or timezone.now()).date() - dt.timedelta(days=days)
    qs = tracing.risk_venues_visible_to(user, since=since).filter(venue__building__longitude__isnull=False)
    if grain(bbox) == "street":  # from far: venues and their cases counted per street
        counts: dict[str, dict[str, int]] = {}
        for path, v, c in (
            qs.order_by()
            .values_list("venue__jurisdiction__path")
            .annotate(v=Count("venue_id", distinct=True), c=Count("case_id", distinct=True))
        ):
            counts[path] = {"venues": v, "cases": c}
        features, truncated = _grouped(user, counts, Level.STREET, bbox, limit)
        return "street", features, truncated
    if bbox is not None:
        w, s, e, n = bbox
        qs = qs.filter(
            venue__building__longitude__gte=w,
            venue__building__longitude__lte=e,
            venue__building__latitude__gte=s,
            venue__building__latitude__lte=n,
        )
    rows = list(
        qs.order_by()
        .values_list("venue__code", "venue__name", "venue__building__longitude", "venue__building__latitude")
        .annotate(cases=Count("case_id", distinct=True), last=Max("last_out"))
        .order_by("-cases", "venue__code")[: limit + 1]
    )
    features = [
        _point(x, y, {"code": code, "name": name, "cases": n, "last": timezone.localtime(last).isoformat()})
        for code, name, x, y, n, last in rows[:limit]
    ]
    return "venue", features, len(rows) > limit


def zone_layer(
    user: Actor, bbox: Box | None, *, limit: int = LIMIT
) -> tuple[str, list[dict[str, Any]], bool]:
    """Zones that apply or may apply (proposed, in force, guarded): counted per kind per street (at the street's
    outline centre, by the zone's owning area) from far, one by one as the box of their buildings when closer."""
    qs = zones.zones_visible_to(user).filter(state__in=list(zones.LIVE)).order_by()
    g = grain(bbox)
    if g != "building":  # from far: counted per kind per street, then per community
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for path, kind, n in qs.values_list("owner__path", "kind").annotate(n=Count("id")):
            counts[path][kind] += n
        level, g = (Level.STREET, "street") if g == "street" else (Level.COMMUNITY, "community")
        features, truncated = _grouped(user, counts, level, bbox, limit)
        return g, features, truncated
    extents = (
        ZoneBuilding.objects.filter(zone__in=qs.values("pk"), building__longitude__isnull=False)
        .values("zone_id", "zone__code", "zone__name", "zone__kind", "zone__state")
        .annotate(
            x0=Min("building__longitude"),
            y0=Min("building__latitude"),
            x1=Max("building__longitude"),
            y1=Max("building__latitude"),
        )
        .order_by()
    )
    if bbox is not None:
        w, s, e, n = bbox
        extents = extents.filter(x1__gte=w, x0__lte=e, y1__gte=s, y0__lte=n)
    found = list(extents[: limit + 1])
    pad = 0.0002
    features = []
    for r in found[:limit]:
        x0, y0, x1, y1 = r["x0"] - pad, r["y0"] - pad, r["x1"] + pad, r["y1"] + pad
        ring = [[round(x, 5), round(y, 5)] for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "code": r["zone__code"],
                    "name": r["zone__name"],
                    "kind": r["zone__kind"],
                    "state": r["zone__state"],
                },
            }
        )
    return "zone", features, len(found) > limit


def sites(user: Actor, bbox: Box | None, *, limit: int = LIMIT) -> tuple[str, list[dict[str, Any]], bool]:
    """Isolation sites open or closed for intake, with rooms, beds, rooms occupied, persons staying and the
    share of usable rooms in use."""
    qs = (
        control.sites_visible_to(user)
        .filter(longitude__isnull=False, latitude__isnull=False)
        .order_by("code")
    )
    if bbox is not None:
        w, s, e, n = bbox
        qs = qs.filter(longitude__gte=w, longitude__lte=e, latitude__gte=s, latitude__lte=n)
    found = list(qs[: limit + 1])
    kept = found[:limit]
    capacity = control.capacity(user, kept)
    features = []
    for site in kept:
        c = capacity[site.pk]
        features.append(
            _point(
                site.longitude or 0.0,
                site.latitude or 0.0,
                {
                    "code": site.code,
                    "name": site.name,
                    "active": site.active,
                    "rooms": c.rooms,
                    "beds": c.beds,
                    "occupied": c.occupied_rooms,
                    "available": c.available_rooms,
                    "persons": c.persons,
                    "use": c.use_percent,
                },
            )
        )
    return "site", features, len(found) > limit


def districts(user: Actor, bbox: Box | None, *, limit: int = LIMIT) -> tuple[str, list[dict[str, Any]], bool]:
    features, truncated = geo.outlines_for(user, level=Level.DISTRICT, bbox=bbox, limit=limit)
    return "district", features, truncated


def layer(
    user: Actor, name: str, bbox: Box | None, *, days: int = DAYS, now: dt.datetime | None = None
) -> dict[str, Any]:
    """One layer of the command map as a FeatureCollection with its grain and whether it was cut at ``LIMIT``.
    Raises ``PermissionDenied`` (through the owning selector) when the user may not see it."""
    days = max(1, min(days, MAX_DAYS))
    if name == "cases":
        g, features, truncated = cases(user, bbox, days=days, now=now)
    elif name == "venues":
        g, features, truncated = venues(user, bbox, days=days, now=now)
    elif name == "zones":
        g, features, truncated = zone_layer(user, bbox)
    elif name == "sites":
        g, features, truncated = sites(user, bbox)
    elif name == "districts":
        g, features, truncated = districts(user, bbox)
    else:
        raise ValueError(name)
    return {
        "type": "FeatureCollection",
        "layer": name,
        "grain": g,
        "features": features,
        "truncated": truncated,
    }


def extent(user: Actor) -> Box | None:
    """The box of the outlines of the user's area (where the map opens): their district outlines' extent."""
    scope = Scope.of(user)
    if scope.path is None:
        return None
    r = Outline.objects.filter(jurisdiction__path__startswith=scope.path).aggregate(
        w=Min("west"), s=Min("south"), e=Max("east"), n=Max("north")
    )
    if r["w"] is None:
        return None
    return r["w"], r["s"], r["e"], r["n"]
