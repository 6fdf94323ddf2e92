"""The synthetic city as data: :class:`City`, a struct of NumPy arrays indexed by position (a person's id is its
index), with the jurisdiction levels and special groups it uses. :mod:`.city` generates it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.config import CityConfig

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Jurisdiction levels, as in the platform.
CITY, DISTRICT, STREET, COMMUNITY, GRID = 1, 2, 3, 4, 5
# Special groups, as bits of ``City.special``.
SPECIAL_GROUPS = ("elderly_alone", "infant", "pregnant", "exam_student", "dialysis", "disabled")


@dataclass
class City:
    config: CityConfig
    seed: int
    # Jurisdictions: index 0 is the city; parents come before children.
    jur_code: list[str]
    jur_name: list[str]
    jur_name_en: list[str]
    jur_level: npt.NDArray[np.int8]
    jur_parent: I32
    jur_lon: F64
    jur_lat: F64
    # Buildings (residential first, then one per venue).
    bld_grid: I32
    bld_lon: F64
    bld_lat: F64
    bld_footprint: npt.NDArray[np.float64]  # (n, 4, 2): longitude, latitude corners
    bld_residential: npt.NDArray[np.bool_]
    # Households.
    hh_building: I32
    # Persons.
    household: I32
    age: npt.NDArray[np.int8]
    sex: npt.NDArray[np.int8]  # 1 male, 0 female
    special: npt.NDArray[np.int16]
    sector: npt.NDArray[np.int8]  # index into config.sectors, -1 not employed
    workplace: I32  # -1 none
    unit: I32  # workplace unit (team), -1 none
    school: I32  # -1 none
    klass: I32  # school class, -1 none
    # Workplaces and schools (each located at a venue).
    wp_venue: I32
    wp_sector: npt.NDArray[np.int8]
    school_venue: I32
    # Venues.
    venue_kind: npt.NDArray[np.int8]  # index into config.venue_kinds
    venue_building: I32
    venue_name: list[str]
    venue_capacity: I32
    venue_subareas: npt.NDArray[np.int8]
    venue_popularity: npt.NDArray[np.float64]
    venue_subarea_names: list[tuple[str, ...]] = field(default_factory=list)

    # --- derived views -----------------------------------------------------------------------------------
    @property
    def n_persons(self) -> int:
        return len(self.household)

    @property
    def n_venues(self) -> int:
        return len(self.venue_kind)

    @property
    def building(self) -> I32:
        return self.hh_building[self.household]

    @property
    def grid(self) -> I32:
        return self.bld_grid[self.building]

    def district_of_jurisdiction(self) -> I32:
        """For every jurisdiction, the index of its district (-1 for the city)."""
        out = np.full(len(self.jur_code), -1, np.int32)
        for i in range(1, len(self.jur_code)):
            out[i] = i if self.jur_level[i] == DISTRICT else out[self.jur_parent[i]]
        return out

    @property
    def district(self) -> I32:
        """Every person's home district (jurisdiction index)."""
        return self.district_of_jurisdiction()[self.grid]

    @property
    def venue_grid(self) -> I32:
        return self.bld_grid[self.venue_building]

    @property
    def venue_district(self) -> I32:
        return self.district_of_jurisdiction()[self.venue_grid]

    def districts(self) -> I32:
        return np.flatnonzero(self.jur_level == DISTRICT).astype(np.int32)

    def venue_code(self, index: int) -> str:
        return f"V{self.config.code}{index:07d}"

    def is_key_worker(self) -> npt.NDArray[np.bool_]:
        key = np.array([s.key for s in self.config.sectors] + [False])
        return key[self.sector]  # -1 indexes the trailing False

    def summary(self) -> dict[str, int]:
        named = ((DISTRICT, "districts"), (STREET, "streets"), (COMMUNITY, "communities"), (GRID, "grids"))
        levels = {name: int((self.jur_level == lv).sum()) for lv, name in named}
        return {
            "persons": self.n_persons,
            "households": len(self.hh_building),
            "buildings": len(self.bld_grid),
            **levels,
            "workplaces": len(self.wp_venue),
            "schools": len(self.school_venue),
            "venues": self.n_venues,
            "key_industry_workers": int(self.is_key_worker().sum()),
        }
