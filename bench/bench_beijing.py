"""The ``beijing`` preset (21.9 million residents) through a whole outbreak: time and peak memory.

Generates the city, calibrates transmission to the profile's R0, and runs the outbreak with no interventions
for 60 days (the target: it fits in 24 GiB). Prints one line per 5 days and a summary with the peak resident
memory (``ru_maxrss``), person-days per second and the size of the infection tree.

    .venv/bin/python bench/bench_beijing.py                  # 60 days, Omicron-like default profile
    .venv/bin/python bench/bench_beijing.py --days 10 --population 2000000   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--population", type=int, help="override the preset's 21.9 million")
    parser.add_argument("--profile", default="covid19-omicron")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from cordon.engine.sim import Simulation, generate_city, load_profile, preset

    config = preset("beijing", **({"population": args.population} if args.population else {}))
    t0 = time.perf_counter()
    city = generate_city(config, seed=args.seed)
    t_city = time.perf_counter() - t0
    print(
        f"city: {city.summary()} in {t_city:.0f} s, peak RSS {rss_gib():.1f} GiB", file=sys.stderr, flush=True
    )
    t1 = time.perf_counter()
    sim = Simulation(city, load_profile(args.profile), seed=args.seed)
    t_init = time.perf_counter() - t1
    print(
        f"calibrated {sim.rates} in {t_init:.0f} s, peak RSS {rss_gib():.1f} GiB", file=sys.stderr, flush=True
    )
    t2 = time.perf_counter()

    def tick(r: object) -> None:
        day = getattr(r, "day")  # noqa: B009
        if day % 5 == 4:
            print(f"  day {day + 1}: infectious {getattr(r, 'infectious'):,}, "  # noqa: B009
                  f"{time.perf_counter() - t2:.0f} s, peak RSS {rss_gib():.1f} GiB",
                  file=sys.stderr, flush=True)  # fmt: skip

    sim.run(args.days, progress=tick)
    t_run = time.perf_counter() - t2
    infections = sum(len(x) for x in sim.infections.person)
    print(f"# bench_beijing {dt.datetime.now():%Y-%m-%d %H:%M}: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"residents {city.n_persons:,}; city {t_city:.0f} s; calibration {t_init:.0f} s; "
          f"{args.days} days in {t_run:.0f} s ({city.n_persons * args.days / t_run:,.0f} person-days/s)")  # fmt: skip
    print(f"infections {infections:,}; cases {len(sim.case_list().person):,}; peak RSS {rss_gib():.1f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
