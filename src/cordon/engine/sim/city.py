"""The synthetic city: jurisdictions, buildings, households, persons, workplaces, schools and venues.

Everything is a struct of NumPy arrays indexed by position (a person's id is its index), generated with one
seeded ``numpy.random.Generator`` in a fixed order, so the same configuration and seed give the same city.
Generation is vectorised: the ``beijing`` preset (21.9 million residents) takes about a minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.citydata import CITY, COMMUNITY, DISTRICT, GRID, SPECIAL_GROUPS, STREET, City
from cordon.engine.sim.config import CityConfig, validate
from cordon.engine.sim.errors import SimConfigError

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

Progress = Callable[[str], None]
POPULARITY_CAP = 60.0  # times the least popular venue of a kind


def generate_city(config: CityConfig, seed: int = 1, progress: Progress | None = None) -> City:
    """Generate the city ``config`` describes. Deterministic for a given configuration and seed."""
    validate(config)
    say = progress or (lambda _msg: None)
    rng = np.random.default_rng([seed, 0xC17])
    b = _Builder(config, rng)
    say("jurisdictions")
    b.jurisdictions()
    say("households")
    b.households()
    say("persons")
    b.persons()
    say("venues")
    b.venues()
    say("workplaces and schools")
    b.work_and_school()
    return b.city(seed)


class _Builder:
    def __init__(self, config: CityConfig, rng: np.random.Generator) -> None:
        self.c = config
        self.rng = rng
        self.code: list[str] = [config.code]
        self.name: list[str] = [config.name]
        self.name_en: list[str] = [config.name_en]
        self.level: list[int] = [CITY]
        self.parent: list[int] = [-1]
        self.lon: list[float] = [config.centre[0]]
        self.lat: list[float] = [config.centre[1]]
        self.grid_target: list[int] = []  # residents per grid, in grid order
        self.grid_index: list[int] = []  # jurisdiction index of each grid
        self.community_of_code: dict[str, int] = {}

    def _add(self, code: str, name: str, en: str, level: int, parent: int, lon: float, lat: float) -> int:
        self.code.append(code)
        self.name.append(name)
        self.name_en.append(en)
        self.level.append(level)
        self.parent.append(parent)
        self.lon.append(lon)
        self.lat.append(lat)
        return len(self.code) - 1

    # --- the tree ----------------------------------------------------------------------------------------
    def jurisdictions(self) -> None:
        c = self.c
        n = c.population
        shares = np.array([d.share for d in c.districts])
        per_district = np.floor(shares * n).astype(np.int64)
        per_district[: n - int(per_district.sum())] += 1
        mean_household = float(np.dot(np.arange(1, len(c.household_sizes) + 1), c.household_sizes))
        for d_spec, d_pop in zip(c.districts, per_district, strict=True):
            d = self._add(d_spec.code, d_spec.name, d_spec.name_en, DISTRICT, 0, *d_spec.centre)
            named = [(s, com) for s in d_spec.streets for com in s.communities]
            n_comm = max(len(named), math.ceil(d_pop / c.community_size), 1)
            # Streets: the named ones first (filled up to communities_per_street), then generated ones.
            slots: list[tuple[int, str, str, str]] = []  # (street index, community code, name, English)
            named_left = len(named)
            for s in d_spec.streets:
                si = self._add(s.code, s.name, s.name_en, STREET, d, *s.centre)
                for com in s.communities:
                    slots.append((si, com.code, com.name, com.name_en))
                named_left -= len(s.communities)
                extra = 0
                while (
                    len(slots) + named_left < n_comm and len(s.communities) + extra < c.communities_per_street
                ):
                    extra += 1
                    num = 900 + extra
                    slots.append((si, f"{s.code}{num:03d}", f"{s.name}第{extra}社区", f"{s.name_en} {extra}"))
            street_no = 0
            while len(slots) < n_comm:
                street_no += 1
                angle = street_no * 2.39996
                radius = 0.012 * math.sqrt(street_no)
                s_code = f"{d_spec.code}{200 + street_no:03d}"
                si = self._add(
                    s_code,
                    f"{d_spec.name}第{street_no}街道",
                    f"{d_spec.name_en} street {street_no}",
                    STREET,
                    d,
                    d_spec.centre[0] + radius * math.cos(angle),
                    d_spec.centre[1] + radius * math.sin(angle),
                )
                for k in range(1, c.communities_per_street + 1):
                    if len(slots) >= n_comm:
                        break
                    slots.append(
                        (
                            si,
                            f"{s_code}{k:03d}",
                            f"第{street_no}街道第{k}社区",
                            f"Street {street_no} community {k}",
                        )
                    )
            comm_pop = np.full(n_comm, d_pop // n_comm, np.int64)
            comm_pop[: d_pop - int(comm_pop.sum())] += 1
            for k, ((si, code, name, en), pop) in enumerate(zip(slots, comm_pop, strict=True)):
                angle = k * 2.39996
                ci = self._add(
                    code, name, en, COMMUNITY, si,
                    self.lon[si] + 0.004 * math.cos(angle) * (1 + k % 3),
                    self.lat[si] + 0.003 * math.sin(angle) * (1 + k % 3),
                )  # fmt: skip
                self.community_of_code[code] = ci
                n_grids = max(1, math.ceil(pop / mean_household / c.grid_households))
                width = 2 if n_grids < 100 else 3
                grid_pop = np.full(n_grids, pop // n_grids, np.int64)
                grid_pop[: pop - int(grid_pop.sum())] += 1
                for g in range(1, n_grids + 1):
                    gi = self._add(
                        f"{code}-{g:0{width}d}", f"{name}第{g}网格", f"{en} grid {g}", GRID, ci,
                        self.lon[ci] + 0.0015 * ((g - 1) % 3 - 1),
                        self.lat[ci] + 0.0012 * ((g - 1) // 3 - 1),
                    )  # fmt: skip
                    self.grid_index.append(gi)
                    self.grid_target.append(int(grid_pop[g - 1]))

    # --- households and buildings -----------------------------------------------------------------------
    def households(self) -> None:
        c, rng = self.c, self.rng
        n = c.population
        sizes_p = np.array(c.household_sizes)
        mean = float(np.dot(np.arange(1, len(sizes_p) + 1), sizes_p))
        draws = rng.choice(np.arange(1, len(sizes_p) + 1), size=int(n / mean * 1.1) + 10, p=sizes_p)
        ends = np.cumsum(draws)
        h = int(np.searchsorted(ends, n)) + 1
        sizes = draws[:h].astype(np.int64)
        sizes[-1] -= int(ends[h - 1]) - n
        first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        # Households fill grids in order, each grid up to its share of residents.
        grid_cum = np.cumsum(np.array(self.grid_target, np.int64))
        grid_of_hh = np.minimum(np.searchsorted(grid_cum, first, side="right"), len(grid_cum) - 1)
        # Buildings: households_per_building per building, within each grid.
        grid_first = np.searchsorted(grid_of_hh, np.arange(len(grid_cum)))
        rank = np.arange(h) - grid_first[grid_of_hh]
        per_grid = np.bincount(grid_of_hh, minlength=len(grid_cum))
        n_bld = -(-per_grid // c.households_per_building)
        bld_offset = np.concatenate(([0], np.cumsum(n_bld)[:-1]))
        self.hh_building = (bld_offset[grid_of_hh] + rank // c.households_per_building).astype(np.int32)
        self.hh_size = sizes
        grid_jur = np.array(self.grid_index, np.int32)
        bld_grid_local = np.repeat(np.arange(len(grid_cum)), n_bld)
        local = np.arange(len(bld_grid_local)) - bld_offset[bld_grid_local]
        lon = np.array(self.lon)[grid_jur[bld_grid_local]] + 0.0004 * (local % 4) - 0.0006
        lat = np.array(self.lat)[grid_jur[bld_grid_local]] + 0.0003 * (local // 4) - 0.0004
        self.bld_grid = grid_jur[bld_grid_local]
        self.bld_lon, self.bld_lat = lon, lat

    # --- persons -----------------------------------------------------------------------------------------
    def persons(self) -> None:
        c, rng = self.c, self.rng
        n, h = c.population, len(self.hh_size)
        bands = np.array([b[2] for b in c.age_bands])
        band = rng.choice(len(bands), size=n, p=bands / bands.sum())
        lo = np.array([b[0] for b in c.age_bands])[band]
        hi = np.array([b[1] for b in c.age_bands])[band]
        ages = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
        adults = np.flatnonzero(ages >= 18)
        if len(adults) < h:
            raise SimConfigError(
                f"age_bands: {len(adults):,} adults cannot head {h:,} households; raise the adult share"
            )
        # Every household is headed by an adult; the other residents fill the remaining places at random.
        heads = rng.choice(adults, size=h, replace=False)
        rest_mask = np.ones(n, bool)
        rest_mask[heads] = False
        rest = rng.permutation(np.flatnonzero(rest_mask))
        household = np.repeat(np.arange(h, dtype=np.int32), self.hh_size)
        first = np.concatenate(([0], np.cumsum(self.hh_size)[:-1]))
        is_head = np.zeros(n, bool)
        is_head[first] = True
        order = np.empty(n, np.int64)
        order[is_head] = heads
        order[~is_head] = rest
        self.age = ages[order].astype(np.int8)
        self.household = household
        self.sex = (rng.random(n) < 0.51).astype(np.int8)
        # Special groups.
        g = c.special_groups
        size = self.hh_size[household]
        special = np.zeros(n, np.int16)
        age = self.age
        flags = (
            (size == 1) & (age >= 70),
            age < 3,
            (self.sex == 0) & (age >= 22) & (age <= 40) & (rng.random(n) < g.get("pregnant", 0)),
            (age >= 17) & (age <= 18) & (rng.random(n) < g.get("exam_student", 0)),
            (age >= 40) & (rng.random(n) < g.get("dialysis", 0)),
            rng.random(n) < g.get("disabled", 0),
        )
        for bit, flag in enumerate(flags):
            special |= (flag.astype(np.int16) << bit).astype(np.int16)
        self.special = special

    # --- venues ------------------------------------------------------------------------------------------
    def venues(self) -> None:
        c, rng = self.c, self.rng
        level = np.array(self.level)
        parent = np.array(self.parent)
        district_of = np.full(len(level), -1)
        for i in range(1, len(level)):
            district_of[i] = i if level[i] == DISTRICT else district_of[parent[i]]
        self.district_of = district_of
        grid_jur = np.array(self.grid_index, np.int32)
        grid_pop = np.array(self.grid_target, np.float64)
        kind_index = {k.kind: i for i, k in enumerate(c.venue_kinds)}
        kinds: list[int] = []
        grids: list[npt.NDArray[np.int32]] = []
        names: list[str] = []
        boosts: list[float] = []
        sub_names: list[tuple[str, ...]] = []
        for v in c.named_venues:
            ci = self.community_of_code[v.community]
            grid = grid_jur[np.flatnonzero(parent[grid_jur] == ci)[0]]
            kinds.append(kind_index[v.kind])
            grids.append(np.array([grid], np.int32))
            names.append(v.name)
            boosts.append(v.popularity)
            sub_names.append(v.subareas)
        districts = np.flatnonzero(level == DISTRICT)
        for ki, spec in enumerate(c.venue_kinds):
            if spec.per_10k <= 0:
                continue
            for d in districts:
                mine = np.flatnonzero(district_of[grid_jur] == d)
                pop = grid_pop[mine]
                count = max(1, round(pop.sum() / 10_000 * spec.per_10k))
                where = grid_jur[mine[rng.choice(len(mine), size=count, p=pop / pop.sum())]]
                kinds.extend([ki] * count)
                grids.append(where.astype(np.int32))
                boosts.extend([1.0] * count)
                sub_names.extend([()] * count)
                names.extend([""] * count)
        kind = np.array(kinds, np.int8)
        grid = np.concatenate(grids)
        nv = len(kind)
        cap_lo = np.array([k.capacity[0] for k in c.venue_kinds])[kind]
        cap_hi = np.array([k.capacity[1] for k in c.venue_kinds])[kind]
        capacity = np.exp(np.log(cap_lo) + rng.random(nv) * (np.log(cap_hi) - np.log(cap_lo)))
        sa_lo = np.array([k.subareas[0] for k in c.venue_kinds])[kind]
        sa_hi = np.array([k.subareas[1] for k in c.venue_kinds])[kind]
        subareas = sa_lo + np.floor(rng.random(nv) * (sa_hi - sa_lo + 1)).astype(np.int64)
        shape = np.array([k.popularity_shape for k in c.venue_kinds])[kind]
        # Heavy-tailed but bounded (a station's crowd is limited by its size): without the cap the busiest venue
        # of a Pareto tail with shape <= 1 grows with the number of venues, and so would the outbreak's speed.
        popularity = np.minimum(1 + rng.pareto(shape), POPULARITY_CAP) * np.array(boosts)
        for i, sn in enumerate(sub_names):
            if sn:
                subareas[i] = len(sn)
        full_names = []
        counters: dict[tuple[int, int], int] = {}
        for i in range(nv):
            if names[i]:
                full_names.append(names[i])
            else:
                key = (int(grid[i]), int(kind[i]))
                counters[key] = counters.get(key, 0) + 1
                community = self.name[parent[grid[i]]]
                full_names.append(f"{community}{c.venue_kinds[kind[i]].name}{counters[key]}号")
            if not sub_names[i]:  # a named venue given no sub-area names gets them as the others do
                options = c.venue_kinds[kind[i]].subarea_names
                sub_names[i] = tuple(
                    options[j % len(options)] if options else f"{j + 1}区" for j in range(subareas[i])
                )
        self.venue_kind = kind
        self.venue_grid = grid
        self.venue_name = full_names
        self.venue_capacity = np.rint(capacity).astype(np.int32)
        self.venue_subareas = subareas.astype(np.int8)
        self.venue_popularity = popularity
        self.venue_subarea_names = sub_names

    # --- work and school ---------------------------------------------------------------------------------
    def work_and_school(self) -> None:
        c = self.c
        age = self.age.astype(np.int64)
        grid_of_person = self.bld_grid[self.hh_building[self.household]]
        home_district = self.district_of[grid_of_person]
        districts = np.flatnonzero(np.array(self.level) == DISTRICT)
        kind_index = {k.kind: i for i, k in enumerate(c.venue_kinds)}
        sector, work_district = self._employment(age, home_district, districts)
        # Schools first: they are venues too (created here), and teachers work at them.
        school, klass, school_venues = self._schools(age, home_district, districts, kind_index)
        workplace, wp_venue, wp_sector = self._workplaces(sector, work_district, districts, kind_index)
        self.sector = sector
        self.workplace = workplace
        self.unit = self._units(workplace)
        self.school = school
        self.klass = klass
        self.wp_venue = np.concatenate(wp_venue).astype(np.int32) if wp_venue else np.zeros(0, np.int32)
        self.wp_sector = np.array(wp_sector, np.int8)
        self.school_venue = np.array(school_venues, np.int32)

    def _employment(
        self, age: npt.NDArray[np.int64], home_district: I32, districts: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int8], I32]:
        """Who works, in which sector (-1 none), and in which district: mostly the home district, otherwise any
        district by size; commute links on top."""
        c, rng = self.c, self.rng
        n = c.population
        d_shares = np.array([d.share for d in c.districts])
        employed = (age >= 18) & (age <= 64) & (rng.random(n) < c.employment_rate)
        shares = np.array([s.share for s in c.sectors])
        sector = np.full(n, -1, np.int8)
        sector[employed] = rng.choice(len(shares), size=int(employed.sum()), p=shares / shares.sum())
        work_district = home_district.copy()
        away = employed & (rng.random(n) >= c.work_in_home_district)
        work_district[away] = districts[rng.choice(len(districts), size=int(away.sum()), p=d_shares)]
        code_index = {self.code[d]: d for d in districts}
        sector_index = {s.code: i for i, s in enumerate(c.sectors)}
        for link in c.commute_links:
            secs = np.array([sector_index[s] for s in link.sectors])
            chosen = (home_district == code_index[link.home_district]) & np.isin(sector, secs)
            chosen &= rng.random(n) < link.share
            work_district[chosen] = code_index[link.work_district]
        return sector, work_district

    def _schools(
        self,
        age: npt.NDArray[np.int64],
        home_district: I32,
        districts: npt.NDArray[np.int64],
        kind_index: dict[str, int],
    ) -> tuple[I32, I32, list[int]]:
        """Schools in each district for its pupils (new venues), and classes of ``class_size`` pupils of the
        same school and age: (school per person, class per person, the schools' venues)."""
        c, rng = self.c, self.rng
        n = c.population
        school = np.full(n, -1, np.int32)
        klass = np.full(n, -1, np.int32)
        school_venues: list[int] = []
        if "school" not in kind_index:
            return school, klass, school_venues
        students = (age >= c.school_ages[0]) & (age <= c.school_ages[1])
        extra_kind: list[int] = []
        extra_grid: list[int] = []
        for d in districts:
            mine = np.flatnonzero(students & (home_district == d))
            if len(mine) == 0:
                continue
            n_schools = max(1, round(len(mine) / c.school_size))
            grids_here = np.flatnonzero(self.district_of[np.array(self.grid_index)] == d)
            first = len(school_venues)
            for _ in range(n_schools):
                school_venues.append(len(self.venue_kind) + len(extra_kind))
                extra_kind.append(kind_index["school"])
                extra_grid.append(self.grid_index[int(grids_here[rng.integers(len(grids_here))])])
            school[mine] = first + rng.integers(0, n_schools, len(mine))
        self._append_venues(extra_kind, extra_grid)
        # Classes: same school and age, class_size each.
        idx = np.flatnonzero(school >= 0)
        key = school[idx].astype(np.int64) * 128 + age[idx]
        order = np.argsort(key, kind="stable")
        sk = key[order]
        grp_first = np.searchsorted(sk, sk)
        rank = np.arange(len(sk)) - grp_first
        ck = sk * 1000 + rank // c.class_size
        _, class_id = np.unique(ck, return_inverse=True)
        klass[idx[order]] = class_id.astype(np.int32)
        return school, klass, school_venues

    def _workplaces(
        self,
        sector: npt.NDArray[np.int8],
        work_district: I32,
        districts: npt.NDArray[np.int64],
        kind_index: dict[str, int],
    ) -> tuple[I32, list[npt.NDArray[np.int64]], list[int]]:
        """Workplaces per (sector, district), located at venues of the sector's workplace kind, with
        heavy-tailed sizes: (workplace per person, the workplaces' venues in chunks, their sectors)."""
        c, rng = self.c, self.rng
        venue_district = self.district_of[self.venue_grid]
        venue_kind = self.venue_kind
        workplace = np.full(c.population, -1, np.int32)
        wp_venue: list[npt.NDArray[np.int64]] = []
        wp_sector: list[int] = []
        for si, spec in enumerate(c.sectors):
            for d in districts:
                workers = np.flatnonzero((sector == si) & (work_district == d))
                if len(workers) == 0:
                    continue
                count = max(1, round(len(workers) / spec.workplace_size))
                candidates = np.flatnonzero(
                    (venue_kind == kind_index[spec.workplace_kind]) & (venue_district == d)
                )
                if len(candidates) == 0:
                    candidates = np.flatnonzero(venue_kind == kind_index[spec.workplace_kind])
                weights = rng.lognormal(0, 1, count)
                first = len(wp_sector)
                pick = np.searchsorted(np.cumsum(weights), rng.random(len(workers)) * weights.sum())
                workplace[workers] = first + np.minimum(pick, count - 1)
                wp_venue.append(candidates[rng.integers(0, len(candidates), count)])
                wp_sector.extend([si] * count)
        return workplace, wp_venue, wp_sector

    def _units(self, workplace: I32) -> I32:
        """Units: ``unit_size`` colleagues per team within a workplace."""
        unit = np.full(self.c.population, -1, np.int32)
        idx = np.flatnonzero(workplace >= 0)
        if len(idx):
            order = np.argsort(workplace[idx], kind="stable")
            wk = workplace[idx][order].astype(np.int64)
            rank = np.arange(len(wk)) - np.searchsorted(wk, wk)
            _, unit_id = np.unique(wk * 100_000 + rank // self.c.unit_size, return_inverse=True)
            unit[idx[order]] = unit_id.astype(np.int32)
        return unit

    def _append_venues(self, kinds: list[int], grids: list[int]) -> None:
        c = self.c
        if not kinds:
            return
        k = np.array(kinds, np.int8)
        nv = len(k)
        spec = [c.venue_kinds[i] for i in kinds]
        self.venue_kind = np.concatenate((self.venue_kind, k))
        self.venue_grid = np.concatenate((self.venue_grid, np.array(grids, np.int32)))
        counter: dict[int, int] = {}
        for g, s in zip(grids, spec, strict=True):
            counter[g] = counter.get(g, 0) + 1
            self.venue_name.append(f"{self.name[self.parent[g]]}{s.name}{counter[g]}号")
            self.venue_subarea_names.append(s.subarea_names[: s.subareas[0]])
        self.venue_capacity = np.concatenate(
            (self.venue_capacity, np.array([s.capacity[1] for s in spec], np.int32))
        )
        self.venue_subareas = np.concatenate(
            (self.venue_subareas, np.array([s.subareas[0] for s in spec], np.int8))
        )
        self.venue_popularity = np.concatenate((self.venue_popularity, np.ones(nv)))

    # --- assembly ----------------------------------------------------------------------------------------
    def city(self, seed: int) -> City:
        rng = self.rng
        nv = len(self.venue_kind)
        n_res = len(self.bld_grid)
        # One building per venue, near its grid's centre.
        grid_lon = np.array(self.lon)[self.venue_grid]
        grid_lat = np.array(self.lat)[self.venue_grid]
        v_lon = grid_lon + (rng.random(nv) - 0.5) * 0.003
        v_lat = grid_lat + (rng.random(nv) - 0.5) * 0.002
        lon = np.concatenate((self.bld_lon, v_lon))
        lat = np.concatenate((self.bld_lat, v_lat))
        grid = np.concatenate((self.bld_grid, self.venue_grid)).astype(np.int32)
        residential = np.arange(n_res + nv) < n_res
        # Footprints: rotated rectangles, residential slabs about 60 x 15 m, venue buildings larger.
        nb = len(lon)
        half_w = np.where(residential, 0.00035, 0.0005 + rng.random(nb) * 0.0004)
        half_h = np.where(residential, 0.0001, 0.0003 + rng.random(nb) * 0.0003)
        theta = rng.random(nb) * math.pi
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)
        dx = corners[None, :, 0] * half_w[:, None]
        dy = corners[None, :, 1] * half_h[:, None]
        cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
        footprint = np.stack((lon[:, None] + dx * cos - dy * sin, lat[:, None] + dx * sin + dy * cos), axis=2)
        return City(
            config=self.c,
            seed=seed,
            jur_code=self.code,
            jur_name=self.name,
            jur_name_en=self.name_en,
            jur_level=np.array(self.level, np.int8),
            jur_parent=np.array(self.parent, np.int32),
            jur_lon=np.array(self.lon),
            jur_lat=np.array(self.lat),
            bld_grid=grid,
            bld_lon=lon,
            bld_lat=lat,
            bld_footprint=np.round(footprint, 6),
            bld_residential=residential,
            hh_building=self.hh_building,
            household=self.household,
            age=self.age,
            sex=self.sex,
            special=self.special,
            sector=self.sector,
            workplace=self.workplace,
            unit=self.unit,
            school=self.school,
            klass=self.klass,
            wp_venue=self.wp_venue,
            wp_sector=self.wp_sector,
            school_venue=self.school_venue,
            venue_kind=self.venue_kind,
            venue_building=np.arange(n_res, n_res + nv, dtype=np.int32),
            venue_name=self.venue_name,
            venue_capacity=self.venue_capacity,
            venue_subareas=self.venue_subareas,
            venue_popularity=self.venue_popularity,
            venue_subarea_names=self.venue_subarea_names,
        )


__all__ = [
    "CITY",
    "COMMUNITY",
    "DISTRICT",
    "GRID",
    "POPULARITY_CAP",
    "SPECIAL_GROUPS",
    "STREET",
    "City",
    "generate_city",
]
