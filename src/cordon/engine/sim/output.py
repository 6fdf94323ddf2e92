"""Writing a city, its scans and an outbreak run as Parquet (or CSV on request).

Layout of an output folder::

    jurisdictions.parquet  buildings.parquet  households.parquet  persons.parquet
    workplaces.parquet     venues.parquet
    scans/date=2022-11-01/part-0.parquet ...      (hive-partitioned by date, one file per day)
    infections.parquet  cases.parquet  daily.parquet  interventions.parquet   (after ``sim run``)

Scans are written a day at a time, so memory stays bounded by one day's visits. Files carry no timestamps or
host names, so the same seed gives byte-identical files (for the same versions of the libraries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cordon.engine.sim.city import SPECIAL_GROUPS, City
from cordon.engine.sim.interventions import FOUND_BY
from cordon.engine.sim.mobility import Mobility, Visits
from cordon.engine.sim.outbreak import NEVER, SETTINGS, Simulation

FORMATS = ("parquet", "csv")


def _write(table: pa.Table, path: Path, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        target = path.with_suffix(".csv")
        for i, fld in enumerate(table.schema):
            if pa.types.is_list(fld.type):  # CSV has no lists: join them with ";"
                table = table.set_column(i, fld.name, pc.binary_join(table.column(i), ";"))
        pacsv.write_csv(table, target)
    else:
        target = path.with_suffix(".parquet")
        pq.write_table(table, target, compression="zstd")
    return target


def _wkt(polygons: np.ndarray) -> list[str]:
    """Closed polygons as WKT (longitude latitude), readable by GIS tools and DuckDB's spatial extension."""
    return [
        "POLYGON((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in (*ring, ring[0])) + "))"
        for ring in polygons.tolist()
    ]


def city_tables(city: City) -> dict[str, pa.Table]:
    c = city.config
    n_sub = city.venue_subareas
    levels = city.jur_level
    kinds = [k.kind for k in c.venue_kinds]
    sectors = [s.code for s in c.sectors]
    special = [
        ";".join(g for bit, g in enumerate(SPECIAL_GROUPS) if s >> bit & 1) for s in city.special.tolist()
    ] if city.n_persons <= 5_000_000 else None  # fmt: skip
    persons = {
        "person_id": np.arange(city.n_persons, dtype=np.int64),
        "household_id": city.household.astype(np.int64),
        "building_id": city.building.astype(np.int64),
        "grid": pa.DictionaryArray.from_arrays(city.grid, city.jur_code),
        "age": city.age,
        "sex": pa.DictionaryArray.from_arrays(city.sex.astype(np.int32), ["F", "M"]),
        "sector": pa.DictionaryArray.from_arrays(
            pa.array(city.sector.astype(np.int32), mask=city.sector < 0), sectors
        ),
        "key_industry": city.is_key_worker(),
        "workplace_id": pa.array(city.workplace, mask=city.workplace < 0),
        "unit_id": pa.array(city.unit, mask=city.unit < 0),
        "school_id": pa.array(city.school, mask=city.school < 0),
        "class_id": pa.array(city.klass, mask=city.klass < 0),
    }
    if special is not None:
        persons["special_groups"] = pa.array(special)
    return {
        "jurisdictions": pa.table({
            "code": city.jur_code,
            "name": city.jur_name,
            "name_en": city.jur_name_en,
            "level": pa.DictionaryArray.from_arrays(levels.astype(np.int32) - 1,
                                                    ["city", "district", "street", "community", "grid"]),
            "parent": [city.jur_code[p] if p >= 0 else None for p in city.jur_parent.tolist()],
            "longitude": city.jur_lon.round(6),
            "latitude": city.jur_lat.round(6),
        }),
        "buildings": pa.table({
            "building_id": np.arange(len(city.bld_grid), dtype=np.int64),
            "grid": pa.DictionaryArray.from_arrays(city.bld_grid, city.jur_code),
            "residential": city.bld_residential,
            "longitude": city.bld_lon.round(6),
            "latitude": city.bld_lat.round(6),
            "footprint_wkt": _wkt(city.bld_footprint),
        }),
        "households": pa.table({
            "household_id": np.arange(len(city.hh_building), dtype=np.int64),
            "building_id": city.hh_building.astype(np.int64),
            "size": np.bincount(city.household, minlength=len(city.hh_building)).astype(np.int16),
        }),
        "persons": pa.table(persons),
        "workplaces": pa.table({
            "workplace_id": np.arange(len(city.wp_venue), dtype=np.int64),
            "venue_id": city.wp_venue.astype(np.int64),
            "sector": pa.DictionaryArray.from_arrays(city.wp_sector.astype(np.int32), sectors),
        }),
        "venues": pa.table({
            "venue_id": np.arange(city.n_venues, dtype=np.int64),
            "code": [city.venue_code(i) for i in range(city.n_venues)],
            "name": city.venue_name,
            "kind": pa.DictionaryArray.from_arrays(city.venue_kind.astype(np.int32), kinds),
            "hub": np.array([k.hub for k in c.venue_kinds])[city.venue_kind],
            "building_id": city.venue_building.astype(np.int64),
            "grid": pa.DictionaryArray.from_arrays(city.venue_grid, city.jur_code),
            "capacity": city.venue_capacity,
            "subareas": n_sub,
            "subarea_names": [list(x) for x in city.venue_subarea_names],
            "popularity": city.venue_popularity.round(4),
        }),
    }  # fmt: skip


def write_city(city: City, out: Path, fmt: str = "parquet") -> list[Path]:
    return [_write(table, out / name, fmt) for name, table in city_tables(city).items()]


REPORT_SCHEMA = pa.schema([
    ("date", pa.date32()), ("intervention", pa.string()), ("action", pa.string()),
    ("persons", pa.int64()), ("venues", pa.int64()), ("buildings", pa.int64()), ("tests", pa.int64()),
    ("positives", pa.int64()), ("note", pa.string()),
])  # fmt: skip

SCAN_SCHEMA = pa.schema([
    ("person_id", pa.int64()),
    ("venue_id", pa.int32()),
    ("subarea", pa.int8()),
    ("time_in", pa.timestamp("ms")),
    ("time_out", pa.timestamp("ms")),
])  # fmt: skip


def scan_table(date: dt.date, visits: Visits) -> pa.Table:
    """One day's visits as scans; times are local wall-clock times (timestamps without a zone)."""
    midnight = np.datetime64(date, "ms")
    return pa.table(
        {
            "person_id": visits.person.astype(np.int64),
            "venue_id": visits.venue,
            "subarea": visits.subarea,
            "time_in": midnight + visits.t_in.astype("timedelta64[m]"),
            "time_out": midnight + visits.t_out.astype("timedelta64[m]"),
        },
        schema=SCAN_SCHEMA,
    )


class ScanWriter:
    """Writes each day's scans to ``scans/date=YYYY-MM-DD/part-0.<fmt>`` as they are produced."""

    def __init__(self, out: Path, fmt: str = "parquet") -> None:
        self.root = out / "scans"
        self.fmt = fmt
        self.rows = 0

    def __call__(self, day: int, date: dt.date, visits: Visits) -> None:
        folder = self.root / f"date={date.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        _write(scan_table(date, visits), folder / "part-0", self.fmt)
        self.rows += len(visits)


def generate_scans(city: City, days: int, start: dt.date, out: Path, seed: int = 1, fmt: str = "parquet",
                   progress: Callable[[int, int], None] | None = None) -> int:  # fmt: skip
    """Scans of ``days`` ordinary days (no outbreak), streamed day by day; returns the number of rows."""
    mobility = Mobility(city)
    rng = np.random.default_rng([seed, 0x5CA])
    writer = ScanWriter(out, fmt)
    for d in range(days):
        date = start + dt.timedelta(days=d)
        visits = mobility.day(rng, date.weekday()).by_person()
        writer(d, date, visits)
        if progress:
            progress(d, len(visits))
    return writer.rows


def run_tables(sim: Simulation) -> dict[str, pa.Table]:
    city = sim.city
    start = np.datetime64(sim.start_date, "D")
    inf = sim.infections.table()
    setting = inf["setting"].astype(np.int32)
    place = inf["place"]
    is_venue = setting == SETTINGS.index("venue")
    person = inf["person"]
    onset = sim.onset[person]
    cases = sim.case_list()
    found = np.array(FOUND_BY, dtype=object)
    case_person = cases.person

    def date(days: np.ndarray, valid: np.ndarray) -> pa.Array:
        return pa.array(start + days.astype("timedelta64[D]"), mask=~valid)

    return {
        "infections": pa.table({
            "person_id": person,
            "source_id": pa.array(inf["source"], mask=inf["source"].astype(np.int64) < 0),
            "infected_on": date(inf["day"], np.ones(len(person), bool)),
            "setting": pa.DictionaryArray.from_arrays(setting, list(SETTINGS)),
            "household_id": pa.array(place, mask=setting != SETTINGS.index("household")),
            "unit_id": pa.array(place, mask=setting != SETTINGS.index("work")),
            "class_id": pa.array(place, mask=setting != SETTINGS.index("school")),
            "venue_id": pa.array(place, mask=~is_venue),
            "subarea": pa.array(inf["subarea"], mask=~is_venue),
            "overlap_from_minute": pa.array(inf["t_start"], mask=~is_venue),
            "overlap_to_minute": pa.array(inf["t_end"], mask=~is_venue),
            "asymptomatic": sim.asymptomatic[person],
            "onset_on": date(onset, onset != NEVER),
            "infectious_from": date(sim.inf_start[person], np.ones(len(person), bool)),
            "infectious_until": date(sim.inf_end[person], np.ones(len(person), bool)),
        }),
        "cases": pa.table({
            "person_id": case_person,
            "grid": pa.DictionaryArray.from_arrays(city.grid[case_person], city.jur_code),
            "asymptomatic": sim.asymptomatic[case_person],
            "infected_on": date(sim.t_inf[case_person], np.ones(len(case_person), bool)),
            "onset_on": date(sim.onset[case_person], sim.onset[case_person] != NEVER),
            "sampled_on": date(cases.sampled, np.ones(len(case_person), bool)),
            "reported_on": date(cases.reported, np.ones(len(case_person), bool)),
            "found_by": pa.array(found[cases.found_by].tolist(), pa.string()),
            "under_control": cases.under_control,
        }),
        "daily": pa.table({
            "date": [r.date for r in sim.results],
            "new_infections": [r.new_infections for r in sim.results],
            **{f"in_{s}": [r.by_setting[i] for r in sim.results] for i, s in enumerate(SETTINGS) if s != "seed"},
            "infectious": [r.infectious for r in sim.results],
            "new_cases": [r.new_cases for r in sim.results],
            "isolated": [r.isolated for r in sim.results],
            "locked_down": [r.locked_down for r in sim.results],
            "infectious_visits": [r.infectious_visits for r in sim.results],
        }),
        "interventions": pa.Table.from_pylist(
            [{**asdict(r), "date": sim.start_date + dt.timedelta(days=r.day)} for r in sim.reports],
            schema=REPORT_SCHEMA,
        ),
    }  # fmt: skip


def write_run(sim: Simulation, out: Path, fmt: str = "parquet") -> list[Path]:
    return [_write(table, out / name, fmt) for name, table in run_tables(sim).items()]
