"""Daily schedules -> venue check-in scans.

Each day every person who is free to move makes a Poisson number of visits (children, adults and the elderly at
different rates, more at weekends); each visit goes to a kind of venue (by the kinds' visit shares), in the home
district with ``local_visit_share`` and anywhere in the city otherwise, to a venue drawn by its heavy-tailed
popularity, so hub venues (stations, malls, large markets) gather many visitors. Key-industry workers add their
work visits (a delivery rider about 18 a day) to the kinds their sector serves, in the district they work in.
Workers with a fixed workplace check in there on work days (an *attendance* scan); their team shares a sub-area.

A person's visits of one kind are spread over the day in order, so they do not overlap one another; a key
worker's work visits may overlap an evening leisure visit they make. Times are minutes of the day (stays are cut
at midnight).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.city import City
from cordon.engine.sim.copresence import order_by

I32 = npt.NDArray[np.int32]
B = npt.NDArray[np.bool_]

DAY_START, DAY_END = 7 * 60, 22 * 60
WORK_START, WORK_END = 8 * 60, 21 * 60
PARALLEL_FROM = 200_000  # residents from which a day's visits are drawn in two halves on two threads


@dataclass(frozen=True, slots=True)
class Visits:
    """One day's check-ins, one row per visit, ordered by person."""

    person: I32
    venue: I32
    subarea: npt.NDArray[np.int8]
    t_in: npt.NDArray[np.int16]  # minute of the day
    t_out: npt.NDArray[np.int16]
    attendance: B  # a worker's check-in at their own workplace

    def __len__(self) -> int:
        return len(self.person)

    @staticmethod
    def concat(*parts: Visits) -> Visits:
        return Visits(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Visits)))

    def by_person(self) -> Visits:
        """The same visits ordered by person (stable: each person's visits keep their order)."""
        return self.take(order_by(self.person.astype(np.int64)))

    def take(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> Visits:
        return Visits(
            self.person[mask], self.venue[mask], self.subarea[mask], self.t_in[mask], self.t_out[mask],
            self.attendance[mask],
        )  # fmt: skip


class Mobility:
    def __init__(self, city: City) -> None:
        c = city.config
        self.city = city
        n = city.n_persons
        age = city.age
        age_class = np.where(age < 18, 0, np.where(age < 65, 1, 2))
        self.rate_classes = [
            (np.flatnonzero(age_class == i).astype(np.int32), float(c.visits_per_day[i])) for i in range(3)
        ]
        self.age_class = age_class.astype(np.int32)
        self.leisure_rate = np.array([float(x) for x in c.visits_per_day])[age_class]
        self.key_sector = np.array([s.key for s in c.sectors])
        sector = city.sector.astype(np.int64)
        employed = sector >= 0
        work_visits = np.array([s.work_visits for s in c.sectors] + [0.0])
        self.work_rates = work_visits[:-1]
        self.work_rate = work_visits[sector]
        self.work_classes = [
            (np.flatnonzero(sector == i).astype(np.int32), float(s.work_visits))
            for i, s in enumerate(c.sectors)
            if s.work_visits > 0
        ]
        self.work_minutes = np.array([s.work_visit_minutes for s in c.sectors] + [1.0], np.float32)[sector]
        # Attendance: workers with a fixed place (mobile workers make work visits instead).
        self.work_venue = np.full(n, -1, np.int32)
        has_wp = city.workplace >= 0
        self.work_venue[has_wp] = city.wp_venue[city.workplace[has_wp]]
        self.attends = has_wp & (self.work_rate < 5)
        self.key_worker = employed & np.append(self.key_sector, False)[sector]
        # Districts as local indices 0..D-1.
        districts = city.districts()
        local = np.full(len(city.jur_code), -1, np.int64)
        local[districts] = np.arange(len(districts))
        self.n_districts = len(districts)
        self.home_district = local[city.district].astype(np.int32)
        venue_district = local[city.venue_district]
        self.venue_district = venue_district.astype(np.int32)
        work_district = self.home_district.copy()
        work_district[has_wp] = self.venue_district[self.work_venue[has_wp]]
        self.work_district = work_district
        # Sub-area groups: (venue, sub-area) pairs numbered consecutively.
        subareas = city.venue_subareas.astype(np.int64)
        self.group_offset = np.concatenate(([0], np.cumsum(subareas)[:-1])).astype(np.int64)
        self.n_groups = int(subareas.sum())
        self.group_venue = np.repeat(np.arange(city.n_venues, dtype=np.int32), subareas)
        self.group_subarea = (np.arange(self.n_groups) - self.group_offset[self.group_venue]).astype(np.int8)
        # A worker's attendance group (workplace venue and the team's sub-area), -1 for none.
        self.attendance_group = np.full(n, -1, np.int64)
        at = np.flatnonzero(self.attends)
        self.attendance_group[at] = self.group_offset[self.work_venue[at]] + (
            city.unit[at] % city.venue_subareas[self.work_venue[at]]
        )
        # Visit kinds for residents and each sector's work visits.
        kinds = c.venue_kinds
        share = np.array([k.visit_share for k in kinds])
        # Visit kinds by table lookup: 4096 cells, each kind holding cells in proportion to its share.
        cells = np.floor(np.cumsum(share / share.sum()) * 4096 + 0.5).astype(np.int64)
        self.kind_table = np.repeat(
            np.arange(len(share), dtype=np.int32), np.diff(np.concatenate(([0], cells)))
        )
        self.median = np.array([k.median_minutes for k in kinds], np.float32)
        kind_index = {k.kind: i for i, k in enumerate(kinds)}
        self.sector_kinds = [np.array([kind_index[k] for k in s.visit_kinds], np.int32) for s in c.sectors]
        self.closed = np.zeros(city.n_venues, bool)
        self._index()
        # Residents in parts (two in a large city), with each part's classes indexed from its first person.
        self.parts = [(0, n)] if n < PARALLEL_FROM else [(0, n // 2), (n // 2, n)]
        self.part_classes = [
            (
                [(m[(m >= lo) & (m < hi)] - lo, lam) for m, lam in self.rate_classes],
                [(m[(m >= lo) & (m < hi)] - lo, lam) for m, lam in self.work_classes],
            )
            for lo, hi in self.parts
        ]
        self._pool: ThreadPoolExecutor | None = None

    def set_closed(self, closed: B) -> None:
        """Venues closed from now on (visits go to other venues of the same kind)."""
        if not np.array_equal(closed, self.closed):
            self.closed = closed.copy()
            self._index()

    def _index(self) -> None:
        """Alias tables (Walker/Vose) for drawing a venue by popularity, O(1) per draw: one table per (kind,
        district) segment, then one per kind over the whole city, laid end to end in the same arrays."""
        city = self.city
        kinds = len(city.config.venue_kinds)
        d = self.n_districts
        nv = city.n_venues
        seg = city.venue_kind.astype(np.int64) * d + self.venue_district
        order = np.argsort(seg, kind="stable")
        weight = np.where(self.closed, 0.0, city.venue_popularity)[order]
        bounds = np.searchsorted(seg[order], np.arange(kinds * d + 1))
        kb = bounds[::d]
        seg_prob, seg_alias = _alias(weight, bounds)
        kind_prob, kind_alias = _alias(weight, kb)
        self.sorted_venue = np.concatenate((order, order)).astype(np.int32)
        self.prob = np.concatenate((seg_prob, kind_prob))
        self.alias = np.concatenate((seg_alias, kind_alias + nv)).astype(np.int32)
        self.start = np.concatenate((bounds[:-1], kb[:-1] + nv)).astype(np.int32)
        self.length = np.concatenate((np.diff(bounds), np.diff(kb))).astype(np.int32)
        open_count = np.concatenate(([0], np.cumsum(weight > 0)))
        self.open = np.concatenate((open_count[bounds[1:]] - open_count[bounds[:-1]],
                                    open_count[kb[1:]] - open_count[kb[:-1]])) > 0  # fmt: skip
        self.kinds_x_districts = kinds * d
        # The segments' total open popularity, and each sub-area's share of its venue's (for thinning).
        open_weight = np.where(self.closed, 0.0, city.venue_popularity)
        self.segment_total = np.concatenate((
            np.bincount(seg, weights=open_weight, minlength=kinds * d),
            np.bincount(city.venue_kind.astype(np.int64), weights=open_weight, minlength=kinds),
        ))  # fmt: skip
        self.group_weight = (open_weight / city.venue_subareas)[self.group_venue]

    def _pick(self, rng: np.random.Generator, kind: I32, district: I32, local: B | None) -> I32:
        """A venue for each visit: of the given kind, in the given district when ``local`` (and it has an open
        venue of that kind), else anywhere in the city; -1 when every venue of the kind is closed."""
        seg = kind * self.n_districts + district
        wide = kind + self.kinds_x_districts
        seg = (
            np.where(self.open[seg] & local, seg, wide)
            if local is not None
            else np.where(self.open[seg], seg, wide)
        )
        length = self.length[seg]
        u = rng.random(len(seg)) * length
        cell = u.astype(np.int32)
        idx = self.start[seg] + np.minimum(cell, length - 1)
        chosen = np.where(u - cell < self.prob[idx], idx, self.alias[idx])
        return np.where(self.open[seg], self.sorted_venue[chosen], -1).astype(np.int32)

    @staticmethod
    def _slots(rng: np.random.Generator, counts: I32, start: int, end: int,
               minutes: npt.NDArray[np.float32]) -> tuple[I32, I32]:  # fmt: skip
        """Times for ``counts[p]`` visits of each person, in order through [start, end)."""
        total = int(counts.sum())
        k = np.repeat(counts, counts).astype(np.float32)
        rank = np.arange(total, dtype=np.int32) - np.repeat(np.cumsum(counts) - counts, counts)
        return slot_times(rng, rank, k, start, end, minutes)

    def _counts(self, rng: np.random.Generator, classes: list[tuple[I32, float]], free: B | None,
                size: int) -> I32:  # fmt: skip
        """Poisson counts per person, drawn class by class with one rate each (much faster than per-person
        rates)."""
        counts = np.zeros(size, np.int32)
        for members, lam in classes:
            if lam > 0 and len(members):
                counts[members] = rng.poisson(lam, len(members))
        if free is not None:
            counts[~free] = 0
        return counts

    def day(self, rng: np.random.Generator, weekday: int, free: B | None = None) -> Visits:
        """The visits of one day (``weekday`` 0 = Monday); ``free`` marks who may leave home. In a large city
        the residents are split in two halves drawn on two threads, each half with its own random stream
        spawned from ``rng`` (so the result does not depend on how many cores there are). Visits come grouped in
        parts, each ordered by person; see :meth:`Visits.by_person`."""
        if len(self.parts) == 1:
            return self._day_part(rng, weekday, free, 0)
        streams = rng.spawn(len(self.parts))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=min(len(self.parts), os.cpu_count() or 1))
        done = list(
            self._pool.map(lambda k: self._day_part(streams[k], weekday, free, k), range(len(self.parts)))
        )
        return Visits.concat(*done)

    def _day_part(self, rng: np.random.Generator, weekday: int, free_all: B | None, part: int) -> Visits:
        lo, hi = self.parts[part]
        free = None if free_all is None else free_all[lo:hi]
        factor = self.city.config.weekend_factor if weekday >= 5 else 1.0
        persons = np.arange(lo, hi, dtype=np.int32)
        rate_classes, work_classes = self.part_classes[part]
        counts = self._counts(rng, [(m, lam * factor) for m, lam in rate_classes], free, hi - lo)
        leisure = self._leisure(rng, persons, counts)
        wcounts = self._counts(rng, work_classes if weekday < 6 else [], free, hi - lo)
        work = self._work(rng, persons, wcounts)
        att = self.attends[lo:hi] & (self.key_worker[lo:hi] if weekday == 5 else weekday < 5)
        if free is not None:
            att &= free
        if self.closed.any():
            att &= ~self.closed[np.maximum(self.work_venue[lo:hi], 0)]
        return self._together(rng, leisure, work, (np.flatnonzero(att) + lo).astype(np.int32))

    def visits_of(self, rng: np.random.Generator, weekday: int, persons: I32) -> Visits:
        """All the visits of the given persons (ascending, all free to move) on one day: the same model as
        :meth:`day`, with per-person Poisson rates, so the cost is in proportion to the persons given."""
        factor = self.city.config.weekend_factor if weekday >= 5 else 1.0
        counts = rng.poisson(self.leisure_rate[persons] * factor).astype(np.int32)
        leisure = self._leisure(rng, persons, counts)
        if weekday < 6:
            wcounts = rng.poisson(self.work_rate[persons]).astype(np.int32)
        else:
            wcounts = np.zeros(len(persons), np.int32)
        work = self._work(rng, persons, wcounts)
        att = self.attends[persons] & (self.key_worker[persons] if weekday == 5 else weekday < 5)
        if self.closed.any():
            att &= ~self.closed[np.maximum(self.work_venue[persons], 0)]
        return self._together(rng, leisure, work, persons[att])

    def _leisure(self, rng: np.random.Generator, persons: I32, counts: I32) -> tuple[I32, I32, I32, I32]:
        """Leisure visits: (person, venue, time in, time out) for ``counts`` visits of each person."""
        person_l = np.repeat(persons, counts)
        m = len(person_l)
        kind_l = self.kind_table[(rng.random(m, dtype=np.float32) * len(self.kind_table)).astype(np.int32)]
        local = rng.random(m, dtype=np.float32) < self.city.config.local_visit_share
        venue_l = self._pick(rng, kind_l, self.home_district[person_l], local)
        t_in_l, t_out_l = self._slots(rng, counts, DAY_START, DAY_END, self.median[kind_l])
        return person_l, venue_l, t_in_l, t_out_l

    def _work(self, rng: np.random.Generator, persons: I32, wcounts: I32) -> tuple[I32, I32, I32, I32]:
        """Key workers' work visits (to the kinds their sector serves, in their work district)."""
        person_w = np.repeat(persons, wcounts)
        sector_w = self.city.sector[person_w]
        kind_w = np.zeros(len(person_w), np.int32)
        for si, options in enumerate(self.sector_kinds):
            if len(options) and self.work_rates[si] > 0:
                sel = np.flatnonzero(sector_w == si)
                kind_w[sel] = options[rng.integers(0, len(options), len(sel))]
        venue_w = self._pick(rng, kind_w, self.work_district[person_w], None)
        t_in_w, t_out_w = self._slots(rng, wcounts, WORK_START, WORK_END, self.work_minutes[person_w])
        return person_w, venue_w, t_in_w, t_out_w

    def _together(self, rng: np.random.Generator, leisure: tuple[I32, I32, I32, I32],
                  work: tuple[I32, I32, I32, I32], person_a: I32) -> Visits:  # fmt: skip
        """Leisure and work visits with attendance at fixed workplaces (times drawn here), sub-areas drawn for
        the first two; visits to a kind whose venues are all closed are dropped."""
        city = self.city
        person_l, venue_l, t_in_l, t_out_l = leisure
        person_w, venue_w, t_in_w, t_out_w = work
        venue_a = self.work_venue[person_a]
        t_in_a = (480 + rng.integers(0, 90, len(person_a))).astype(np.int32)
        t_out_a = np.minimum(t_in_a + 480 + rng.integers(0, 120, len(person_a)), 1439).astype(np.int32)
        sub_a = (city.unit[person_a] % city.venue_subareas[venue_a]).astype(np.int8)
        venue = np.concatenate((venue_l, venue_w, venue_a))
        keep = venue >= 0
        drawn = len(person_l) + len(person_w)
        n_sub = city.venue_subareas[np.maximum(venue[:drawn], 0)]
        sub = (rng.random(len(n_sub), dtype=np.float32) * n_sub).astype(np.int8)
        attendance = np.zeros(len(venue), bool)
        attendance[drawn:] = True
        visits = Visits(
            person=np.concatenate((person_l, person_w, person_a)),
            venue=venue,
            subarea=np.concatenate((sub, sub_a)),
            t_in=np.minimum(np.concatenate((t_in_l, t_in_w, t_in_a)), 1438).astype(np.int16),
            t_out=np.minimum(np.concatenate((t_out_l, t_out_w, t_out_a)), 1439).astype(np.int16),
            attendance=attendance,
        )
        return visits if keep.all() else visits.take(keep)

    def group(self, visits: Visits) -> npt.NDArray[np.int64]:
        """Each visit's (venue, sub-area) group number."""
        return self.group_offset[visits.venue] + visits.subarea


def slot_times(rng: np.random.Generator, rank: I32, k: npt.NDArray[np.float32], start: int, end: int,
               minutes: npt.NDArray[np.float32]) -> tuple[I32, I32]:  # fmt: skip
    """Times of visits number ``rank`` (from 0) of ``k`` a person makes in [start, end): the window is cut into
    ``k`` equal slots; the visit comes in during the first 60% of its slot and stays a lognormal time around
    ``minutes`` (at least 2), cut at the slot's end, so a person's visits keep their order."""
    total = len(rank)
    slot = np.float32(end - start) / k
    slot_start = start + rank * slot
    # Whole minutes: in at or after the slot's start, out by its end, so visits keep their order.
    t_in = np.ceil(slot_start + rng.random(total, dtype=np.float32) * slot * np.float32(0.6))
    stay = minutes * np.exp(rng.standard_normal(total, dtype=np.float32) * np.float32(0.6))
    t_out = np.floor(np.minimum(t_in + np.maximum(stay, 2), slot_start + slot))
    t_in_i = t_in.astype(np.int32)
    return t_in_i, np.maximum(t_out.astype(np.int32), t_in_i + 1)


def _alias(weight: npt.NDArray[np.float64], bounds: npt.NDArray[np.int64]) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.int64]
]:  # fmt: skip
    """Vose's alias tables for every segment ``[bounds[i], bounds[i+1])`` of ``weight``: cell ``j`` keeps
    itself with probability ``prob[j]`` and otherwise takes ``alias[j]`` (indices are global)."""
    n = len(weight)
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if hi - lo < 2:
            continue
        w = weight[lo:hi]
        total = w.sum()
        if total <= 0:
            continue
        scaled = (w * ((hi - lo) / total)).tolist()
        small = [i for i, x in enumerate(scaled) if x < 1.0]
        large = [i for i, x in enumerate(scaled) if x >= 1.0]
        p = [1.0] * (hi - lo)
        a = list(range(hi - lo))
        while small and large:
            s_i, l_i = small.pop(), large.pop()
            p[s_i] = scaled[s_i]
            a[s_i] = l_i
            scaled[l_i] -= 1.0 - scaled[s_i]
            (small if scaled[l_i] < 1.0 else large).append(l_i)
        prob[lo:hi] = p
        alias[lo:hi] = np.array(a, np.int64) + lo
    return prob, alias
