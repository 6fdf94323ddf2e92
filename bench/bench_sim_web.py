"""How long the largest simulator run the browser allows by default takes (``CORDON_SIM_MAX_POPULATION``,
1,000,000 residents): the path of a ``simulation.run`` job without the database (``Scenario.simulation``, the run,
``outcome``), for a strategy with none and with every built-in intervention, in a process of its own each (peak
memory its own).

    .venv/bin/python bench/bench_sim_web.py                       # city-1m, 60 days (a few minutes)
    .venv/bin/python bench/bench_sim_web.py --population 100000 --days 30
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def one(population: int, days: int, strategy: str) -> dict[str, object]:
    from cordon.engine.sim.strategy import Scenario, Strategy, outcome

    scenario = Scenario(preset="city-1m", population=population, days=days, strategy=Strategy.named(strategy))
    t0 = time.perf_counter()
    sim = scenario.simulation()
    t1 = time.perf_counter()
    sim.run(days)
    t2 = time.perf_counter()
    summary = outcome(sim).summary
    return {
        "strategy": strategy,
        "population": population,
        "days": days,
        "setup_seconds": round(t1 - t0, 1),
        "run_seconds": round(t2 - t1, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "infections": summary["infections"],
        "cases": summary["cases"],
        "tests": summary["tests"],
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--population", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.population, args.days, args.one)))
        return 0
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    for strategy in ("none", "zero-covid"):
        out = subprocess.run(
            [sys.executable, __file__, "--one", strategy, "--population", str(args.population), "--days",
             str(args.days)], check=True, capture_output=True, text=True,
        )  # fmt: skip
        print(out.stdout.strip())
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
