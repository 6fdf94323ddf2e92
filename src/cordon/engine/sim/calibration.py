"""From R0 to transmission rates: the next-generation matrix of the synthetic city.

The profile gives R0, the household secondary attack rate and how the rest of R0 splits between workplaces,
schools and venues. Transmission rates per setting follow:

- household: the daily hazard per infectious member whose expected infection probability over an infectious
  period equals the household SAR;
- work units, school classes: a daily hazard per infectious colleague or classmate on days both attend;
- venues: a hazard per minute of co-presence with an infectious visitor in the same venue sub-area.

Persons are grouped into types by lasting attributes: industry sector or none, child / adult / elderly, and for
workers the tercile of their team's mean daily venue co-presence (a team shares a workplace and sub-area, so the
mean is a lasting trait, the crowd at the station they staff, with the day's noise averaged out); each type's
mean co-presence minutes are measured on a sample weekday and weekend day. The next-generation matrix ``K[I, J]``
(expected infections of type ``J`` caused by one infection of type ``I`` in a fully susceptible city) is built
from the household, unit and class composition and a mean-field venue term ``beta_v * W * a_I * A_J / A``; its
spectral radius is R0. One common scale for the three non-household rates (kept in the profile's shares) is found
by bisection so that the spectral radius equals the profile's R0.

Why these types: splitting by a single day's activity overstated the spread of activity (a chance visit to a
hub is not a habit) and the simulated growth came out 14-23% below the target; types by sector and age alone
missed the lasting difference between teams and came out 25-50% above it in cities of 0.3-1 million, where the
busiest hubs are busier. With team terciles (and venue popularity capped, see ``city.POPULARITY_CAP``) the
simulated early growth rate was within 12% of the target at 150,000 (four seeds), 600,000 and 1 million.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cordon.engine.sim.city import City
from cordon.engine.sim.copresence import overlap_integral
from cordon.engine.sim.errors import SimConfigError
from cordon.engine.sim.mobility import Mobility, Visits
from cordon.engine.sim.profile import PathogenProfile

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Rates:
    household: float  # per day per infectious household member (times relative infectiousness)
    work: float  # per day per infectious unit colleague present
    school: float  # per day per infectious classmate present
    venue: float  # per minute of co-presence with an infectious visitor in the same sub-area
    r0: float  # the spectral radius these rates give


def copresence_minutes(mobility: Mobility, visits: Visits) -> F64:
    """For every visit, the minutes it overlaps other visits in the same venue sub-area (visits that are both
    workplace attendance are left out: colleagues are counted by the work-unit setting)."""
    g = mobility.group(visits)
    a = visits.t_in.astype(np.int64)
    b = visits.t_out.astype(np.int64)
    w = np.ones(len(g))
    total = overlap_integral(g, a, b, w, g, a, b)
    att = visits.attendance
    both = overlap_integral(g[att], a[att], b[att], w[att], g, a, b)
    total = total - np.where(att, both, 0.0)
    # Minus each visit's overlap with itself (attendance visits lost it with the colleagues' overlaps).
    return np.maximum(total - np.where(att, 0, b - a), 0.0)


def _composition(group: npt.NDArray[np.int64], types: npt.NDArray[np.int64], n_types: int,
                 rng: np.random.Generator, limit: int = 400_000) -> F64:  # fmt: skip
    """``M[I, J]``: summed over persons of type I, the number of *other* members of their group of type J
    (on a random sample of at most ``limit`` groups, scaled up)."""
    member = group >= 0
    g = group[member]
    t = types[member]
    if len(g) == 0:
        return np.zeros((n_types, n_types))
    uniq, inv = np.unique(g, return_inverse=True)
    scale = 1.0
    if len(uniq) > limit:
        keep_groups = rng.random(len(uniq)) < limit / len(uniq)
        scale = len(uniq) / max(int(keep_groups.sum()), 1)
        keep = keep_groups[inv]
        _, inv = np.unique(inv[keep], return_inverse=True)
        t = t[keep]
    counts = np.zeros((int(inv.max()) + 1, n_types), np.float32)
    np.add.at(counts, (inv, t), 1.0)
    m = counts.T.astype(np.float64) @ counts.astype(np.float64)
    m -= np.diag(counts.sum(axis=0))
    return m * scale


def _radius(k: F64) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(k))))


def _pair_probability(w_total: F64, beta: float, fraction: float = 1.0) -> float:
    """The chance that an infection passes to one contact exposed at daily rate ``beta`` for ``fraction`` of
    the days of the infectious period, averaged over natural histories (``w_total``: integrated infectiousness
    per infection)."""
    return float(np.mean(1 - np.exp(-beta * w_total * fraction)))


def _bisect(below: Callable[[float], bool], lo: float, hi: float, steps: int) -> float:
    """The point where ``below`` turns false in [lo, hi], found by ``steps`` halvings."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if below(mid) else (lo, mid)
    return (lo + hi) / 2


def _venue_activity(mobility: Mobility, rng: np.random.Generator, n: int) -> F64:
    """Each person's mean co-presence minutes a day at venues (5 weekdays, 2 weekend days)."""
    activity = np.zeros(n)
    for weekday, share in ((2, 5 / 7), (6, 2 / 7)):
        visits = mobility.day(rng, weekday)
        minutes = copresence_minutes(mobility, visits)
        activity += share * np.bincount(visits.person, weights=minutes, minlength=n)
    return activity


def _person_types(city: City, activity: F64) -> tuple[I64, int]:
    """Each person's type for the next-generation matrix, and the number of types.

    Types come from lasting attributes (sector, or none, times child / adult / elderly), so that a day's chance
    visit to a hub does not pass for a lasting habit; workers also by the tercile of their team's mean
    activity: a team shares its workplace and sub-area, so the mean is a lasting trait (the crowd at the station
    they staff) with the day's noise averaged out."""
    n = city.n_persons
    age_class = np.where(city.age < 18, 0, np.where(city.age < 65, 1, 2)).astype(np.int64)
    tercile = np.zeros(n, np.int64)
    in_unit = np.flatnonzero(city.unit >= 0)
    if len(in_unit):
        unit = city.unit[in_unit]
        team = np.bincount(unit, weights=activity[in_unit]) / np.maximum(np.bincount(unit), 1)
        score = team[unit]
        sector = city.sector[in_unit]
        for s in np.unique(sector):
            mine = sector == s
            edges = np.quantile(score[mine], [1 / 3, 2 / 3])
            tercile[in_unit[mine]] = np.searchsorted(edges, score[mine], side="right")
    types = ((city.sector.astype(np.int64) + 1) * 3 + age_class) * 3 + tercile
    return types, (len(city.config.sectors) + 1) * 9


def calibrate(city: City, mobility: Mobility, profile: PathogenProfile, seed: int = 0) -> Rates:
    rng = np.random.default_rng([seed, 0xCA1])
    hist = profile.natural_history(rng, 200_000)
    w_total = hist.weight.astype(np.float64) * hist.infectious  # integrated infectiousness per infection
    # Household: the daily hazard that gives the SAR.
    beta_h = _bisect(lambda b: _pair_probability(w_total, b) < profile.household_sar, 0.0, 20.0, 80)
    activity = _venue_activity(mobility, rng, city.n_persons)
    types, t = _person_types(city, activity)
    # Contacts of each type per person of each type: household, work unit, class, and venue co-presence.
    size = np.bincount(types, minlength=t).astype(np.float64)
    safe = np.maximum(size, 1)[:, None]
    m_h = _composition(city.household.astype(np.int64), types, t, rng) / safe
    m_w = _composition(city.unit.astype(np.int64), types, t, rng) / safe
    m_s = _composition(city.klass.astype(np.int64), types, t, rng) / safe
    a_type = np.bincount(types, weights=activity, minlength=t)
    m_v = np.outer(a_type / np.maximum(size, 1), a_type / max(activity.sum(), 1e-9))
    # Work days: key industries six a week, others five; schools five.
    work_fraction = np.where(city.is_key_worker(), 6 / 7, 5 / 7)
    wf = float(work_fraction[city.unit >= 0].mean()) if (city.unit >= 0).any() else 5 / 7
    h_matrix = m_h * _pair_probability(w_total, beta_h)
    if _radius(h_matrix) >= profile.r0:
        raise SimConfigError(
            f"the household attack rate {profile.household_sar} alone gives R = {_radius(h_matrix):.2f}, "
            f"not below R0 = {profile.r0}"
        )
    return _scale_to_r0(profile, w_total, beta_h, h_matrix, (m_w, m_s, m_v), wf)


def _scale_to_r0(
    profile: PathogenProfile,
    w_total: F64,
    beta_h: float,
    h_matrix: F64,
    matrices: tuple[F64, F64, F64],
    wf: float,
) -> Rates:
    """The work, school and venue rates, sharing one scale split by the profile's setting shares, with the
    scale found by bisection so that the next-generation matrix's spectral radius is R0."""
    m_w, m_s, m_v = matrices
    mean_w = float(w_total.mean())
    shares = profile.setting_shares
    unit_w = _radius(m_w) * mean_w * wf or 1.0
    unit_s = _radius(m_s) * mean_w * 5 / 7 or 1.0
    unit_v = _radius(m_v) * mean_w or 1.0

    def rates(scale: float) -> tuple[float, float, float]:
        return (
            scale * shares["work"] / unit_w,
            scale * shares["school"] / unit_s,
            scale * shares["venue"] / unit_v,
        )

    def radius(scale: float) -> float:
        bw, bs, bv = rates(scale)
        k = (
            h_matrix
            + m_w * _pair_probability(w_total, bw, wf)
            + m_s * _pair_probability(w_total, bs, 5 / 7)
            + m_v * bv * mean_w
        )
        return _radius(k)

    hi = profile.r0
    while radius(hi) < profile.r0:
        hi *= 2
        if hi > 1e6:
            raise SimConfigError(f"R0 = {profile.r0} cannot be reached in this city")
    scale = _bisect(lambda x: radius(x) < profile.r0, 0.0, hi, 60)
    bw, bs, bv = rates(scale)
    return Rates(beta_h, bw, bs, bv, radius(scale))
