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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.city import City

I32 = npt.NDArray[np.int32]
B = npt.NDArray[np.bool_]

DAY_START, DAY_END = 7 * 60, 22 * 60
WORK_START, WORK_END = 8 * 60, 21 * 60


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

    def take(self, mask: B) -> Visits:
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
        rates = np.array(c.visits_per_day, np.float64)
        self.rate = np.where(age < 18, rates[0], np.where(age < 65, rates[1], rates[2]))
        self.key_sector = np.array([s.key for s in c.sectors])
        sector = city.sector.astype(np.int64)
        employed = sector >= 0
        work_visits = np.array([s.work_visits for s in c.sectors] + [0.0])
        self.work_rate = work_visits[sector]
        self.work_minutes = np.array([s.work_visit_minutes for s in c.sectors] + [1.0])[sector]
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
        # Visit kinds for residents and each sector's work visits.
        kinds = c.venue_kinds
        share = np.array([k.visit_share for k in kinds])
        # Visit kinds by table lookup: 4096 cells, each kind holding cells in proportion to its share.
        cells = np.floor(np.cumsum(share / share.sum()) * 4096 + 0.5).astype(np.int64)
        self.kind_table = np.repeat(np.arange(len(share)), np.diff(np.concatenate(([0], cells))))
        self.median = np.array([k.median_minutes for k in kinds])
        kind_index = {k.kind: i for i, k in enumerate(kinds)}
        self.sector_kinds = [np.array([kind_index[k] for k in s.visit_kinds], np.int64) for s in c.sectors]
        self.closed = np.zeros(city.n_venues, bool)
        self._index()

    def set_closed(self, closed: B) -> None:
        """Venues closed from now on (visits go to other venues of the same kind)."""
        if not np.array_equal(closed, self.closed):
            self.closed = closed.copy()
            self._index()

    def _index(self) -> None:
        """Alias tables (Walker/Vose) for drawing a venue by popularity within each (kind, district) segment
        and within each kind: O(1) per draw."""
        city = self.city
        kinds = len(city.config.venue_kinds)
        d = self.n_districts
        seg = city.venue_kind.astype(np.int64) * d + self.venue_district
        order = np.argsort(seg, kind="stable")
        weight = np.where(self.closed, 0.0, city.venue_popularity)[order]
        self.sorted_venue = order.astype(np.int32)
        bounds = np.searchsorted(seg[order], np.arange(kinds * d + 1))
        self.seg_start, self.seg_len = bounds[:-1], np.diff(bounds)
        kb = bounds[::d]
        self.kind_start, self.kind_len = kb[:-1], np.diff(kb)
        self.seg_prob, self.seg_alias = _alias(weight, bounds)
        self.kind_prob, self.kind_alias = _alias(weight, kb)
        self.seg_open = np.add.reduceat(weight > 0, np.minimum(bounds[:-1], max(len(weight) - 1, 0))) * (
            self.seg_len > 0
        )
        self.kind_open = np.add.reduceat(weight > 0, np.minimum(kb[:-1], max(len(weight) - 1, 0))) * (
            self.kind_len > 0
        )

    def _pick(self, rng: np.random.Generator, kind: npt.NDArray[np.int64], district: npt.NDArray[np.int64],
              local: B) -> I32:  # fmt: skip
        seg = kind * self.n_districts + district
        use_seg = local & (self.seg_open[seg] > 0)
        start = np.where(use_seg, self.seg_start[seg], self.kind_start[kind])
        length = np.where(use_seg, self.seg_len[seg], self.kind_len[kind])
        u = rng.random(len(kind)) * length
        slot = u.astype(np.int64)
        idx = start + np.minimum(slot, np.maximum(length - 1, 0))
        frac = u - slot
        prob = np.where(use_seg, self.seg_prob[idx], self.kind_prob[idx])
        alias = np.where(use_seg, self.seg_alias[idx], self.kind_alias[idx])
        chosen = np.where(frac < prob, idx, alias)
        ok = use_seg | (self.kind_open[kind] > 0)
        return np.where(ok, self.sorted_venue[np.minimum(chosen, len(self.sorted_venue) - 1)], -1).astype(
            np.int32
        )

    @staticmethod
    def _slots(rng: np.random.Generator, counts: npt.NDArray[np.int64], start: int, end: int,
               minutes: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:  # fmt: skip
        """Times for ``counts[p]`` visits of each person, in order through [start, end)."""
        total = int(counts.sum())
        first = np.repeat(np.cumsum(counts) - counts, counts)
        rank = np.arange(total) - first
        k = np.repeat(counts, counts).astype(np.float64)
        slot = (end - start) / k
        # Whole minutes: in at or after the slot's start, out by its end, so visits keep their order.
        t_in = np.ceil(start + rank * slot + rng.random(total) * slot * 0.6).astype(np.int64)
        stay = minutes * rng.lognormal(0.0, 0.6, total)
        t_out = np.floor(np.minimum(t_in + np.clip(stay, 2, None), start + (rank + 1) * slot)).astype(
            np.int64
        )
        return t_in, np.maximum(t_out, t_in + 1)

    def day(self, rng: np.random.Generator, weekday: int, free: B | None = None) -> Visits:
        """The visits of one day (``weekday`` 0 = Monday); ``free`` marks who may leave home."""
        city = self.city
        n = city.n_persons
        weekend = weekday >= 5
        free_mask = np.ones(n, bool) if free is None else free
        # Leisure visits.
        lam = self.rate * (self.city.config.weekend_factor if weekend else 1.0)
        counts = np.where(free_mask, rng.poisson(lam), 0).astype(np.int64)
        person_l = np.repeat(np.arange(n, dtype=np.int32), counts)
        m = len(person_l)
        kind_l = self.kind_table[(rng.random(m) * len(self.kind_table)).astype(np.int64)]
        local = rng.random(m) < city.config.local_visit_share
        venue_l = self._pick(rng, kind_l, self.home_district[person_l].astype(np.int64), local)
        t_in_l, t_out_l = self._slots(rng, counts, DAY_START, DAY_END, self.median[kind_l])
        # Key workers' work visits (six days a week).
        works_today = free_mask & (weekday < 6)
        wcounts = np.where(works_today & (self.work_rate > 0), rng.poisson(self.work_rate), 0).astype(
            np.int64
        )
        person_w = np.repeat(np.arange(n, dtype=np.int32), wcounts)
        sector_w = city.sector[person_w].astype(np.int64)
        kind_w = np.zeros(len(person_w), np.int64)
        for si, options in enumerate(self.sector_kinds):
            sel = np.flatnonzero(sector_w == si)
            if len(sel) and len(options):
                kind_w[sel] = options[rng.integers(0, len(options), len(sel))]
        venue_w = self._pick(
            rng, kind_w, self.work_district[person_w].astype(np.int64), np.ones(len(kind_w), bool)
        )
        t_in_w, t_out_w = self._slots(rng, wcounts, WORK_START, WORK_END, self.work_minutes[person_w])
        # Attendance at fixed workplaces (key industries six days a week, others Monday to Friday).
        workday = np.where(self.key_worker, weekday < 6, weekday < 5)
        att = free_mask & self.attends & workday
        att &= ~self.closed[np.maximum(self.work_venue, 0)]
        person_a = np.flatnonzero(att).astype(np.int32)
        venue_a = self.work_venue[person_a]
        t_in_a = 480 + rng.integers(0, 90, len(person_a))
        t_out_a = np.minimum(t_in_a + 480 + rng.integers(0, 120, len(person_a)), 1439)
        sub_a = city.unit[person_a] % city.venue_subareas[venue_a]
        # Together, ordered by person.
        person = np.concatenate((person_l, person_w, person_a))
        venue = np.concatenate((venue_l, venue_w, venue_a))
        t_in = np.concatenate((t_in_l, t_in_w, t_in_a))
        t_out = np.concatenate((t_out_l, t_out_w, t_out_a))
        attendance = np.concatenate((np.zeros(m + len(person_w), bool), np.ones(len(person_a), bool)))
        keep = venue >= 0
        n_sub = city.venue_subareas[np.maximum(venue, 0)]
        subarea = np.floor(rng.random(len(venue)) * n_sub).astype(np.int8)
        subarea[m + len(person_w) :] = sub_a
        # Visits are generated person by person within each part; a stable sort interleaves the parts.
        order = np.argsort(person[keep], kind="stable")
        venue = venue[keep][order]
        subarea = subarea[keep][order]
        attendance = attendance[keep][order]
        return Visits(
            person=person[keep][order].astype(np.int32),
            venue=venue.astype(np.int32),
            subarea=subarea,
            t_in=np.minimum(t_in[keep][order], 1438).astype(np.int16),
            t_out=np.minimum(t_out[keep][order], 1439).astype(np.int16),
            attendance=attendance,
        )

    def group(self, visits: Visits) -> npt.NDArray[np.int64]:
        """Each visit's (venue, sub-area) group number."""
        return self.group_offset[visits.venue] + visits.subarea


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
