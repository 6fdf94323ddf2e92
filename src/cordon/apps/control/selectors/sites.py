"""Isolation sites and rooms as a user may see them, their capacity, and room proposals for waiting persons.

A site is seen by users whose territory holds the site.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, QuerySet, Sum
from django.utils import timezone

from cordon.apps.geo.models import Jurisdiction
from cordon.apps.people.models import Person, SpecialGroup
from cordon.core.actors import Actor
from cordon.core.scoping import NotFound
from cordon.engine import allocation as engine

from ..models import (
    LIVE_PLACEMENT,
    ControlOrder,
    IsolationSite,
    Placement,
    PlacementStatus,
    Room,
    RoomStatus,
    SiteCapacity,
)
from .orders import _scope

SPECIAL_NEEDS = frozenset(
    {SpecialGroup.DISABLED, SpecialGroup.PREGNANT, SpecialGroup.DIALYSIS, SpecialGroup.BEDRIDDEN,
     SpecialGroup.MENTAL_HEALTH, SpecialGroup.INFANT}
)  # fmt: skip
CHILD_AGE = 14


def sites_visible_to(user: Actor) -> QuerySet[IsolationSite]:
    scope = _scope(user)
    return scope.filter(IsolationSite.objects.select_related("district", "jurisdiction"))


def get_site_for(user: Actor, key: int | str) -> IsolationSite:
    qs = sites_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except (IsolationSite.DoesNotExist, ValueError):
        raise NotFound from None


def get_room_for(user: Actor, pk: int) -> Room:
    try:
        return Room.objects.select_related("site").get(pk=pk, site__in=sites_visible_to(user))
    except (Room.DoesNotExist, ValueError):
        raise NotFound from None


@dataclass
class Capacity:
    rooms: int = 0
    beds: int = 0
    available_rooms: int = 0
    available_beds: int = 0
    occupied_rooms: int = 0
    persons: int = 0
    reserved: int = 0
    cleaning: int = 0
    out_of_service: int = 0

    def add(self, other: Capacity) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def use_percent(self) -> int:
        usable = self.rooms - self.out_of_service
        return round(100 * self.occupied_rooms / usable) if usable else 0


def capacity(user: Actor, sites: Sequence[IsolationSite] | None = None) -> dict[int, Capacity]:
    """Capacity per site (rooms and beds by status, persons staying and reserved), in two grouped queries."""
    site_ids = (
        [s.pk for s in sites]
        if sites is not None
        else list(sites_visible_to(user).values_list("pk", flat=True))
    )
    out = {pk: Capacity() for pk in site_ids}
    for row in (
        Room.objects.filter(site_id__in=site_ids)
        .values("site_id", "status")
        .annotate(n=Count("id"), beds=Sum("beds"))
    ):
        c = out[row["site_id"]]
        c.rooms += row["n"]
        c.beds += row["beds"] or 0
        if row["status"] == RoomStatus.AVAILABLE:
            c.available_rooms += row["n"]
            c.available_beds += row["beds"] or 0
        elif row["status"] == RoomStatus.OCCUPIED:
            c.occupied_rooms += row["n"]
        elif row["status"] == RoomStatus.CLEANING:
            c.cleaning += row["n"]
        else:
            c.out_of_service += row["n"]
    for live in (
        Placement.objects.filter(site_id__in=site_ids, status__in=LIVE_PLACEMENT)
        .values("site_id", "status")
        .annotate(n=Count("id"))
    ):
        if live["status"] == PlacementStatus.ACTIVE:
            out[live["site_id"]].persons += live["n"]
        else:
            out[live["site_id"]].reserved += live["n"]
    return out


def fresh(counted_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a kept count (the board's) is recent enough to read instead of counting now."""
    stale = dt.timedelta(seconds=settings.CORDON_TALLY_STALE_SECONDS)
    return counted_at is not None and (now or timezone.now()) - counted_at <= stale


def kept_capacity_by_district(
    user: Actor, now: dt.datetime | None = None
) -> tuple[list[dict[str, Any]], Capacity] | None:
    """``capacity_by_district`` from the kept capacity (``SiteCapacity``, refreshed with the board's counts),
    summed per district in the database; ``None`` (count now) when not fresh or a site has none yet."""
    names = list(Capacity.__dataclass_fields__)
    visible = sites_visible_to(user).order_by().values("pk")
    grouped: list[dict[str, Any]] = [
        dict(g)
        for g in SiteCapacity.objects.filter(site__in=visible)
        .values("site__district_id")
        .annotate(n_sites=Count("pk"), oldest=Min("counted_at"), **{f"k_{n}": Sum(n) for n in names})
        .order_by()
    ]
    if sum(g["n_sites"] for g in grouped) != visible.count():
        return None  # a site added since the last recount
    if grouped and not fresh(min(g["oldest"] for g in grouped), now):
        return None
    districts = Jurisdiction.objects.in_bulk([g["site__district_id"] for g in grouped])
    rows, total = [], Capacity()
    for g in grouped:
        c = Capacity(**{n: g[f"k_{n}"] for n in names})
        rows.append({"district": districts[g["site__district_id"]], "sites": g["n_sites"], "capacity": c})
        total.add(c)
    return sorted(rows, key=lambda r: r["district"].code), total


def capacity_by_district(user: Actor, *, kept: bool = False) -> tuple[list[dict[str, Any]], Capacity]:
    """Capacity per district of the user's sites and in all; ``kept``: from the kept capacity when fresh (the
    board), else counted now (the sites page, where rooms are managed)."""
    if kept:
        from_kept = kept_capacity_by_district(user)
        if from_kept is not None:
            return from_kept
    sites = list(sites_visible_to(user))
    per_site = capacity(user, sites)
    rows: dict[int, dict[str, Any]] = {}
    total = Capacity()
    for s in sites:
        row = rows.setdefault(s.district_id, {"district": s.district, "sites": 0, "capacity": Capacity()})
        row["sites"] += 1
        row["capacity"].add(per_site[s.pk])
        total.add(per_site[s.pk])
    return sorted(rows.values(), key=lambda r: r["district"].code), total


def rooms_of(site: IsolationSite) -> list[Room]:
    """``site`` must come from ``get_site_for``. Each room carries ``occupants`` (live placements)."""
    rooms = list(Room.objects.filter(site=site).order_by("floor", "number"))
    occupants: dict[int, list[Placement]] = defaultdict(list)
    for p in Placement.objects.filter(site=site, status__in=LIVE_PLACEMENT).select_related("person", "order"):
        occupants[p.room_id or 0].append(p)
    for r in rooms:
        r.occupants = occupants.get(r.pk, [])  # type: ignore[attr-defined]
    return rooms


# --- Proposals ---------------------------------------------------------------------------------------------


@dataclass
class ProposedRow:
    order: ControlOrder
    site: IsolationSite | None = None
    room: Room | None = None
    distance_km: float | None = None
    reason: str = ""
    options: list[Room] = field(default_factory=list)


def spare_rooms(sites: Sequence[IsolationSite], *, exclude: set[int], per_site: int) -> dict[int, list[Room]]:
    """Up to ``per_site`` available rooms of each site, leaving out ``exclude`` (rooms already proposed)."""
    out: dict[int, list[Room]] = defaultdict(list)
    for s in sites:
        out[s.pk] = list(
            Room.objects.filter(site=s, status=RoomStatus.AVAILABLE)
            .exclude(pk__in=exclude)
            .select_related("site")
            .order_by("floor", "number")[:per_site]
        )
    return out


@dataclass
class ProposalView:
    rows: list[ProposedRow]
    split_households: int = 0
    sites: list[IsolationSite] = field(default_factory=list)


def _age(person: Person, today: dt.date) -> int | None:
    b = person.birth_date
    if b is None:
        return None
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def propose_placements(
    user: Actor, orders: Sequence[ControlOrder], *, site_ids: Sequence[int] = ()
) -> ProposalView:
    """Placements for waiting orders of centralised plans over the available rooms of the open sites the user
    sees (or of ``site_ids``): households together, children with a guardian, special needs in accessible
    rooms at sites that take them, nearest site first (see ``cordon.engine.allocation``)."""
    sites_qs = sites_visible_to(user).filter(active=True)
    if site_ids:
        sites_qs = sites_qs.filter(pk__in=list(site_ids))
    sites = list(sites_qs)
    rooms = list(Room.objects.filter(site__in=sites, status=RoomStatus.AVAILABLE).select_related("site"))
    today = timezone.localdate()
    persons = []
    for o in orders:
        p = o.person
        b = p.home_building
        age = _age(p, today)
        persons.append(
            engine.Person(
                id=o.pk,
                household=p.household_id or -1,
                lon=b.longitude if b else None,
                lat=b.latitude if b else None,
                child=age is not None and age < CHILD_AGE,
                special_needs=bool(SPECIAL_NEEDS & set(p.tags or [])),
            )
        )
    result = engine.propose(
        persons,
        [engine.Site(s.pk, s.longitude, s.latitude, s.takes_children, s.takes_special_needs) for s in sites],
        [engine.Room(r.pk, r.site_id, r.beds, r.accessible) for r in rooms],
    )
    site_by_id = {s.pk: s for s in sites}
    room_by_id = {r.pk: r for r in rooms}
    placed = {pl.person: pl for pl in result.placements}
    why = {u.person: u.reason for u in result.unplaced}
    rows = []
    for o in orders:
        pl = placed.get(o.pk)
        if pl is not None:
            rows.append(ProposedRow(o, site_by_id[pl.site], room_by_id[pl.room], round(pl.distance_km, 1)))
        else:
            rows.append(ProposedRow(o, reason=why.get(o.pk, "no_capacity")))
    return ProposalView(rows, len(result.split_households), sites)
