"""The visits of susceptible people that can matter for the outbreak, drawn by thinning.

A susceptible person's visit to sub-area ``g`` from minute ``a`` to ``b`` infects with probability
``1 - exp(-beta * I_g(a, b))``, where ``I_g(a, b)`` is the infectious weight times overlap minutes there
(:mod:`.copresence`). ``I_g(a, b)`` is at most ``J_g``, the infectious weight times stay minutes of all of
``g``'s infectious visits that day, so a visit to ``g`` infects with probability at most
``c_g = 1 - exp(-beta * J_g)``. Split every visit by an independent coin into a *candidate* (probability
``c_g``) or not, and let a candidate infect with probability ``(1 - exp(-beta * I_g(a, b))) / c_g`` and a
non-candidate never: every visit still infects with exactly its probability.

Whether a visit is a candidate depends only on where it goes, and where each visit goes is drawn independently
of a person's other visits, so a person's candidates are a Poisson thinning of their visits: ``M ~ Poisson(rate
* p)`` candidates and ``U ~ Poisson(rate * (1 - p))`` others, independent, where ``p`` is the chance that one
visit of the person's class (age group and home district for leisure, sector and work district for work
visits) is a candidate. A class's candidates are drawn as one Poisson total handed to members uniformly at
random, which gives every member an independent ``Poisson(rate * p)``. Only members with a candidate draw their
``U``: it fixes how many visits they make and so where in the day each one falls (a person's visits are spread
through the day in order, :func:`.mobility.slot_times`), the candidates taking a uniformly random subset of the
places in that order. Attendance at a fixed workplace (one check-in per worker on work days) is thinned per
worker, with the bound over the sub-area's infectious visitors who are not attending (two attendance check-ins
are the work setting's).

So the outbreak draws only the candidates, with the same model: at the peak of a city of a million about a
tenth of the susceptible people's visits, early in the outbreak far fewer. When scans are written,
:meth:`Exposure.complete` draws the rest of those people's visits, given their candidates, from the scan stream,
so the scans hold everyone's day and writing them does not change the outbreak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.copresence import order_by
from cordon.engine.sim.mobility import DAY_END, DAY_START, WORK_END, WORK_START, Mobility, Visits, slot_times

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

RANK_BITS = 16  # a person's visits of one stream in a day, far below 65,536


class _Choice:
    """Weighted choice within segments: entry ``j`` of segment ``s`` (entries ``first[s]`` to ``first[s + 1]``)
    is chosen with probability ``weight[j]`` over the segment's total. Weights are normalised per segment before
    the running sum, so a segment of tiny weights is drawn as precisely as any other."""

    def __init__(self, first: I64, weight: F64) -> None:
        segment = np.repeat(np.arange(len(first) - 1), np.diff(first))
        self.total = np.bincount(segment, weights=weight, minlength=len(first) - 1)
        norm = np.divide(
            weight, self.total[segment], out=np.zeros(len(weight)), where=self.total[segment] > 0
        )
        self.cum = np.concatenate(([0.0], np.cumsum(norm)))
        self.first = first

    def choose(self, rng: np.random.Generator, segment: I64) -> I64:
        lo, hi = self.first[segment], self.first[segment + 1]
        base = self.cum[lo]
        target = base + rng.random(len(segment)) * (self.cum[hi] - base)
        pos: I64 = np.clip(np.searchsorted(self.cum, target, side="right") - 1, lo, hi - 1)
        return pos


@dataclass(frozen=True)
class _Stream:
    """Visits of one sort (leisure, or key workers' work visits) made by classes of persons with one rate each,
    each visit going to one of its class's destination options (a kind of venue, drawn locally or city-wide)."""

    class_of: I64  # per person, -1 for none
    members: I32  # persons sorted by class
    first: I64  # class c's members are members[first[c] : first[c + 1]]
    rate: F64  # visits per member per day, per class, before the weekend factor
    opt_first: I64  # class c's options are opt_*[opt_first[c] : opt_first[c + 1]]
    opt_kind: I32
    opt_district: I32
    opt_local: B
    opt_share: F64  # probability of each option within its class
    start: int
    end: int
    leisure: bool  # stays last around the kind's median (leisure) or the worker's work visit minutes

    @staticmethod
    def build(class_of: I64, rate: F64, options: list[list[tuple[int, int, bool, float]]], start: int, end: int,
              leisure: bool) -> _Stream:  # fmt: skip
        n_classes = len(rate)
        has = np.flatnonzero(class_of >= 0)
        members = has[order_by(class_of[has])].astype(np.int32)
        first = np.searchsorted(class_of[members], np.arange(n_classes + 1)).astype(np.int64)
        flat = [o for opts in options for o in opts]
        return _Stream(
            class_of=class_of,
            members=members,
            first=first,
            rate=rate,
            opt_first=np.concatenate(([0], np.cumsum([len(o) for o in options]))).astype(np.int64),
            opt_kind=np.array([o[0] for o in flat], np.int32),
            opt_district=np.array([o[1] for o in flat], np.int32),
            opt_local=np.array([o[2] for o in flat], bool),
            opt_share=np.array([o[3] for o in flat], np.float64),
            start=start,
            end=end,
            leisure=leisure,
        )

    @property
    def opt_class(self) -> I64:
        return np.repeat(np.arange(len(self.rate)), np.diff(self.opt_first))


@dataclass(frozen=True)
class _StreamDay:
    """One stream's candidates on one day, with what completing the scans needs."""

    rate: F64  # per class, with the weekend factor
    opt_segment: I64  # the segment each option draws from today
    opt_p: F64  # each option's chance of giving a candidate
    class_p: F64  # each class's chance that one visit is a candidate
    persons: I32  # persons with candidates, ascending
    others: I32  # their number of other visits (U)
    visit_person: I32  # candidates, by person
    visit_rank: I32  # place in the person's day (0 is first)
    visit_group: I64
    t_in: I32
    t_out: I32


@dataclass(frozen=True)
class Candidates:
    """A day's candidate visits of susceptible people (leisure, work, then attendance) with the bound ``c`` of
    each, and the draws behind them (for :meth:`Exposure.complete`)."""

    visits: Visits
    group: I64
    bound: F64
    streams: tuple[_StreamDay, ...]
    attendees: I32  # candidate attendance check-ins, by person


class Exposure:
    """Candidate visits of susceptible people for a city's mobility model (see the module docstring)."""

    def __init__(self, mobility: Mobility) -> None:
        self.mobility = m = mobility
        city = m.city
        c = city.config
        d = m.n_districts
        kinds = len(c.venue_kinds)
        self.n_districts, self.n_kinds = d, kinds
        # Leisure: classes by age group and home district; a visit's kind by the kind table's shares, local
        # with the local share, else anywhere.
        share = np.bincount(m.kind_table, minlength=kinds) / len(m.kind_table)
        local = float(c.local_visit_share)
        leisure_options = [
            [(k, dist, True, share[k] * local) for k in range(kinds) if share[k] > 0]
            + [(k, dist, False, share[k] * (1 - local)) for k in range(kinds) if share[k] > 0]
            for _age in range(3)
            for dist in range(d)
        ]
        self.leisure = _Stream.build(
            (m.age_class.astype(np.int64) * d + m.home_district),
            np.repeat(np.array([float(x) for x in c.visits_per_day]), d),
            leisure_options,
            DAY_START,
            DAY_END,
            leisure=True,
        )
        # Work visits: classes by sector and work district; kinds the sector serves, equally likely.
        sector = city.sector.astype(np.int64)
        n_sectors = len(c.sectors)
        rates = np.repeat(m.work_rates.astype(np.float64), d)
        works = (sector >= 0) & (m.work_rate > 0)
        work_class = np.where(works, np.maximum(sector, 0) * d + m.work_district, -1)
        work_options = []
        for si in range(n_sectors):
            kinds_s = [int(k) for k in m.sector_kinds[si]] or [0]
            for dist in range(d):
                work_options.append([(k, dist, True, 1 / len(kinds_s)) for k in kinds_s])
        self.work = _Stream.build(work_class.astype(np.int64), rates, work_options, WORK_START, WORK_END,
                                  leisure=False)  # fmt: skip
        # Sub-areas laid out by segment (each in its kind-and-district segment and in its kind's city-wide one).
        group = np.arange(m.n_groups)
        venue = m.group_venue
        kind = m.city.venue_kind.astype(np.int64)[venue]
        seg = np.concatenate((kind * d + m.venue_district[venue], kinds * d + kind))
        order = order_by(seg)
        self.layout_group = np.concatenate((group, group))[order]
        self.layout_first = np.searchsorted(seg[order], np.arange(kinds * d + kinds + 1)).astype(np.int64)
        # Who attends a fixed workplace on a weekday (Monday to Friday) and on a Saturday (key industries).
        self.attend_weekday = np.flatnonzero(m.attends).astype(np.int32)
        self.attend_saturday = self.attend_weekday[m.key_worker[self.attend_weekday]]

    # --- the day -----------------------------------------------------------------------------------------
    def candidates(self, rng: np.random.Generator, weekday: int, eligible: B, bound: F64,
                   bound_attendance: F64) -> Candidates:  # fmt: skip
        """Candidate visits of the persons marked ``eligible`` (susceptible and free to move), given each
        sub-area's bound for visits (``bound``) and for attendance check-ins (``bound_attendance``)."""
        m = self.mobility
        factor = m.city.config.weekend_factor if weekday >= 5 else 1.0
        # Sub-areas by segment in proportion to popularity times bound, and each segment's chance of a candidate.
        cand = _Choice(self.layout_first, m.group_weight[self.layout_group] * bound[self.layout_group])
        total = m.segment_total
        segment_p = np.divide(cand.total, total, out=np.zeros(len(total)), where=total > 0)
        days = [self._stream(rng, self.leisure, self.leisure.rate * factor, segment_p, eligible, cand)]
        if weekday < 6:
            days.append(self._stream(rng, self.work, self.work.rate, segment_p, eligible, cand))
        # Attendance: a candidate with the sub-area's bound, per worker.
        pool = self._attending(weekday)
        g = m.attendance_group[pool]
        hot = bound_attendance[g] > 0
        pool, g = pool[hot], g[hot]
        ok = self._at_work(pool, eligible)
        pool, g = pool[ok], g[ok]
        pick = rng.random(len(pool)) < bound_attendance[g]
        person_a, group_a = pool[pick], g[pick]
        t_in_a, t_out_a = _attendance_times(rng, len(person_a))
        group = np.concatenate([s.visit_group for s in days] + [group_a])
        drawn = len(group) - len(person_a)
        visits = Visits(
            person=np.concatenate([s.visit_person for s in days] + [person_a]),
            venue=m.group_venue[group],
            subarea=m.group_subarea[group],
            t_in=np.minimum(np.concatenate([s.t_in for s in days] + [t_in_a]), 1438).astype(np.int16),
            t_out=np.minimum(np.concatenate([s.t_out for s in days] + [t_out_a]), 1439).astype(np.int16),
            attendance=np.arange(len(group)) >= drawn,
        )
        bounds = np.concatenate((bound[group[:drawn]], bound_attendance[group_a]))
        return Candidates(visits, group, bounds, tuple(days), person_a)

    def _attending(self, weekday: int) -> I32:
        """Workers who check in at their workplace on that day of the week (if free and it is open)."""
        if weekday < 5:
            return self.attend_weekday
        return self.attend_saturday if weekday == 5 else self.attend_weekday[:0]

    def _at_work(self, pool: I32, eligible: B) -> B:
        ok: B = eligible[pool]
        if self.mobility.closed.any():
            ok &= ~self.mobility.closed[self.mobility.work_venue[pool]]
        return ok

    def _options(self, stream: _Stream) -> I64:
        """The segment each option draws from today: its district's, if local and open, else its kind's
        city-wide one (as :meth:`.Mobility._pick`)."""
        m = self.mobility
        seg = stream.opt_kind.astype(np.int64) * self.n_districts + stream.opt_district
        wide = stream.opt_kind.astype(np.int64) + self.n_districts * self.n_kinds
        out: I64 = np.where(m.open[seg] & stream.opt_local, seg, wide)
        return out

    def _stream(self, rng: np.random.Generator, stream: _Stream, rate: F64, segment_p: F64, eligible: B,
                cand: _Choice) -> _StreamDay:  # fmt: skip
        m = self.mobility
        opt_segment = self._options(stream)
        opt_p = segment_p[opt_segment]
        class_p = np.bincount(stream.opt_class, weights=stream.opt_share * opt_p, minlength=len(rate)).astype(
            np.float64
        )
        size = np.diff(stream.first)
        totals = rng.poisson(size * rate * class_p)
        cls = np.repeat(np.arange(len(rate)), totals)
        who = stream.members[stream.first[cls] + (rng.random(len(cls)) * size[cls]).astype(np.int64)]
        ok = eligible[who]
        cls, who = cls[ok], who[ok]
        option = _Choice(stream.opt_first, stream.opt_share * opt_p).choose(rng, cls)
        kind = stream.opt_kind[option]
        group = self.layout_group[cand.choose(rng, opt_segment[option])]
        order = order_by(who.astype(np.int64))
        who, cls, kind, group = who[order], cls[order], kind[order], group[order]
        at = np.flatnonzero(np.diff(who, prepend=-1))  # each person's first candidate
        persons, pc = who[at], cls[at]
        per = np.diff(np.append(at, len(who)))
        others = rng.poisson(rate[pc] * (1 - class_p[pc])).astype(np.int32)
        total = per + others
        rank = _subset_ranks(rng, per.astype(np.int64), total.astype(np.int64)).astype(np.int32)
        minutes = m.median[kind] if stream.leisure else m.work_minutes[who]
        t_in, t_out = slot_times(rng, rank, np.repeat(total, per).astype(np.float32), stream.start, stream.end,
                                 minutes)  # fmt: skip
        return _StreamDay(rate, opt_segment, opt_p, class_p, persons.astype(np.int32), others, who, rank, group,
                          t_in, t_out)  # fmt: skip

    # --- the scans ---------------------------------------------------------------------------------------
    def complete(self, rng: np.random.Generator, weekday: int, eligible: B, bound: F64,
                 cands: Candidates) -> Visits:  # fmt: skip
        """The eligible persons' visits that are not candidates, given the candidates: with the candidates,
        their whole day, as :meth:`.Mobility.day` would have drawn it."""
        m = self.mobility
        rest = _Choice(self.layout_first, m.group_weight[self.layout_group] * (1 - bound[self.layout_group]))
        parts: list[Visits] = []
        for stream, day in zip((self.leisure, self.work), cands.streams, strict=False):
            parts.append(self._complete_stream(rng, stream, day, eligible, rest))
        pool = self._attending(weekday)
        person_a = pool[self._at_work(pool, eligible)]
        person_a = person_a[~np.isin(person_a, cands.attendees, assume_unique=True)]
        t_in_a, t_out_a = _attendance_times(rng, len(person_a))
        group_a = m.attendance_group[person_a]
        attendance = np.ones(len(person_a), bool)
        parts.append(Visits(person_a, m.group_venue[group_a], m.group_subarea[group_a], t_in_a.astype(np.int16),
                            t_out_a.astype(np.int16), attendance))  # fmt: skip
        return Visits.concat(*parts)

    def _complete_stream(self, rng: np.random.Generator, stream: _Stream, day: _StreamDay, eligible: B,
                         rest: _Choice) -> Visits:  # fmt: skip
        m = self.mobility
        persons = np.flatnonzero(eligible & (stream.class_of >= 0)).astype(np.int32)
        cls = stream.class_of[persons]
        others = rng.poisson(day.rate[cls] * (1 - day.class_p[cls])).astype(np.int32)
        mine = np.searchsorted(persons, day.persons)  # candidates' persons are eligible members
        others[mine] = day.others
        taken = np.zeros(len(persons), np.int32)
        taken[mine] = np.bincount(np.searchsorted(day.persons, day.visit_person), minlength=len(day.persons))
        total = others + taken
        # Every place in each person's day, less those the candidates took.
        person = np.repeat(persons, total)
        rank = (np.arange(len(person)) - np.repeat(np.cumsum(total) - total, total)).astype(np.int64)
        key = (person.astype(np.int64) << RANK_BITS) | rank
        cand_key = np.sort((day.visit_person.astype(np.int64) << RANK_BITS) | day.visit_rank)
        free = np.ones(len(key), bool)
        free[np.searchsorted(key, cand_key)] = False
        person, rank = person[free], rank[free]
        k = np.repeat(total, total)[free].astype(np.float32)
        cls = stream.class_of[person]
        option = _Choice(stream.opt_first, stream.opt_share * (1 - day.opt_p)).choose(rng, cls)
        segment = day.opt_segment[option]
        group = self.layout_group[rest.choose(rng, segment)]
        minutes = m.median[stream.opt_kind[option]] if stream.leisure else m.work_minutes[person]
        t_in, t_out = slot_times(rng, rank.astype(np.int32), k, stream.start, stream.end, minutes)
        keep = m.segment_total[segment] > 0  # a kind with every venue closed: the visit is not made
        group = group[keep]
        return Visits(
            person=person[keep],
            venue=m.group_venue[group],
            subarea=m.group_subarea[group],
            t_in=np.minimum(t_in[keep], 1438).astype(np.int16),
            t_out=np.minimum(t_out[keep], 1439).astype(np.int16),
            attendance=np.zeros(len(group), bool),
        )


def _attendance_times(rng: np.random.Generator, n: int) -> tuple[I32, I32]:
    """Check-in at a fixed workplace between 8:00 and 9:30, for eight to ten hours (as in
    :meth:`.Mobility._together`)."""
    t_in = (480 + rng.integers(0, 90, n)).astype(np.int32)
    t_out = np.minimum(t_in + 480 + rng.integers(0, 120, n), 1439).astype(np.int32)
    return t_in, t_out


def _subset_ranks(rng: np.random.Generator, take: I64, total: I64) -> I64:
    """For each person ``i``, ``take[i]`` distinct places drawn uniformly from ``0 .. total[i] - 1``, listed
    person by person."""
    out = np.empty(int(take.sum()), np.int64)
    one = np.repeat(take == 1, take)
    out[one] = (rng.random(int(one.sum())) * np.repeat(total, take)[one]).astype(np.int64)
    many = np.flatnonzero(take > 1)
    if len(many):
        # Shuffle each person's places (sort by person plus a random fraction) and take the first ones.
        t, n = take[many], total[many]
        owner = np.repeat(np.arange(len(many)), n)
        index = _within(n)
        place = index[np.argsort(owner + rng.random(len(owner)))]
        out[~one] = place[index < np.repeat(t, n)]
    return out


def _within(counts: I64) -> I64:
    """``0 .. counts[i] - 1`` for each ``i``, laid end to end."""
    out: I64 = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return out
