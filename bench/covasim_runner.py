"""Covasim 3.1.6 side of the simulator benchmark: one hybrid-population sim, timed, one JSON line out.

Run with the python of the throwaway venv that ``bench/_covasim_env.py`` builds (never with Cordon's own):

    python3 bench/_covasim_env.py VENV_DIR    # builds the venv once, prints its python
    VENV_DIR/bin/python bench/covasim_runner.py --pop 1000000 --days 120 --r0 2.5

The sim: ``pop_type='hybrid'`` (household, school, work and community layers, the closest to Cordon's city),
``pop_size=--pop``, ``n_days=--days``, ``rand_seed=--seed``, ``pop_infected=--pop-infected``, Covasim's
defaults for everything else (static layers, waning immunity, single-threaded numba), no interventions, and
``beta`` chosen for ``--r0`` as below. Stdout gets exactly one JSON object; everything else goes to stderr.

Timings: ``init_seconds`` is ``sim.initialize()`` (making the people and their contact layers);
``run_seconds`` is ``sim.run()``. Importing Covasim (which loads or compiles its numba kernels) is reported on
stderr only. Memory: ``baseline_rss_bytes`` is the resident set after importing Covasim, before the sim is
built; ``peak_rss_bytes`` is ``ru_maxrss`` right after the run (before any analysis); ``bytes_per_agent`` is
their difference over ``--pop``. ``early_growth_rate_per_day`` is the slope of a least-squares line through
log(daily new infections) from the first day cumulative infections exceed 500 to the first day they exceed
3% of the population (to the last day if they never do). Covasim counts reinfections in ``cum_infections``.

How beta is chosen (method: a fixed empirical calibration, measured, not derived)
------------------------------------------------------------------------------------
Covasim's ``beta`` is a per-contact, per-day transmission probability multiplied by layer weights
(h 3.0, s 0.6, w 0.6, c 0.3), individual over-dispersed infectiousness, reduced asymptomatic infectiousness
and age-dependent susceptibility, on *static* layers (households and classrooms saturate). A closed-form R0
from those parameters would have to model that saturation (and the static, clustered contacts), so the mapping
was measured on the sim itself instead, from the early growth rate and the generation interval (Euler-Lotka,
the same relation Cordon's profiles use between R0 and growth):

1. Run hybrid sims of 200,000 agents, ``pop_infected=100``, seeds 1-5 (1-10 where noted), for each beta
   below, until 30 days after cumulative infections pass 1% of the population.
2. r = the early growth rate defined above (cumulative infections 500 -> 3% of the population).
3. From Covasim's ``infection_log``, take the cohort first infected while cumulative infections were between
   500 and 1% of the population (seed infections excluded), and follow it to the end of its transmission,
   counting a source's secondary infections only until its own reinfection, if any. g(t) = the distribution
   of its generation intervals (days from a source's infection to each of its secondary infections).
   R_EL = 1 / sum_t g(t) exp(-r t) (discrete Euler-Lotka) is the R that the early growth implies;
   R_direct = the cohort's mean number of secondary infections is an independent check.
4. ``--r0`` is turned into beta by linear interpolation of R_EL (mean over seeds) in the table; outside the
   table the script refuses rather than extrapolate.

Measured (Covasim 3.1.6, numpy 1.26.4, numba 0.59.1; mean +- one standard deviation across seeds), with
this script's own ``early_window``, ``growth_rate`` and ``early_r`` on sims advanced with ``sim.step()``.
R_EL and R_direct agree to within 0.05, the generation interval hardly depends on beta, and R rises less than
linearly with beta as households saturate. R0 = 2.5 lands at beta ~= 0.0166, a little above Covasim's default
of 0.016 (R ~= 2.4 here). Counting a source's secondary cases past its own reinfection (Covasim's waning
immunity lets people be reinfected within two to three weeks) would inflate R by about 0.1.

    beta    growth r/day     R_EL           R_direct       mean generation interval (days)
    0.008   0.035 +- 0.002   1.32 +- 0.02   1.31 +- 0.03   8.3
    0.010   0.064 +- 0.004   1.63 +- 0.05   1.65 +- 0.08   8.1
    0.012   0.083 +- 0.005   1.86 +- 0.06   1.87 +- 0.04   8.1
    0.013   0.092 +- 0.005   1.96 +- 0.05   2.00 +- 0.09   7.9
    0.014   0.105 +- 0.003   2.16 +- 0.06   2.18 +- 0.05   8.0
    0.015   0.115 +- 0.004   2.28 +- 0.06   2.25 +- 0.06   7.9   (10 seeds)
    0.0155  0.119 +- 0.005   2.34 +- 0.06   2.31 +- 0.09   7.9
    0.016   0.124 +- 0.006   2.43 +- 0.09   2.42 +- 0.11   8.0   (10 seeds)
    0.017   0.132 +- 0.004   2.55 +- 0.06   2.55 +- 0.08   8.0   (10 seeds)
    0.018   0.136 +- 0.005   2.61 +- 0.09   2.62 +- 0.09   7.9
    0.020   0.148 +- 0.004   2.79 +- 0.11   2.82 +- 0.15   7.8
    0.022   0.162 +- 0.010   3.01 +- 0.17   3.06 +- 0.09   7.7
    0.025   0.183 +- 0.004   3.43 +- 0.10   3.40 +- 0.10   7.7

The same measurements are printed on stderr after every run (``early R (Euler-Lotka)``, ``early R (direct
count)``) so a run can be checked against its target, and ``--beta`` skips the table (``r0_target`` is then
null) for re-measuring it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import time
from typing import Any

os.environ["COVASIM_VERBOSE"] = "0"  # no licence banner on stdout at import

# (beta, R_EL mean over the seeds): the calibration table in the docstring.
BETA_TO_R0: tuple[tuple[float, float], ...] = (
    (0.008, 1.32),
    (0.010, 1.63),
    (0.012, 1.86),
    (0.013, 1.96),
    (0.014, 2.16),
    (0.015, 2.28),
    (0.0155, 2.34),
    (0.016, 2.43),
    (0.017, 2.55),
    (0.018, 2.61),
    (0.020, 2.79),
    (0.022, 3.01),
    (0.025, 3.43),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def current_rss_bytes() -> int:
    """Resident set size now (Linux /proc), falling back to the peak so far elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def beta_for_r0(r0: float) -> float:
    pairs = sorted(BETA_TO_R0, key=lambda p: p[1])
    lo_r, hi_r = pairs[0][1], pairs[-1][1]
    if not lo_r <= r0 <= hi_r:
        raise ValueError(f"--r0 {r0} is outside the calibrated range {lo_r:.2f}..{hi_r:.2f}; pass --beta")
    for (b0, r_0), (b1, r_1) in itertools.pairwise(pairs):
        if r_0 <= r0 <= r_1:
            return b0 + (b1 - b0) * (r0 - r_0) / (r_1 - r_0) if r_1 > r_0 else b0
    raise AssertionError("unreachable")


def early_window(cum: Any, pop: int) -> tuple[int, int, bool]:
    """First day cumulative infections exceed 500, first day they exceed 3% of pop (or the last day)."""
    import numpy as np

    over_500 = np.flatnonzero(cum > 500)
    if len(over_500) == 0:
        raise ValueError("cumulative infections never exceeded 500")
    over_3pct = np.flatnonzero(cum > 0.03 * pop)
    if len(over_3pct):
        return int(over_500[0]), int(over_3pct[0]), True
    return int(over_500[0]), len(cum) - 1, False


def growth_rate(new: Any, t0: int, t1: int) -> float:
    import numpy as np

    days = np.arange(t0, t1 + 1)
    daily = new[t0 : t1 + 1].astype(float)
    ok = daily > 0
    if ok.sum() < 3:
        raise ValueError("fewer than 3 days with new infections in the early window")
    return float(np.polyfit(days[ok], np.log(daily[ok]), 1)[0])


def early_r(sim: Any, cum: Any, t0: int, r: float) -> tuple[float, float, float, int] | None:
    """(R by Euler-Lotka, R by direct count, mean generation interval, cohort size) for the cohort first
    infected while cumulative infections were between 500 and 1% of pop; None if there is no such cohort."""
    import numpy as np

    pop = len(sim.people)
    over_1pct = np.flatnonzero(cum > 0.01 * pop)
    if len(over_1pct) == 0:
        return None
    t_1pct = int(over_1pct[0])
    if len(cum) - 1 < t_1pct + 25:
        log(f"  note: the run ends {len(cum) - 1 - t_1pct} days after 1% infected; the early R is cut short")
    entries = sim.people.infection_log
    source = np.array([-1 if e["source"] is None else e["source"] for e in entries], dtype=np.int64)
    target = np.array([e["target"] for e in entries], dtype=np.int64)
    date = np.array([e["date"] for e in entries], dtype=np.int64)
    return cohort_r(source, target, date, pop, t0, t_1pct, r)


def cohort_r(
    source: Any, target: Any, date: Any, pop: int, t0: int, t1: int, r: float
) -> tuple[float, float, float, int] | None:
    """Early R of the people whose first infection (not a seed) fell on days t0..t1, from an infection log
    (source -1 for seeds). Covasim has waning immunity, so a person can be infected again; secondary cases
    count only up to a source's second infection, and intervals run from its first."""
    import numpy as np

    order = np.lexsort((date, target))  # by person, then by day
    tgt, day, src = target[order], date[order], source[order]
    is_first = np.ones(len(tgt), dtype=bool)
    is_first[1:] = tgt[1:] != tgt[:-1]
    is_second = np.zeros(len(tgt), dtype=bool)
    is_second[1:] = ~is_first[1:] & is_first[:-1]
    first_day = np.full(pop, -1, dtype=np.int64)
    first_day[tgt[is_first]] = day[is_first]
    second_day = np.full(pop, np.iinfo(np.int64).max, dtype=np.int64)
    second_day[tgt[is_second]] = day[is_second]
    in_cohort = np.zeros(pop, dtype=bool)
    in_cohort[tgt[is_first & (src >= 0) & (day >= t0) & (day <= t1)]] = True
    n_cohort = int(in_cohort.sum())
    if n_cohort == 0:
        return None
    s = np.maximum(source, 0)
    from_cohort = (source >= 0) & in_cohort[s] & (date < second_day[s])
    intervals = date[from_cohort] - first_day[source[from_cohort]]
    if len(intervals) == 0:
        return None
    g = np.bincount(intervals) / len(intervals)
    r_el = float(1.0 / np.sum(g * np.exp(-r * np.arange(len(g)))))
    return r_el, float(len(intervals) / n_cohort), float(intervals.mean()), n_cohort


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pop", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--r0", type=float, default=2.5, help="target early R (see the calibration table)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pop-infected", type=int, default=100)
    parser.add_argument("--beta", type=float, default=None, help="use this beta instead of the table")
    args = parser.parse_args()
    if args.pop < 1000 or args.days < 1 or not 0 < args.pop_infected < args.pop:
        parser.error("need --pop >= 1000, --days >= 1 and 0 < --pop-infected < --pop")

    if args.beta is not None:
        beta, r0_target = args.beta, None
    else:
        try:
            beta, r0_target = beta_for_r0(args.r0), args.r0
        except ValueError as e:
            parser.error(str(e))

    t = time.perf_counter()
    import covasim as cv
    import numpy as np

    log(f"covasim {cv.__version__} imported in {time.perf_counter() - t:.1f} s")
    baseline_rss = current_rss_bytes()

    log(f"building a hybrid population of {args.pop:,} (beta {beta:.5f}, seed {args.seed}) ...")
    t = time.perf_counter()
    sim = cv.Sim(
        pop_type="hybrid",
        pop_size=args.pop,
        n_days=args.days,
        rand_seed=args.seed,
        pop_infected=args.pop_infected,
        beta=beta,
        interventions=[],
        verbose=0,
    )
    sim.initialize()
    init_seconds = time.perf_counter() - t
    log(f"  initialised in {init_seconds:.1f} s; running {args.days} days ...")

    t = time.perf_counter()
    sim.run(verbose=0)
    run_seconds = time.perf_counter() - t
    peak_rss = peak_rss_bytes()
    log(f"  ran in {run_seconds:.1f} s; peak RSS {peak_rss / 2**20:,.0f} MiB")

    new = np.asarray(sim.results["new_infections"].values)
    cum = np.asarray(sim.results["cum_infections"].values)
    growth: float | None = None
    try:
        t0, t1, reached = early_window(cum, args.pop)
        growth = growth_rate(new, t0, t1)
        log(
            f"  early growth rate {growth:.4f}/day over days {t0}-{t1}"
            + ("" if reached else " (3% of the population was never reached)")
        )
        measured = early_r(sim, cum, t0, growth)
        if measured is not None:
            r_el, r_direct, gi_mean, n_cohort = measured
            log(f"  early R (Euler-Lotka) {r_el:.2f}; early R (direct count) {r_direct:.2f}")
            log(f"  mean generation interval {gi_mean:.2f} days, cohort of {n_cohort:,}")
    except ValueError as e:
        log(f"  no early growth rate: {e}")

    result = {
        "covasim_version": cv.__version__,
        "pop": args.pop,
        "days": args.days,
        "beta": beta,
        "r0_target": r0_target,
        "init_seconds": round(init_seconds, 3),
        "run_seconds": round(run_seconds, 3),
        "person_days_per_second": round(args.pop * args.days / run_seconds),
        "peak_rss_bytes": peak_rss,
        "baseline_rss_bytes": baseline_rss,
        "bytes_per_agent": round((peak_rss - baseline_rss) / args.pop, 1),
        "cum_infections": int(cum[-1]),
        "early_growth_rate_per_day": None if growth is None else round(growth, 5),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
