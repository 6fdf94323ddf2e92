"""Pathogen profiles: versioned data files, one per pathogen, every number a parameter with unit and source.

A profile lives in ``profiles/<id>.json`` (or any JSON file given by path) and is read into a frozen
:class:`PathogenProfile`. Adding a pathogen means adding a file; the code does not change. Natural histories are
drawn per infection from the profile's distributions, in whole days:

- incubation ``I`` (infection to onset) and pre-symptomatic infectiousness ``P``: infectious from day
  ``max(1, I - P)`` after infection (the latent period), for ``D`` days (``infectious_days``);
- asymptomatic infections (share ``asymptomatic_fraction``) have no onset and are ``asymptomatic_relative_
  infectiousness`` times as infectious;
- a symptomatic case is sampled at a fever clinic with ``care_seeking_probability``, ``care_seeking_delay_days``
  after onset.

The generation interval implied by these choices (:meth:`PathogenProfile.generation_interval`) is what the
outbreak's growth rate is checked against.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.errors import SimConfigError

DEFAULT_PROFILE = "covid19-omicron"
SETTINGS = ("work", "school", "venue")


@dataclass(frozen=True, slots=True)
class Distribution:
    """A positive duration in days: ``lognormal`` or ``gamma`` with the given mean and standard deviation."""

    dist: str
    mean: float
    sd: float

    def sample(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
        if n == 0:
            return np.zeros(0)
        if self.sd == 0:
            return np.full(n, self.mean)
        if self.dist == "lognormal":
            sigma2 = math.log(1 + (self.sd / self.mean) ** 2)
            return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), n)
        shape = (self.mean / self.sd) ** 2
        return rng.gamma(shape, self.mean / shape, n)

    def days(self, rng: np.random.Generator, n: int, minimum: int = 0) -> npt.NDArray[np.int16]:
        """Whole days (rounded), at least ``minimum``."""
        return np.maximum(np.rint(self.sample(rng, n)), minimum).astype(np.int16)


@dataclass(frozen=True, slots=True)
class Parameter:
    value: Any
    unit: str
    source: str


@dataclass(frozen=True)
class PathogenProfile:
    id: str
    version: int
    name: str
    name_zh: str
    r0: float
    household_sar: float
    setting_shares: dict[str, float]
    incubation_days: Distribution
    presymptomatic_days: Distribution
    infectious_days: Distribution
    asymptomatic_fraction: float
    asymptomatic_relative_infectiousness: float
    care_seeking_probability: float
    care_seeking_delay_days: Distribution
    pcr_detectable_before_infectious_days: int
    pcr_detectable_after_infectious_days: int
    pcr_sensitivity: float
    exposure_window_days_before_onset: int
    parameters: dict[str, Parameter] = field(default_factory=dict, compare=False)

    def with_overrides(self, **values: Any) -> PathogenProfile:
        """A copy with some values replaced (e.g. ``r0=2.0``), validated like a file."""
        raw = {k: {"value": v.value, "unit": v.unit, "source": v.source} for k, v in self.parameters.items()}
        for key, value in values.items():
            if key not in raw:
                raise SimConfigError(f"unknown profile parameter {key!r}")
            if isinstance(value, Distribution):
                value = {"dist": value.dist, "mean": value.mean, "sd": value.sd}
            raw[key] = {**raw[key], "value": value, "source": "override"}
        doc = {"id": self.id, "version": self.version, "name": self.name, "name_zh": self.name_zh}
        return _parse({**doc, "parameters": raw}, origin=f"{self.id} with overrides")

    def natural_history(self, rng: np.random.Generator, n: int) -> NaturalHistory:
        """Draw ``n`` natural histories (durations in whole days from the day of infection)."""
        asymptomatic = rng.random(n) < self.asymptomatic_fraction
        incubation = self.incubation_days.days(rng, n, minimum=1)
        presym = self.presymptomatic_days.days(rng, n)
        latent = np.maximum(incubation - presym, 1).astype(np.int16)
        infectious = self.infectious_days.days(rng, n, minimum=1)
        seeks = (~asymptomatic) & (rng.random(n) < self.care_seeking_probability)
        delay = self.care_seeking_delay_days.days(rng, n)
        weight = np.where(asymptomatic, self.asymptomatic_relative_infectiousness, 1.0).astype(np.float32)
        return NaturalHistory(asymptomatic, incubation, latent, infectious, seeks, delay, weight)

    def generation_interval(self, samples: int = 400_000, seed: int = 0) -> npt.NDArray[np.float64]:
        """The generation-interval distribution in whole days (index = days from infection to the infection it
        causes), implied by the latent and infectious periods and the relative infectiousness: an infector
        infects at the same expected rate on each infectious day."""
        h = self.natural_history(np.random.default_rng(seed), samples)
        horizon = int(h.latent.max()) + int(h.infectious.max()) + 1
        g: npt.NDArray[np.float64] = np.zeros(horizon)
        weights = h.weight.astype(np.float64)
        for d in range(int(h.infectious.max())):
            active = h.infectious > d
            np.add.at(g, h.latent[active].astype(np.int64) + d, weights[active])
        result: npt.NDArray[np.float64] = g / g.sum()
        return result

    def growth_rate(self, r0: float | None = None) -> float:
        """The exponential growth rate per day that R0 and the generation interval imply (Euler-Lotka, daily
        steps): the r with sum_t g(t) exp(-r t) = 1 / R0."""
        g = self.generation_interval()
        target = 1 / (self.r0 if r0 is None else r0)
        t = np.arange(len(g))
        lo, hi = -2.0, 5.0
        for _ in range(100):
            mid = (lo + hi) / 2
            if float(np.sum(g * np.exp(-mid * t))) > target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2


@dataclass(frozen=True, slots=True)
class NaturalHistory:
    asymptomatic: npt.NDArray[np.bool_]
    incubation: npt.NDArray[np.int16]
    latent: npt.NDArray[np.int16]
    infectious: npt.NDArray[np.int16]
    seeks_care: npt.NDArray[np.bool_]
    care_delay: npt.NDArray[np.int16]
    weight: npt.NDArray[np.float32]


def available_profiles() -> list[str]:
    folder = resources.files("cordon.engine.sim") / "profiles"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> PathogenProfile:
    """A built-in profile by id, or a profile file by path."""
    path = Path(name_or_path)
    if path.suffix == ".json" and path.exists():
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        name = str(name_or_path)
        if name not in available_profiles():
            raise SimConfigError(
                f"unknown pathogen profile {name!r}; built-in profiles: {', '.join(available_profiles())}"
            )
        text = (resources.files("cordon.engine.sim") / "profiles" / f"{name}.json").read_text(
            encoding="utf-8"
        )
        origin = name
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SimConfigError(f"profile {origin}: not valid JSON ({exc})") from exc
    return _parse(doc, origin)


_PROBABILITIES = (
    "household_sar",
    "asymptomatic_fraction",
    "asymptomatic_relative_infectiousness",
    "care_seeking_probability",
    "pcr_sensitivity",
)
_DISTRIBUTIONS = ("incubation_days", "presymptomatic_days", "infectious_days", "care_seeking_delay_days")
_DAYS = (
    "pcr_detectable_before_infectious_days",
    "pcr_detectable_after_infectious_days",
    "exposure_window_days_before_onset",
)


def _parse(doc: Any, origin: str) -> PathogenProfile:
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise SimConfigError(f"profile {origin}: expected an object with 'parameters'")
    raw: dict[str, Any] = doc["parameters"]
    params: dict[str, Parameter] = {}
    values: dict[str, Any] = {}
    expected = ("r0", "setting_shares", *_PROBABILITIES, *_DISTRIBUTIONS, *_DAYS)
    for key in expected:
        entry = raw.get(key)
        if not isinstance(entry, dict) or "value" not in entry:
            problems.append(f"{key}: missing (each parameter needs value, unit and source)")
            continue
        if not entry.get("unit") or not entry.get("source"):
            problems.append(f"{key}: a unit and a source are required")
        params[key] = Parameter(entry["value"], str(entry.get("unit", "")), str(entry.get("source", "")))
        values[key] = entry["value"]
    for key in set(raw) - set(expected):
        problems.append(f"{key}: unknown parameter")
    if problems:
        raise SimConfigError([f"profile {origin}: {p}" for p in problems])

    def number(key: str) -> float:
        v = values[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            problems.append(f"{key}: must be a number, got {v!r}")
            return 0.0
        return float(v)

    r0 = number("r0")
    if r0 <= 0:
        problems.append(f"r0: must be positive, got {r0}")
    probs = {}
    for key in _PROBABILITIES:
        probs[key] = number(key)
        if not 0 <= probs[key] <= 1:
            problems.append(f"{key}: a probability must be between 0 and 1, got {probs[key]}")
    days = {}
    for key in _DAYS:
        days[key] = int(number(key))
        if days[key] < 0:
            problems.append(f"{key}: must not be negative, got {days[key]}")
    dists = {}
    for key in _DISTRIBUTIONS:
        v = values[key]
        if not isinstance(v, dict) or v.get("dist") not in ("lognormal", "gamma"):
            problems.append(f"{key}: expected {{'dist': 'lognormal'|'gamma', 'mean': ..., 'sd': ...}}")
            continue
        mean, sd = v.get("mean"), v.get("sd")
        if not isinstance(mean, int | float) or not isinstance(sd, int | float) or mean <= 0 or sd < 0:
            problems.append(f"{key}: mean must be positive and sd not negative, got {mean!r}, {sd!r}")
            continue
        dists[key] = Distribution(v["dist"], float(mean), float(sd))
    shares = values["setting_shares"]
    if not isinstance(shares, dict) or set(shares) != set(SETTINGS):
        problems.append(f"setting_shares: expected shares for {', '.join(SETTINGS)}")
        shares = {}
    elif any(not isinstance(x, int | float) or x < 0 for x in shares.values()) or not math.isclose(
        sum(shares.values()), 1.0, abs_tol=1e-6
    ):
        problems.append(f"setting_shares: must be non-negative and sum to 1, got {shares}")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        problems.append("version: a positive whole number is required")
    if problems:
        raise SimConfigError([f"profile {origin}: {p}" for p in problems])
    values_by_name: dict[str, Any] = {**probs, **dists, **days}
    return PathogenProfile(
        id=str(doc.get("id", origin)),
        version=int(version),  # type: ignore[arg-type]
        name=str(doc.get("name", "")),
        name_zh=str(doc.get("name_zh", "")),
        r0=r0,
        setting_shares={k: float(shares[k]) for k in SETTINGS},
        parameters=params,
        **values_by_name,
    )


__all__ = [
    "DEFAULT_PROFILE",
    "Distribution",
    "NaturalHistory",
    "PathogenProfile",
    "available_profiles",
    "load_profile",
]
