"""A response strategy to evaluate and one run of it: which built-in interventions act and with what settings
(:class:`Strategy`), the whole scenario (:class:`Scenario`: preset, size, days, seed, pathogen, strategy), and what
a run reports (:class:`Outcome`: the daily series and a summary).

``cordon sim run`` and the web's simulation jobs both build their simulation with :meth:`Scenario.simulation`
and report with :func:`outcome`, so the same scenario and seed give the same numbers on every path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from cordon.engine import zones
from cordon.engine.sim.city import generate_city
from cordon.engine.sim.config import PRESETS, CityConfig, preset
from cordon.engine.sim.errors import SimConfigError
from cordon.engine.sim.interventions import (
    BUILT_IN,
    FOUND_BY,
    Intervention,
    IsolateCases,
    QuarantineContacts,
    ScreeningRounds,
)
from cordon.engine.sim.outbreak import SETTINGS, Simulation
from cordon.engine.sim.profile import DEFAULT_PROFILE, PathogenProfile, load_profile
from cordon.engine.sim.zoning import ZoneLockdown, empty_summary

LEVELS = {2: "district", 3: "street", 4: "community", 5: "grid"}  # lockdown areas
RETIRED = frozenset({"lockdown_days"})  # settings of stored scenarios that no longer apply (the rules decide)


def rule_set(name: str, definition: Mapping[str, Any] | None = None) -> zones.RuleSet:
    """The zone rule set a strategy names: its definition as plain data (a version stored by the zones app,
    ``engine.zones.rules_to_json``'s form), or without one the default rule set of that code
    (``engine.zones.DEFAULT_RULE_SETS``). ``SimConfigError`` when it cannot be used."""
    if definition is not None:
        try:
            return zones.parse_rules(name, definition)
        except zones.RuleError as exc:
            raise SimConfigError(f"zone rules {name!r}: {exc}") from None
    for rules in zones.DEFAULT_RULE_SETS:
        if rules.code == name:
            return rules
    known = ", ".join(r.code for r in zones.DEFAULT_RULE_SETS)
    raise SimConfigError(f"unknown zone rules {name!r}; choose one of {known} or give a rule definition")


@dataclass(frozen=True)
class Strategy:
    """The built-in interventions a run uses, each on or off with its settings (the defaults are those of the
    named bundles of :func:`~.interventions.built_in`)."""

    isolate_cases: bool = False  # every reported case to centralised isolation
    isolation_days: int = 21
    quarantine_contacts: bool = False  # household and unit or class of each new case, centralised
    quarantine_days: int = 7
    lockdown_areas: bool = False  # each new case's home area becomes a zone, under the zone rules
    lockdown_level: int = 4  # 2 district, 3 street, 4 community, 5 grid
    lockdown_kind: str = zones.SEALED  # the kind of zone a case's area becomes
    lockdown_outer: str = ""  # "" or a less strict kind for the area one level up
    zone_rules: str = zones.NINTH_EDITION.code  # the rule set's name (a code, "code vN" for a stored version)
    zone_rules_definition: dict[str, Any] | None = None  # its rules as data; None: the default of that code
    screening: bool = False  # city-wide PCR rounds
    screening_every: int = 3
    screening_from: int = 7  # first day (0 is the first day of the run)
    pool_size: int = 10

    @classmethod
    def bundle(cls, name: str) -> Strategy:
        """A named bundle (``none``, ``isolate``, ``basic``, ``zero-covid``) with its default settings."""
        if name not in BUILT_IN:
            raise SimConfigError(f"unknown intervention set {name!r}; choose one of {', '.join(BUILT_IN)}")
        chosen = BUILT_IN[name]
        return cls(
            isolate_cases="isolate-cases" in chosen,
            quarantine_contacts="quarantine-contacts" in chosen,
            lockdown_areas="lockdown-areas" in chosen,
            screening="screening" in chosen,
        )

    @classmethod
    def named(cls, spec: str, **settings: Any) -> Strategy:
        """A bundle name, or intervention names joined by commas (``isolate-cases,screening``), with settings
        replaced (``isolation_days=14``); ``cordon sim run --interventions`` takes the same words."""
        if spec in BUILT_IN:
            chosen = cls.bundle(spec)
        else:
            words = [w.strip() for w in spec.split(",") if w.strip()]
            flags = {"isolate-cases": "isolate_cases", "quarantine-contacts": "quarantine_contacts",
                     "lockdown-areas": "lockdown_areas", "screening": "screening"}  # fmt: skip
            unknown = [w for w in words if w not in flags]
            if unknown or not words:
                raise SimConfigError(
                    f"unknown intervention set {spec!r}; choose one of {', '.join(BUILT_IN)} or a list of "
                    f"{', '.join(flags)} joined by commas"
                )
            on: dict[str, Any] = {flags[w]: True for w in words}
            chosen = cls(**on)
        return replace(chosen, **settings)

    def problems(self) -> dict[str, str]:
        """Settings out of range, by field (empty when every setting is usable)."""
        out: dict[str, str] = {}
        for name, low, high in (
            ("isolation_days", 1, 60), ("quarantine_days", 1, 60),
            ("screening_every", 1, 30), ("screening_from", 0, 365), ("pool_size", 1, 50),
        ):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                out[name] = f"{name}: must be a whole number from {low} to {high}, got {value!r}"
        if self.lockdown_level not in LEVELS:
            out["lockdown_level"] = (
                f"lockdown_level: must be one of {sorted(LEVELS)}, got {self.lockdown_level!r}"
            )
        if self.lockdown_kind not in zones.KINDS:
            out["lockdown_kind"] = f"lockdown_kind: must be one of {', '.join(zones.KINDS)}"
        elif self.lockdown_outer and (
            self.lockdown_outer not in zones.KINDS
            or zones.STRICTNESS[self.lockdown_outer] >= zones.STRICTNESS[self.lockdown_kind]
        ):
            out["lockdown_outer"] = "lockdown_outer: must be empty or a kind less strict than lockdown_kind"
        try:
            self.rules()
        except SimConfigError as exc:
            out["zone_rules"] = str(exc)
        return out

    def rules(self) -> zones.RuleSet:
        """The zone rule set the area lockdown follows."""
        return rule_set(self.zone_rules, self.zone_rules_definition)

    def interventions(self) -> list[Intervention]:
        """The interventions, in the order the bundles apply them."""
        problems = self.problems()
        if problems:
            raise SimConfigError("; ".join(problems.values()))
        out: list[Intervention] = []
        if self.isolate_cases:
            out.append(IsolateCases(days=self.isolation_days))
        if self.quarantine_contacts:
            out.append(QuarantineContacts(days=self.quarantine_days))
        if self.lockdown_areas:
            out.append(
                ZoneLockdown(
                    level=self.lockdown_level, kind=self.lockdown_kind, outer=self.lockdown_outer or None,
                    rules=self.rules(), pool_size=self.pool_size,
                )
            )  # fmt: skip
        if self.screening:
            out.append(
                ScreeningRounds(
                    every=self.screening_every, start_day=self.screening_from, pool_size=self.pool_size
                )
            )
        return out

    def active(self) -> list[str]:
        return [iv.name for iv in self.interventions()]


@dataclass(frozen=True)
class Scenario:
    """Everything that decides a run: with the same scenario, the simulator gives the same numbers."""

    preset: str = "demo"
    population: int | None = None  # None: the preset's
    days: int = 60
    seed: int = 1
    profile: str = DEFAULT_PROFILE
    r0: float | None = None  # None: the profile's
    seed_infections: int | None = None  # None: the preset's
    start: str | None = None  # YYYY-MM-DD; None: the preset's
    strategy: Strategy = field(default_factory=Strategy)

    def config(self) -> CityConfig:
        if self.preset not in PRESETS:
            raise SimConfigError(f"unknown preset {self.preset!r}; presets: {', '.join(PRESETS)}")
        overrides: dict[str, Any] = {}
        if self.population is not None:
            overrides["population"] = self.population
        if self.start is not None:
            overrides["start_date"] = self.start
        return preset(self.preset, **overrides)

    @property
    def persons(self) -> int:
        return self.population if self.population is not None else PRESETS[self.preset].population

    def pathogen(self) -> PathogenProfile:
        profile = load_profile(self.profile)
        return profile.with_overrides(r0=self.r0) if self.r0 is not None else profile

    def check(self) -> tuple[CityConfig, PathogenProfile]:
        """The validated city configuration and pathogen (``SimConfigError`` before any work)."""
        if not isinstance(self.days, int) or self.days < 0:
            raise SimConfigError(f"--days must not be negative, got {self.days}")
        config, pathogen = self.config(), self.pathogen()
        self.strategy.interventions()
        seeds = config.seed_infections if self.seed_infections is None else self.seed_infections
        if not 0 <= seeds <= config.population:
            raise SimConfigError(f"seed infections must be between 0 and {config.population}, got {seeds}")
        return config, pathogen

    def simulation(self, progress: Callable[[str], None] | None = None) -> Simulation:
        """Generate the city and set the outbreak up (calibrating transmission), ready to run ``days``."""
        config, pathogen = self.check()
        city = generate_city(config, seed=self.seed, progress=progress)
        if progress is not None:
            progress("calibrating")
        return Simulation(
            city,
            pathogen,
            self.strategy.interventions(),
            seed=self.seed,
            seed_infections=self.seed_infections,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Scenario:
        """A scenario from :meth:`as_dict`'s form (unknown keys refused)."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise SimConfigError(f"unknown scenario settings: {', '.join(sorted(unknown))}")
        strategy = {k: v for k, v in (values.get("strategy") or {}).items() if k not in RETIRED}
        known = {f.name for f in fields(Strategy)}
        if set(strategy) - known:
            raise SimConfigError(f"unknown strategy settings: {', '.join(sorted(set(strategy) - known))}")
        return replace(
            cls(**{k: v for k, v in values.items() if k != "strategy"}), strategy=Strategy(**strategy)
        )


@dataclass(frozen=True)
class Outcome:
    """What a run reports: one list per daily figure (``date`` as YYYY-MM-DD) and a summary of plain values."""

    series: dict[str, list[Any]]
    summary: dict[str, Any]


SERIES = (
    "new_infections", *(f"in_{s}" for s in SETTINGS if s != "seed"), "infectious", "new_cases", "isolated",
    "locked_down", "infectious_visits",
)  # fmt: skip


def outcome(sim: Simulation) -> Outcome:
    """The daily series and the summary of a run so far."""
    results = sim.results
    series: dict[str, list[Any]] = {"date": [r.date.isoformat() for r in results]}
    series["new_infections"] = [r.new_infections for r in results]
    for i, s in enumerate(SETTINGS):
        if s != "seed":
            series[f"in_{s}"] = [r.by_setting[i] for r in results]
    for name in ("infectious", "new_cases", "isolated", "locked_down", "infectious_visits"):
        series[name] = [int(getattr(r, name)) for r in results]
    cases = sim.case_list()
    found = np.bincount(cases.found_by.astype(np.int64), minlength=len(FOUND_BY))
    infections = int(sum(len(x) for x in sim.infections.person))
    persons = sim.city.n_persons
    peak = int(np.argmax(series["infectious"])) if results else 0
    summary: dict[str, Any] = {
        "persons": persons,
        "days": len(results),
        "profile": f"{sim.profile.id} v{sim.profile.version}",
        "r0": sim.profile.r0,
        "infections": infections,
        "attack_rate": round(infections / persons, 6) if persons else 0.0,
        "cases": len(cases.person),
        "cases_under_control": int(cases.under_control.sum()),
        "cases_found_by": {name: int(found[i]) for i, name in enumerate(FOUND_BY)},
        "peak_infectious": series["infectious"][peak] if results else 0,
        "peak_date": series["date"][peak] if results else None,
        "isolation_person_days": sum(series["isolated"]),
        "lockdown_person_days": sum(series["locked_down"]),
        "tests": int(sum(r.tests for r in sim.reports)),
    }
    books = [iv.book for iv in sim.interventions if isinstance(iv, ZoneLockdown) and iv.book is not None]
    summary.update(books[0].summary() if books else empty_summary())
    return Outcome(series=series, summary=summary)


__all__ = ["LEVELS", "SERIES", "Outcome", "Scenario", "Strategy", "outcome", "rule_set"]
