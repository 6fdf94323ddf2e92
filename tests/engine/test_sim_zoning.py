"""The simulator's area lockdown under the zones engine's rules (``engine/sim/zoning.py``): a zone with a clean
streak of N days lifts, any case resets its clock (against a plain day-by-day reference), a case escalates a
controlled zone to sealed; a simulated outbreak's zone history is the one the engine gives when called directly
on the same facts; two rule sets on one seed give different zone-days; the zones' kinds restrict their residents."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine import zones as engine
from cordon.engine.sim import SimConfigError, Simulation, generate_city, load_profile, preset
from cordon.engine.sim.city import City
from cordon.engine.sim.interventions import Controls, IsolateCases, View
from cordon.engine.sim.strategy import Scenario, Strategy, outcome, rule_set
from cordon.engine.sim.zoning import PROPOSE, STAY_HOME, ZoneBook, ZoneLockdown

START = dt.date(2026, 5, 1)


def _rules(clean: int, round_day: int | None, guard: int) -> engine.RuleSet:
    rule = engine.KindRule(clean_days=clean, round_day=round_day)
    return engine.RuleSet(
        code="test",
        kinds={engine.SEALED: rule, engine.CONTROLLED: rule, engine.PREVENTION: rule},
        guard_days=guard,
        escalate_on_case={engine.CONTROLLED: engine.SEALED},
    )


def _drive(book: ZoneBook, zid: int, cases: dict[int, int], days: int) -> None:
    """Days 0 .. days - 1 of one zone: the cases seen each day (day seen -> day sampled), every round the rules
    wait for screened and negative, the rules evaluated and confirmed."""
    for day in range(days):
        if day in cases and zid in book.zones:
            book.see_case(day, zid, cases[day])
        if zid in book.zones and book.round_due(day, zid):
            book.record_round(day, zid, positives=0)
        book.evaluate(day)


def _reference(
    opened: int, cases: dict[int, int], clean: int, guard: int, days: int
) -> list[tuple[int, str]]:
    """The same zone by hand: in force from ``opened``; its clock is the later of going in force and its last
    case's sampling day; lifted on the first day ``clean`` days after its clock; guarded ``guard`` days then
    closed; a case while guarded puts it back in force that day."""
    out: list[tuple[int, str]] = []
    state, in_force, last, lifted = "in_force", opened, None, -1
    for day in range(days):
        if day in cases and state != "closed":
            last = max(cases[day], last) if last is not None else cases[day]
            if state == "guarded":
                state, in_force = "in_force", day
                out.append((day, engine.REINSTATE))
        if state == "in_force" and day - max(in_force, last if last is not None else in_force) >= clean:
            state, lifted = "guarded", day
            out.append((day, engine.LIFT))
        elif state == "guarded" and day - lifted >= guard:
            state = "closed"
            out.append((day, engine.CLOSE))
    return out


case_days = st.dictionaries(st.integers(0, 45), st.integers(0, 2), max_size=6)  # day seen -> days before


@settings(max_examples=150, deadline=None)
@given(
    clean=st.integers(1, 14),
    round_at=st.one_of(st.none(), st.integers(1, 14)),
    guard=st.integers(0, 10),
    lags=case_days,
)
def test_a_clean_streak_of_n_days_lifts_and_any_case_resets_the_clock(
    clean: int, round_at: int | None, guard: int, lags: dict[int, int]
) -> None:
    round_day = None if round_at is None else min(round_at, clean)
    book = ZoneBook(_rules(clean, round_day, guard), START)
    zid = book.open(0, area=7, kind=engine.SEALED)
    cases = {day: day - lag for day, lag in lags.items()}
    _drive(book, zid, cases, 70)
    steps = [(e.day, e.action) for e in book.history if e.action not in (PROPOSE, engine.PUT_IN_FORCE)]
    assert steps == _reference(0, cases, clean, guard, 70)
    # Every lift comes after a full clean streak: no case sampled within the N days before it.
    for day, action in steps:
        if action == engine.LIFT:
            assert not any(day - clean < sampled <= day for seen, sampled in cases.items() if seen <= day)
    # Where the rule asks for one, a negative round on the streak's day was there before each lift.
    if round_day is not None:
        assert book.rounds >= sum(1 for _day, a in steps if a == engine.LIFT)


@settings(max_examples=60, deadline=None)
@given(case_on=st.integers(0, 6), lag=st.integers(0, 1))
def test_a_case_in_a_controlled_zone_escalates_it_to_sealed_with_its_own_clock(
    case_on: int, lag: int
) -> None:
    book = ZoneBook(engine.NINTH_EDITION, START)
    zid = book.open(0, area=3, kind=engine.CONTROLLED)
    _drive(book, zid, {case_on: max(case_on - lag, 0)}, 40)
    steps = [(e.day, e.action, e.kind) for e in book.history]
    assert steps[2] == (case_on, engine.ESCALATE, engine.SEALED)
    # Sealed from the escalation: 7 clean days, the round on day 7, then lifted.
    assert steps[3] == (case_on + 7, engine.LIFT, engine.SEALED)


def test_the_second_rule_set_downgrades_then_lifts() -> None:
    """7 days sealed, then home monitoring (controlled) on the same clock until day 14, all negative on day 13."""
    book = ZoneBook(engine.SEALED_THEN_MONITORED, START)
    zid = book.open(0, area=3, kind=engine.SEALED)
    for day in range(30):
        if zid in book.zones and book.round_due(day, zid):
            book.record_round(day, zid, positives=0)
        book.evaluate(day)
        book.count_day()
    steps = [(e.day, e.action, e.kind) for e in book.history][2:]
    assert steps == [
        (7, engine.DOWNGRADE, engine.CONTROLLED), (14, engine.LIFT, engine.CONTROLLED),
        (21, engine.CLOSE, engine.CONTROLLED),
    ]  # fmt: skip
    assert book.zone_days == {"sealed": 7, "controlled": 7, "prevention": 0, "guarded": 7}
    # a positive round holds the lift (the cases it finds reset the clock when they are reported)
    held = ZoneBook(engine.NINTH_EDITION, START)
    zid = held.open(0, area=3, kind=engine.SEALED)
    for day in range(9):
        if held.round_due(day, zid):
            held.record_round(day, zid, positives=2)
        findings = held.evaluate(day)
    assert held.zones[zid].state == engine.IN_FORCE and findings and findings[0].hold
    assert [r.outcome for r in held.zones[zid].rounds] == [engine.POSITIVE]


@pytest.fixture(scope="module")
def city() -> City:
    return generate_city(preset("demo", population=6000), seed=5)


_RATES: dict[int, Any] = {}


def _run(city: City, lockdown: ZoneLockdown, days: int = 45, seed: int = 5) -> Simulation:
    sim = Simulation(city, load_profile(), [IsolateCases(), lockdown], seed=seed, rates=_RATES.get(id(city)))
    _RATES[id(city)] = sim.rates
    sim.run(days)
    return sim


def _replay(sim: Simulation, lockdown: ZoneLockdown) -> list[tuple[int, int, str, str, str]]:
    """The zone history from the engine called directly: every day, the zones the simulator made that day are
    put in force, the reported cases living in a zone move its last case (and flag escalation, or put a guarded
    zone back in force), the simulator's rounds are added, and ``engine.evaluate``'s proposals are applied."""
    book = lockdown.book
    assert book is not None
    made: dict[int, list[tuple[int, int, str]]] = {}
    for e in book.history:
        if e.action == PROPOSE:
            made.setdefault(e.day, []).append((e.zone, e.area, e.kind))
    rounds: dict[tuple[int, int], str] = {}
    for r in sim.reports:
        if r.action == "screen" and r.note.startswith("zone "):
            rounds[(r.day, int(r.note.split()[1]))] = engine.POSITIVE if r.positives else engine.NEGATIVE
    cases = sim.case_list()
    view = View(sim)
    area_of = {lv: view.area_of_everyone(lv) for lv in (2, 3, 4, 5)}
    level = {int(a): int(sim.city.jur_level[a]) for _d, zs in made.items() for _z, a, _k in zs}
    rules = lockdown.rules
    zones: dict[int, engine.ZoneFacts] = {}
    where: dict[int, int] = {}
    out: list[tuple[int, int, str, str, str]] = []

    def put(day: int, zid: int, action: str, kind: str) -> None:
        z = zones[zid]
        date = start_of(sim) + dt.timedelta(days=day)
        new = replace(z, state=engine.TARGET_STATE[action], kind=kind)
        if action in (engine.PUT_IN_FORCE, engine.REINSTATE):
            new = replace(new, in_force_on=date, guarded_on=None, case_since_in_force=False)
        elif action == engine.ESCALATE:
            new = replace(new, in_force_on=date, case_since_in_force=False)
        elif action == engine.DOWNGRADE:
            new = replace(new, case_since_in_force=False)
        elif action == engine.LIFT:
            new = replace(new, guarded_on=date)
        zones[zid] = new
        out.append((day, zid, action, kind, new.state))
        if new.state == engine.CLOSED:
            del zones[zid]

    for day in range(sim.day):
        date = start_of(sim) + dt.timedelta(days=day)
        for zid in list(zones):  # the cases reported yesterday, in the zones holding their homes
            z = zones[zid]
            lv = level[where[zid]]
            mine = cases.person[(cases.reported == day - 1) & (area_of[lv][cases.person] == where[zid])]
            if not len(mine):
                continue
            last = start_of(sim) + dt.timedelta(days=int(sim.case_day[mine].max()))
            if z.last_case_on is None or last > z.last_case_on:
                z = replace(z, last_case_on=last)
            if z.state == engine.IN_FORCE and z.kind in rules.escalate_on_case:
                z = replace(z, case_since_in_force=True)
            zones[zid] = z
            if z.state == engine.GUARDED:
                put(day, zid, engine.REINSTATE, z.kind)
        for zid, area, kind in made.get(day, []):
            zones[zid] = engine.ZoneFacts(zid, kind, engine.PROPOSED, None, None)
            where[zid] = area
            out.append((day, zid, PROPOSE, kind, engine.PROPOSED))
            put(day, zid, engine.PUT_IN_FORCE, kind)
        for zid in list(zones):
            if (day, zid) in rounds:
                fact = engine.RoundFact(f"Z{zid}-R{len(zones[zid].rounds) + 1}", date, rounds[(day, zid)])
                zones[zid] = replace(zones[zid], rounds=(*zones[zid].rounds, fact))
        for f in engine.evaluate(list(zones.values()), rules, date):
            if not f.hold:
                put(day, f.zone_id, f.action, f.kind)
    return out


def start_of(sim: Simulation) -> dt.date:
    return sim.start_date


@pytest.mark.parametrize("rules", [engine.NINTH_EDITION, engine.SEALED_THEN_MONITORED])
def test_the_simulators_zone_history_is_the_engines_called_directly(
    city: City, rules: engine.RuleSet
) -> None:
    lockdown = ZoneLockdown(level=4, kind=engine.SEALED, outer=engine.CONTROLLED, rules=rules, pool_size=5)
    sim = _run(city, lockdown)
    book = lockdown.book
    assert book is not None
    history = [(e.day, e.zone, e.action, e.kind, e.state) for e in book.history]
    assert {engine.LIFT, engine.ESCALATE} <= {h[2] for h in history}  # the run exercises the rules
    by_zone = lambda h: (h[0], h[1])  # noqa: E731  (within a day, zones are independent)
    assert sorted(history, key=by_zone) == sorted(_replay(sim, lockdown), key=by_zone)
    # every zone a case made covers that case's home area, and each zone-day is a zone in force or guarded
    assert sum(book.zone_days.values()) > 0
    assert outcome(sim).summary["zone_days"] == book.zone_days


def test_two_rule_sets_on_one_seed_give_different_zone_days(city: City) -> None:
    runs = {}
    for rules in (engine.NINTH_EDITION, engine.SEALED_THEN_MONITORED):
        lockdown = ZoneLockdown(outer=engine.CONTROLLED, rules=rules)
        runs[rules.code] = outcome(_run(city, lockdown)).summary
    ninth, second = runs["ninth-edition"], runs["sealed-then-monitored"]
    assert ninth["zone_days"] != second["zone_days"]
    # the second rule set keeps every sealed zone under home monitoring for 7 more days
    assert second["zone_days"]["controlled"] > ninth["zone_days"]["controlled"]
    assert second["zones_downgraded"] > 0 == ninth["zones_downgraded"]


def test_a_zones_kind_sets_how_many_of_its_residents_stay_home(city: City) -> None:
    """Sealed: everyone stays home; controlled, prevention and guarded: about their share (drawn each day)."""
    sim = Simulation(city, load_profile(), seed=5, rates=_RATES.get(id(city)))
    communities = np.flatnonzero(city.jur_level == 4)[:4]
    view = View(sim)
    shares = np.array([STAY_HOME[k] for k in ("sealed", "controlled", "prevention", "guarded")])
    Controls(sim, "test").restrict_areas(communities, shares)
    today = sim._today(0, 0)
    for area, share in zip(communities.tolist(), shares.tolist(), strict=True):
        residents = view.residents(area, 4)
        assert len(residents) > 100
        home = today.locked[residents].mean()
        assert home == 1.0 if share == 1 else abs(home - share) < 0.12, (area, share, home)
    others = np.setdiff1d(
        np.arange(city.n_persons), np.concatenate([view.residents(a, 4) for a in communities])
    )
    assert not today.locked[others].any()
    assert not sim._today(1, 1).locked.any()  # for one day only
    with pytest.raises(SimConfigError):
        Controls(sim, "test").restrict_areas(communities[:1], np.array([1.5]))


def test_the_strategy_names_its_rule_set_by_code_or_gives_it_as_data() -> None:
    assert rule_set("sealed-then-monitored") is engine.SEALED_THEN_MONITORED
    stored = engine.rules_to_json(engine.SEALED_THEN_MONITORED)
    assert rule_set("sealed-then-monitored v3", stored).kinds == engine.SEALED_THEN_MONITORED.kinds
    with pytest.raises(SimConfigError, match="unknown zone rules"):
        rule_set("atlantis")
    bad = Strategy(lockdown_areas=True, zone_rules="x", zone_rules_definition={"kinds": {}})
    assert "zone_rules" in bad.problems()
    assert "lockdown_outer" in Strategy(lockdown_kind="controlled", lockdown_outer="sealed").problems()
    with pytest.raises(SimConfigError):
        Scenario(strategy=bad).check()
    # a stored scenario from before the rules decided the lockdown still loads
    old = Scenario.of({"strategy": {"lockdown_areas": True, "lockdown_days": 7}})
    assert old.strategy.zone_rules == "ninth-edition"
