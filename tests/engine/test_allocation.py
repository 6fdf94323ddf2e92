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


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=200, deadline=None)
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
