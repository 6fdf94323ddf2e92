"""Cordon's outbreak simulator against Covasim 3.1.6, side by side in one run.

The same scenario on both: 1,000,000 agents, 120 days, R0 2.5, 100 first infections, no interventions.
Cordon runs the ``city-1m`` preset with the ``sars-cov-2-ancestral`` profile (R0 2.5, transmission in
households, work units, school classes and venue sub-areas; each day the infectious people's venue visits are
drawn in full and, of the susceptible people's, the candidates that can infect, which is the same model as
drawing everyone's, see ``cordon/engine/sim/exposure.py``);
Covasim runs a ``hybrid`` population (household, school, work and community layers) with ``beta`` set for
R0 2.5 from the calibration table in ``bench/covasim_runner.py``. Covasim is installed into a throwaway
virtualenv (``bench/_covasim_env.py``; it is not a dependency of Cordon). Each simulator runs in its own
process so that peak memory (``ru_maxrss``) is its own.

Reported for both: set-up time (making the population and contacts; for Cordon also calibrating transmission
to R0), run time, person-days per second of the run (the compared figure; the target is Cordon >= 2x Covasim),
peak memory per agent and the early growth rate.

    .venv/bin/python bench/bench_sim.py                       # 1M x 120 days (several minutes)
    .venv/bin/python bench/bench_sim.py --pop 100000 --days 60   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def growth(new: list[float], population: int) -> float | None:
    import numpy as np

    cum = np.cumsum(new)
    lo = int(np.argmax(cum > 500))
    hi = int(np.argmax(cum > 0.03 * population)) or len(new)
    if hi - lo < 3:
        return None
    days = np.arange(lo, hi)
    return float(np.polyfit(days, np.log(np.maximum(np.asarray(new)[lo:hi], 1)), 1)[0])


def worker(pop: int, days: int, seed: int) -> dict[str, object]:
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    from cordon.engine.sim import Simulation, generate_city, load_profile, preset

    t0 = time.perf_counter()
    city = generate_city(preset("city-1m", population=pop, seed_infections=100), seed=seed)
    sim = Simulation(city, load_profile("sars-cov-2-ancestral"), seed=seed)
    t_init = time.perf_counter() - t0
    t1 = time.perf_counter()
    sim.run(days)
    t_run = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    new = [float(r.new_infections) for r in sim.results]
    return {
        "pop": pop,
        "days": days,
        "r0_target": sim.profile.r0,
        "r0_calibrated": round(sim.rates.r0, 3),
        "init_seconds": round(t_init, 2),
        "run_seconds": round(t_run, 2),
        "person_days_per_second": pop * days / t_run,
        "peak_rss_bytes": peak,
        "baseline_rss_bytes": baseline,
        "bytes_per_agent": (peak - baseline) / pop,
        "cum_infections": int(sum(new)) + int(city.config.seed_infections),
        "early_growth_rate_per_day": growth(new, pop),
        "expected_growth_rate_per_day": sim.profile.growth_rate(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pop", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--venv", default=str(Path(tempfile.gettempdir()) / "cordon-bench-covasim"),
                        help="where the throwaway Covasim virtualenv lives")  # fmt: skip
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.pop, args.days, args.seed)))
        return 0

    sys.path.insert(0, str(HERE))
    from _covasim_env import ensure_covasim_python

    covasim_python = ensure_covasim_python(Path(args.venv))
    results = {}
    for name, cmd in (
        ("cordon", [sys.executable, str(Path(__file__)), "--worker"]),
        (
            "covasim",
            [str(covasim_python), str(HERE / "covasim_runner.py"), "--r0", "2.5", "--pop-infected", "100"],
        ),
    ):
        cmd += ["--pop", str(args.pop), "--days", str(args.days), "--seed", str(args.seed)]
        print(f"running {name} ...", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    ours, theirs = results["cordon"], results["covasim"]
    print(f"# bench_sim {dt.datetime.now():%Y-%m-%d %H:%M}: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {args.pop:,} agents x {args.days} days, R0 2.5")  # fmt: skip
    print("| | Cordon | Covasim 3.1.6 |\n|---|---:|---:|")
    rows = [
        ("set-up (s)", "init_seconds", "{:.1f}"),
        ("run (s)", "run_seconds", "{:.1f}"),
        ("person-days per second", "person_days_per_second", "{:,.0f}"),
        ("peak memory per agent (bytes)", "bytes_per_agent", "{:,.0f}"),
        ("infections by the end", "cum_infections", "{:,}"),
        ("early growth rate per day", "early_growth_rate_per_day", "{:.3f}"),
    ]
    for label, key, fmt in rows:
        a, b = ours.get(key), theirs.get(key)
        print(
            f"| {label} | {fmt.format(a) if a is not None else '-'} | {fmt.format(b) if b is not None else '-'} |"
        )
    ratio = ours["person_days_per_second"] / theirs["person_days_per_second"]
    print(f"\nCordon / Covasim person-days per second: {ratio:.2f}x (target >= 2x)")
    print(f"Cordon's expected growth rate from R0 and the generation interval: "
          f"{ours['expected_growth_rate_per_day']:.3f}/day")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
