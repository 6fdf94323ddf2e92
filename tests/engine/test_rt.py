"""Rt (Cori's method as in EpiEstim) and the nowcast: the posterior against a brute-force one (the likelihood
times the prior integrated numerically, no gamma functions) on random series (hypothesis), the serial interval
and the posterior against values worked out by hand from the published formulas, the CV warning, imported
cases as sources only, and the nowcast's delay distribution and band."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine import rt
from cordon.engine.sim import load_profile

# --- a brute-force posterior ----------------------------------------------------------------------------


def brute_force(
    local: Sequence[float], imported: Sequence[float], si: Sequence[float], t: int, window: int
) -> dict[str, float]:
    """The posterior of R for the window ending on day ``t``, straight from its definition: prior density
    ``exp(-R / 5)`` (gamma, mean 5 and sd 5) times the Poisson likelihood ``prod (R L_s)^I_s exp(-R L_s)`` over
    the window, with ``L_s = sum_k (local + imported)_{s-k} si_k`` summed by hand, normalised and integrated
    on a fine grid of log R."""
    total = [a + b for a, b in zip(local, imported, strict=True)]
    lam = [sum(total[s - k] * si[k] for k in range(1, len(si)) if s - k >= 0) for s in range(len(total))]
    days = range(t - window + 1, t + 1)
    u = np.linspace(-25.0, 9.0, 400_001)  # log R
    r = np.exp(u)
    log_post = -r / 5.0
    for s in days:
        log_post = log_post + local[s] * np.log(r) - r * lam[s]
    log_post += u  # dR = R du
    dens = np.exp(log_post - log_post.max())
    du = u[1] - u[0]
    cum = np.concatenate(([0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * du)))
    z = cum[-1]
    mean = float(np.trapezoid(dens * r, u) / z)
    var = float(np.trapezoid(dens * (r - mean) ** 2, u) / z)
    q = {p: float(np.exp(np.interp(p * z, cum, u))) for p in (0.025, 0.5, 0.975)}
    return {"mean": mean, "sd": math.sqrt(var), "q025": q[0.025], "median": q[0.5], "q975": q[0.975]}


@st.composite
def series(draw: Any) -> tuple[list[list[int]], list[list[int]], list[float]]:
    days = draw(st.integers(8, 30))
    regions = draw(st.integers(1, 3))
    counts = st.integers(0, 60)
    local = [[draw(counts) for _ in range(days)] for _ in range(regions)]
    imported = [[draw(st.integers(0, 5)) for _ in range(days)] for _ in range(regions)]
    raw = [0.0] + [draw(st.floats(0.0, 1.0)) for _ in range(draw(st.integers(1, 8)))]
    if sum(raw) == 0:
        raw[1] = 1.0
    return local, imported, [x / sum(raw) for x in raw]


@settings(max_examples=40, deadline=None)
@given(series())
def test_the_posterior_is_the_brute_force_one(
    data: tuple[list[list[int]], list[list[int]], list[float]],
) -> None:
    local, imported, si = data
    est = rt.estimate_rt(np.array(local), np.array(imported), si=np.array(si))
    days = len(local[0])
    assert np.isnan(est.mean[:, :7]).all()  # the first window starts on day 1, as in EpiEstim
    for r in range(len(local)):
        for t in sorted({7, min(days // 2 + 4, days - 1), days - 1}):
            ref = brute_force(local[r], imported[r], si, t, 7)
            for key in ("mean", "sd", "q025", "median", "q975"):
                got = float(getattr(est, key)[r, t])
                assert got == pytest.approx(ref[key], rel=2e-4, abs=1e-9), (key, r, t)


@settings(max_examples=25, deadline=None)
@given(series())
def test_regions_are_independent_rows(data: tuple[list[list[int]], list[list[int]], list[float]]) -> None:
    local, imported, si = data
    together = rt.estimate_rt(np.array(local), np.array(imported), si=np.array(si))
    for r in range(len(local)):
        alone = rt.estimate_rt(np.array([local[r]]), np.array([imported[r]]), si=np.array(si))
        for key in ("mean", "sd", "q025", "median", "q975", "cv"):
            np.testing.assert_allclose(getattr(together, key)[r], getattr(alone, key)[0], rtol=1e-12)


# --- EpiEstim's formulas, by hand ------------------------------------------------------------------------


def test_discr_si_matches_the_published_formula_by_hand() -> None:
    """mu = 2, sigma = 1 gives a = 1, b = 1: 1 + an exponential. From discr_si's formula
    w_1 = F(1; 1) - F(1; 2) = e^-1 and w_2 = 2F(2;1) - 2F(1;1) + 2F(1;2) - F(2;2) = (1 - e^-1)^2."""
    w = rt.discretise_si(2.0, 1.0)
    e = math.exp(-1)
    assert w[0] == 0
    assert w[1] == pytest.approx(e, rel=1e-9)
    assert w[2] == pytest.approx((1 - e) ** 2, rel=1e-9)
    # In general w_k = (1 - e^-1)^2 e^-(k-2) for k >= 2 (the linear interpolation of a shifted exponential).
    for k in range(3, 10):
        assert w[k] == pytest.approx((1 - e) ** 2 * math.exp(-(k - 2)), rel=1e-9)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("mean", "sd"), [(2.6, 1.5), (4.8, 2.3), (8.4, 3.8), (15.0, 10.0)])
def test_discr_si_keeps_the_mean(mean: float, sd: float) -> None:
    """The triangular discretisation keeps the continuous mean (Cori et al. 2013, Web Appendix 11)."""
    w = rt.discretise_si(mean, sd)
    k = np.arange(len(w))
    assert float(np.sum(k * w)) == pytest.approx(mean, rel=1e-8)
    assert (w >= 0).all()


def test_the_posterior_matches_coris_formulas_by_hand() -> None:
    """Incidence 0, 2, 4, ..., 2k with w = (0, 0.5, 0.5): Lambda_t = (I_{t-1} + I_{t-2}) / 2, so over the window
    of days 1..7: sum I = 2+...+14 = 56 and sum Lambda = (0+2+...+12)/2 + (0+0+2+...+10)/2 = 21 + 15 = 36;
    posterior Gamma(1 + 56, 1/(1/5 + 36)): mean 57/36.2, sd sqrt(57)/36.2, CV 1/sqrt(57)."""
    incidence = np.arange(8) * 2
    est = rt.estimate_rt(incidence, si=np.array([0.0, 0.5, 0.5]))
    assert est.shape[0, 7] == 57
    assert est.scale[0, 7] == pytest.approx(1 / 36.2, rel=1e-12)
    assert est.mean[0, 7] == pytest.approx(57 / 36.2, rel=1e-12)
    assert est.sd[0, 7] == pytest.approx(math.sqrt(57) / 36.2, rel=1e-12)
    assert est.cv[0, 7] == pytest.approx(1 / math.sqrt(57), rel=1e-12)
    assert est.q025[0, 7] < est.median[0, 7] < est.mean[0, 7] < est.q975[0, 7]


def test_a_gamma_serial_interval_is_discretised_before_use() -> None:
    incidence = np.full((2, 40), 10)
    by_moments = rt.estimate_rt(incidence, si_mean=4.8, si_sd=2.3)
    by_pmf = rt.estimate_rt(incidence, si=rt.discretise_si(4.8, 2.3))
    np.testing.assert_array_equal(by_moments.mean, by_pmf.mean)
    # A constant incidence has R near 1 once the serial interval is filled.
    assert by_moments.mean[0, -1] == pytest.approx(1.0, rel=0.02)


# --- the CV warning and imported cases -----------------------------------------------------------------


def test_the_cv_warning_is_raised_below_eleven_cases_in_the_window() -> None:
    """CV = 1 / sqrt(1 + sum I) > 0.3 exactly when the window holds 10 or fewer local cases."""
    ten = np.zeros(20)
    ten[10:15] = 2  # 10 cases in the window ending on day 15
    eleven = ten.copy()
    eleven[14] = 3
    a = rt.estimate_rt(ten, si_mean=3.0, si_sd=1.5)
    b = rt.estimate_rt(eleven, si_mean=3.0, si_sd=1.5)
    assert a.cv[0, 15] == pytest.approx(1 / math.sqrt(11)) and a.warning[0, 15]
    assert b.cv[0, 15] == pytest.approx(1 / math.sqrt(12)) and not b.warning[0, 15]
    assert a.warning[0, :7].all()  # no estimate is no usable estimate


def test_imported_cases_are_sources_only() -> None:
    local = np.zeros(30)
    imported = np.zeros(30)
    imported[10] = 50
    only_imported = rt.estimate_rt(local, imported, si_mean=3.0, si_sd=1.5)
    # No local case: the shape stays the prior's, while the infectiousness they bring lowers R.
    assert (only_imported.shape[0, 7:] == 1).all()
    assert only_imported.mean[0, 14] < 0.1
    local[12:15] = 20
    with_imports = rt.estimate_rt(local, imported, si_mean=3.0, si_sd=1.5)
    as_local = rt.estimate_rt(local + imported, si_mean=3.0, si_sd=1.5)
    assert with_imports.shape[0, 16] == 61  # the 50 imported cases are not in the numerator
    assert as_local.shape[0, 16] == 111
    np.testing.assert_allclose(with_imports.scale, as_local.scale)  # but they are sources alike


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        rt.estimate_rt(np.array([1, -1, 2]), si_mean=3.0, si_sd=1.0)
    with pytest.raises(ValueError, match="same shape"):
        rt.estimate_rt(np.zeros((2, 9)), np.zeros((1, 9)), si_mean=3.0, si_sd=1.0)
    with pytest.raises(ValueError, match="serial interval"):
        rt.estimate_rt(np.zeros(9))
    with pytest.raises(ValueError, match="above 1"):
        rt.discretise_si(0.8, 1.0)


# --- the nowcast ------------------------------------------------------------------------------------------


def test_the_delay_distribution_uses_complete_cohorts_only() -> None:
    rng = np.random.default_rng(3)
    event = rng.integers(0, 100, 20_000)
    delay = rng.choice(4, size=len(event), p=[0.1, 0.4, 0.3, 0.2])
    report = event + delay
    got = rt.delay_distribution(event, report, now=99, max_delay=10)
    np.testing.assert_allclose(got[:4], [0.1, 0.4, 0.3, 0.2], atol=0.015)
    assert got[4:].sum() == 0
    # The naive share among everything reported by now would be biased towards short delays.
    seen = report <= 99
    naive = np.bincount(report[seen] - event[seen], minlength=4) / seen.sum()
    assert naive[3] < got[3]


def test_the_nowcast_band_is_the_brute_force_posterior_of_the_true_count() -> None:
    """N reported of X true with probability F each, flat prior on X: P(X | N) is proportional to
    C(X, N) F^N (1 - F)^(X - N); its 5 % and 95 % quantiles, summed over X by hand, are the band."""
    delay = np.array([0.0, 0.25, 0.35, 0.4])  # known: the band is negative binomial
    region = np.array([0] * 6 + [1] * 3)
    event = np.array([8, 8, 8, 9, 9, 10, 8, 9, 9])
    report = event + np.array([1, 2, 3, 1, 2, 0, 3, 1, 2])
    report[5] = 11
    nc = rt.nowcast(region, event, report, now=10, n_regions=2, delay=delay)
    assert nc.completeness[10] == 0 and np.isnan(nc.estimate[:, 10]).all()
    for r in range(2):
        for d in (8, 9):
            n = int(nc.reported[r, d])
            f = float(nc.completeness[d])
            xs = np.arange(n, n + 400)
            w = np.array([math.comb(int(x), n) * f**n * (1 - f) ** (int(x) - n) for x in xs])
            cdf = np.cumsum(w / w.sum())
            assert nc.lower[r, d] == xs[np.searchsorted(cdf, 0.05 - 1e-12)]
            assert nc.upper[r, d] == xs[np.searchsorted(cdf, 0.95 - 1e-12)]
            assert nc.median[r, d] == xs[np.searchsorted(cdf, 0.5 - 1e-12)]
            assert nc.estimate[r, d] == pytest.approx(n / f)
    # Days whose cases are all in (F = 1) are the reported counts.
    assert nc.completeness[:8].min() == 1.0
    np.testing.assert_array_equal(nc.estimate[:, :8], nc.reported[:, :8])
    np.testing.assert_array_equal(nc.median[:, :8], nc.reported[:, :8])


def test_the_nowcast_band_covers_thinned_counts() -> None:
    """True counts thinned by a known completeness: the 90 % band covers the truth about 90 % of the time."""
    rng = np.random.default_rng(7)
    true = rng.poisson(40, size=(400, 1))
    f = 0.4
    seen = rng.binomial(true, f)
    region = np.repeat(np.arange(400), seen[:, 0])
    event = np.full(len(region), 5)
    report = np.full(len(region), 6)
    delay = np.array([0.0, f, 1 - f])
    nc = rt.nowcast(region, event, report, now=6, n_regions=400, delay=delay)
    covered = (nc.lower[:, 5] <= true[:, 0]) & (true[:, 0] <= nc.upper[:, 5])
    assert 0.84 <= covered.mean() <= 0.96


def test_an_estimated_delay_widens_the_band_and_too_early_days_get_none() -> None:
    """With the delay distribution estimated from few cohort cases the band carries its sampling error
    (beta-negative-binomial), so it is at least as wide as with the same distribution taken as known; a day
    with less than 5 % of its cases expected in gets no nowcast."""
    rng = np.random.default_rng(5)
    event = rng.integers(0, 40, 300)
    report = event + rng.choice(6, size=len(event), p=[0.02, 0.08, 0.3, 0.3, 0.2, 0.1])
    estimated = rt.nowcast(np.zeros(len(event), np.int64), event, report, now=39, n_regions=1, max_delay=10)
    known = rt.nowcast(
        np.zeros(len(event), np.int64),
        event,
        report,
        now=39,
        n_regions=1,
        delay=estimated.delay,
        max_delay=10,
    )
    partial = np.isfinite(estimated.lower[0]) & (estimated.completeness < 1)
    assert partial.any()
    assert (estimated.lower[0][partial] <= known.lower[0][partial]).all()
    assert (estimated.upper[0][partial] >= known.upper[0][partial]).all()
    assert ((estimated.upper - estimated.lower)[0][partial] > (known.upper - known.lower)[0][partial]).any()
    early = estimated.completeness < rt.MIN_COMPLETENESS
    assert early[-1] and np.isnan(estimated.estimate[0][early]).all()
    np.testing.assert_allclose(estimated.delay.sum(), 1.0)


def test_long_series_and_fractional_counts_take_the_other_paths() -> None:
    """Series longer than the banded matrix is built for use shift-and-add; nowcast-corrected (fractional)
    incidence gives fractional posterior shapes, whose quantiles are computed per distinct shape."""
    rng = np.random.default_rng(2)
    si = rt.discretise_si(4.8, 2.3)
    long = rng.poisson(20, size=(2, 1600)).astype(np.float64)
    expected = np.array([np.convolve(row, si)[:1600] for row in long])
    np.testing.assert_allclose(rt.infectiousness(long, si), expected, rtol=1e-12)
    short = long[:, :300]
    np.testing.assert_allclose(rt.infectiousness(short, si), expected[:, :300], rtol=1e-12)
    local = [float(x) + 0.37 for x in rng.poisson(8, 20)]
    imported = [0.0] * 20
    est = rt.estimate_rt(np.array([local]), si=si)
    ref = brute_force(local, imported, [float(x) for x in si], 19, 7)
    for key in ("mean", "q025", "median", "q975"):
        assert float(getattr(est, key)[0, 19]) == pytest.approx(ref[key], rel=2e-4)


def test_the_profile_gives_the_serial_interval() -> None:
    """A profile's interval is its generation interval's mean and sd; Omicron's is shorter than the ancestral
    strain's, and both are usable by the discretisation."""
    omicron = rt.profile_interval(load_profile("covid19-omicron"))
    ancestral = rt.profile_interval(load_profile("sars-cov-2-ancestral"))
    assert 2.5 < omicron[0] < ancestral[0] < 9
    for mean, sd in (omicron, ancestral):
        w = rt.discretise_si(mean, sd)
        assert float(np.sum(np.arange(len(w)) * w)) == pytest.approx(mean, rel=1e-8)
