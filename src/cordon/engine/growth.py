"""The epidemic's growth rate and doubling time from daily counts: a log-linear Poisson regression
``log E[y_t] = a + r t`` over the last days, fitted by maximum likelihood (Newton steps, which for this model are
iteratively reweighted least squares), with a Wald interval for ``r``. Daily counts are usually more variable
than Poisson (clusters, reporting in batches), so the standard error is widened by the quasi-Poisson dispersion
``phi = Pearson chi^2 / (n - 2)`` when ``phi > 1``; the interval uses the normal quantile.

The doubling time is ``ln 2 / r`` when the epidemic grows (``r > 0``) and the halving time ``ln 2 / -r`` when it
shrinks; its interval is the same transform of ``r``'s interval, unbounded (``inf``) where ``r``'s interval
reaches zero. Zero counts are fine (no logarithm of a count is taken); a window with no case, or with every case
on its first or its last day, has no estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Z95 = 1.959963984540054
LN2 = math.log(2.0)


@dataclass(frozen=True)
class Growth:
    """The fitted growth rate per day with its 95 % interval and the doubling (or halving) time."""

    days: int  # how many days the fit covers
    cases: int  # how many cases they hold
    rate: float  # r per day; NaN when there is no estimate
    lower: float
    upper: float
    dispersion: float  # the quasi-Poisson phi used (1 when the counts are no more variable than Poisson)
    doubling: float  # ln 2 / r when r > 0 (days), else NaN
    doubling_lower: float  # the interval of the doubling time (inf where r's interval reaches 0)
    doubling_upper: float
    halving: float  # ln 2 / -r when r < 0 (days), else NaN
    halving_lower: float
    halving_upper: float


def _time(x: float) -> float:
    """``ln 2 / x`` for a rate bound: ``inf`` at or below zero."""
    return LN2 / x if x > 0 else math.inf


def fit_rate(counts: npt.ArrayLike, *, iterations: int = 50) -> tuple[float, float, float]:
    """The maximum-likelihood ``(a, r, se_r)`` of ``log E[y_t] = a + r t`` (``t = 0 .. n-1``), ``se_r`` under
    the Poisson model (no dispersion). NaN when the counts hold no case or fewer than two days, or every case
    falls on the first or on the last day (the likelihood then grows without bound as ``r`` goes to minus or
    plus infinity: there is no finite estimate)."""
    y = np.asarray(counts, np.float64)
    n = len(y)
    if n < 2 or y.sum() <= 0 or y[0] == y.sum() or y[-1] == y.sum():
        return math.nan, math.nan, math.nan
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0  # centred: a better-conditioned fit
    a, r = math.log(y.mean()), 0.0
    for _ in range(iterations):
        mu = np.exp(a + r * t)
        score = np.array([np.sum(y - mu), np.sum((y - mu) * t)])
        info = np.array([[mu.sum(), np.sum(mu * t)], [np.sum(mu * t), np.sum(mu * t * t)]])
        step = np.linalg.solve(info, score)
        step = np.clip(step, -5.0, 5.0)  # keep the first steps of a steep series finite
        a, r = a + float(step[0]), r + float(step[1])
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = np.exp(a + r * t)
    info = np.array([[mu.sum(), np.sum(mu * t)], [np.sum(mu * t), np.sum(mu * t * t)]])
    cov = np.linalg.inv(info)
    # back from the centred time to t = 0 .. n-1
    return a - r * (n - 1) / 2.0, r, float(math.sqrt(cov[1, 1]))


def growth(counts: npt.ArrayLike) -> Growth:
    """The growth over the whole of ``counts`` (one count per day, oldest first)."""
    y = np.asarray(counts, np.float64)
    n = len(y)
    a, r, se = fit_rate(y)
    nan = math.nan
    if math.isnan(r) or not math.isfinite(se):
        return Growth(n, int(y.sum()), nan, nan, nan, 1.0, nan, nan, nan, nan, nan, nan)
    mu = np.exp(a + r * np.arange(n))
    phi = float(np.sum((y - mu) ** 2 / mu) / (n - 2)) if n > 2 else 1.0
    phi = max(phi, 1.0)
    se *= math.sqrt(phi)
    lower, upper = r - Z95 * se, r + Z95 * se
    doubling = halving = nan
    d_lo = d_hi = h_lo = h_hi = nan
    if r > 0:
        doubling, d_lo, d_hi = LN2 / r, LN2 / upper, _time(lower)
    elif r < 0:
        halving, h_lo, h_hi = LN2 / -r, LN2 / -lower, _time(-upper)
    return Growth(n, int(y.sum()), r, lower, upper, phi, doubling, d_lo, d_hi, halving, h_lo, h_hi)
