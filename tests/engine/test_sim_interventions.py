"""The intervention protocol: what a View reads (against plain loops over the city), what each Control does to a
running simulation and reports, and the built-in interventions' schedules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cordon.engine.sim import SimConfigError, Simulation, built_in, generate_city, load_profile, preset
from cordon.engine.sim.city import COMMUNITY, DISTRICT, GRID, STREET, City
from cordon.engine.sim.interventions import (
    FOUND_BY,
    CloseVenueKinds,
    Controls,
    IsolateCases,
    LockdownCaseAreas,
    QuarantineContacts,
    QuarantineTesting,
    RegularTesting,
    ScreeningRounds,
    View,
    ZoneLockdown,
)


@pytest.fixture(scope="module")
def city() -> City:
    return generate_city(preset("demo", population=2000), seed=9)


_RATES: dict[int, Any] = {}


def fresh(city: City, interventions: Any = (), seed: int = 9) -> Simulation:
    """A simulation of the city, calibrated once (calibration takes most of a short run's time)."""
    sim = Simulation(city, load_profile(), interventions, seed=seed, rates=_RATES.get(id(city)))
    _RATES[id(city)] = sim.rates
    return sim


def ancestors(city: City, node: int) -> list[int]:
    out = [node]
    while city.jur_parent[out[-1]] >= 0:
        out.append(int(city.jur_parent[out[-1]]))
    return out


def test_the_view_reads_the_city(city: City) -> None:
    sim = fresh(city)
    view = View(sim)
    assert view.day == 0 and view.n_persons == city.n_persons
    some = np.array([0, 5, 17, 300, 1999], np.int64)
    for p in some.tolist():
        same_home = [q for q in range(city.n_persons) if city.household[q] == city.household[p]]
        assert p in same_home
    want = sorted({q for p in some for q in range(city.n_persons) if city.household[q] == city.household[p]})
    assert view.household_members(some).tolist() == want
    workers = np.flatnonzero(city.unit >= 0)[:3]
    pupils = np.flatnonzero(city.klass >= 0)[:2]
    both = np.concatenate((workers, pupils, [int(np.flatnonzero(city.unit < 0)[0])]))
    want = sorted(
        {q for p in both for q in range(city.n_persons) if city.unit[p] >= 0 and city.unit[q] == city.unit[p]}
        | {
            q
            for p in both
            for q in range(city.n_persons)
            if city.klass[p] >= 0 and city.klass[q] == city.klass[p]
        }
    )
    assert view.unit_members(both).tolist() == want
    assert view.home_building(some).tolist() == city.building[some].tolist()
    for level in (DISTRICT, STREET, COMMUNITY, GRID):
        want = [
            next(a for a in ancestors(city, int(city.grid[p])) if city.jur_level[a] == level) for p in some
        ]
        assert view.home_area(some, level).tolist() == want
    district = int(np.flatnonzero(city.jur_level == DISTRICT)[1])
    inside = [p for p in range(city.n_persons) if district in ancestors(city, int(city.grid[p]))]
    assert view.persons_in(np.array([district])).tolist() == inside
    kinds = [k.kind for k in city.config.venue_kinds]
    want = [v for v in range(city.n_venues) if kinds[city.venue_kind[v]] in ("gym", "mall")]
    assert view.venues_of_kind(("gym", "mall")).tolist() == want
    assert not view.isolated().any() and len(view.new_cases()) == 0 and len(view.cases().person) == 0


def test_controls_act_and_report(city: City) -> None:
    sim = fresh(city)
    sim.run(2)
    controls = Controls(sim, "test")
    first = controls.isolate(np.array([3, 4, 4]), days=5, centralized=False, reason="why")
    assert (first.action, first.persons, first.note, first.day, first.intervention) == (
        "home_quarantine", 2, "why", 2, "test",
    )  # fmt: skip
    assert sim.isolated_until[[3, 4]].tolist() == [7, 7] and not sim.centralized[[3, 4]].any()
    again = controls.isolate(np.array([4, 5]), days=2)  # 4 is isolated already, longer: it stays so
    assert (again.action, again.persons) == ("isolate", 1)
    assert sim.isolated_until[[4, 5]].tolist() == [7, 4] and sim.centralized[[4, 5]].all()
    assert View(sim).isolated()[[3, 4, 5, 6]].tolist() == [True, True, True, False]
    with pytest.raises(SimConfigError, match="days must not be negative"):
        controls.isolate(np.array([1]), days=-1)
    closed = controls.close_venues(np.array([2, 1, 2]), days=3)
    assert closed.venues == 2 and sim.venue_closed_until[[1, 2, 3]].tolist() == [5, 5, 0]
    b = int(city.building[10])
    locked = controls.lockdown_buildings(np.array([b]), days=4)
    assert (locked.buildings, locked.persons) == (1, int((city.building == b).sum()))
    assert sim.building_locked_until[b] == 6
    district = int(np.flatnonzero(city.jur_level == DISTRICT)[0])
    area = controls.lockdown_areas(np.array([district]), days=1)
    residents = len(View(sim).persons_in(np.array([district])))
    assert (area.action, area.persons) == ("lockdown_areas", residents) and area.buildings > 0
    assert [r.action for r in sim.reports] == [
        "home_quarantine", "isolate", "close_venues", "lockdown_buildings", "lockdown_areas",
    ]  # fmt: skip


def test_screening_finds_the_detectable_and_counts_tests(city: City) -> None:
    sim = fresh(city)
    sim.run(6)
    controls = Controls(sim, "screen")
    everyone = np.arange(city.n_persons)
    detectable = everyone[sim.detectable(everyone) & ~sim.is_case(everyone)]
    assert len(detectable) > 0
    one = controls.screen(everyone, pool_size=1, sensitivity=1.0)
    not_cases = city.n_persons - (len(sim.case_list().person) - one.positives)
    assert (one.tests, one.persons, one.positives) == (not_cases, not_cases, len(detectable))
    assert set(sim.reported_on(sim.day + 1).tolist()) >= set(detectable.tolist())
    # Cases are not screened again; with perfect sensitivity and no dilution nobody is missed.
    sim2 = fresh(city)
    sim2.run(6)
    pooled = Controls(sim2, "screen").screen(everyone, pool_size=10, sensitivity=1.0, dilution=0.0)
    assert pooled.positives == len(detectable)
    pools = -(-pooled.persons // 10)
    assert pools < pooled.tests <= pools + pooled.persons
    blind = Controls(fresh(city), "screen").screen(everyone, pool_size=10, sensitivity=0.0)
    assert blind.positives == 0 and blind.tests == -(-city.n_persons // 10)  # no positive pool to re-test
    assert Controls(sim2, "screen").screen(np.zeros(0, np.int64)).persons == 0
    for bad in ({"pool_size": 0}, {"sensitivity": 1.5}, {"dilution": -0.1}):
        with pytest.raises(SimConfigError):
            Controls(sim2, "screen").screen(everyone, **bad)


def test_built_in_interventions_keep_their_schedules(city: City) -> None:
    default = fresh(city, [CloseVenueKinds()])  # gyms and restaurants, from the first day, for two weeks
    default.run(2)
    assert [(r.day, r.action, r.note) for r in default.reports] == [(0, "close_venues", "gym, restaurant")]
    assert (default.venue_closed_until[View(default).venues_of_kind(("gym", "restaurant"))] == 14).all()
    kinds = ("gym", "restaurant")
    sim = fresh(city, [CloseVenueKinds(kinds=kinds, start_day=2, days=3)])
    sim.run(4)
    assert [(r.day, r.action) for r in sim.reports] == [(2, "close_venues")]
    assert (sim.venue_closed_until[View(sim).venues_of_kind(kinds)] == 5).all()
    district = int(np.flatnonzero(city.jur_level == DISTRICT)[0])
    rounds = ScreeningRounds(every=2, start_day=1, pool_size=5, areas=(district,))
    sim = fresh(city, [rounds])
    sim.run(6)
    assert [r.day for r in sim.reports] == [1, 3, 5]
    residents = len(View(sim).persons_in(np.array([district])))
    assert all(0 < r.persons <= residents for r in sim.reports)
    assert [type(iv) for iv in built_in("zero-covid")] == [
        IsolateCases, QuarantineContacts, ZoneLockdown, ScreeningRounds,
    ]  # fmt: skip
    assert built_in("none") == [] and [type(iv) for iv in built_in("basic")] == [
        IsolateCases,
        QuarantineContacts,
    ]


def test_regular_testing_covers_every_household_once_per_cycle(city: City) -> None:
    """Regular testing every 4 days: each day a quarter of the households, whole; over 4 days every resident not
    isolated and not yet a case is tested once (against a plain loop over the households)."""
    sim = fresh(city, [RegularTesting(every=4, pool_size=10)])
    sim.run(4)
    screens = [r for r in sim.reports if r.action == "screen"]
    assert [r.day for r in screens] == [0, 1, 2, 3]
    for r in screens:
        want = sum(1 for p in range(city.n_persons) if int(city.household[p]) % 4 == r.day)
        assert 0 < r.persons <= want  # the isolated and the cases so far are left out
    assert sum(r.persons for r in screens) > 0.9 * city.n_persons


def test_quarantine_testing_finds_cases_under_control(city: City) -> None:
    """Testing in quarantine screens exactly the isolated, single-tube, on its days; its positives are found
    under control."""
    sim = fresh(city, [IsolateCases(), QuarantineContacts(), QuarantineTesting(every=2)])
    sim.run(25)
    tested = [r for r in sim.reports if r.intervention == "test-in-quarantine"]
    assert tested and all(r.day % 2 == 0 and r.tests == r.persons for r in tested)
    cases = sim.case_list()
    found = cases.found_by == FOUND_BY.index("quarantine")
    assert sum(r.positives for r in tested) <= int(found.sum())
    assert cases.under_control[found].all()


def test_case_responses_follow_the_reports(city: City) -> None:
    """The day after a case is reported it is isolated, its household and unit are quarantined and its
    community sealed."""
    sim = fresh(
        city, [IsolateCases(days=21), QuarantineContacts(days=7), LockdownCaseAreas(level=COMMUNITY, days=7)]
    )
    while not len(sim.reported_on(sim.day)) and sim.day < 40:
        sim.step()
    first = sim.day  # results come in on this day; the interventions act on them the morning after
    sim.step()
    sim.step()
    view = View(sim)
    day = first + 1
    reported = sim.reported_on(first)
    assert len(reported)
    assert (sim.isolated_until[reported] >= day + 21).all() and sim.centralized[reported].all()
    contacts = np.setdiff1d(
        np.union1d(view.household_members(reported), view.unit_members(reported)), reported
    )
    assert (sim.isolated_until[contacts] >= day + 7).all()
    homes = np.unique(view.home_area(reported, COMMUNITY))
    assert (sim.building_locked_until[city.building[view.persons_in(homes)]] >= day + 7).all()
    actions = [r.action for r in sim.reports if r.day == day]
    assert actions == ["isolate", "isolate", "lockdown_areas"]


def test_reports_and_case_lists_are_fixed_records(city: City) -> None:
    """What the simulation keeps and hands to interventions cannot be changed or extended by them."""
    import dataclasses

    sim = fresh(city)
    sim.run(8)
    report = Controls(sim, "x").close_venues(np.array([0]), days=1)
    cases = View(sim).cases()
    for record, field in ((report, "persons"), (cases, "person")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 0)
        assert not hasattr(record, "__dict__")  # fixed fields only (slots)
    assert sim.reports == [report]
    for day in sorted(set(cases.reported.tolist())):
        assert cases.reported_on(day).tolist() == [
            p for p, d in zip(cases.person, cases.reported, strict=True) if d == day
        ]
    assert len(set(cases.reported.tolist())) > 1
