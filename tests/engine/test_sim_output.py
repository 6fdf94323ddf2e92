"""The simulator's output files say what the city and the run hold: every table read back and checked against
the arrays it was written from, in Parquet and in CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cordon.engine.sim import SETTINGS, Simulation, built_in, generate_city, load_profile, preset
from cordon.engine.sim.city import SPECIAL_GROUPS
from cordon.engine.sim.interventions import FOUND_BY
from cordon.engine.sim.outbreak import NEVER
from cordon.engine.sim.output import ScanWriter, city_tables, run_tables, scan_table, write_city, write_run


@pytest.fixture(scope="module")
def run() -> Simulation:
    city = generate_city(preset("demo", population=2500), seed=5)
    sim = Simulation(city, load_profile(), built_in("zero-covid"), seed=5)
    sim.run(16)
    return sim


def test_city_tables_hold_the_city(run: Simulation) -> None:
    city = run.city
    t = city_tables(city)
    jur = t["jurisdictions"]
    assert jur.column("code").to_pylist() == city.jur_code
    levels = ["city", "district", "street", "community", "grid"]
    assert jur.column("level").to_pylist() == [levels[lv - 1] for lv in city.jur_level.tolist()]
    assert jur.column("parent").to_pylist() == [None if p < 0 else city.jur_code[p] for p in city.jur_parent]
    persons = t["persons"]
    assert persons.num_rows == city.n_persons
    assert persons.column("grid").to_pylist() == [city.jur_code[g] for g in city.grid]
    assert persons.column("sex").to_pylist() == ["M" if s else "F" for s in city.sex.tolist()]
    sectors = [s.code for s in city.config.sectors]
    assert persons.column("sector").to_pylist() == [sectors[s] if s >= 0 else None for s in city.sector]
    assert persons.column("key_industry").to_pylist() == city.is_key_worker().tolist()
    for name, values in (("workplace_id", city.workplace), ("unit_id", city.unit), ("class_id", city.klass),
                         ("school_id", city.school)):  # fmt: skip
        assert persons.column(name).to_pylist() == [v if v >= 0 else None for v in values.tolist()]
    groups = persons.column("special_groups").to_pylist()
    for bits, text in zip(city.special.tolist(), groups, strict=True):
        assert text == ";".join(g for i, g in enumerate(SPECIAL_GROUPS) if bits >> i & 1)
    households = t["households"]
    assert households.column("size").to_numpy().sum() == city.n_persons
    assert (households.column("size").to_numpy() >= 1).all()
    buildings = t["buildings"]
    assert buildings.num_rows == len(city.bld_grid)
    # Coordinates to a millionth of a degree (about 0.1 m), in files and in the footprints alike.
    for table, lon, lat in ((buildings, city.bld_lon, city.bld_lat), (jur, city.jur_lon, city.jur_lat)):
        assert table.column("longitude").to_pylist() == np.round(lon, 6).tolist()
        assert table.column("latitude").to_pylist() == np.round(lat, 6).tolist()
    for wkt in buildings.column("footprint_wkt").to_pylist()[:50]:
        points = wkt.removeprefix("POLYGON((").removesuffix("))").split(", ")
        assert len(points) == 5 and points[0] == points[-1]  # closed rings of four corners
    venues = t["venues"]
    kinds = [k.kind for k in city.config.venue_kinds]
    assert venues.column("kind").to_pylist() == [kinds[k] for k in city.venue_kind]
    assert venues.column("code").to_pylist()[:3] == [f"V{city.config.code}{i:07d}" for i in range(3)]
    assert [len(x) for x in venues.column("subarea_names").to_pylist()] == city.venue_subareas.tolist()
    hubs = {k.kind for k in city.config.venue_kinds if k.hub}
    assert venues.column("hub").to_pylist() == [kinds[k] in hubs for k in city.venue_kind]
    workplaces = t["workplaces"]
    assert workplaces.column("venue_id").to_pylist() == city.wp_venue.tolist()
    assert workplaces.column("sector").to_pylist() == [sectors[s] for s in city.wp_sector]


def test_run_tables_hold_the_run(run: Simulation) -> None:
    t = run_tables(run)
    tree = run.infections.table()
    inf = t["infections"]
    assert inf.column("person_id").to_pylist() == tree["person"].tolist()
    assert inf.column("source_id").to_pylist() == [s if s >= 0 else None for s in tree["source"].tolist()]
    assert inf.column("setting").to_pylist() == [SETTINGS[s] for s in tree["setting"]]
    start = run.start_date
    days = [start + dt.timedelta(days=int(d)) for d in tree["day"]]
    assert inf.column("infected_on").to_pylist() == days
    for name, setting in (("household_id", "household"), ("unit_id", "work"), ("class_id", "school"),
                          ("venue_id", "venue")):  # fmt: skip
        col = inf.column(name).to_pylist()
        for value, place, s in zip(col, tree["place"].tolist(), tree["setting"].tolist(), strict=True):
            assert value == (place if SETTINGS[s] == setting else None)
    venue_rows = tree["setting"] == SETTINGS.index("venue")
    assert inf.column("overlap_from_minute").drop_null().to_pylist() == tree["t_start"][venue_rows].tolist()
    onset = run.onset[tree["person"]]
    assert inf.column("onset_on").to_pylist() == [
        None if o == NEVER else start + dt.timedelta(days=int(o)) for o in onset
    ]
    cases = run.case_list()
    ct = t["cases"]
    assert ct.column("person_id").to_pylist() == cases.person.tolist()
    assert ct.column("found_by").to_pylist() == [FOUND_BY[k] for k in cases.found_by]
    assert ct.column("reported_on").to_pylist() == [start + dt.timedelta(days=int(d)) for d in cases.reported]
    assert ct.column("grid").to_pylist() == [run.city.jur_code[g] for g in run.city.grid[cases.person]]
    daily = t["daily"]
    assert daily.column("new_infections").to_pylist() == [r.new_infections for r in run.results]
    for i, s in enumerate(SETTINGS):
        if s != "seed":
            assert daily.column(f"in_{s}").to_pylist() == [r.by_setting[i] for r in run.results]
    assert daily.column("date").to_pylist() == [r.date for r in run.results]
    reports = t["interventions"]
    assert reports.column("action").to_pylist() == [r.action for r in run.reports]
    assert reports.column("date").to_pylist() == [start + dt.timedelta(days=r.day) for r in run.reports]
    assert reports.column("tests").to_pylist() == [r.tests for r in run.reports]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_read_back_the_same(run: Simulation, tmp_path: Path, fmt: str) -> None:
    written = write_city(run.city, tmp_path, fmt) + write_run(run, tmp_path, fmt)
    assert sorted(p.name for p in written) == sorted(
        f"{name}.{fmt}" for name in (*city_tables(run.city), *run_tables(run))
    )
    tables = {**city_tables(run.city), **run_tables(run)}
    for path in written:
        table = tables[path.stem]
        back = pq.read_table(path) if fmt == "parquet" else pacsv.read_csv(path)
        assert back.num_rows == table.num_rows and back.column_names == table.column_names
    if fmt == "csv":
        first = pacsv.read_csv(tmp_path / "venues.csv").column("subarea_names")[0].as_py()
        assert first == ";".join(run.city.venue_subarea_names[0])  # lists joined with ';'


def test_scans_are_written_a_day_at_a_time(run: Simulation, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    visits = run.mobility.day(rng, 2).by_person()
    day = dt.date(2022, 11, 2)
    table = scan_table(day, visits)
    assert table.column("time_in").to_pylist()[0] == dt.datetime(2022, 11, 2) + dt.timedelta(
        minutes=int(visits.t_in[0])
    )
    writer = ScanWriter(tmp_path, fmt="csv")
    writer(0, day, visits)
    writer(1, day + dt.timedelta(days=1), visits)
    assert writer.rows == 2 * len(visits)
    assert sorted(p.name for p in (tmp_path / "scans").iterdir()) == ["date=2022-11-02", "date=2022-11-03"]
    back = pacsv.read_csv(tmp_path / "scans" / "date=2022-11-03" / "part-0.csv")
    assert back.num_rows == len(visits)
    assert back.column("person_id").to_pylist() == visits.person.tolist()
    assert pa.types.is_timestamp(back.schema.field("time_in").type)


def test_city_views_equal_plain_lookups(run: Simulation) -> None:
    from cordon.engine.sim.city import DISTRICT

    city = run.city

    def district_of(node: int) -> int:
        while node >= 0 and city.jur_level[node] != DISTRICT:
            node = int(city.jur_parent[node])
        return node

    assert city.districts().tolist() == [i for i, lv in enumerate(city.jur_level) if lv == DISTRICT]
    assert city.district_of_jurisdiction().tolist() == [district_of(i) for i in range(len(city.jur_code))]
    assert city.district_of_jurisdiction()[0] == -1  # the city itself
    building = [int(city.hh_building[h]) for h in city.household]
    assert city.building.tolist() == building
    assert city.grid.tolist() == [int(city.bld_grid[b]) for b in building]
    assert city.district.tolist() == [district_of(int(city.bld_grid[b])) for b in building]
    assert city.venue_grid.tolist() == [int(city.bld_grid[b]) for b in city.venue_building]
    assert city.venue_district.tolist() == [district_of(int(g)) for g in city.venue_grid]
    key = {i for i, s in enumerate(city.config.sectors) if s.key}
    assert city.is_key_worker().tolist() == [int(s) in key for s in city.sector]
    assert city.venue_code(42) == f"V{city.config.code}0000042"
    summary = city.summary()
    assert summary["persons"] == city.n_persons == len(city.age)
    assert summary["venues"] == city.n_venues == len(city.venue_name)
    assert summary["grids"] + summary["communities"] + summary["streets"] + summary["districts"] + 1 == len(
        city.jur_code
    )
    assert summary["key_industry_workers"] == len([s for s in city.sector if int(s) in key])
