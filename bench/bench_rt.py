"""Rt with credible intervals for many regions: ``cordon.engine.rt.estimate_rt`` (vectorised over regions)
against a straightforward per-region numpy implementation, side by side on the same data.

The data: 3,000 regions x 365 days of local and imported incidence from a renewal process (each region's R
drifts on the log scale, pulled back towards 1; imports arrive at a low daily rate; at most 500 expected
cases a day), serial interval mean 4.8 d and
sd 2.3 d. Both implementations compute the posterior (shape, scale), mean, sd, 2.5/50/97.5 % quantiles and the
CV for 7-day windows; their results must agree to 1e-9 (relative).

The straightforward one, per region: ``np.convolve`` for the infectiousness, ``np.convolve`` with a window of
ones for the window sums, ``scipy.special.gammaincinv`` for every quantile. The vectorised one: shift-and-add
over the serial-interval days for all regions at once, window sums from cumulative sums, and the inverse
incomplete gamma once per distinct posterior shape.

    .venv/bin/python bench/bench_rt.py            # 3,000 x 365, best of 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import numpy as np
from scipy import special

from cordon.engine import rt


def renewal(regions: int, days: int, si: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    log_r = np.log(rng.uniform(0.7, 1.6, regions))
    local = np.zeros((regions, days))
    imported = rng.poisson(0.3, size=(regions, days)).astype(np.float64)
    for t in range(days):
        log_r = np.clip(0.97 * log_r + rng.normal(0, 0.05, regions), np.log(0.3), np.log(2.5))
        k = min(t, len(si) - 1)
        lam = (local[:, t - k : t][:, ::-1] + imported[:, t - k : t][:, ::-1]) @ si[1 : k + 1] if k else 0.0
        local[:, t] = rng.poisson(np.minimum(np.exp(log_r) * lam, 500))
    return local, imported


def straightforward(
    local: np.ndarray, imported: np.ndarray, si: np.ndarray, window: int = 7
) -> dict[str, np.ndarray]:
    """Region by region, as one would write it first."""
    a0, b0 = 1.0, 5.0
    regions, days = local.shape
    out = {
        k: np.full((regions, days), np.nan)
        for k in ("shape", "scale", "mean", "sd", "q025", "median", "q975", "cv")
    }
    w = si.copy()
    w[0] = 0.0
    ones = np.ones(window)
    for r in range(regions):
        lam = np.convolve(local[r] + imported[r], w)[:days]
        sum_i = np.convolve(local[r], ones)[:days]
        sum_lam = np.convolve(lam, ones)[:days]
        shape = a0 + sum_i[window:]
        scale = 1.0 / (1.0 / b0 + sum_lam[window:])
        out["shape"][r, window:] = shape
        out["scale"][r, window:] = scale
        out["mean"][r, window:] = shape * scale
        out["sd"][r, window:] = np.sqrt(shape) * scale
        out["cv"][r, window:] = 1 / np.sqrt(shape)
        for key, p in (("q025", 0.025), ("median", 0.5), ("q975", 0.975)):
            out[key][r, window:] = special.gammaincinv(shape, p) * scale
    return out


def best_of(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regions", type=int, default=3000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    si = rt.discretise_si(4.8, 2.3)
    local, imported = renewal(args.regions, args.days, si, seed=1)
    fast = rt.estimate_rt(local, imported, si=si)
    slow = straightforward(local, imported, si)
    worst = 0.0
    for key, ref in slow.items():
        got = getattr(fast, key)
        assert np.array_equal(np.isnan(got), np.isnan(ref)), key
        ok = ~np.isnan(ref)
        rel = np.abs(got[ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), 1e-300)
        worst = max(worst, float(rel.max()))
    assert worst <= 1e-9, f"results differ by {worst:.2e}"
    t_fast = best_of(lambda: rt.estimate_rt(local, imported, si=si), args.repeat)
    t_slow = best_of(lambda: straightforward(local, imported, si), max(1, args.repeat // 2))
    load = os.getloadavg()
    cells = args.regions * args.days
    distinct = len(np.unique(fast.shape[~np.isnan(fast.shape)]))
    print(f"### Rt with credible intervals ({args.regions:,} regions x {args.days} days)\n")
    print(
        f"{dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; `bench/bench_rt.py`, best of "
        f"{args.repeat} (straightforward: best of {max(1, args.repeat // 2)}). "
        f"{int(local.sum()):,} local cases; {distinct:,} distinct posterior shapes.\n"
    )
    print("| implementation | time | cells/s |")
    print("|---|---:|---:|")
    print(f"| `engine.rt.estimate_rt` (vectorised) | {t_fast:.3f} s | {cells / t_fast:,.0f} |")
    print(f"| straightforward per-region numpy | {t_slow:.3f} s | {cells / t_slow:,.0f} |")
    print(f"\nSpeed-up {t_slow / t_fast:.1f}x; largest relative difference of any output {worst:.1e}.")


if __name__ == "__main__":
    main()
