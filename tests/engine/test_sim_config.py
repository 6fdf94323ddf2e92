"""The simulator's configuration and pathogen profiles are refused with every problem named: each rule broken on
its own (and met at its limit) against the presets and built-in profiles; presets and profiles themselves are
usable."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from cordon.engine.sim import PRESETS, SimConfigError, available_profiles, load_profile, preset, validate
from cordon.engine.sim.config import CommuteLink, NamedVenue

DEMO = PRESETS["demo"]


def problems_of(**overrides: Any) -> list[str]:
    try:
        validate(DEMO.with_values(**overrides))
    except SimConfigError as err:
        return err.problems
    return []


def _kind(name: str, **changes: Any) -> Any:
    return tuple(dataclasses.replace(k, **changes) if k.kind == name else k for k in DEMO.venue_kinds)


def _sector(code: str, **changes: Any) -> Any:
    return tuple(dataclasses.replace(s, **changes) if s.code == code else s for s in DEMO.sectors)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"population": 0}, "population: must be a positive whole number, got 0"),
        ({"population": 2.5}, "population: must be a positive whole number"),
        ({"community_size": 0}, "community_size: must be a positive whole number, got 0"),
        ({"unit_size": 1.5}, "unit_size: must be a positive whole number"),
        ({"seed_infections": -1}, "seed_infections: must be a positive whole number, got -1"),
        ({"employment_rate": 1.01}, "employment_rate: a probability must be between 0 and 1, got 1.01"),
        ({"work_in_home_district": -0.1}, "work_in_home_district: a probability must be between 0 and 1"),
        ({"local_visit_share": math.nan}, "local_visit_share: a probability must be between 0 and 1"),
        (
            {"special_groups": {"pregnant": 1.5}},
            "special_groups.pregnant: a probability must be between 0 and 1",
        ),
        ({"weekend_factor": 0}, "weekend_factor: must be positive, got 0"),
        ({"weekend_factor": math.inf}, "weekend_factor: must be positive"),
        ({"visits_per_day": (0.5, -0.1, 0.9)}, "visits_per_day[1]: must not be negative, got -0.1"),
        ({"visits_per_day": (0.5, math.inf, 0.9)}, "visits_per_day[1]: must not be negative"),
        ({"household_sizes": ()}, "household_sizes: shares must be non-negative and sum to 1"),
        ({"household_sizes": (1.2, -0.2)}, "household_sizes"),
        ({"household_sizes": (0.5, 0.49)}, "household_sizes"),
        ({"age_bands": ()}, "age_bands: each band needs 0 <= first age <= last age <= 120"),
        ({"age_bands": ((-1, 50, 0.5), (51, 99, 0.5))}, "age_bands: each band needs"),
        ({"age_bands": ((0, 50, 0.5), (60, 51, 0.5))}, "age_bands: each band needs"),
        ({"age_bands": ((0, 50, 0.5), (51, 121, 0.5))}, "age_bands: each band needs"),
        ({"age_bands": ((0, 50, 0.5), (51, 99, -0.5))}, "age_bands: each band needs"),
        ({"age_bands": ((0, 50, 0.5), (51, 99, 0.4))}, "age_bands: shares must sum to 1, got 0.9000"),
        ({"districts": ()}, "districts: at least one district is required"),
        ({"sectors": ()}, "sectors: shares must sum to 1"),
        ({"venue_kinds": _kind("gym", visit_share=0.05)}, "venue_kinds: visit shares must sum to 1"),
        (
            {"venue_kinds": _kind("gym", per_10k=-1)},
            "venue_kinds.gym: counts and shares must not be negative",
        ),
        ({"venue_kinds": _kind("gym", median_minutes=0)}, "venue_kinds.gym: counts and shares"),
        ({"venue_kinds": _kind("gym", popularity_shape=0)}, "venue_kinds.gym: counts and shares"),
        ({"venue_kinds": _kind("gym", capacity=(0, 10))}, "venue_kinds.gym: capacity and sub-area ranges"),
        ({"venue_kinds": _kind("gym", capacity=(10, 9))}, "venue_kinds.gym: capacity and sub-area ranges"),
        ({"venue_kinds": _kind("gym", subareas=(0, 2))}, "venue_kinds.gym: capacity and sub-area ranges"),
        ({"venue_kinds": _kind("gym", subareas=(3, 2))}, "venue_kinds.gym: capacity and sub-area ranges"),
        (
            {"sectors": _sector("courier", work_visits=-1)},
            "sectors.courier.work_visits: must not be negative",
        ),
        ({"sectors": _sector("courier", visit_kinds=("spa",))}, "sectors.courier: unknown venue kind 'spa'"),
        (
            {"sectors": _sector("retail", work_visit_minutes=-1)},
            "sectors.retail.work_visit_minutes: must not be",
        ),
        ({"sectors": _sector("retail", workplace_size=0)}, "sectors.retail.workplace_size: must be positive"),
        ({"sectors": _sector("courier", workplace_kind="spa")}, "sectors.courier: unknown venue kind 'spa'"),
        ({"sectors": _sector("courier", share=1.02)}, "sectors.courier.share: a probability must be"),
        (
            {"seed_communities": ("110106999999",)},
            "seed_communities: '110106999999' is not a named community",
        ),
        (
            {"named_venues": (NamedVenue("spa", "X", "110106010201", 1),)},
            "named_venues.X: needs a known kind, a named community and a positive popularity",
        ),
        ({"named_venues": (NamedVenue("gym", "Y", "999", 1),)}, "named_venues.Y: needs a known kind"),
        (
            {"named_venues": (NamedVenue("gym", "Z", "110106010201", 0),)},
            "named_venues.Z: needs a known kind",
        ),
        (
            {"commute_links": (CommuteLink("110106", "110199", ("delivery",), 0.5),)},
            "commute_links: unknown district or sector",
        ),
        ({"commute_links": (CommuteLink("110106", "110105", ("pilot",), 0.5),)}, "commute_links: unknown"),
        (
            {"commute_links": (CommuteLink("110106", "110105", ("delivery",), 1.5),)},
            "commute_links.110106->110105: a probability must be between 0 and 1",
        ),
    ],
)
def test_each_broken_rule_is_named(overrides: dict[str, Any], problem: str) -> None:
    found = problems_of(**overrides)
    assert any(problem in p for p in found), found


@pytest.mark.parametrize(
    "overrides",
    [
        {"population": 1},
        {"seed_infections": 0},
        {"community_size": 1, "unit_size": 1, "class_size": 1},
        {"employment_rate": 0.0, "work_in_home_district": 1.0, "local_visit_share": 1},
        {"visits_per_day": (0.0, 0.0, 0.0)},
        {"household_sizes": (1.0,)},
        {"age_bands": ((0, 120, 1.0),)},
        {"age_bands": ((30, 30, 0.5), (31, 120, 0.5))},
        {"venue_kinds": _kind("gym", per_10k=0, capacity=(1, 1), subareas=(1, 1))},
        {"sectors": _sector("courier", work_visits=0, work_visit_minutes=0)},
        {"commute_links": (), "seed_communities": ()},
    ],
)
def test_limits_are_allowed(overrides: dict[str, Any]) -> None:
    assert problems_of(**overrides) == []


def test_every_problem_is_listed_at_once() -> None:
    found = problems_of(population=0, employment_rate=2, weekend_factor=-1, household_sizes=())
    assert len(found) == 4
    with pytest.raises(SimConfigError, match="unknown city setting 'colour'"):
        DEMO.with_values(colour="red")
    assert DEMO.with_population(123).population == 123 and DEMO.population == 20_000


def test_districts_must_have_unique_codes_and_positive_shares() -> None:
    one, two = DEMO.districts[0], DEMO.districts[1]
    assert "districts: codes must be unique" in problems_of(
        districts=(one, dataclasses.replace(two, code=one.code, share=1 - one.share))
    )
    zero = (dataclasses.replace(one, share=1.0), dataclasses.replace(two, share=0.0))
    assert "districts: shares must be positive and sum to 1" in problems_of(
        districts=zero, named_venues=(), commute_links=(), seed_communities=()
    )


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_usable(name: str) -> None:
    config = preset(name)
    validate(config)
    assert config is PRESETS[name]
    smaller = preset(name, population=5000)
    assert smaller.population == 5000 and smaller.districts == config.districts
    assert math.isclose(sum(d.share for d in config.districts), 1, abs_tol=1e-6)
    assert len({d.code for d in config.districts}) == len(config.districts)
    # Every district of a preset lies within its city (Beijing's farthest district centre, Yanqing's, is 71 km
    # from the city centre), and the districts surround the centre: their mean lies within 15 km of it.
    lon0, lat0 = config.centre

    def km(lon: float, lat: float) -> float:
        return math.hypot((lon - lon0) * 111.2 * math.cos(math.radians(lat0)), (lat - lat0) * 111.2)

    for d in config.districts:
        assert km(*d.centre) < 75, d.code
    mean = [sum(d.centre[i] for d in config.districts) / len(config.districts) for i in (0, 1)]
    assert km(*mean) < 15


# --- pathogen profiles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("r0", 0, "r0: must be positive, got 0.0"),
        ("r0", -2, "r0: must be positive"),
        ("r0", math.nan, "r0: must be a number"),
        ("r0", True, "r0: must be a number, got True"),
        ("r0", "3", "r0: must be a number, got '3'"),
        ("household_sar", 1.01, "household_sar: a probability must be between 0 and 1, got 1.01"),
        ("pcr_sensitivity", -0.01, "pcr_sensitivity: a probability must be between 0 and 1"),
        ("asymptomatic_relative_infectiousness", 2, "asymptomatic_relative_infectiousness: a probability"),
        (
            "pcr_detectable_before_infectious_days",
            -1,
            "pcr_detectable_before_infectious_days: must not be negative",
        ),
        ("exposure_window_days_before_onset", -3, "exposure_window_days_before_onset: must not be negative"),
        ("incubation_days", {"dist": "normal", "mean": 3, "sd": 1}, "incubation_days: expected {'dist'"),
        ("incubation_days", 3.4, "incubation_days: expected"),
        ("infectious_days", {"dist": "gamma", "mean": 0, "sd": 1}, "infectious_days: mean must be positive"),
        ("infectious_days", {"dist": "gamma", "mean": 4, "sd": -1}, "infectious_days: mean must be positive"),
        (
            "infectious_days",
            {"dist": "gamma", "mean": "4", "sd": 1},
            "infectious_days: mean must be positive",
        ),
        ("setting_shares", {"work": 1.0}, "setting_shares: expected shares for"),
        ("setting_shares", [0.35, 0.15, 0.5], "setting_shares: expected shares for"),
        (
            "setting_shares",
            {"work": 0.5, "school": 0.5, "venue": 0.5},
            "setting_shares: must be non-negative",
        ),
        (
            "setting_shares",
            {"work": 1.2, "school": -0.2, "venue": 0.0},
            "setting_shares: must be non-negative",
        ),
    ],
)
def test_profile_values_out_of_range_are_refused(key: str, value: Any, problem: str) -> None:
    with pytest.raises(SimConfigError) as err:
        load_profile().with_overrides(**{key: value})
    assert any(problem in p for p in err.value.problems), err.value.problems


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("household_sar", 0.0),
        ("pcr_sensitivity", 1.0),
        ("pcr_detectable_before_infectious_days", 0),
        ("r0", 0.5),
        ("setting_shares", {"work": 0.0, "school": 0.0, "venue": 1.0}),
        ("care_seeking_delay_days", {"dist": "lognormal", "mean": 1.0, "sd": 0}),
    ],
)
def test_profile_values_at_their_limits_are_taken(key: str, value: Any) -> None:
    profile = load_profile().with_overrides(**{key: value})
    if key == "setting_shares":
        assert profile.setting_shares == value
    elif isinstance(value, dict):
        assert getattr(profile, key).sd == 0
    else:
        assert getattr(profile, key) == value
    assert profile.parameters[key].source == "override"


def test_profile_files_are_checked_whole(tmp_path: Path) -> None:
    doc = json.loads(_profile_path("covid19-omicron").read_text("utf-8"))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc), encoding="utf-8")
    assert load_profile(good).r0 == load_profile().r0
    cases = {
        "no-unit": (lambda d: d["parameters"]["r0"].pop("unit"), "r0: a unit and a source are required"),
        "no-source": (
            lambda d: d["parameters"]["r0"].update(source=""),
            "r0: a unit and a source are required",
        ),
        "extra": (lambda d: d["parameters"].update(colour={"value": 1}), "colour: unknown parameter"),
        "version": (lambda d: d.update(version=0), "version: a positive whole number is required"),
        "no-version": (lambda d: d.pop("version"), "version: a positive whole number is required"),
        "no-value": (lambda d: d["parameters"]["r0"].pop("value"), "r0: missing"),
    }
    for name, (change, problem) in cases.items():
        broken = json.loads(json.dumps(doc))
        change(broken)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(SimConfigError) as err:
            load_profile(path)
        assert any(problem in p for p in err.value.problems), (name, err.value.problems)
        assert all(p.startswith(f"profile {path}: ") for p in err.value.problems)
    (tmp_path / "text.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SimConfigError, match="not valid JSON"):
        load_profile(tmp_path / "text.json")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SimConfigError, match="expected an object with 'parameters'"):
        load_profile(tmp_path / "list.json")
    with pytest.raises(SimConfigError, match="unknown profile parameter 'colour'"):
        load_profile().with_overrides(colour=1)


def _profile_path(name: str) -> Path:
    from importlib import resources

    return Path(str(resources.files("cordon.engine.sim") / "profiles" / f"{name}.json"))


@pytest.mark.parametrize("name", available_profiles())
def test_natural_histories_follow_the_profile(name: str) -> None:
    import numpy as np

    profile = load_profile(name)
    h = profile.natural_history(np.random.default_rng(1), 100_000)
    assert h.asymptomatic.mean() == pytest.approx(profile.asymptomatic_fraction, abs=0.01)
    assert (h.incubation >= 1).all() and (h.infectious >= 1).all() and (h.latent >= 1).all()
    assert (h.latent <= h.incubation).all()
    assert h.incubation.mean() == pytest.approx(profile.incubation_days.mean, rel=0.1)
    assert h.infectious.mean() == pytest.approx(profile.infectious_days.mean, rel=0.1)
    assert not h.seeks_care[h.asymptomatic].any()
    assert h.seeks_care[~h.asymptomatic].mean() == pytest.approx(profile.care_seeking_probability, abs=0.01)
    assert np.unique(h.weight).tolist() == pytest.approx([profile.asymptomatic_relative_infectiousness, 1.0])
    assert (h.weight[h.asymptomatic] < 1).all() and (h.weight[~h.asymptomatic] == 1).all()
    # Growth rate by Euler-Lotka: sum g(t) exp(-r t) = 1 / R0, and no growth at R0 = 1.
    g = profile.generation_interval()
    r = profile.growth_rate()
    assert float(np.sum(g * np.exp(-r * np.arange(len(g))))) == pytest.approx(1 / profile.r0, rel=1e-6)
    assert profile.growth_rate(r0=1.0) == pytest.approx(0.0, abs=1e-6)
    assert r > 0


def test_a_run_that_cannot_be_set_up_is_refused() -> None:
    from cordon.engine.sim import Simulation, generate_city

    city = generate_city(preset("demo", population=600), seed=1)
    with pytest.raises(
        SimConfigError, match=r"the household attack rate 0\.95 alone gives R = .*, not below R0 = 1\.2"
    ):
        Simulation(city, load_profile().with_overrides(household_sar=0.95, r0=1.2))
    for seeds in (-1, 601):
        with pytest.raises(SimConfigError, match="seed infections must be between 0 and 600"):
            Simulation(city, load_profile(), seed_infections=seeds)
    sim = Simulation(city, load_profile(), seed_infections=600)
    # The first cases live in the seed communities; there are fewer residents there than seeds asked for.
    codes = set(city.config.seed_communities)
    home = [city.jur_code[c] for c in city.jur_parent[city.grid]]
    local = {p for p, code in enumerate(home) if code in codes}
    seeds = set(sim.infections.table()["person"].tolist())
    assert seeds == local and ((sim.t_inf[list(seeds)] <= 0) & (sim.t_inf[list(seeds)] >= -2)).all()
    with pytest.raises(SimConfigError, match="days must not be negative, got -1"):
        sim.run(-1)
    assert sim.run(0) == [] and sim.day == 0
    quiet = Simulation(city, load_profile(), seed_infections=0)
    assert sum(r.new_infections for r in quiet.run(5)) == 0


def test_hubs_are_the_kinds_the_docs_name() -> None:
    """docs/simulator.md: stations, malls, markets and hospitals are hubs."""
    assert {k.kind for k in DEMO.venue_kinds if k.hub} == {"transit", "mall", "market", "hospital"}
    text = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text(encoding="utf-8")
    assert (
        "stations, malls,\nmarkets and hospitals are hubs" in text
        or "stations, malls, markets and hospitals are hubs" in text
    )
