"""The synthetic city and outbreak simulator (cordon.engine.sim): structure, mobility, transmission, the infection
tree, interventions, outputs and configuration errors."""

from __future__ import annotations

import datetime as dt
import filecmp
import functools
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine.sim import (
    SETTINGS,
    SimConfigError,
    Simulation,
    built_in,
    generate_city,
    load_profile,
    preset,
)
from cordon.engine.sim.city import COMMUNITY, DISTRICT, GRID, STREET
from cordon.engine.sim.copresence import overlap_integral
from cordon.engine.sim.groups import expand as _expand
from cordon.engine.sim.interventions import Controls, View
from cordon.engine.sim.mobility import Mobility, Visits
from cordon.engine.sim.outbreak import NEVER
from cordon.engine.sim.output import ScanWriter, generate_scans, write_city, write_run


@pytest.fixture(scope="module")
def demo_city():  # type: ignore[no-untyped-def]
    return generate_city(preset("demo"), seed=3)


# --- the city ---------------------------------------------------------------------------------------------


def test_demo_city_follows_the_scenario(demo_city) -> None:  # type: ignore[no-untyped-def]
    city = demo_city
    assert city.n_persons == 20_000
    names = dict(zip(city.jur_code, city.jur_name, strict=True))
    assert names["110106"] == "丰台区" and names["110114"] == "昌平区" and names["110105"] == "朝阳区"
    assert names["110106010201"] == "张郭庄村" and names["110114011005"] == "龙祥社区东区"
    assert names["110105030201"] == "潼城公寓"
    levels = {lv: int((city.jur_level == lv).sum()) for lv in (DISTRICT, STREET, COMMUNITY, GRID)}
    assert levels[DISTRICT] == 4 and levels[GRID] >= levels[COMMUNITY] >= 11
    # Every grid code extends its community's code.
    for i, code in enumerate(city.jur_code):
        if city.jur_level[i] == GRID:
            assert code.startswith(city.jur_code[city.jur_parent[i]] + "-")
    # Households are headed by adults; sizes follow the configured shares.
    first = np.searchsorted(city.household, np.arange(len(city.hh_building)))
    assert (city.age[first] >= 18).all()
    sizes = np.bincount(np.bincount(city.household))[1:7] / len(city.hh_building)
    assert np.allclose(sizes[:4], preset("demo").household_sizes[:4], atol=0.03)
    # Age structure: shares per band within 1.5 points.
    for lo, hi, share in preset("demo").age_bands:
        assert abs(((city.age >= lo) & (city.age <= hi)).mean() - share) < 0.015
    # Key industries, workplaces, schools, venues with footprints and sub-areas.
    sector_codes = [s.code for s in city.config.sectors]
    for key in ("delivery", "courier", "maintenance", "cleaning", "security", "catering"):
        assert (city.sector == sector_codes.index(key)).sum() > 0
    assert (city.workplace[city.sector >= 0] >= 0).all()
    students = (city.age >= 6) & (city.age <= 14)
    assert (city.school[students] >= 0).all() and (city.klass[students] >= 0).all()
    assert "潼城快捷酒店" in city.venue_name
    assert city.bld_footprint.shape == (len(city.bld_grid), 4, 2)
    assert (city.venue_subareas >= 1).all()


def test_generation_is_deterministic(demo_city) -> None:  # type: ignore[no-untyped-def]
    again = generate_city(preset("demo"), seed=3)
    assert np.array_equal(again.age, demo_city.age) and np.array_equal(again.workplace, demo_city.workplace)
    other = generate_city(preset("demo"), seed=4)
    assert not np.array_equal(other.age, demo_city.age)


# --- mobility ---------------------------------------------------------------------------------------------


def test_scans_have_hubs_and_busy_key_workers(demo_city) -> None:  # type: ignore[no-untyped-def]
    city = demo_city
    mobility = Mobility(city)
    visits = mobility.day(np.random.default_rng(1), weekday=2)
    assert (visits.t_in < visits.t_out).all() and (visits.t_out <= 1439).all()
    assert (visits.subarea < city.venue_subareas[visits.venue]).all()
    per_venue = np.bincount(visits.venue, minlength=city.n_venues)
    # Hubs (stations, malls, large markets, hospitals) gather many more visitors than other venues, and
    # popularity is heavy-tailed: the busiest venue sees many times the median.
    hub = np.array([k.hub for k in city.config.venue_kinds])[city.venue_kind]
    public = per_venue > 0
    assert per_venue[hub].mean() > 1.5 * per_venue[~hub & public].mean()
    # In a larger city the tail shows: the busiest venue sees over 20 times the median, the top 1% over 8%.
    big = generate_city(preset("city-1m", population=200_000), seed=3)
    counts = np.bincount(Mobility(big).day(np.random.default_rng(3), weekday=2).venue, minlength=big.n_venues)
    counts = np.sort(counts[counts > 0])[::-1]
    assert counts[0] > 20 * np.median(counts) and counts[: len(counts) // 100].sum() > 0.08 * counts.sum()
    per_person = np.bincount(visits.person, minlength=city.n_persons)
    delivery = city.sector == [s.code for s in city.config.sectors].index("delivery")
    assert per_person[delivery].mean() > 10 > per_person[~city.is_key_worker()].mean()
    # A person's leisure visits are in order and do not overlap one another.
    leisure = ~visits.attendance & (mobility.work_rate[visits.person] == 0)
    p, a, b = visits.person[leisure], visits.t_in[leisure], visits.t_out[leisure]
    same = p[1:] == p[:-1]
    assert (a[1:][same] >= b[:-1][same]).all()


def test_closed_venues_get_no_visits(demo_city) -> None:  # type: ignore[no-untyped-def]
    mobility = Mobility(demo_city)
    closed = demo_city.venue_kind == [k.kind for k in demo_city.config.venue_kinds].index("restaurant")
    mobility.set_closed(closed)
    visits = mobility.day(np.random.default_rng(2), weekday=5)
    assert not closed[visits.venue].any()
    free = np.zeros(demo_city.n_persons, bool)
    assert len(mobility.day(np.random.default_rng(2), weekday=1, free=free)) == 0


# --- overlap arithmetic against brute force ---------------------------------------------------------------

interval = st.tuples(st.integers(0, 3), st.integers(0, 1438), st.integers(1, 300), st.floats(0.1, 2.0))


@settings(max_examples=100, deadline=None)
@given(st.lists(interval, max_size=25), st.lists(interval, min_size=1, max_size=25))
def test_overlap_integral_matches_pairwise_sum(sources, queries) -> None:  # type: ignore[no-untyped-def]
    def cols(rows):  # type: ignore[no-untyped-def]
        g = np.array([r[0] for r in rows], np.int64)
        a = np.array([r[1] for r in rows], np.int64)
        b = np.minimum(a + np.array([r[2] for r in rows], np.int64), 1439)
        w = np.array([r[3] for r in rows], np.float64)
        return g, a, b, w

    sg, ss, se, sw = cols(sources) if sources else (np.zeros(0, np.int64),) * 3 + (np.zeros(0),)  # type: ignore[assignment]
    qg, qa, qb, _ = cols(queries)
    got = overlap_integral(sg, ss, se, sw, qg, qa, qb)
    for i in range(len(qg)):
        want = sum(
            sw[j] * max(0, min(qb[i], se[j]) - max(qa[i], ss[j])) for j in range(len(sg)) if sg[j] == qg[i]
        )
        assert got[i] == pytest.approx(want, abs=1e-6)


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 5)), max_size=20))
def test_expand_concatenates_ranges(ranges) -> None:  # type: ignore[no-untyped-def]
    lo = np.array([r[0] for r in ranges], np.int64)
    hi = lo + np.array([r[1] for r in ranges], np.int64)
    want = [x for a, b in zip(lo, hi, strict=True) for x in range(a, b)]
    assert _expand(lo, hi).tolist() == want


# --- the outbreak -----------------------------------------------------------------------------------------


def _fit_growth(new: np.ndarray, population: int) -> float:
    """Growth rate of 7-day sums of new infections between 500 cumulative infections and 3% of the city."""
    weekly = np.convolve(new, np.ones(7), mode="valid")
    cum = np.cumsum(new)[6:]
    window = np.flatnonzero((cum >= 500) & (cum <= 0.03 * population))
    assert len(window) >= 7, "the early phase is too short to fit"
    return float(np.polyfit(window, np.log(weekly[window]), 1)[0])


def test_early_growth_matches_r0_and_generation_interval() -> None:
    """With no interventions, the exponential growth rate matches the Euler-Lotka rate implied by the profile's
    R0 and generation interval within 15%."""
    population = 150_000
    city = generate_city(preset("city-1m", population=population, seed_infections=30), seed=11)
    profile = load_profile("sars-cov-2-ancestral")
    sim = Simulation(city, profile, seed=11)
    assert sim.rates.r0 == pytest.approx(profile.r0, rel=1e-6)
    sim.run(75)
    new = np.array([r.new_infections for r in sim.results], float)
    simulated, expected = _fit_growth(new, population), profile.growth_rate()
    assert abs(simulated / expected - 1) < 0.15, (simulated, expected)


@functools.cache  # one run of each kind for the tests that read it
def _run_with_visits(
    interventions: str, days: int = 30, seed: int = 5
) -> tuple[Simulation, dict[int, Visits]]:
    city = generate_city(preset("demo"), seed=seed)
    sim = Simulation(city, load_profile(), built_in(interventions), seed=seed)
    seen: dict[int, Visits] = {}
    sim.run(days, on_visits=lambda day, _date, visits: seen.__setitem__(day, visits))
    return sim, seen


@pytest.mark.parametrize("interventions", ["none", "zero-covid"])
def test_infection_tree_is_consistent(interventions: str) -> None:
    """Every infection has a source that was infectious that day and shared the household, the work unit, the
    class, or a venue sub-area at overlapping times (checked against the day's actual visits)."""
    sim, seen = _run_with_visits(interventions)
    city = sim.city
    tree = sim.infections.table()
    person, source, day, setting = tree["person"], tree["source"], tree["day"], tree["setting"]
    assert len(np.unique(person)) == len(person)
    seeds = setting == SETTINGS.index("seed")
    assert (source[seeds] == -1).all() and (source[~seeds] >= 0).all()
    assert len(person) > (500 if interventions == "none" else 50)
    for i in np.flatnonzero(~seeds):
        s, d, kind = source[i], day[i], SETTINGS[setting[i]]
        assert sim.t_inf[s] < d and sim.inf_start[s] <= d < sim.inf_end[s]
        assert sim.t_inf[person[i]] == d
        if kind == "household":
            assert city.household[s] == city.household[person[i]] == tree["place"][i]
        elif kind == "work":
            assert city.unit[s] == city.unit[person[i]] == tree["place"][i]
        elif kind == "school":
            assert city.klass[s] == city.klass[person[i]] == tree["place"][i]
        else:
            v = seen[int(d)]
            venue, sub = tree["place"][i], tree["subarea"][i]
            a, b = tree["t_start"][i], tree["t_end"][i]
            assert a < b

            def present(who: int) -> bool:
                m = (v.person == who) & (v.venue == venue) & (v.subarea == sub)  # noqa: B023
                return bool(((v.t_in[m] <= a) & (v.t_out[m] >= b)).any())  # noqa: B023

            assert present(int(s)) and present(int(person[i]))


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path) -> None:
    def run(seed: int, out: Path) -> None:
        city = generate_city(preset("demo", population=2000), seed=seed)
        sim = Simulation(city, load_profile(), built_in("basic"), seed=seed)
        write_city(city, out)
        sim.run(20, on_visits=ScanWriter(out))
        write_run(sim, out)

    run(1, tmp_path / "a")
    run(1, tmp_path / "b")
    run(2, tmp_path / "c")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert len(files) == 10 + 20
    _same, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "a", tmp_path / "b", [str(f) for f in files], shallow=False
    )
    assert not mismatch and not errors
    _, differ, _ = filecmp.cmpfiles(tmp_path / "a", tmp_path / "c", [str(f) for f in files], shallow=False)
    assert "infections.parquet" in differ and "persons.parquet" in differ


def test_interventions_act_and_report() -> None:
    city = generate_city(preset("demo"), seed=7)
    free = Simulation(city, load_profile(), seed=7)
    free.run(35)
    controlled = Simulation(city, load_profile(), built_in("zero-covid"), seed=7)
    controlled.run(35)
    total = lambda s: sum(r.new_infections for r in s.results)  # noqa: E731
    assert total(controlled) < 0.5 * total(free)
    actions = {r.action for r in controlled.reports}
    assert {"isolate", "restrict_areas", "screen"} <= actions
    screens = [r for r in controlled.reports if r.action == "screen"]
    assert all(r.tests < r.persons for r in screens)  # pooling saves tests
    assert sum(r.positives for r in screens) > 0
    cases = controlled.case_list()
    assert {"fever_clinic", "screening"} <= {
        ("fever_clinic", "screening", "quarantine", "seed")[k] for k in cases.found_by
    }
    assert cases.under_control.any()
    assert max(r.locked_down for r in controlled.results) > 0


def test_custom_intervention_through_the_protocol() -> None:
    """An intervention is any object with a name and apply(view, controls)."""
    city = generate_city(preset("demo", population=5000), seed=2)

    class CloseEverythingOnDay3:
        name = "close-all"

        def apply(self, view: View, controls: Controls) -> None:
            if view.day == 3:
                report = controls.close_venues(np.arange(city.n_venues), days=100)
                assert report.venues == city.n_venues

    sim = Simulation(city, load_profile(), [CloseEverythingOnDay3()], seed=2)
    sim.run(6)
    assert sim.results[2].infectious_visits > 0 and sim.results[4].infectious_visits == 0
    assert [r.intervention for r in sim.reports] == ["close-all"]
    with pytest.raises(SimConfigError, match="not an intervention"):
        Simulation(city, load_profile(), [object()])  # type: ignore[list-item]


def test_cases_have_onset_and_sampling_dates() -> None:
    sim, _ = _run_with_visits("none")
    cases = sim.case_list()
    assert len(cases.person) > 100
    symptomatic = ~sim.asymptomatic[cases.person]
    assert (sim.onset[cases.person[symptomatic]] <= cases.sampled[symptomatic]).all()
    assert (sim.onset[cases.person[~symptomatic]] == NEVER).all()
    assert (cases.reported == cases.sampled + 1).all()


# --- outputs ----------------------------------------------------------------------------------------------


def test_scans_are_a_dataset_partitioned_by_date(tmp_path: Path, demo_city) -> None:  # type: ignore[no-untyped-def]
    rows = generate_scans(demo_city, 3, dt.date(2022, 11, 1), tmp_path, seed=1)
    dataset = ds.dataset(tmp_path / "scans", format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert table.num_rows == rows > 3 * 20_000
    assert sorted(p.name for p in (tmp_path / "scans").iterdir()) == [
        "date=2022-11-01", "date=2022-11-02", "date=2022-11-03",
    ]  # fmt: skip
    one = dataset.to_table(filter=ds.field("date") == "2022-11-02")
    times = one.column("time_in").to_numpy()
    assert (times >= np.datetime64("2022-11-02")).all() and (times < np.datetime64("2022-11-03")).all()
    write_city(demo_city, tmp_path / "csv", fmt="csv")
    assert (tmp_path / "csv" / "persons.csv").read_text(encoding="utf-8").startswith('"person_id"')
    assert (
        pq.read_table(tmp_path / "csv" / ".." / "scans" / "date=2022-11-01" / "part-0.parquet").num_rows > 0
    )


# --- configuration errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: preset("atlantis"), "unknown preset 'atlantis'"),
        (lambda: preset("demo", population=-5), "population: must be a positive whole number"),
        (
            lambda: preset("demo", employment_rate=1.5),
            "employment_rate: a probability must be between 0 and 1",
        ),
        (lambda: preset("demo", household_sizes=(0.5, 0.6)), "household_sizes"),
        (lambda: preset("demo", unit_size=0), "unit_size"),
        (lambda: load_profile("measles-9000"), "unknown pathogen profile"),
        (lambda: load_profile().with_overrides(asymptomatic_fraction=-0.1), "between 0 and 1"),
        (lambda: load_profile().with_overrides(household_sar=2), "between 0 and 1"),
        (lambda: built_in("lockdown-forever"), "unknown intervention set"),
    ],
)
def test_bad_configuration_is_refused(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SimConfigError, match=message):
        make()


def test_profile_file_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"version": 1, "parameters": {"r0": {"value": -1, "unit": "x", "source": "y"}}}')
    with pytest.raises(SimConfigError) as err:
        load_profile(path)
    assert len(err.value.problems) > 5
    assert any("household_sar: missing" in p for p in err.value.problems)


def test_profiles_document_every_parameter() -> None:
    for name in ("covid19-omicron", "sars-cov-2-ancestral"):
        profile = load_profile(name)
        assert profile.version >= 1
        for key, param in profile.parameters.items():
            assert param.unit and param.source, key
        g = profile.generation_interval()
        assert g.sum() == pytest.approx(1) and g[0] == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(interval, min_size=1, max_size=30),
    st.lists(interval, min_size=1, max_size=30),
    st.integers(0, 99),
)
def test_source_pick_is_present_at_the_same_time(sources, queries, seed) -> None:  # type: ignore[no-untyped-def]
    """Who infected whom at a venue: the drawn source shares the query's group and a minute inside both stays,
    and sources are drawn in proportion to weight times overlap (checked on one query by frequency)."""
    from cordon.engine.sim.copresence import SourceTable

    g = np.array([r[0] for r in sources], np.int64)
    s = np.array([r[1] for r in sources], np.int64)
    e = np.minimum(s + np.array([r[2] for r in sources], np.int64), 1439)
    w = np.array([r[3] for r in sources])
    table = SourceTable(g, s, e, w)
    qg = np.array([r[0] for r in queries], np.int64)
    qa = np.array([r[1] for r in queries], np.int64)
    qb = np.minimum(qa + np.array([r[2] for r in queries], np.int64), 1439)
    positive = table.integral(qg, qa, qb) > 1e-9
    if not positive.any():
        return
    qg, qa, qb = qg[positive], qa[positive], qb[positive]
    idx, minute = table.pick(qg, qa, qb, np.random.default_rng(seed))
    assert (idx >= 0).all()
    assert (g[idx] == qg).all()
    assert ((qa <= minute) & (minute < qb) & (s[idx] <= minute) & (minute < e[idx])).all()
    # Frequencies for the first query against w * overlap.
    reps = 4000
    many, _ = table.pick(np.repeat(qg[:1], reps), np.repeat(qa[:1], reps), np.repeat(qb[:1], reps),
                         np.random.default_rng(seed))  # fmt: skip
    overlap = np.maximum(np.minimum(qb[0], e) - np.maximum(qa[0], s), 0) * (g == qg[0]) * w
    expected = overlap / overlap.sum()
    observed = np.bincount(many, minlength=len(g)) / reps
    assert np.abs(observed - expected).max() < 0.05


def test_docs_list_every_profile_parameter_preset_and_cli_command() -> None:
    from cordon.engine.sim import PRESETS, available_profiles

    text = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text(encoding="utf-8")
    for name in available_profiles():
        assert f"`{name}`" in text
        for key in load_profile(name).parameters:
            assert f"`{key}`" in text, key
    for name in PRESETS:
        assert f"`{name}`" in text
    for bundle in ("none", "isolate", "basic", "zero-covid"):
        assert bundle in text


def test_writing_scans_does_not_change_the_outbreak(tmp_path: Path) -> None:
    city = generate_city(preset("demo", population=5000), seed=4)
    quiet = Simulation(city, load_profile(), seed=4)
    quiet.run(15)
    loud = Simulation(city, load_profile(), seed=4)
    writer = ScanWriter(tmp_path)
    loud.run(15, on_visits=writer)
    assert writer.rows > 15 * 5000
    a, b = quiet.infections.table(), loud.infections.table()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    # Scans include everyone free to move, also those already infected or recovered.
    scans = ds.dataset(tmp_path / "scans", format="parquet", partitioning="hive").to_table()
    infected = set(a["person"].tolist())
    assert infected & set(scans.column("person_id").to_numpy().tolist())


@given(st.lists(st.integers(0, 2**40), max_size=300))
def test_order_by_is_a_stable_argsort(keys) -> None:  # type: ignore[no-untyped-def]
    from cordon.engine.sim.copresence import order_by

    arr = np.array(keys, np.int64)
    assert order_by(arr).tolist() == np.argsort(arr, kind="stable").tolist()


def test_two_threads_draw_the_same_visits_as_one() -> None:
    """A large city's day is drawn in two halves with their own streams: the result does not depend on the
    number of threads (or cores)."""
    from concurrent.futures import ThreadPoolExecutor

    city = generate_city(preset("city-1m", population=250_000), seed=5)
    one, two = Mobility(city), Mobility(city)
    assert len(one.parts) == 2
    one._pool = ThreadPoolExecutor(max_workers=1)
    a = one.day(np.random.default_rng(9), weekday=3)
    b = two.day(np.random.default_rng(9), weekday=3)
    assert all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in ("person", "venue", "subarea", "t_in", "t_out")
    )
    # The halves together are everyone: residents of either half go out alike.
    n = city.n_persons
    out = np.zeros(n, bool)
    out[a.person] = True
    assert out[: n // 2].mean() == pytest.approx(out[n // 2 :].mean(), abs=0.02) and out.mean() > 0.5


@pytest.mark.parametrize(("weekday", "closed_share"), [(2, 0.0), (5, 0.3)])
def test_candidate_visits_infect_as_often_as_the_whole_day(weekday: int, closed_share: float) -> None:
    """Thinning (exposure.py) keeps the model: the expected venue infections summed over the candidate visits
    (each counting its infection probability over its bound) equal those summed over a whole day's visits, and
    candidates plus the completed rest make as many visits of each kind as Mobility.day."""
    from cordon.engine.sim.copresence import SourceTable
    from cordon.engine.sim.exposure import Exposure

    city = generate_city(preset("demo", population=6000), seed=3)
    mobility = Mobility(city)
    rng = np.random.default_rng(0)
    mobility.set_closed(rng.random(city.n_venues) < closed_share)
    exposure = Exposure(mobility)
    n = city.n_persons
    infectious = np.sort(rng.choice(n, 250, replace=False)).astype(np.int32)
    src = mobility.visits_of(rng, weekday, infectious)
    g, a, b = mobility.group(src), src.t_in.astype(np.int64), src.t_out.astype(np.int64)
    w = np.where(rng.random(len(src)) < 0.4, 0.58, 1.0)
    other = ~src.attendance
    every, visitors = SourceTable(g, a, b, w), SourceTable(g[other], a[other], b[other], w[other])
    beta = 3e-4
    stay = w * (b - a)
    bound = -np.expm1(-beta * np.bincount(g, weights=stay, minlength=mobility.n_groups))
    bound_att = -np.expm1(-beta * np.bincount(g[other], weights=stay[other], minlength=mobility.n_groups))
    eligible = np.ones(n, bool)
    eligible[infectious] = False
    eligible &= rng.random(n) < 0.9

    def infection_probability(v: Visits) -> np.ndarray:
        qg, qa, qb, att = mobility.group(v), v.t_in.astype(np.int64), v.t_out.astype(np.int64), v.attendance
        overlap = np.empty(len(v))
        overlap[~att] = every.integral(qg[~att], qa[~att], qb[~att])
        overlap[att] = visitors.integral(qg[att], qa[att], qb[att])
        return -np.expm1(-beta * overlap)

    def by_kind(v: Visits) -> np.ndarray:
        kinds = np.bincount(city.venue_kind[v.venue], minlength=len(city.config.venue_kinds))
        return np.append(kinds, v.attendance.sum())

    whole, thinned, days, completed = [], [], [], []
    for r in range(100):
        day = mobility.day(np.random.default_rng([1, r]), weekday, eligible)
        whole.append(infection_probability(day).sum())
        days.append(by_kind(day))
        cands = exposure.candidates(np.random.default_rng([2, r]), weekday, eligible, bound, bound_att)
        thinned.append((infection_probability(cands.visits) / cands.bound).sum())
        rest = exposure.complete(np.random.default_rng([3, r]), weekday, eligible, bound, cands)
        completed.append(by_kind(Visits.concat(cands.visits, rest)))
    assert np.mean(thinned) > 1
    se = np.sqrt(np.var(whole) / len(whole) + np.var(thinned) / len(thinned))
    assert abs(np.mean(thinned) - np.mean(whole)) < 4 * se
    x, y = np.array(days, float), np.array(completed, float)
    se_kind = np.sqrt((x.var(0) + y.var(0)) / len(x)) + 1e-9
    assert (np.abs(x.mean(0) - y.mean(0)) < 4 * se_kind).all()


def test_subset_ranks_are_distinct_and_uniform() -> None:
    from cordon.engine.sim.exposure import _subset_ranks

    take = np.array([1, 2, 3, 5] * 5000, np.int64)
    total = np.array([4, 5, 3, 9] * 5000, np.int64)
    ranks = _subset_ranks(np.random.default_rng(1), take, total)
    owner = np.repeat(np.arange(len(take)), take)
    assert (ranks >= 0).all() and (ranks < np.repeat(total, take)).all()
    assert len(np.unique(owner * 100 + ranks)) == len(ranks)
    for t, k in ((1, 4), (2, 5), (5, 9)):
        mine = np.repeat((take == t) & (total == k), take)
        share = np.bincount(ranks[mine], minlength=k) / mine.sum()
        assert np.abs(share - 1 / k).max() < 0.01


def test_closing_workplaces_and_schools_stops_team_and_class_transmission() -> None:
    city = generate_city(preset("demo", population=6000), seed=8)

    class CloseAll:
        name = "close-all"

        def apply(self, view: View, controls: Controls) -> None:
            if view.day == 0:
                controls.close_venues(np.arange(city.n_venues), days=1000)

    sim = Simulation(city, load_profile(), [CloseAll()], seed=8)
    sim.run(20)
    assert sum(r.by_setting[2] + r.by_setting[3] + r.by_setting[4] for r in sim.results) == 0
    assert sum(r.by_setting[1] for r in sim.results) > 0  # households go on
