"""The intervention protocol: how response decisions act on a running outbreak.

An intervention is any object with a ``name`` and ``apply(view, controls)``; the simulation calls it once at the
start of every day, before anyone moves. It reads the situation through a narrow, read-only :class:`View` (cases
reported so far, who lives and works with whom, who is isolated) and acts only through :class:`Controls`:

=====================================  =========================================================================
``isolate(persons, days, ...)``        centralised isolation (out of the household too) or home quarantine
``close_venues(venues, days)``         visits go to other venues of the same kind; workers there stay home
``lockdown_buildings(buildings, days)`` residents stay home (household transmission goes on)
``lockdown_areas(jurisdictions, days)`` every resident of the areas stays home
``restrict_areas(jurisdictions, shares)`` today, each resident stays home with the area's probability
``screen(persons, pool_size, ...)``    a PCR round with N-in-1 pooling and single re-tests of positive pools
=====================================  =========================================================================

Each control returns a :class:`Report` of what it did (persons, venues or buildings affected, tests used,
positives found), and the simulation keeps every report. The area lockdown (:mod:`.zoning`) runs the zones
engine's own rules (``cordon.engine.zones``); the platform's other engines (tracing, control, screening) plug in
here later, and the built-in interventions below are simple versions of the same decisions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.errors import SimConfigError
from cordon.engine.sim.state import FOUND_BY, CaseList, Outbreak, Report
from cordon.engine.sim.zoning import ZoneLockdown

I64 = npt.NDArray[np.int64]


class View:
    """What an intervention may read. Arrays are copies or read-only views."""

    def __init__(self, sim: Outbreak) -> None:
        self._sim = sim

    @property
    def day(self) -> int:
        return self._sim.day

    @property
    def start_date(self) -> dt.date:
        """The date of day 0."""
        return self._sim.start_date

    @property
    def n_persons(self) -> int:
        return self._sim.city.n_persons

    def cases(self) -> CaseList:
        return self._sim.case_list()

    def new_cases(self) -> I64:
        """Persons whose positive result came in yesterday (what a morning meeting acts on)."""
        return self._sim.reported_on(self._sim.day - 1)

    def household_members(self, persons: I64) -> I64:
        return _members(self._sim.city.household.astype(np.int64), persons)

    def unit_members(self, persons: I64) -> I64:
        """Work-unit colleagues and school classmates of ``persons`` (and the persons)."""
        city = self._sim.city
        return np.union1d(
            _members(city.unit.astype(np.int64), persons), _members(city.klass.astype(np.int64), persons)
        )

    def home_building(self, persons: I64) -> I64:
        return self._sim.city.building[persons].astype(np.int64)

    def home_area(self, persons: I64, level: int) -> I64:
        """The jurisdiction (index) at ``level`` (2 district ... 5 grid) that each person lives in."""
        city = self._sim.city
        node = city.grid[persons].astype(np.int64)
        for _ in range(5):
            up = city.jur_level[node] > level
            if not up.any():
                break
            node = np.where(up, city.jur_parent[node], node)
        return node

    def sampled_on(self, persons: I64) -> I64:
        """The day each of these cases was sampled."""
        return self._sim.case_day[persons].astype(np.int64)

    def area_of_everyone(self, level: int) -> I64:
        """Each person's home area at ``level`` (-1 where the city has no jurisdiction of that level)."""
        return self._sim.areas_at(level)[0]

    def residents(self, area: int, level: int) -> I64:
        """The residents of jurisdiction ``area`` of level ``level``, household by household."""
        _, order, first = self._sim.areas_at(level)
        return order[first[area] : first[area + 1]]

    def level_of(self, areas: I64) -> I64:
        return self._sim.city.jur_level[areas].astype(np.int64)

    def parent_of(self, areas: I64) -> I64:
        return self._sim.city.jur_parent[areas].astype(np.int64)

    def households(self) -> I64:
        """Each person's household (persons are stored household by household)."""
        return self._sim.city.household.astype(np.int64)

    def isolated(self) -> npt.NDArray[np.bool_]:
        return self._sim.isolated_until > self._sim.day

    def persons_in(self, jurisdictions: I64) -> I64:
        return np.flatnonzero(self._sim.area_mask(jurisdictions)[self._sim.city.grid])

    def venues_of_kind(self, kinds: tuple[str, ...]) -> I64:
        city = self._sim.city
        index = [i for i, k in enumerate(city.config.venue_kinds) if k.kind in kinds]
        return np.flatnonzero(np.isin(city.venue_kind, index))


def _members(group: I64, persons: I64) -> I64:
    wanted = np.unique(group[persons])
    wanted = wanted[wanted >= 0]
    return np.flatnonzero(np.isin(group, wanted))


class Controls:
    """What an intervention may do; every call returns a :class:`Report` and is kept by the simulation."""

    def __init__(self, sim: Outbreak, name: str) -> None:
        self._sim = sim
        self._name = name

    def _report(self, **values: object) -> Report:
        report = Report(day=self._sim.day, intervention=self._name, **values)  # type: ignore[arg-type]
        self._sim.reports.append(report)
        return report

    def isolate(self, persons: I64, days: int, centralized: bool = True, reason: str = "") -> Report:
        if days < 0:
            raise SimConfigError(f"isolate: days must not be negative, got {days}")
        sim = self._sim
        persons = np.unique(np.asarray(persons, np.int64))
        until = sim.day + days
        new = persons[sim.isolated_until[persons] <= sim.day]
        sim.isolated_until[persons] = np.maximum(sim.isolated_until[persons], until)
        if centralized:
            sim.centralized[persons] = True
        return self._report(
            action="isolate" if centralized else "home_quarantine", persons=len(new), note=reason
        )

    def close_venues(self, venues: I64, days: int, reason: str = "") -> Report:
        sim = self._sim
        venues = np.unique(np.asarray(venues, np.int64))
        sim.venue_closed_until[venues] = np.maximum(sim.venue_closed_until[venues], sim.day + days)
        return self._report(action="close_venues", venues=len(venues), note=reason)

    def lockdown_buildings(self, buildings: I64, days: int, reason: str = "") -> Report:
        sim = self._sim
        buildings = np.unique(np.asarray(buildings, np.int64))
        sim.building_locked_until[buildings] = np.maximum(
            sim.building_locked_until[buildings], sim.day + days
        )
        affected = int(np.isin(sim.city.building, buildings).sum())
        return self._report(
            action="lockdown_buildings", buildings=len(buildings), persons=affected, note=reason
        )

    def lockdown_areas(self, jurisdictions: I64, days: int, reason: str = "") -> Report:
        sim = self._sim
        mask = sim.area_mask(np.asarray(jurisdictions, np.int64))
        buildings = np.flatnonzero(mask[sim.city.bld_grid])
        report = self.lockdown_buildings(buildings, days, reason)
        sim.reports.pop()
        return self._report(
            action="lockdown_areas", buildings=report.buildings, persons=report.persons, note=reason
        )

    def restrict_areas(self, jurisdictions: I64, shares: npt.NDArray[np.float64], reason: str = "") -> Report:
        """Today only, each resident of ``jurisdictions[i]`` (and the areas below it) stays home with probability
        ``shares[i]`` (1: everyone, as in a sealed area); where areas overlap the largest share applies."""
        sim = self._sim
        areas = np.asarray(jurisdictions, np.int64)
        values = np.asarray(shares, np.float64)
        if len(areas) != len(values) or ((values < 0) | (values > 1)).any():
            raise SimConfigError("restrict_areas: one share from 0 to 1 per area")
        share = np.zeros(len(sim.city.jur_code), np.float64)
        np.maximum.at(share, areas, values)
        sim.restrict_today(share)
        return self._report(action="restrict_areas", note=f"{reason} ({len(areas)} areas)")

    def screen(self, persons: I64, pool_size: int = 10, sensitivity: float | None = None,
               dilution: float = 0.02, reason: str = "") -> Report:  # fmt: skip
        """A PCR round: ``persons`` are pooled N-in-1 in the order given (keep a building's residents together);
        each pool is positive with probability ``1 - (1 - s_n)^k`` for ``k`` detectable members, where the
        per-sample sensitivity ``s_n = sensitivity * max(0, 1 - dilution * log2(pool_size))`` models dilution;
        members of positive pools are re-tested singly. Specificity is taken as perfect. Detected persons become
        cases sampled today."""
        if pool_size < 1:
            raise SimConfigError(f"screen: pool_size must be at least 1, got {pool_size}")
        sim = self._sim
        sens = sim.profile.pcr_sensitivity if sensitivity is None else sensitivity
        if not 0 <= sens <= 1 or not 0 <= dilution <= 1:
            raise SimConfigError("screen: sensitivity and dilution must be between 0 and 1")
        persons = np.asarray(persons, np.int64)
        persons = persons[~sim.is_case(persons)]
        if len(persons) == 0:
            return self._report(action="screen", note=reason)
        rng = sim.rng
        detectable = sim.detectable(persons)
        s_pool = sens * max(0.0, 1 - dilution * math.log2(pool_size)) if pool_size > 1 else sens
        pools = np.arange(len(persons)) // pool_size
        n_pools = int(pools[-1]) + 1
        k = np.bincount(pools, weights=detectable, minlength=n_pools)
        positive_pool = rng.random(n_pools) < 1 - (1 - s_pool) ** k
        tests = n_pools
        if pool_size > 1:
            retest = positive_pool[pools]
            tests += int(retest.sum())
            found = retest & detectable & (rng.random(len(persons)) < sens)
        else:
            # Single samples: a detectable person's own test is the pool.
            found = positive_pool[pools] & detectable
        sim.add_cases(persons[found], found_by="screening")
        return self._report(
            action="screen", persons=len(persons), tests=tests, positives=int(found.sum()), note=reason
        )


class Intervention(Protocol):
    name: str

    def apply(self, view: View, controls: Controls) -> None: ...


# --- built-in interventions --------------------------------------------------------------------------------


@dataclass
class IsolateCases:
    """Every reported case goes to centralised isolation (hospital or designated facility)."""

    days: int = 21
    name: str = "isolate-cases"

    def apply(self, view: View, controls: Controls) -> None:
        cases = view.new_cases()
        if len(cases):
            controls.isolate(cases, self.days, centralized=True, reason="reported case")


@dataclass
class QuarantineContacts:
    """Household members and work-unit colleagues or classmates of each new case: 7 days centralised."""

    days: int = 7
    name: str = "quarantine-contacts"

    def apply(self, view: View, controls: Controls) -> None:
        cases = view.new_cases()
        if len(cases):
            contacts = np.union1d(view.household_members(cases), view.unit_members(cases))
            controls.isolate(
                np.setdiff1d(contacts, cases), self.days, centralized=True, reason="close contact"
            )


@dataclass
class CloseVenueKinds:
    kinds: tuple[str, ...] = ("gym", "restaurant")
    start_day: int = 0
    days: int = 14
    name: str = "close-venues"

    def apply(self, view: View, controls: Controls) -> None:
        if view.day == self.start_day:
            controls.close_venues(view.venues_of_kind(self.kinds), self.days, reason=", ".join(self.kinds))


@dataclass
class LockdownCaseAreas:
    """Seal the home area (default: community) of each new case for ``days`` (a fixed lockdown; the strategies'
    area lockdown is :class:`~.zoning.ZoneLockdown`, under the zones engine's rules)."""

    level: int = 4
    days: int = 7
    name: str = "lockdown-areas"

    def apply(self, view: View, controls: Controls) -> None:
        cases = view.new_cases()
        if len(cases):
            controls.lockdown_areas(
                np.unique(view.home_area(cases, self.level)), self.days, reason="case area"
            )


@dataclass
class ScreeningRounds:
    """City-wide (or area-wide) screening every ``every`` days from ``start_day``, ``pool_size``-in-1."""

    every: int = 3
    start_day: int = 7
    pool_size: int = 10
    areas: tuple[int, ...] = ()
    name: str = "screening"

    def apply(self, view: View, controls: Controls) -> None:
        if view.day < self.start_day or (view.day - self.start_day) % self.every:
            return
        people = view.persons_in(np.array(self.areas, np.int64)) if self.areas else np.arange(view.n_persons)
        people = people[~view.isolated()[people]]
        controls.screen(people, pool_size=self.pool_size, reason=f"round every {self.every} days")


@dataclass
class RegularTesting:
    """Standing PCR testing of everyone every ``every`` days, spread over the days: each day the households
    whose number falls on that day (a ``1/every`` share of the city, whole households together), ``pool_size``-
    in-1; the isolated are left out. Cases come in a steady trickle instead of one round's batch."""

    every: int = 7
    pool_size: int = 10
    name: str = "regular-testing"

    def apply(self, view: View, controls: Controls) -> None:
        people = np.flatnonzero(view.households() % self.every == view.day % self.every)
        people = people[~view.isolated()[people]]
        controls.screen(people, pool_size=self.pool_size, reason=f"regular testing every {self.every} days")


@dataclass
class QuarantineTesting:
    """Everyone isolated or quarantined (and not yet a case) is tested every ``every`` days, single-tube: the
    infections among contacts are found under control."""

    every: int = 1
    name: str = "test-in-quarantine"

    def apply(self, view: View, controls: Controls) -> None:
        if view.day % self.every:
            return
        people = np.flatnonzero(view.isolated())
        if len(people):
            controls.screen(people, pool_size=1, reason="tested in quarantine")


BUILT_IN = {
    "none": (),
    "isolate": ("isolate-cases",),
    "basic": ("isolate-cases", "quarantine-contacts"),
    "zero-covid": ("isolate-cases", "quarantine-contacts", "lockdown-areas", "screening"),
}


def built_in(name: str) -> list[Intervention]:
    """A named bundle: ``none``, ``isolate``, ``basic`` (isolate cases and quarantine their household and unit)
    or ``zero-covid`` (also make each case's community a sealed zone under the 9th edition's rules, see
    :mod:`.zoning`, and screen the city every 3 days, 10-in-1)."""
    if name not in BUILT_IN:
        raise SimConfigError(f"unknown intervention set {name!r}; choose one of {', '.join(BUILT_IN)}")
    made: dict[str, Intervention] = {
        "isolate-cases": IsolateCases(),
        "quarantine-contacts": QuarantineContacts(),
        "lockdown-areas": ZoneLockdown(),
        "screening": ScreeningRounds(),
    }
    return [made[k] for k in BUILT_IN[name]]


__all__ = [
    "BUILT_IN",
    "FOUND_BY",
    "CaseList",
    "CloseVenueKinds",
    "Controls",
    "Intervention",
    "IsolateCases",
    "LockdownCaseAreas",
    "QuarantineContacts",
    "QuarantineTesting",
    "RegularTesting",
    "Report",
    "ScreeningRounds",
    "View",
    "ZoneLockdown",
    "built_in",
]
