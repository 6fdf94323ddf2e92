"""The agent-based outbreak: one fixed daily pipeline over a synthetic city.

Each day, in order: interventions act (through the protocol in :mod:`.interventions`) -> who may move ->
the day's visits -> transmission in households, work units, school classes and venue sub-areas -> new infections
with their source -> cases sampled at fever clinics -> results. People are a struct of arrays; every step is
vectorised; randomness comes from one seeded generator, so a seed gives the same run.

Transmission (rates from :mod:`.calibration`): a susceptible person's hazard for the day is the sum of

- ``household * sum(w)`` over infectious household members not in centralised isolation,
- ``work * sum(w)`` over infectious unit colleagues at work that day (and ``school`` for classmates),
- ``venue * sum(w * overlap minutes)`` over infectious visitors of the same venue sub-area (two attendance
  check-ins at the same workplace are left to the work setting),

where ``w`` is an infector's relative infectiousness; infection follows with probability ``1 - exp(-hazard)``.
Each term is a Poisson stream of infection events and the infector is the one behind the first event, so it is
drawn in proportion to its share of the hazard, and every recorded infection has a source that was infectious
and present in the same household, unit, class or venue sub-area at overlapping times.

Infectious people's visits are drawn in full; of the susceptible people's visits only the candidates that can
infect (:mod:`.exposure`, the same model with far fewer draws).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.calibration import Rates, calibrate
from cordon.engine.sim.city import COMMUNITY, City
from cordon.engine.sim.copresence import SourceTable, order_by
from cordon.engine.sim.errors import SimConfigError
from cordon.engine.sim.exposure import Candidates, Exposure
from cordon.engine.sim.groups import Groups, down_the_tree, expand, person_areas
from cordon.engine.sim.interventions import Controls, Intervention, View
from cordon.engine.sim.mobility import Mobility, Visits
from cordon.engine.sim.profile import PathogenProfile, load_profile
from cordon.engine.sim.state import FOUND_BY, CaseList, Report

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

NEVER = np.iinfo(np.int32).min // 2
SETTINGS = ("seed", "household", "work", "school", "venue")
SEED, HOUSEHOLD, WORK, SCHOOL, VENUE = range(5)

VisitHook = Callable[[int, dt.date, Visits], None]
# An entry of the day's hazards: persons, their hazards, the setting, and the household, unit or class.
_Entry = tuple[I64, npt.NDArray[np.floating[Any]], int, I64]


@dataclass
class Infections:
    """The true infection tree, one row per infection (seeds have source -1)."""

    person: list[I64] = field(default_factory=list)
    source: list[I64] = field(default_factory=list)
    day: list[I64] = field(default_factory=list)
    setting: list[npt.NDArray[np.int8]] = field(default_factory=list)
    place: list[I64] = field(default_factory=list)  # household, unit, class or venue index
    subarea: list[I64] = field(default_factory=list)  # venue sub-area, else -1
    t_start: list[I64] = field(default_factory=list)  # minutes of the day of the shared stay, else -1
    t_end: list[I64] = field(default_factory=list)

    def add(self, **cols: npt.NDArray[np.generic]) -> None:
        for key, value in cols.items():
            getattr(self, key).append(np.asarray(value, np.int8 if key == "setting" else np.int64))

    def table(self) -> dict[str, npt.NDArray[np.generic]]:
        names = ("person", "source", "day", "setting", "place", "subarea", "t_start", "t_end")
        return {
            k: np.concatenate(getattr(self, k)) if getattr(self, k) else np.zeros(0, np.int64) for k in names
        }


@dataclass(frozen=True)
class _VenueDay:
    """A day at the venues: the infectious people's visits (the sources, first) and the eligible persons' candidate
    visits in one table, with the candidates that infect."""

    visits: Visits
    group: I64  # each row's sub-area
    every: SourceTable  # all the sources (rows 0 .. n - 1 of visits)
    visitors: SourceTable  # the sources that are not attendance check-ins
    visitor_rows: I64  # their rows in visits
    candidates: Candidates
    bound: F64  # per sub-area
    hits: tuple[I64, F64, I64]  # (person, hazard, row) of the candidate visits that infect


@dataclass(frozen=True)
class _Today:
    """Who is where on one day."""

    isolated: B
    locked: B  # their building is locked down
    free: B  # neither isolated nor locked down: they move about
    away: B  # in centralised isolation: out of the household too
    at_work: B
    at_school: B
    infectious: I64
    susceptible: B


@dataclass(frozen=True)
class DayResult:
    day: int
    date: dt.date
    new_infections: int
    by_setting: tuple[int, int, int, int, int]
    infectious: int
    new_cases: int
    isolated: int
    locked_down: int
    infectious_visits: int  # venue visits by infectious people


class Simulation:
    def __init__(
        self,
        city: City,
        profile: PathogenProfile | None = None,
        interventions: Sequence[Intervention] = (),
        seed: int = 1,
        seed_infections: int | None = None,
        start_date: dt.date | None = None,
        rates: Rates | None = None,
    ) -> None:
        for iv in interventions:
            if not callable(getattr(iv, "apply", None)) or not isinstance(getattr(iv, "name", None), str):
                raise SimConfigError(f"not an intervention (needs a name and apply(view, controls)): {iv!r}")
        n_seeds = city.config.seed_infections if seed_infections is None else seed_infections
        if n_seeds < 0 or n_seeds > city.n_persons:
            raise SimConfigError(f"seed infections must be between 0 and {city.n_persons}, got {n_seeds}")
        self.city = city
        self.profile = profile or load_profile()
        self.interventions = list(interventions)
        self.seed = seed
        self.start_date = start_date or dt.date.fromisoformat(city.config.start_date)
        self.rng = np.random.default_rng([seed, 0x51])
        self._scan_rng = np.random.default_rng([seed, 0x5CA])
        self.mobility = Mobility(city)
        self.exposure = Exposure(self.mobility)
        self.rates = rates or calibrate(city, self.mobility, self.profile, seed)
        n = city.n_persons
        self.day = 0
        self.t_inf = np.full(n, NEVER, np.int32)
        self.inf_start = np.full(n, NEVER, np.int32)
        self.inf_end = np.full(n, NEVER, np.int32)
        self.onset = np.full(n, NEVER, np.int32)
        self.weight = np.zeros(n, np.float64)
        self.asymptomatic = np.zeros(n, bool)
        self.isolated_until = np.zeros(n, np.int32)
        self.centralized = np.zeros(n, bool)
        self.venue_closed_until = np.zeros(city.n_venues, np.int32)
        self.building_locked_until = np.zeros(len(city.bld_grid), np.int32)
        # Today's share of residents staying home, per jurisdiction (zones: ``Controls.restrict_areas``); drawn
        # from its own stream so that restrictions do not shift the outbreak's other draws.
        self._stay_home: tuple[int, F64] | None = None
        self._stay_rng = np.random.default_rng([seed, 0x20E5])
        self._areas: dict[int, tuple[I64, I64, I64]] = {}
        self._grid: I32 | None = None
        self.case_day = np.full(n, NEVER, np.int32)
        self._cases: list[tuple[I64, int, npt.NDArray[np.int8], B]] = []
        self._reported: dict[int, list[I64]] = {}  # report day -> persons
        self._case_count = 0
        self._care: dict[int, list[I64]] = {}
        self.infections = Infections()
        self.results: list[DayResult] = []
        self.reports: list[Report] = []
        self._infectious: I64 = np.zeros(0, np.int64)
        # Group member lists (persons are stored household by household).
        self._hh_first = np.searchsorted(city.household, np.arange(len(city.hh_building) + 1)).astype(
            np.int64
        )
        self._unit = Groups(city.unit)
        self._class = Groups(city.klass)
        self._key = city.is_key_worker()
        self._building = city.building
        # Who goes to work (Monday to Friday; key industries also on Saturdays) and to school, if free.
        in_unit = city.unit >= 0
        self._works = (in_unit, in_unit & self._key)
        self._studies = city.klass >= 0
        self._seed(n_seeds)

    # --- set-up ------------------------------------------------------------------------------------------
    def _seed(self, count: int) -> None:
        city = self.city
        codes = set(city.config.seed_communities)
        pool = np.arange(city.n_persons)
        if codes:
            communities = [
                i for i, c in enumerate(city.jur_code) if c in codes and city.jur_level[i] == COMMUNITY
            ]
            home = city.jur_parent[city.grid]
            local = np.flatnonzero(np.isin(home, communities))
            keyed = local[self._key[local]]
            # Half of the first cases are key-industry workers, who carry the outbreak across districts.
            first: I64 = (
                self.rng.choice(keyed, size=min(len(keyed), count // 2), replace=False)
                if len(keyed)
                else np.zeros(0, np.int64)
            )
            rest = np.setdiff1d(local, first)
            more = self.rng.choice(rest, size=min(len(rest), count - len(first)), replace=False)
            pool = np.concatenate((np.asarray(first, np.int64), more))
            chosen = pool
        else:
            chosen = self.rng.choice(pool, size=count, replace=False)
        chosen = np.sort(chosen.astype(np.int64))
        days = -self.rng.integers(0, 3, len(chosen))
        for d in np.unique(days):
            persons = chosen[days == d]
            self._infect(persons, int(d))
            m = len(persons)
            none = np.full(m, -1, np.int64)
            self.infections.add(
                person=persons, source=none, day=np.full(m, d), setting=np.full(m, SEED), place=none, subarea=none,
                t_start=none, t_end=none,
            )  # fmt: skip

    def _infect(self, persons: I64, day: int) -> None:
        h = self.profile.natural_history(self.rng, len(persons))
        latent = h.latent.astype(np.int64)
        self.t_inf[persons] = day
        self.inf_start[persons] = day + latent
        self.inf_end[persons] = day + latent + h.infectious.astype(np.int64)
        self.asymptomatic[persons] = h.asymptomatic
        self.onset[persons] = np.where(h.asymptomatic, np.int64(NEVER), day + h.incubation.astype(np.int64))
        self.weight[persons] = h.weight
        seek = h.seeks_care
        sample = day + h.incubation[seek].astype(np.int64) + h.care_delay[seek]
        for d in np.unique(sample):
            self._care.setdefault(int(d), []).append(persons[seek][sample == d])

    # --- what interventions use --------------------------------------------------------------------------
    def area_mask(self, jurisdictions: I64) -> B:
        """A mask over jurisdictions: the given ones and everything below them."""
        city = self.city
        mask = np.zeros(len(city.jur_code), bool)
        mask[jurisdictions] = True
        for i in range(1, len(mask)):  # parents precede children
            mask[i] |= mask[city.jur_parent[i]]
        return mask

    def person_grid(self) -> I32:
        """Each person's grid (the jurisdiction of their home building), computed once."""
        if self._grid is None:
            self._grid = self.city.grid
        return self._grid

    def areas_at(self, level: int) -> tuple[I64, I64, I64]:
        """Each person's area at jurisdiction ``level`` and the persons by area (``groups.person_areas``)."""
        if level not in self._areas:
            self._areas[level] = person_areas(self.city, self.person_grid(), level)
        return self._areas[level]

    def restrict_today(self, share: F64) -> None:
        """Today only, each resident of jurisdiction ``j`` (or one below it) stays home with probability
        ``share[j]`` (the largest over ``j`` and its ancestors applies; 1 is everyone)."""
        self._stay_home = (self.day, down_the_tree(self.city, share))

    def is_case(self, persons: I64) -> B:
        out: B = self.case_day[persons] != NEVER
        return out

    def detectable(self, persons: I64) -> B:
        p = self.profile
        d = self.day
        out: B = (self.t_inf[persons] != NEVER) & (
            self.inf_start[persons] - p.pcr_detectable_before_infectious_days <= d
        ) & (d < self.inf_end[persons] + p.pcr_detectable_after_infectious_days)  # fmt: skip
        return out

    def add_cases(self, persons: I64, found_by: str) -> None:
        persons = np.unique(persons)
        persons = persons[~self.is_case(persons)]
        if not len(persons):
            return
        # Found while isolated or quarantined counts as found under control, however the sample was taken.
        under = self.isolated_until[persons] > self.day
        self.case_day[persons] = self.day
        by = np.where(under, FOUND_BY.index("quarantine"), FOUND_BY.index(found_by)).astype(np.int8)
        self._cases.append((persons, self.day, by, under))
        self._reported.setdefault(self.day + 1, []).append(persons)
        self._case_count += len(persons)

    def reported_on(self, day: int) -> I64:
        """Persons whose positive result came in on ``day`` (without gathering every case so far)."""
        parts = self._reported.get(day, [])
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def case_list(self) -> CaseList:
        if not self._cases:
            z = np.zeros(0, np.int64)
            return CaseList(z, z, z, np.zeros(0, np.int8), np.zeros(0, bool))
        person = np.concatenate([c[0] for c in self._cases])
        sampled = np.concatenate([np.full(len(c[0]), c[1]) for c in self._cases]).astype(np.int64)
        under = np.concatenate([c[3] for c in self._cases])
        return CaseList(person, sampled, sampled + 1, np.concatenate([c[2] for c in self._cases]), under)

    # --- the day -----------------------------------------------------------------------------------------
    def run(self, days: int, progress: Callable[[DayResult], None] | None = None,
            on_visits: VisitHook | None = None) -> list[DayResult]:  # fmt: skip
        if days < 0:
            raise SimConfigError(f"days must not be negative, got {days}")
        for _ in range(days):
            result = self.step(on_visits)
            if progress:
                progress(result)
        return self.results

    def step(self, on_visits: VisitHook | None = None) -> DayResult:
        t = self.day
        date = self.start_date + dt.timedelta(days=t)
        weekday = date.weekday()
        view = View(self)
        for iv in self.interventions:
            iv.apply(view, Controls(self, iv.name))
        today = self._today(t, weekday)
        infectious, free = today.infectious, today.free
        entries = self._household_entries(today) + self._group_entries(today)
        # Venues: the infectious people's visits in full, of the susceptible people's only the candidates that
        # can infect (exposure.py); for the scans, everyone else's from a separate stream, so a run gives the
        # same outbreak with or without its scans.
        visits = self.mobility.visits_of(self.rng, weekday, infectious[free[infectious]].astype(np.int32))
        eligible = free & today.susceptible
        venues = self._venues(visits, weekday, eligible) if len(visits) and self.rates.venue > 0 else None
        if on_visits is not None:
            on_visits(t, date, self._everyone_visits(weekday, today, visits, venues))

        new_by = [0, 0, 0, 0, 0]
        infected = self._infections(entries, venues.hits if venues is not None else None)
        if infected is not None:
            new_persons, setting, ref = infected
            self._infect(new_persons, t)
            self._record_sources(new_persons, setting, ref, today, venues)
            new_by = [int(x) for x in np.bincount(setting, minlength=5)]

        # Symptomatic cases sampled at fever clinics today.
        new_cases_before = self._case_count
        for persons in self._care.pop(t, []):
            self.add_cases(persons, found_by="fever_clinic")
        result = DayResult(
            day=t,
            date=date,
            new_infections=sum(new_by),
            by_setting=(new_by[0], new_by[1], new_by[2], new_by[3], new_by[4]),
            infectious=len(infectious),
            new_cases=self._case_count - new_cases_before,
            isolated=int(today.isolated.sum()),
            locked_down=int(today.locked.sum()),
            infectious_visits=len(visits),
        )
        self.results.append(result)
        self.day += 1
        return result

    def _today(self, t: int, weekday: int) -> _Today:
        """Who may move today, who is infectious or susceptible, and who is at work or school."""
        city = self.city
        n = city.n_persons
        isolated = self.isolated_until > t
        locked_buildings = self.building_locked_until > t
        locked = locked_buildings[self._building] if locked_buildings.any() else np.zeros(n, bool)
        if self._stay_home is not None and self._stay_home[0] == t:
            share = self._stay_home[1][self.person_grid()]
            some = np.flatnonzero(share > 0)
            stay = some[self._stay_rng.random(len(some)) < share[some]]
            locked[stay] = True
        free = ~isolated & ~locked
        self.mobility.set_closed(self.venue_closed_until > t)
        # Work: Monday to Friday, key industries also on Saturdays; school Monday to Friday.
        at_work = free & self._works[1 if weekday == 5 else 0] if weekday < 6 else np.zeros(n, bool)
        at_school = free & self._studies if weekday < 5 else np.zeros(n, bool)
        closed = self.venue_closed_until > t
        if closed.any():  # a closed workplace or school sends its team or class home
            at_work &= ~closed[np.maximum(self.mobility.work_venue, 0)]
            at_school &= ~closed[city.school_venue[np.maximum(city.school, 0)]]
        return _Today(
            isolated=isolated,
            locked=locked,
            free=free,
            away=isolated & self.centralized,
            at_work=at_work,
            at_school=at_school,
            infectious=np.flatnonzero((self.inf_start <= t) & (t < self.inf_end)),
            susceptible=self.t_inf == NEVER,
        )

    def _household_entries(self, today: _Today) -> list[_Entry]:
        """Household hazards: from every infectious member except those in centralised isolation, to every
        susceptible member except those."""
        city, weight, away = self.city, self.weight, today.away
        src = today.infectious[~away[today.infectious]]
        if not len(src):
            return []
        pressure = np.bincount(city.household[src], weights=weight[src], minlength=len(city.hh_building))
        homes = np.flatnonzero(pressure > 0)
        members = expand(self._hh_first[homes], self._hh_first[homes + 1])
        members = members[today.susceptible[members] & ~away[members]]
        hh = city.household[members].astype(np.int64)
        return [(members, self.rates.household * pressure[hh], HOUSEHOLD, hh)]

    def _group_entries(self, today: _Today) -> list[_Entry]:
        """Work-unit and school-class hazards, among those at work or school today."""
        entries: list[_Entry] = []
        for groups, present, rate, group_setting in (
            (self._unit, today.at_work, self.rates.work, WORK),
            (self._class, today.at_school, self.rates.school, SCHOOL),
        ):
            src = today.infectious[present[today.infectious]]
            if not len(src) or rate == 0:
                continue
            gid = groups.of[src]
            pressure = np.bincount(gid, weights=self.weight[src], minlength=groups.count)
            active = np.flatnonzero(pressure > 0)
            members = groups.members(active)
            members = members[today.susceptible[members] & present[members]]
            g = groups.of[members]
            entries.append((members, rate * pressure[g], group_setting, g))
        return entries

    def _everyone_visits(
        self, weekday: int, today: _Today, visits: Visits, venues: _VenueDay | None
    ) -> Visits:
        """Every visit of the day, for the scans: the infectious people's and the candidates, and the rest of
        everyone free to move drawn from the scan stream (so writing scans does not change the outbreak)."""
        everyone = [visits]
        rest = today.free.copy()
        rest[today.infectious] = False
        if venues is not None:
            eligible = today.free & today.susceptible
            cands = venues.candidates
            everyone += [cands.visits, self.exposure.complete(self._scan_rng, weekday, eligible, venues.bound,
                                                              cands)]  # fmt: skip
            rest &= ~eligible
        everyone.append(self.mobility.day(self._scan_rng, weekday, rest))
        return Visits.concat(*everyone).by_person()

    def _venues(self, sources: Visits, weekday: int, eligible: B) -> _VenueDay:
        """The infectious visits as sources, the eligible (free, susceptible) persons' candidate visits, and
        which of those infect."""
        rate = self.rates.venue
        group = self.mobility.group(sources)
        start, end = sources.t_in.astype(np.int64), sources.t_out.astype(np.int64)
        w = self.weight[sources.person]
        # Two attendance check-ins at one workplace are the work setting's: attendance queries only count the
        # other visitors.
        other = np.flatnonzero(~sources.attendance)
        every = SourceTable(group, start, end, w)
        visitors = SourceTable(group[other], start[other], end[other], w[other])
        # A sub-area's bound: the chance of infection of a visit there that stayed with every infectious visitor.
        stay = w * (end - start)
        n_groups = self.mobility.n_groups
        bound = -np.expm1(-rate * np.bincount(group, weights=stay, minlength=n_groups))
        bound_att = -np.expm1(-rate * np.bincount(group[other], weights=stay[other], minlength=n_groups))
        cands = self.exposure.candidates(self.rng, weekday, eligible, bound, bound_att)
        cv = cands.visits
        qa, qb, att = cv.t_in.astype(np.int64), cv.t_out.astype(np.int64), cv.attendance
        overlap = np.empty(len(cv))
        overlap[~att] = every.integral(cands.group[~att], qa[~att], qb[~att])
        overlap[att] = visitors.integral(cands.group[att], qa[att], qb[att])
        hazard = rate * overlap
        hit = np.flatnonzero(self.rng.random(len(cv)) * cands.bound < -np.expm1(-hazard))
        return _VenueDay(
            visits=Visits.concat(sources, cv),
            group=np.concatenate((group, cands.group)),
            every=every,
            visitors=visitors,
            visitor_rows=other,
            candidates=cands,
            bound=bound,
            hits=(cv.person[hit].astype(np.int64), hazard[hit], hit + len(sources)),
        )

    def _infections(self, entries: list[_Entry],
                    hits: tuple[I64, F64, I64] | None) -> tuple[I64, npt.NDArray[np.int8], I64] | None:  # fmt: skip
        """Who is infected today, in which setting and by which entry (household, unit, class or visit).

        Each entry's hazard ``h`` is a Poisson process of infection events over the day; a person is infected
        if any event comes, which happens with probability ``1 - exp(-sum h)``, and by the first event, which
        belongs to an entry with probability ``h / sum h``. Household, work and school entries are pooled per
        person (the first of their events comes in a time drawn from the pooled hazard, and belongs to an entry in
        proportion to its hazard); a venue visit that infects (``hits``, already drawn) has its own first event.
        Returns (persons ascending, setting, reference) or None."""
        rng = self.rng
        who: list[I64] = []
        when: list[F64] = []
        pick: list[I64] = []  # entry index (>= 0) or -1 - index into the hits
        if entries:
            person = np.concatenate([e[0] for e in entries])
            hazard = np.concatenate([e[1] for e in entries])
            setting = np.concatenate([np.full(len(e[0]), e[2], np.int8) for e in entries])
            ref = np.concatenate([e[3] for e in entries])
            order = order_by(person)
            person, hazard, setting, ref = person[order], hazard[order], setting[order], ref[order]
            uniq, seg_first = np.unique(person, return_index=True)
            total = np.add.reduceat(hazard, seg_first)
            hit = rng.random(len(uniq)) < -np.expm1(-total)
            if hit.any():
                ends = np.append(seg_first[1:], len(person))
                cum = np.cumsum(hazard)
                before = np.where(seg_first > 0, cum[np.maximum(seg_first - 1, 0)], 0.0)
                target = before[hit] + rng.random(int(hit.sum())) * total[hit]
                chosen = np.clip(np.searchsorted(cum, target, side="right"), seg_first[hit], ends[hit] - 1)
                who.append(uniq[hit])
                when.append(_first_event(rng, total[hit]))
                pick.append(chosen)
        if hits is not None and len(hits[0]):
            who.append(hits[0])
            when.append(_first_event(rng, hits[1]))
            pick.append(-1 - np.arange(len(hits[0]), dtype=np.int64))
        if not who:
            return None
        persons, times, picks = np.concatenate(who), np.concatenate(when), np.concatenate(pick)
        order = np.lexsort((times, persons))
        persons, picks = persons[order], picks[order]
        first = np.ones(len(persons), bool)
        first[1:] = persons[1:] != persons[:-1]
        persons, picks = persons[first], picks[first]
        by_entry = picks >= 0
        out_setting = np.full(len(persons), VENUE, np.int8)
        out_ref = np.empty(len(persons), np.int64)
        if entries:
            out_setting[by_entry] = setting[picks[by_entry]]
            out_ref[by_entry] = ref[picks[by_entry]]
        if hits is not None:
            out_ref[~by_entry] = hits[2][-1 - picks[~by_entry]]
        return persons, out_setting, out_ref

    def _record_sources(self, persons: I64, setting: npt.NDArray[np.int8], ref: I64, today: _Today,
                        venues: _VenueDay | None) -> None:  # fmt: skip
        """Draw each new infection's infector among those present, in proportion to their share of the
        hazard, and record it."""
        city, rng, infectious, weight = self.city, self.rng, today.infectious, self.weight
        m = len(persons)
        source = np.full(m, -1, np.int64)
        place = ref.copy()
        subarea = np.full(m, -1, np.int64)
        t0 = np.full(m, -1, np.int64)
        t1 = np.full(m, -1, np.int64)
        for kind, group_of, present in (
            (HOUSEHOLD, city.household, ~today.away),
            (WORK, city.unit, today.at_work),
            (SCHOOL, city.klass, today.at_school),
        ):
            sel = np.flatnonzero(setting == kind)
            if not len(sel):
                continue
            src = infectious[present[infectious]]
            src = src[np.argsort(group_of[src], kind="stable")]
            g = group_of[src].astype(np.int64)
            cum = np.cumsum(weight[src])
            lo = np.searchsorted(g, ref[sel])
            hi = np.searchsorted(g, ref[sel], side="right")
            base = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
            span = cum[hi - 1] - base
            pick = np.clip(np.searchsorted(cum, base + rng.random(len(sel)) * span, side="right"), lo, hi - 1)
            source[sel] = src[pick]
        sel = np.flatnonzero(setting == VENUE)
        if len(sel) and venues is not None:
            visits, group = venues.visits, venues.group
            v = ref[sel]
            qatt = visits.attendance[v]
            for table, mask, persons_of in (
                (venues.every, ~qatt, visits.person),
                (venues.visitors, qatt, visits.person[venues.visitor_rows]),
            ):
                part = sel[mask]
                if not len(part):
                    continue
                pv = v[mask]
                qa, qb = visits.t_in[pv].astype(np.int64), visits.t_out[pv].astype(np.int64)
                idx, _minute = table.pick(group[pv], qa, qb, rng)
                source[part] = persons_of[idx]
                t0[part] = np.maximum(qa, table.start[idx])
                t1[part] = np.minimum(qb, table.end[idx])
            place[sel] = visits.venue[v]
            subarea[sel] = visits.subarea[v]
        self.infections.add(
            person=persons, source=source, day=np.full(m, self.day), setting=setting, place=place,
            subarea=subarea, t_start=t0, t_end=t1,
        )  # fmt: skip


def _first_event(rng: np.random.Generator, hazard: F64) -> F64:
    """The time (as a fraction of the day) of the first event of Poisson processes with these daily hazards,
    given that there is one."""
    u = rng.random(len(hazard))
    out: F64 = -np.log1p(-u * -np.expm1(-hazard)) / hazard
    return out
