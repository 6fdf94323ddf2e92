"""How fast the simulator writes a city's venue check-in scans, and that memory stays bounded.

Generates a synthetic city sized so that 14 ordinary days give about 100 million scans, then streams the scans
day by day into a Parquet dataset partitioned by date (``scans/date=YYYY-MM-DD/part-0.parquet``), as
``cordon sim generate --scan-days 14`` does. Reports the time for the scans alone (the target is under 2
minutes), rows per second, the peak resident memory after the first day and after the last (bounded memory
means they stay close), and the bytes on disk. Every row is counted back from the Parquet footers.

    .venv/bin/python bench/bench_scans.py                 # about 3.7 million residents, 14 days (100 million scans)
    .venv/bin/python bench/bench_scans.py --persons 200000 --days 3   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=3_700_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="folder to write to (default: a temporary folder, removed afterwards)")
    args = parser.parse_args()

    from cordon.engine.sim import generate_city, preset
    from cordon.engine.sim.output import generate_scans

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="cordon-scans-"))
    t0 = time.perf_counter()
    city = generate_city(preset("city-1m", population=args.persons), seed=args.seed)
    t_city = time.perf_counter() - t0
    after_city = rss_mb()
    marks: list[tuple[int, float, float]] = []
    t1 = time.perf_counter()

    def tick(day: int, rows: int) -> None:
        marks.append((rows, time.perf_counter() - t1, rss_mb()))
        print(f"  day {day + 1:2d}: {rows:,} scans, {marks[-1][1]:.1f} s, peak RSS {marks[-1][2]:,.0f} MB",
              file=sys.stderr, flush=True)  # fmt: skip

    rows = generate_scans(city, args.days, dt.date(2022, 11, 1), out, seed=args.seed, progress=tick)
    elapsed = time.perf_counter() - t1
    files = sorted((out / "scans").rglob("*.parquet"))
    counted = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    size = sum(f.stat().st_size for f in files)
    assert counted == rows, (counted, rows)
    print(f"# bench_scans {dt.datetime.now():%Y-%m-%d %H:%M}: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"residents {city.n_persons:,}, venues {city.n_venues:,}; city generated in {t_city:.1f} s "
          f"(peak RSS {after_city:,.0f} MB)")  # fmt: skip
    print(f"scans: {rows:,} over {args.days} days in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s; "
          f"{len(files)} files, {size / 1e9:.2f} GB on disk ({size / rows:.1f} bytes/scan)")  # fmt: skip
    print(f"peak RSS after day 1: {marks[0][2]:,.0f} MB; after day {args.days}: {marks[-1][2]:,.0f} MB")
    if not args.out:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
