"""Scoped reads of the jurisdiction tree and buildings."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from cordon.core import rollups
from cordon.core.actors import Actor, CityReader, Narrowed
from cordon.core.scoping import NotFound, Scope

from .models import Building, IndustrySector, Jurisdiction, Level, RollupTally


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


def _city_path(path: str) -> str:
    """The path of the city a node at ``path`` lies in (a plain computation over the path)."""
    return "/" + path.strip("/").split("/")[0] + "/"


def rollup_recount(*, fast: bool | None = None) -> dict[tuple[str, int], int]:
    """Every registered figure and group summed over every node's subtree, for every city (read as the whole
    city): ``fast=None`` everything, ``False`` the figures and the groups kept with them, ``True`` only the
    groups recounted every few seconds. Every figure has a row at every city even when zero (readers take the
    city's row as the time of the recount, one row read by index)."""
    parents = dict(Jurisdiction.objects.values_list("id", "parent_id"))
    out: dict[tuple[str, int], int] = defaultdict(int)

    def add(key: str, counts: Mapping[int, int]) -> None:
        for jid, n in counts.items():
            at: int | None = jid
            while at is not None:
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
                add(key, counted.get(key, {}))
    return dict(out)


def rollup_stored(keys: Iterable[str] | None = None) -> dict[tuple[str, int], int]:
    """The kept roll-ups as they are (all, or those of these figure keys)."""
    qs = RollupTally.objects.all() if keys is None else RollupTally.objects.filter(figure__in=list(keys))
    return {(f, j): n for f, j, n in qs.values_list("figure", "jurisdiction_id", "n")}


def kept_group(user: Actor, key: str, now: dt.datetime | None = None) -> dict[str, int] | None:
    """The kept figures of a roll-up group (``rollups.Group``) over the user's whole territory, or ``None``
    (count live instead) for a user without the group's capability, a sector-limited one, before the first
    recount, when the last one is too old (``CORDON_TALLY_STALE_SECONDS`` for a fast group,
    ``CORDON_ROLLUP_STALE_SECONDS`` otherwise), or, for a daily group, when the city's day has turned since.
    One query: the rows of the user's node and of its city (whose row carries the time of the recount)."""
    group = rollups.group(key)
    scope = Scope.of(user)
    if scope.path is None or scope.sector_id is not None or not scope.can(group.capability):
        return None
    city_path = _city_path(scope.path)
    rows = list(
        RollupTally.objects.filter(
            figure__in=group.keys, jurisdiction__path__in=sorted({scope.path, city_path})
        ).values_list("figure", "jurisdiction__path", "n", "counted_at")
    )
    marks = [at for _f, path, _n, at in rows if path == city_path]
    if len(marks) < len(group.keys):
        return None
    now = now or timezone.now()
    counted_at = min(marks)
    seconds = settings.CORDON_TALLY_STALE_SECONDS if group.fast else settings.CORDON_ROLLUP_STALE_SECONDS
    if now - counted_at > dt.timedelta(seconds=seconds):
        return None
    if group.daily and timezone.localdate(counted_at) != timezone.localdate(now):
        return None
    out = dict.fromkeys(group.keys, 0)
    for figure, path, n, _at in rows:
        if path == scope.path:
            out[figure] = n
    return out
