"""The time-varying reproduction number Rt (Cori's method, as EpiEstim computes it) and a nowcast of the last
days' incidence corrected for reporting delay. Pure numpy/scipy, vectorised over regions: every series is an
array ``regions x days`` (a city and its districts are simply rows).

Rt (Cori A, Ferguson NM, Fraser C, Cauchemez S. Am J Epidemiol 2013;178(9):1505-1512; EpiEstim ``estimate_R``
with ``method = "parametric_si"``):

- incidence ``I_t`` = local cases + imported cases of day ``t``; only the local ones are caused by local
  transmission, so the numerator counts local cases only while both are sources of infection;
- the serial interval ``w_s`` (``s`` = 0, 1, 2, ... days) is a gamma with the profile's mean and sd
  (:func:`profile_interval`), discretised as EpiEstim's ``discr_si`` does (:func:`discretise_si`); ``w_0 = 0``;
- the total infectiousness ``Lambda_t = sum_{s>=1} I_{t-s} w_s`` (local and imported);
- with a gamma prior (shape ``a``, scale ``b``: mean 5, sd 5 gives ``a = 1``, ``b = 5``) and a window of ``tau``
  days ending on day ``t`` (the days ``t - tau + 1 .. t``) the posterior of R is
  ``Gamma(shape = a + sum local I, scale = 1 / (1/b + sum Lambda))`` over the window;
- reported per region and day: posterior mean, sd, 2.5 %, 50 % and 97.5 % quantiles, the coefficient of
  variation (``1 / sqrt(shape)``) and a warning where it exceeds 0.3 (EpiEstim's ``cv_posterior``; too few
  cases in the window for a usable estimate). As in EpiEstim the first window starts on the second day (day 1,
  counting from 0), so days ``0 .. tau - 1`` have no estimate (NaN).

Speed: the infectiousness is one vectorised shift-and-add per serial-interval day, the window sums are
differences of cumulative sums, and the quantiles, ``b_post * Q(a_post, p)`` with ``Q`` the inverse of the
regularised incomplete gamma function, are computed once per distinct posterior shape (with whole case counts
the shapes are whole numbers, so there are few) and scaled.

Nowcast (:func:`nowcast`): the last days' counts by event day (infection or onset) are incomplete because
recent cases are not yet reported. The delay distribution (event to report, whole days) is estimated
empirically from past cases whose cohort is complete: cases with event day at most ``now - max_delay`` (all of
their reports up to ``max_delay`` days are in; longer delays are counted at ``max_delay``), so it carries no
right-truncation bias. ``F(d)`` is the share reported within ``d`` days. For an event day ``t`` seen ``d = now -
t`` days later, each of its cases has been reported with probability ``F(d)``: with ``N`` reported of ``X`` true
(``N ~ Binomial(X, F)``) and a flat prior on ``X``, the cases still to come are ``X - N ~ NegBinomial(N + 1,
F(d))`` (failures before the ``N + 1``-th success). The point nowcast is ``N / F(d)`` and the 90 % band is the
5 % and 95 % quantiles of ``N`` plus the cases to come; ``median`` is its 50 % quantile (Rt on the nowcast uses
it: a whole number, robust to the long right tail). ``F(d)`` is itself estimated from a finite number of
cohort cases: ``F(d) ~ Beta(k + 1/2, n - k + 1/2)`` with ``k`` of ``n`` reported within ``d`` days, which makes
the cases to come beta-negative-binomial (with a given, known delay distribution: negative binomial). The band
covers reporting noise and the sampling error of the delay distribution, not a change of the delay
distribution over time. Days with less than 5 % of their cases expected to be reported (``F < 0.05``, e.g.
today) get no nowcast: with a flat prior the band would say more about the prior than about the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from cordon.engine.sim.profile import PathogenProfile

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

PRIOR_MEAN = 5.0
PRIOR_SD = 5.0
WINDOW = 7
CV_THRESHOLD = 0.3
QUANTILES = (0.025, 0.5, 0.975)
NOWCAST_BAND = (0.05, 0.95)
MIN_COMPLETENESS = 0.05


def discretise_si(mean: float, sd: float, tail: float = 1e-12) -> F64:
    """The serial interval as EpiEstim's ``discr_si(k, mu, sigma)``: ``1 + Gamma`` with shape
    ``a = ((mu - 1) / sigma)^2`` and scale ``b = sigma^2 / (mu - 1)`` (mean ``mu``, sd ``sigma``), discretised by
    linear interpolation (the triangular kernel of Cori et al. 2013, Web Appendix 11)::

        w_k = k F(k; a, b) + (k - 2) F(k - 2; a, b) - 2 (k - 1) F(k - 1; a, b)
              + a b (2 F(k - 1; a + 1, b) - F(k - 2; a + 1, b) - F(k; a + 1, b)),   clipped at 0,

    with ``F`` the gamma distribution function (0 below 0). ``w_0 = 0``. EpiEstim evaluates it on ``0 .. T-1``;
    here ``k`` runs until the mass left beyond is below ``tail`` and the result is renormalised to sum to 1
    (a change below ``tail``)."""
    if not mean > 1:
        raise ValueError(f"the serial interval's mean must be above 1 day, got {mean}")
    if not sd > 0:
        raise ValueError(f"the serial interval's sd must be positive, got {sd}")
    a = ((mean - 1) / sd) ** 2
    b = sd**2 / (mean - 1)
    # The shifted gamma's upper tail beyond k - 1 bounds the mass of w beyond k.
    kmax = math.ceil(1 + float(special.gammainccinv(a, tail)) * b) + 2
    k = np.arange(kmax + 1, dtype=np.float64)

    def cdf(x: F64, shape: float) -> F64:
        out: F64 = np.where(x > 0, special.gammainc(shape, np.maximum(x, 0) / b), 0.0)
        return out

    w = k * cdf(k, a) + (k - 2) * cdf(k - 2, a) - 2 * (k - 1) * cdf(k - 1, a)
    w = w + a * b * (2 * cdf(k - 1, a + 1) - cdf(k - 2, a + 1) - cdf(k, a + 1))
    w = np.maximum(w, 0.0)
    w[0] = 0.0
    result: F64 = w / w.sum()
    return result


def profile_interval(profile: PathogenProfile) -> tuple[float, float]:
    """The serial interval's mean and sd (days) for a pathogen profile: those of the generation interval its
    natural history implies (:meth:`PathogenProfile.generation_interval`, infection to infection), which is the
    interval to use with incidence by day of infection. By day of onset the serial interval has the same mean
    and a larger spread (two incubation periods added and subtracted); a profile gives no separate figure."""
    g = profile.generation_interval()
    days = np.arange(len(g))
    mean = float(np.sum(g * days))
    return mean, float(np.sqrt(np.sum(g * (days - mean) ** 2)))


def infectiousness(incidence: F64, si: F64) -> F64:
    """``Lambda_t = sum_{s>=1} I_{t-s} w_s`` for every row (region) of ``incidence`` (regions x days): one
    matrix product with the banded (Toeplitz) matrix of the serial interval, or a shift-and-add per serial
    interval day for long series."""
    incidence = np.asarray(incidence, np.float64)
    days = incidence.shape[-1]
    k = min(len(si), days)
    if days <= 1500:
        band = np.zeros((days, days))
        rows = np.arange(days)
        for s in range(1, k):
            band[rows[: days - s], rows[s:]] = si[s]  # I_{t-s} feeds Lambda_t
        out: F64 = incidence @ band
        return out
    lam = np.zeros_like(incidence)
    for s in range(1, k):
        if si[s]:
            lam[..., s:] += si[s] * incidence[..., : days - s]
    return lam


def window_sums(x: F64, window: int) -> F64:
    """Sums of ``x`` over the ``window`` days ending on each day (fewer at the start), along the last axis."""
    c = np.cumsum(x, axis=-1)
    out: F64 = c.copy()
    out[..., window:] -= c[..., :-window]
    return out


def gamma_quantiles(shape: F64, scale: F64, probs: tuple[float, ...]) -> F64:
    """Quantiles of Gamma(shape, scale), one plane per probability (``len(probs) x shape.shape``): the inverse
    incomplete gamma function is evaluated once per distinct shape (through a table indexed by the shape when
    all shapes are whole numbers, as they are for case counts and a whole prior shape) and scaled."""
    shape = np.asarray(shape, np.float64)
    finite = np.isfinite(shape)
    values = shape[finite]
    out = np.empty((len(probs), *shape.shape))
    whole = (
        values.size > 0
        and values.max() <= 4 * values.size + 1_000_000
        and bool(np.all(values == np.floor(values)))
    )
    if whole:
        top = int(values.max()) + 1
        index = np.where(finite, shape, top).astype(np.int64)  # the last slot of the table is NaN
        present = np.zeros(top + 1, bool)
        present[index] = True
        present[top] = False
        uniq = np.flatnonzero(present)
        table = np.full(top + 1, np.nan)
        for i, p in enumerate(probs):
            table[uniq] = special.gammaincinv(uniq.astype(np.float64), p)
            np.take(table, index, out=out[i])
            out[i] *= scale
    else:
        uniq_f, inverse = np.unique(values, return_inverse=True)
        for i, p in enumerate(probs):
            out[i] = np.nan
            out[i][finite] = np.asarray(special.gammaincinv(uniq_f, p), np.float64)[inverse]
            out[i] *= scale
    return out


@dataclass(frozen=True)
class RtEstimate:
    """Posterior of Rt per region and day (window ending on that day); NaN where there is no estimate."""

    shape: F64  # posterior gamma shape a + sum of local cases
    scale: F64  # posterior gamma scale 1 / (1/b + sum Lambda)
    mean: F64
    sd: F64
    q025: F64
    median: F64
    q975: F64
    cv: F64
    warning: B  # the posterior's coefficient of variation exceeds the threshold (too few cases)
    si: F64  # the discretised serial interval used
    window: int


def estimate_rt(
    local: F64 | I64,
    imported: F64 | I64 | None = None,
    *,
    si_mean: float | None = None,
    si_sd: float | None = None,
    si: F64 | None = None,
    window: int = WINDOW,
    prior_mean: float = PRIOR_MEAN,
    prior_sd: float = PRIOR_SD,
    cv_threshold: float = CV_THRESHOLD,
) -> RtEstimate:
    """Cori's Rt for every region (row) and day (column) of ``local`` (and ``imported``, same shape). Give the
    serial interval as ``si_mean`` and ``si_sd`` (discretised by :func:`discretise_si`) or as a distribution
    ``si`` over days 0, 1, ... (``si[0]`` is ignored, as in EpiEstim)."""
    loc = np.atleast_2d(np.asarray(local, np.float64))
    imp = np.zeros_like(loc) if imported is None else np.atleast_2d(np.asarray(imported, np.float64))
    if imp.shape != loc.shape:
        raise ValueError(f"local {loc.shape} and imported {imp.shape} incidence must have the same shape")
    if (loc < 0).any() or (imp < 0).any():
        raise ValueError("incidence must not be negative")
    if window < 1:
        raise ValueError(f"the window must be at least one day, got {window}")
    if si is None:
        if si_mean is None or si_sd is None:
            raise ValueError("give the serial interval: si_mean and si_sd, or si")
        si = discretise_si(si_mean, si_sd)
    w = np.asarray(si, np.float64).copy()
    w[0] = 0.0
    a = (prior_mean / prior_sd) ** 2
    b = prior_sd**2 / prior_mean
    lam = infectiousness(loc + imp, w)
    shape = a + window_sums(loc, window)
    scale = 1.0 / (1.0 / b + window_sums(lam, window))
    days = loc.shape[1]
    shape[:, : min(window, days)] = np.nan  # the first window starts on day 1
    scale[:, : min(window, days)] = np.nan
    q = gamma_quantiles(shape, scale, QUANTILES)
    cv = 1.0 / np.sqrt(shape)
    with np.errstate(invalid="ignore"):
        warning = ~(cv <= cv_threshold)
    return RtEstimate(
        shape=shape,
        scale=scale,
        mean=shape * scale,
        sd=np.sqrt(shape) * scale,
        q025=q[0],
        median=q[1],
        q975=q[2],
        cv=cv,
        warning=warning,
        si=w,
        window=window,
    )


# --- nowcast --------------------------------------------------------------------------------------------


def delay_counts(event_day: I64, report_day: I64, now: int, max_delay: int = 21) -> F64:
    """How many cases were reported ``d`` days after their event day, ``d = 0 .. max_delay``, among the cases
    whose event day is at most ``now - max_delay`` and that were reported by ``now`` (complete cohorts; delays
    beyond ``max_delay`` count as ``max_delay``)."""
    event_day = np.asarray(event_day, np.int64)
    report_day = np.asarray(report_day, np.int64)
    if (report_day < event_day).any():
        raise ValueError("a case cannot be reported before its event day")
    done = (event_day <= now - max_delay) & (report_day <= now)
    delay = np.minimum(report_day[done] - event_day[done], max_delay)
    out: F64 = np.bincount(delay, minlength=max_delay + 1).astype(np.float64)
    return out


def delay_distribution(event_day: I64, report_day: I64, now: int, max_delay: int = 21) -> F64:
    """The reporting delay's distribution ``P(delay = d)``, ``d = 0 .. max_delay``, from complete cohorts
    (:func:`delay_counts`). Uniform if there are no such cases."""
    counts = delay_counts(event_day, report_day, now, max_delay)
    if counts.sum() == 0:
        return np.full(max_delay + 1, 1.0 / (max_delay + 1))
    out: F64 = counts / counts.sum()
    return out


@dataclass(frozen=True)
class Nowcast:
    """Incidence by event day for days ``0 .. now`` per region: what is reported by ``now`` and the nowcast
    with its 90 % band (equal to the reported counts where all cases are in; NaN where none can be yet)."""

    reported: F64  # regions x days
    estimate: F64
    lower: F64
    upper: F64
    median: F64  # the posterior median of the true count (what Rt on the nowcast uses)
    completeness: F64  # F(now - t) per day: the share of a day's cases expected to be reported by now
    delay: F64  # the delay distribution used


def nowcast(
    region: I64,
    event_day: I64,
    report_day: I64,
    now: int,
    n_regions: int,
    *,
    delay: F64 | None = None,
    max_delay: int = 21,
    band: tuple[float, float] = NOWCAST_BAND,
    min_completeness: float = MIN_COMPLETENESS,
) -> Nowcast:
    """The nowcast of every region's incidence by event day from a line list (one entry per case: region
    index, event day and report day; cases reported after ``now`` are not seen).

    Unless a delay distribution is given (and then taken as known), it is estimated from the line list's
    complete cohorts (:func:`delay_counts`, all regions together), and its uncertainty is carried into the band:
    with ``k`` of the ``n`` cohort cases reported within ``d`` days, ``F(d) ~ Beta(k + 1/2, n - k + 1/2)``
    (Jeffreys prior), so the cases still to come follow a beta-negative-binomial distribution instead of the
    negative binomial. A day with less than ``min_completeness`` of its cases expected to be in gets no
    nowcast (NaN): its count says next to nothing and the band would rest on the prior."""
    region = np.asarray(region, np.int64)
    event_day = np.asarray(event_day, np.int64)
    report_day = np.asarray(report_day, np.int64)
    counts: F64 | None = None
    if delay is None:
        counts = delay_counts(event_day, report_day, now, max_delay)
        delay = counts / counts.sum() if counts.sum() else np.full(max_delay + 1, 1.0 / (max_delay + 1))
    days = now + 1
    seen = (report_day <= now) & (event_day >= 0)
    reported = np.zeros((n_regions, days))
    np.add.at(reported, (region[seen], event_day[seen]), 1.0)
    cdf = np.cumsum(delay)
    cdf = np.where(cdf >= cdf[-1] - 1e-12, 1.0, cdf / cdf[-1])
    age = now - np.arange(days)
    inside = age < len(cdf)
    index = np.minimum(age, len(cdf) - 1)
    completeness = np.where(inside, cdf[index], 1.0)
    f = np.broadcast_to(completeness, reported.shape)
    complete = f >= 1.0
    partial = (f >= min_completeness) & (f > 0) & ~complete
    estimate = np.full(reported.shape, np.nan)
    lower = np.full(reported.shape, np.nan)
    upper = np.full(reported.shape, np.nan)
    median = np.full(reported.shape, np.nan)
    for arr in (estimate, lower, upper, median):
        arr[complete] = reported[complete]
    n, p = reported[partial], f[partial]
    estimate[partial] = n / p
    if counts is None or counts.sum() == 0:
        lower[partial] = n + _nbinom_ppf(band[0], n + 1, p)
        upper[partial] = n + _nbinom_ppf(band[1], n + 1, p)
        median[partial] = n + _nbinom_ppf(0.5, n + 1, p)
    else:
        within = np.cumsum(counts)[index]
        k = np.broadcast_to(within, reported.shape)[partial]
        alpha, beta = k + 0.5, counts.sum() - k + 0.5
        lower[partial] = n + np.asarray(stats.betanbinom.ppf(band[0], n + 1, alpha, beta), np.float64)
        upper[partial] = n + np.asarray(stats.betanbinom.ppf(band[1], n + 1, alpha, beta), np.float64)
        median[partial] = n + np.asarray(stats.betanbinom.ppf(0.5, n + 1, alpha, beta), np.float64)
    return Nowcast(reported, estimate, lower, upper, median, np.asarray(completeness, np.float64), delay)


def _nbinom_ppf(q: float, n: F64, p: F64) -> F64:
    """Quantile of the number of failures before the ``n``-th success (success probability ``p``)."""
    out: F64 = np.asarray(stats.nbinom.ppf(q, n, p), np.float64)
    return out


__all__ = [
    "CV_THRESHOLD",
    "MIN_COMPLETENESS",
    "PRIOR_MEAN",
    "PRIOR_SD",
    "QUANTILES",
    "WINDOW",
    "Nowcast",
    "RtEstimate",
    "delay_counts",
    "delay_distribution",
    "discretise_si",
    "estimate_rt",
    "gamma_quantiles",
    "infectiousness",
    "nowcast",
    "profile_interval",
    "window_sums",
]
