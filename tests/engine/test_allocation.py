"""Placement proposals: the rules hold on random batches (hypothesis), and a nearer room that could take a
whole household is never passed over."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine.allocation import Person, Room, Site, distance_km, propose


@st.composite
def batches(draw: Any) -> tuple[list[Person], list[Site], list[Room]]:
    n_sites = draw(st.integers(1, 4))
    sites = [
        Site(
            i,
            lon=116 + draw(st.floats(0, 1)),
            lat=39.5 + draw(st.floats(0, 1)),
            takes_children=draw(st.booleans()),
            takes_special_needs=draw(st.booleans()),
        )
        for i in range(n_sites)
    ]
    rooms = [
        Room(100 + j, draw(st.integers(0, n_sites - 1)), draw(st.integers(0, 4)), draw(st.booleans()))
        for j in range(draw(st.integers(0, 10)))
    ]
    persons = []
    for i in range(draw(st.integers(0, 14))):
        household = draw(st.integers(-1, 4))
        persons.append(
            Person(
                i,
                household,
                lon=116 + draw(st.floats(0, 1)),
                lat=39.5 + draw(st.floats(0, 1)),
                child=draw(st.booleans()),
                special_needs=draw(st.integers(0, 4)) == 0,
            )
        )
    return persons, sites, rooms


@settings(max_examples=150, deadline=None)
@given(batches())
def test_proposals_keep_every_rule(batch: tuple[list[Person], list[Site], list[Room]]) -> None:
    persons, sites, rooms = batch
    proposal = propose(persons, sites, rooms)
    by_person = {p.id: p for p in persons}
    room_by_id = {r.id: r for r in rooms}
    site_by_id = {s.id: s for s in sites}
    placed = [pl.person for pl in proposal.placements]
    unplaced = [u.person for u in proposal.unplaced]
    # Everyone is either placed once or reported unplaced once.
    assert sorted(placed + unplaced) == sorted(by_person)
    # No room over its free beds; rooms belong to the chosen site.
    use = Counter(pl.room for pl in proposal.placements)
    for room_id, n in use.items():
        assert n <= room_by_id[room_id].free_beds
    for pl in proposal.placements:
        assert room_by_id[pl.room].site == pl.site
        p, site, room = by_person[pl.person], site_by_id[pl.site], room_by_id[pl.room]
        if p.child:
            assert site.takes_children
        if p.special_needs:
            assert site.takes_special_needs and room.accessible
    # One household (or one person alone) per room.
    groups_in_room: dict[int, set[int]] = defaultdict(set)
    for pl in proposal.placements:
        p = by_person[pl.person]
        groups_in_room[pl.room].add(p.household if p.household >= 0 else -1 - p.id)
    assert all(len(g) == 1 for g in groups_in_room.values())
    # A child is in a room with an adult of its household.
    in_room: dict[int, list[Person]] = defaultdict(list)
    for pl in proposal.placements:
        in_room[pl.room].append(by_person[pl.person])
    for members in in_room.values():
        for c in (m for m in members if m.child):
            assert any(not m.child and m.household == c.household and c.household >= 0 for m in members)
    # A household that was not split is at one site.
    site_of = {pl.person: pl.site for pl in proposal.placements}
    for h in {p.household for p in persons if p.household >= 0} - set(proposal.split_households):
        assert len({site_of[p.id] for p in persons if p.household == h and p.id in site_of}) <= 1
    # Children without an adult of their household in the batch are never placed.
    for p in persons:
        adults = [q for q in persons if q.household == p.household and not q.child and p.household >= 0]
        if p.child and not adults:
            assert p.id in unplaced


@settings(max_examples=100, deadline=None)
@given(batches())
def test_a_nearer_room_for_the_whole_household_is_never_passed_over(
    batch: tuple[list[Person], list[Site], list[Room]],
) -> None:
    """Replays the proposal group by group: when a group was placed at a site, no site strictly nearer had a
    single room that could take the whole group under the rules (with the beds left at that moment)."""
    persons, sites, rooms = batch
    proposal = propose(persons, sites, rooms)
    free = {r.id: r.free_beds for r in rooms}
    site_by_id = {s.id: s for s in sites}
    groups: dict[int, list[Person]] = {}
    order: list[list[Person]] = []
    for p in persons:
        if p.household >= 0:
            if p.household not in groups:
                groups[p.household] = []
                order.append(groups[p.household])
            groups[p.household].append(p)
        else:
            order.append([p])
    placements = {pl.person: pl for pl in proposal.placements}
    for group in order:
        if group[0].household in proposal.split_households:
            for p in group:
                if p.id in placements:
                    free[placements[p.id].room] = 0
            continue
        mine = [placements[p.id] for p in group if p.id in placements]
        if not mine:
            continue
        assert len(mine) == len(group)
        chosen = site_by_id[mine[0].site]
        home = group[0]
        d_chosen = distance_km(home.lon, home.lat, chosen.lon, chosen.lat)
        needs = any(p.special_needs for p in group)
        kids = any(p.child for p in group)
        for s in sites:
            if distance_km(home.lon, home.lat, s.lon, s.lat) >= d_chosen - 1e-9:
                continue
            if (kids and not s.takes_children) or (needs and not s.takes_special_needs):
                continue
            assert not any(
                r.site == s.id and free[r.id] >= len(group) and (r.accessible or not needs) for r in rooms
            )
        for room in {pl.room for pl in mine}:
            free[room] = 0


def test_a_family_shares_a_room_and_goes_to_the_nearest_site() -> None:
    near, far = Site(1, 116.40, 39.90), Site(2, 116.90, 40.40)
    rooms = [Room(10, 1, 2), Room(11, 1, 3), Room(20, 2, 3)]
    family = [
        Person(1, 7, 116.41, 39.91),
        Person(2, 7, 116.41, 39.91, child=True),
        Person(3, 7, 116.41, 39.91, child=True),
    ]
    proposal = propose(family, [far, near], rooms)
    assert {(pl.site, pl.room) for pl in proposal.placements} == {(1, 11)}
    assert all(pl.distance_km < 2 for pl in proposal.placements)
    # The next household takes the near site's other room; a third one finds the near site full.
    couple = [Person(4, 8, 116.41, 39.91), Person(5, 8, 116.41, 39.91)]
    again = propose([*family, *couple, Person(6, 9, 116.41, 39.91)], [far, near], rooms)
    assert {(pl.site, pl.room) for pl in again.placements if pl.person in (4, 5)} == {(1, 10)}
    assert {(pl.site, pl.room) for pl in again.placements if pl.person == 6} == {(2, 20)}


def test_unplaced_reasons() -> None:
    sites = [Site(1, takes_children=False, takes_special_needs=False)]
    rooms = [Room(10, 1, 1)]
    proposal = propose(
        [Person(1, 5, child=True), Person(2, special_needs=True), Person(3), Person(4)], sites, rooms
    )
    reasons = {u.person: u.reason for u in proposal.unplaced}
    assert reasons == {1: "no_guardian", 2: "no_site_for_needs", 4: "no_capacity"}
    with pytest.raises(ValueError, match="twice"):
        propose([Person(1), Person(1)], sites, rooms)


# --- distances ----------------------------------------------------------------------------------------------

R = 6371.0088  # the mean Earth radius the engine uses, km


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((0.0, 0.0), (0.0, 1.0), 111.19508),  # one degree of a meridian: R * pi / 180
        ((0.0, 0.0), (1.0, 0.0), 111.19508),  # one degree of the equator
        ((0.0, 0.0), (90.0, 0.0), 10007.5573),  # a quarter of the equator: R * pi / 2
        ((10.0, 0.0), (-170.0, 0.0), 20015.1146),  # antipodes: R * pi (the square root is clamped at 1)
        ((0.0, 0.0), (0.0, 90.0), 10007.5573),  # equator to pole
        (
            (0.0, 60.0),
            (180.0, 60.0),
            6671.7046,
        ),  # over the pole between opposite meridians at 60 N: 60 degrees
        ((116.40, 39.90), (116.40, 39.90), 0.0),
    ],
)
def test_great_circle_distances_worked_by_hand(
    a: tuple[float, float], b: tuple[float, float], km: float
) -> None:
    assert distance_km(*a, *b) == pytest.approx(km, abs=1e-3)
    assert distance_km(*b, *a) == pytest.approx(km, abs=1e-3)


def test_a_short_distance_in_beijing() -> None:
    # 0.01 degree of latitude is R * pi / 18000 = 1.11195 km; 0.01 degree of longitude at 39.9 N is that
    # times cos(39.9 degrees) = 0.85310 km; together (a small flat triangle) 1.40156 km.
    assert distance_km(116.40, 39.90, 116.40, 39.91) == pytest.approx(1.11195, abs=1e-4)
    assert distance_km(116.40, 39.90, 116.41, 39.90) == pytest.approx(0.85310, abs=1e-4)
    assert distance_km(116.40, 39.90, 116.41, 39.91) == pytest.approx(1.40156, abs=2e-4)


@pytest.mark.parametrize("unknown", range(4))
def test_an_unknown_point_is_at_distance_zero(unknown: int) -> None:
    coords: list[float | None] = [116.4, 39.9, 117.4, 40.9]
    assert distance_km(*coords) > 100  # type: ignore[arg-type]
    coords[unknown] = None
    assert distance_km(*coords) == 0.0  # type: ignore[arg-type]


# --- the rules against a plain reference --------------------------------------------------------------------


def reference_propose(
    persons: list[Person], sites: list[Site], rooms: list[Room]
) -> tuple[set[tuple[int, int, int]], set[tuple[int, str]], list[int]]:
    """The module docstring's rules, written out plainly: (person, site, room) placements, (person, reason) for
    those not placed, and the households split, in batch order."""
    beds = {r.id: r.free_beds for r in rooms}  # a room taken by a group is closed to the others (0 beds)
    placed: set[tuple[int, int, int]] = set()
    unplaced: set[tuple[int, str]] = set()
    split: list[int] = []

    def may_go(site: Site, group: list[Person]) -> bool:
        return (site.takes_children or not any(p.child for p in group)) and (
            site.takes_special_needs or not any(p.special_needs for p in group)
        )

    def guardian_units(group: list[Person]) -> list[list[Person]]:
        adults, children = [p for p in group if not p.child], [p for p in group if p.child]
        return [[a, *children[i :: len(adults)]] for i, a in enumerate(adults)]

    def rooms_for(group: list[Person], site: Site) -> dict[int, Room] | None:
        here = [r for r in rooms if r.site == site.id and beds[r.id] > 0]
        needs = any(p.special_needs for p in group)
        # Do not split a household that fits one room: the smallest such room.
        whole = [r for r in here if beds[r.id] >= len(group) and (r.accessible or not needs)]
        if whole:
            room = min(whole, key=lambda r: (beds[r.id], r.id))
            return {p.id: room for p in group}
        left, out = dict(beds), {}
        by_need = sorted(guardian_units(group), key=lambda u: (not any(p.special_needs for p in u), -len(u)))
        for unit in by_need:
            unit_needs = any(p.special_needs for p in unit)
            fits = [r for r in here if left[r.id] >= len(unit) and (r.accessible or not unit_needs)]
            if not fits:
                return None
            # Keep accessible rooms for those who need them: a plain room first when the unit needs none.
            plain = [r for r in fits if not r.accessible] if not unit_needs else []
            room = min(plain or fits, key=lambda r: (left[r.id], r.id))
            left[room.id] -= len(unit)
            out |= {p.id: room for p in unit}
        return out

    def place(group: list[Person]) -> bool:
        home = group[0]
        nearest_first = sorted(
            (s for s in sites if may_go(s, group)),
            key=lambda s: (distance_km(home.lon, home.lat, s.lon, s.lat), s.id),
        )
        for site in nearest_first:
            got = rooms_for(group, site)
            if got is not None:
                placed.update((pid, site.id, room.id) for pid, room in got.items())
                for room in got.values():
                    beds[room.id] = 0
                return True
        return False

    def reason(p: Person) -> str:
        possible = any(
            may_go(s, [p]) and any(r.site == s.id and (r.accessible or not p.special_needs) for r in rooms)
            for s in sites
        )
        return "no_capacity" if possible else "no_site_for_needs"

    households: dict[int, list[Person]] = {}
    groups: list[list[Person]] = []
    for p in persons:
        if p.household < 0:
            groups.append([p])
        elif p.household in households:
            households[p.household].append(p)
        else:
            households[p.household] = [p]
            groups.append(households[p.household])
    for group in groups:
        if all(p.child for p in group):
            unplaced.update((p.id, "no_guardian") for p in group)
        elif not place(group):
            if len(group) == 1:
                unplaced.add((group[0].id, reason(group[0])))
                continue
            split.append(group[0].household)
            for unit in guardian_units(group):
                if not place(unit):
                    unplaced.update((p.id, reason(p)) for p in unit)
    return placed, unplaced, split


@settings(max_examples=200, deadline=None)
@given(batches())
def test_proposals_equal_the_plain_reference(batch: tuple[list[Person], list[Site], list[Room]]) -> None:
    persons, sites, rooms = batch
    proposal = propose(persons, sites, rooms)
    placed, unplaced, split = reference_propose(persons, sites, rooms)
    assert {(pl.person, pl.site, pl.room) for pl in proposal.placements} == placed
    assert {(u.person, u.reason) for u in proposal.unplaced} == unplaced
    assert list(proposal.split_households) == split
    by_id, site_by_id = {p.id: p for p in persons}, {s.id: s for s in sites}
    for pl in proposal.placements:
        p, s = by_id[pl.person], site_by_id[pl.site]
        assert pl.distance_km == distance_km(p.lon, p.lat, s.lon, s.lat)


def test_a_farther_site_takes_a_household_the_nearer_ones_cannot() -> None:
    home = (116.40, 39.90)
    full = Site(1, 116.41, 39.90)  # nearest, two beds left in one room
    kidless = Site(2, 116.42, 39.90, takes_children=False)  # next, takes no children
    split_only = Site(3, 116.43, 39.90)  # rooms of one bed only: the family would be split
    roomy = Site(4, 116.60, 39.90)
    rooms = [Room(10, 1, 2), Room(20, 2, 5), Room(30, 3, 1), Room(31, 3, 1), Room(32, 3, 1), Room(40, 4, 4)]
    family = [Person(1, 7, *home), Person(2, 7, *home, child=True), Person(3, 7, *home)]
    proposal = propose(family, [roomy, split_only, kidless, full], rooms)
    assert {(pl.site, pl.room) for pl in proposal.placements} == {(4, 40)}
    assert not proposal.split_households and not proposal.unplaced


def test_accessible_rooms_are_kept_for_those_who_need_them() -> None:
    site = Site(1, 116.4, 39.9, takes_special_needs=True)
    rooms = [Room(10, 1, 2, accessible=True), Room(11, 1, 2), Room(12, 1, 1)]
    # Three adults and a child fit no room together: units (adult and child, adult, adult) go to rooms;
    # the plain rooms first, though the accessible one is as small.
    family = [Person(1, 5), Person(2, 5, child=True), Person(3, 5)]
    wheelchair = Person(9, special_needs=True)
    proposal = propose([*family, wheelchair], [site], rooms)
    room_of = {pl.person: pl.room for pl in proposal.placements}
    assert room_of[1] == room_of[2] == 11 and room_of[3] == 12
    assert room_of[9] == 10
    # Alone, a person without needs takes the smallest room that fits, accessible or not.
    assert [pl.room for pl in propose([Person(4)], [site], rooms).placements] == [12]


def test_a_household_that_fits_one_room_is_not_split() -> None:
    site = Site(1, 116.4, 39.9)
    rooms = [Room(10, 1, 1), Room(11, 1, 1), Room(12, 1, 3), Room(13, 1, 2)]
    couple = [Person(1, 5), Person(2, 5)]
    proposal = propose(couple, [site], rooms)
    assert {pl.room for pl in proposal.placements} == {13}  # the smallest room for both
    trio = [Person(3, 6), Person(4, 6), Person(5, 6, child=True)]
    assert {pl.room for pl in propose(trio, [site], rooms).placements} == {12}


def test_a_household_split_when_no_site_has_a_room_for_all() -> None:
    site = Site(1, 116.4, 39.9)
    rooms = [Room(10, 1, 2), Room(11, 1, 2)]
    family = [Person(1, 5), Person(2, 5, child=True), Person(3, 5), Person(4, 5, child=True)]
    proposal = propose(family, [site], rooms)
    assert proposal.split_households == ()  # packed at one site as two guardian units, not split
    room_of = {pl.person: pl.room for pl in proposal.placements}
    assert room_of[1] == room_of[2] and room_of[3] == room_of[4] and room_of[1] != room_of[3]
    # Across two sites it must be split: each guardian unit goes where it fits.
    near, far = Site(1, 116.4, 39.9), Site(2, 116.9, 39.9)
    apart = propose(family, [near, far], [Room(10, 1, 2), Room(20, 2, 2)])
    assert apart.split_households == (5,)
    assert {(pl.person, pl.site) for pl in apart.placements} == {(1, 1), (2, 1), (3, 2), (4, 2)}


def test_bad_batches_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        propose([Person(1)], [Site(1)], [Room(10, 1, -1)])
    with pytest.raises(ValueError, match="unknown site 2"):
        propose([Person(1)], [Site(1)], [Room(10, 2, 1)])
    assert propose([], [Site(1)], [Room(10, 1, 0)]) == propose([], [Site(1)], [])
