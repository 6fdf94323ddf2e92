"""Proposing isolation placements for a batch of contacts (no Django).

Rules, in the order they are applied:

- **One household per room** (单人单间, families together): a room goes to one group of the batch, whatever
  beds it has left; the caller offers only empty rooms.
- **Households together**: members of one household in the batch go to the same site, in as few rooms as
  possible (one room when one has the beds).
- **Children with a guardian**: a child goes only to a site that takes children, and only into a room with an
  adult of the same household. A child whose household has no adult in the batch is not placed
  (``no_guardian``): an officer decides.
- **Special needs** (disabled, pregnant, dialysis, bedridden, ...): only sites that take special needs, and only
  accessible rooms.
- **Nearest site with capacity**: groups are taken in the order given (the caller puts the longest waiting
  first); each goes to the nearest site (great-circle distance from the home) where it fits under the rules
  above, with the beds left by the groups before it. A household that fits nowhere as a whole is split into
  guardian units (each adult with their share of the children) placed one by one (``split``); what still
  does not fit is ``no_capacity`` (or ``no_site_for_needs`` when no site could ever take the person).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Reason = Literal["no_guardian", "no_capacity", "no_site_for_needs"]


@dataclass(frozen=True)
class Person:
    id: int
    household: int = -1  # -1: alone
    lon: float | None = None
    lat: float | None = None
    child: bool = False
    special_needs: bool = False


@dataclass(frozen=True)
class Site:
    id: int
    lon: float | None = None
    lat: float | None = None
    takes_children: bool = True
    takes_special_needs: bool = False


@dataclass(frozen=True)
class Room:
    id: int
    site: int
    free_beds: int
    accessible: bool = False


@dataclass(frozen=True)
class Placement:
    person: int
    site: int
    room: int
    distance_km: float


@dataclass(frozen=True)
class Unplaced:
    person: int
    reason: Reason


@dataclass(frozen=True)
class Proposal:
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    split_households: tuple[int, ...] = field(default=())


def distance_km(lon1: float | None, lat1: float | None, lon2: float | None, lat2: float | None) -> float:
    """Great-circle distance; 0 when a point is unknown (so unknown homes take sites in id order)."""
    if lon1 is None or lat1 is None or lon2 is None or lat2 is None:
        return 0.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _units(group: Sequence[Person]) -> list[list[Person]]:
    """Guardian units: each adult with an even share of the group's children (children need an adult)."""
    adults = [p for p in group if not p.child]
    children = [p for p in group if p.child]
    units = [[a] for a in adults]
    for i, c in enumerate(children):
        units[i % len(units)].append(c)
    return units


def _pack(
    group: Sequence[Person], rooms: Sequence[Room], free: dict[int, int]
) -> list[tuple[Person, Room]] | None:
    """Rooms at one site for the whole group, or None. Members with special needs (and their units) need
    accessible rooms; a child is never in a room without an adult of the group."""
    open_rooms = [r for r in rooms if free[r.id] > 0]
    # One room for everyone when possible (smallest that fits, accessible if anyone needs it).
    needs = any(p.special_needs for p in group)
    fitting = [r for r in open_rooms if free[r.id] >= len(group) and (r.accessible or not needs)]
    if fitting:
        room = min(fitting, key=lambda r: (free[r.id], r.id))
        return [(p, room) for p in group]
    # Otherwise guardian units (special needs first, then the largest), each into one room: accessible for a
    # unit with special needs, and for the others a plain room when one fits, so accessible rooms are kept for
    # those who need them; among those, the one with the fewest beds left that fits.
    left = dict(free)
    out: list[tuple[Person, Room]] = []
    units = sorted(_units(group), key=lambda u: (-any(p.special_needs for p in u), -len(u)))
    for unit in units:
        unit_needs = any(p.special_needs for p in unit)
        candidates = [r for r in open_rooms if left[r.id] >= len(unit) and (r.accessible or not unit_needs)]
        if not candidates:
            return None
        room = min(candidates, key=lambda r: (r.accessible and not unit_needs, left[r.id], r.id))
        left[room.id] -= len(unit)
        out.extend((p, room) for p in unit)
    return out


def _site_allows(site: Site, group: Sequence[Person]) -> bool:
    if any(p.child for p in group) and not site.takes_children:
        return False
    return not (any(p.special_needs for p in group) and not site.takes_special_needs)


def propose(persons: Sequence[Person], sites: Sequence[Site], rooms: Sequence[Room]) -> Proposal:
    """Placements for ``persons`` (in priority order) over ``rooms`` with their free beds."""
    if len({p.id for p in persons}) != len(persons):
        raise ValueError("a person appears twice in the batch")
    if any(r.free_beds < 0 for r in rooms):
        raise ValueError("free beds cannot be negative")
    site_by_id = {s.id: s for s in sites}
    rooms_of: dict[int, list[Room]] = defaultdict(list)
    for r in rooms:
        if r.site not in site_by_id:
            raise ValueError(f"room {r.id} belongs to an unknown site {r.site}")
        rooms_of[r.site].append(r)
    free = {r.id: r.free_beds for r in rooms}
    site_free = {s.id: sum(r.free_beds for r in rooms_of[s.id]) for s in sites}

    groups: list[list[Person]] = []
    by_household: dict[int, list[Person]] = {}
    for p in persons:
        if p.household >= 0:
            if p.household not in by_household:
                by_household[p.household] = []
                groups.append(by_household[p.household])
            by_household[p.household].append(p)
        else:
            groups.append([p])

    placements: list[Placement] = []
    unplaced: list[Unplaced] = []
    split: list[int] = []

    def place(group: Sequence[Person]) -> bool:
        home = group[0]
        order = sorted(
            (s for s in sites if _site_allows(s, group)),
            key=lambda s: (distance_km(home.lon, home.lat, s.lon, s.lat), s.id),
        )
        for s in order:
            if site_free[s.id] < len(group):
                continue
            packed = _pack(group, rooms_of[s.id], free)
            if packed is None:
                continue
            # One household per room: a room taken by this group is closed to the others.
            for room_id in {room.id for _p, room in packed}:
                site_free[s.id] -= free[room_id]
                free[room_id] = 0
            for p, room in packed:
                placements.append(Placement(p.id, s.id, room.id, distance_km(p.lon, p.lat, s.lon, s.lat)))
            return True
        return False

    possible: dict[tuple[bool, bool], bool] = {}

    def reason(p: Person) -> Reason:
        kind = (p.child, p.special_needs)
        if kind not in possible:
            possible[kind] = any(
                _site_allows(s, [p]) and any(r.accessible or not p.special_needs for r in rooms_of[s.id])
                for s in sites
            )
        return "no_capacity" if possible[kind] else "no_site_for_needs"

    for group in groups:
        orphans = [p for p in group if p.child] if all(p.child for p in group) else []
        if orphans:
            unplaced.extend(Unplaced(p.id, "no_guardian") for p in orphans)
            continue
        if place(group):
            continue
        if len(group) > 1:
            split.append(group[0].household)
            for unit in _units(group):
                if not place(unit):
                    unplaced.extend(Unplaced(p.id, reason(p)) for p in unit)
        else:
            unplaced.append(Unplaced(group[0].id, reason(group[0])))
    return Proposal(tuple(placements), tuple(unplaced), tuple(split))


__all__ = ["Person", "Placement", "Proposal", "Reason", "Room", "Site", "Unplaced", "distance_km", "propose"]
