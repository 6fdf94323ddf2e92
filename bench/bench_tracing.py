"""Contact tracing at city scale: Cordon's engine against a plain DuckDB interval join, side by side.

Generates (or reuses) a synthetic city's venue check-in scans, about 100 million over 14 days by default
(``cordon.engine.sim``, as bench_scans.py), picks a batch of cases among persons with scans (seeded), gives each
the exposure window "the last 6 days of the data", lays the scans out as the platform's scan store does (a
folder per date, each file sorted by venue and time in, zstd, its row groups; 2 % of the stays lengthened past
midnight, bench/_midnight.py), and finds every person who was at the same venue at an overlapping time
(``b_in <= a_out + margin and b_out >= a_in - margin``, the case's stay clipped to its window):

1. Cordon: ``ScanIndex.open`` on the Parquet folder (timed separately), then ``trace`` for the whole batch, and
   the latency of one case (median and 95th percentile over single-case calls).
2. DuckDB (default threads): the same in SQL over the same Parquet files: the cases' stays selected by a join on
   person and window, then the interval join on venue and overlapping times, ``SELECT DISTINCT case, contact``.

The two (case, contact) sets must be identical. The speed-up is reported both without and with the time to open
the index. Prints a markdown block for docs/benchmarks.md.

    .venv/bin/python bench/bench_tracing.py                               # 100M scans, 10,000 cases
    .venv/bin/python bench/bench_tracing.py --persons 200000 --days 3 --cases 500   # a quick look
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

import numpy as np


def distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique hashes at this size, and takes minutes over 64 million)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=3_700_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--window-days", type=int, default=6)
    parser.add_argument("--margin", type=int, default=0)
    parser.add_argument("--single", type=int, default=200, help="single-case calls for the latency")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", help="scan folder to reuse (generated there when missing)")
    args = parser.parse_args()

    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq
    from _midnight import SHARE_PERCENT, time_out_sql

    from cordon.engine.scanstore import BATCH_ROWS, SCHEMA, partition_files
    from cordon.engine.sim import generate_city, preset
    from cordon.engine.sim.output import generate_scans
    from cordon.engine.tracing import CaseWindow, Rules, ScanIndex, trace, trace_blocks

    keep = args.data is not None
    root = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="cordon-trace-"))
    scans_dir = root / "scans"
    start_day = dt.date(2026, 11, 1)
    if not scans_dir.exists():
        t0 = time.perf_counter()
        city = generate_city(preset("city-1m", population=args.persons), seed=args.seed)
        rows = generate_scans(city, args.days, start_day, root, seed=args.seed)
        print(f"generated {rows:,} scans in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        del city
    # The scan store's layout: a folder per date, each file sorted by venue and time in (what ingestion
    # writes); both engines read these files. Laid out once, not timed.
    store_dir = root / "store"
    if not store_dir.exists():
        t0 = time.perf_counter()
        for f in partition_files(scans_dir):
            (store_dir / f.parent.name).mkdir(parents=True, exist_ok=True)
            table = (
                duckdb.sql(
                    f"SELECT person_id, venue_id, subarea, time_in, {time_out_sql()} AS time_out "
                    f"FROM read_parquet('{f}')"
                )
                .to_arrow_table()
                .cast(SCHEMA)
            )
            table = table.sort_by(
                [(c, "ascending") for c in ("venue_id", "time_in", "person_id", "time_out")]
            )
            pq.write_table(
                table, store_dir / f.parent.name / f.name, compression="zstd", row_group_size=BATCH_ROWS
            )
        print(f"laid out as the scan store in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    scans_dir = store_dir
    files = partition_files(scans_dir)
    days = sorted({f.parent.name[5:] for f in files})
    last = dt.date.fromisoformat(days[-1])
    n_scans = sum(pq.ParquetFile(f).metadata.num_rows for f in files)

    # Cases: persons with scans on the last day (seeded), window = the last N days.
    rng = np.random.default_rng(args.seed)
    last_people = np.unique(pq.read_table(partition_files(scans_dir, last, last)[0], columns=["person_id"])
                            .column("person_id").to_numpy())  # fmt: skip
    persons = rng.choice(last_people, size=min(args.cases, len(last_people)), replace=False)
    w_start = (last - dt.timedelta(days=args.window_days - 1) - dt.date(1970, 1, 1)).days * 1440
    w_end = (last - dt.date(1970, 1, 1)).days * 1440 + 1439
    cases = [CaseWindow(case_id=i, person_id=int(p), start=w_start, end=w_end) for i, p in enumerate(persons)]

    # --- Cordon ---------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    index = ScanIndex.open(scans_dir)
    t_open = time.perf_counter() - t0
    rss_after_open = rss_gb()
    print(f"index open: {t_open:.1f} s, peak RSS {rss_after_open:.1f} GiB", file=sys.stderr, flush=True)
    # One case first: the engine's compiled kernels are compiled once per machine and cached, so a first call
    # after the source changed would time the compiler.
    trace(index, cases[:1], rules=Rules(margin_minutes=args.margin, secondary=False)).pairs()
    # The batch block by block (trace_blocks: the same engine as trace, each block's contacts handed over as it
    # is done, so 10,000 cases' evidence never has to sit in memory at once); the pair keys are kept.
    t0 = time.perf_counter()
    keys = []
    for part in trace_blocks(index, cases, rules=Rules(margin_minutes=args.margin, secondary=False)):
        pairs = part.pairs()
        keys.append(
            pairs.column("case_id").to_numpy().astype(np.int64) << 32
            | pairs.column("contact_id").to_numpy().astype(np.int64)
        )
    t_cordon = time.perf_counter() - t0
    ours = distinct(np.concatenate(keys)) if keys else np.zeros(0, np.int64)  # for the comparison, not timed
    del keys
    print(
        f"traced: {t_cordon:.1f} s, {len(ours):,} pairs, peak RSS {rss_gb():.1f} GiB",
        file=sys.stderr,
        flush=True,
    )
    single = []
    for c in cases[: args.single]:
        t1 = time.perf_counter()
        trace(index, [c], rules=Rules(margin_minutes=args.margin, secondary=False)).pairs()
        single.append(time.perf_counter() - t1)
    del index

    # --- DuckDB ---------------------------------------------------------------------------------------
    con = duckdb.connect()
    threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    con.register("cases", pa.table({
        "case_id": pa.array([c.case_id for c in cases], pa.int64()),
        "person_id": pa.array([c.person_id for c in cases], pa.int64()),
        "w_start": pa.array([dt.datetime(1970, 1, 1) + dt.timedelta(minutes=w_start)] * len(cases), pa.timestamp("ms")),
        "w_end": pa.array([dt.datetime(1970, 1, 1) + dt.timedelta(minutes=w_end)] * len(cases), pa.timestamp("ms")),
    }))  # fmt: skip
    listing = ", ".join("'" + str(f) + "'" for f in files)
    src = f"read_parquet([{listing}])"
    m = int(args.margin)
    sql = f"""
        WITH stays AS (
            SELECT c.case_id, c.person_id, s.venue_id, greatest(s.time_in, c.w_start) AS time_in,
                   least(s.time_out, c.w_end) AS time_out
            FROM {src} s JOIN cases c ON s.person_id = c.person_id
            WHERE s.time_in <= c.w_end AND s.time_out >= c.w_start)
        SELECT DISTINCT st.case_id, s.person_id AS contact_id
        FROM stays st JOIN {src} s
          ON s.venue_id = st.venue_id
         AND s.time_in <= st.time_out + INTERVAL {m} MINUTE
         AND s.time_out >= st.time_in - INTERVAL {m} MINUTE
        WHERE s.person_id <> st.person_id"""
    t0 = time.perf_counter()
    theirs_t = con.sql(sql).to_arrow_table()
    t_duck = time.perf_counter() - t0
    # The same join asked for what Cordon's pair table holds: per pair the stays shared, the minutes together
    # and the stay with the longest overlap (not the baseline; shown for the cost of the evidence).
    sql_ev = f"""
        WITH stays AS (
            SELECT c.case_id, c.person_id, s.venue_id, greatest(s.time_in, c.w_start) AS time_in,
                   least(s.time_out, c.w_end) AS time_out
            FROM {src} s JOIN cases c ON s.person_id = c.person_id
            WHERE s.time_in <= c.w_end AND s.time_out >= c.w_start),
        m AS (
            SELECT st.case_id, s.person_id AS contact_id, st.venue_id, s.subarea, st.time_in AS case_in,
                   st.time_out AS case_out, s.time_in AS contact_in, s.time_out AS contact_out,
                   greatest(0, date_diff('minute', greatest(st.time_in, s.time_in),
                                         least(st.time_out, s.time_out))) AS overlap
            FROM stays st JOIN {src} s
              ON s.venue_id = st.venue_id
             AND s.time_in <= st.time_out + INTERVAL {m} MINUTE
             AND s.time_out >= st.time_in - INTERVAL {m} MINUTE
            WHERE s.person_id <> st.person_id)
        SELECT case_id, contact_id, count(*) AS shared_stays, sum(overlap) AS total_overlap_minutes,
               arg_max(struct_pack(venue_id, subarea, case_in, case_out, contact_in, contact_out, overlap),
                       overlap) AS best
        FROM m GROUP BY case_id, contact_id"""
    t0 = time.perf_counter()
    n_ev = con.sql(sql_ev).to_arrow_table().num_rows
    t_duck_ev = time.perf_counter() - t0
    theirs = distinct(
        theirs_t.column("case_id").to_numpy().astype(np.int64) << 32
        | theirs_t.column("contact_id").to_numpy().astype(np.int64)
    )
    identical = np.array_equal(ours, theirs)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)

    ms = np.array(single) * 1000
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {ram:.0f} GiB"
    versions = f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, {threads} threads"
    p50, p95 = np.median(ms), np.percentile(ms, 95)
    print(f"""
### Contact tracing: Cordon engine vs a plain DuckDB interval join ({dt.date.today()}, {machine}, {versions})

{n_scans:,} scans over {len(days)} days ({SHARE_PERCENT} % of the stays across midnight); {len(cases):,} cases, \
window the last {args.window_days} days; margin {m} min.

| | time | note |
|---|---:|---|
| Cordon: open the index (read Parquet, sort) | {t_open:.1f} s | once per process; peak RSS {rss_after_open:.1f} GiB |
| Cordon: trace the batch (with evidence, types, scores) | {t_cordon:.2f} s | {len(ours):,} case-contact pairs |
| Cordon: one case | median {p50:.1f} ms, p95 {p95:.1f} ms | {len(single)} single-case calls, index open |
| DuckDB: stays + interval join over the Parquet files | {t_duck:.1f} s | {len(theirs):,} pairs |
| DuckDB: the same join grouped into Cordon's pair table | {t_duck_ev:.1f} s | {n_ev:,} pairs |

- Identical contact sets: **{identical}**.
- Speed-up, batch (index already open): **{t_duck / t_cordon:.1f}x**;
  including opening the index: **{t_duck / (t_open + t_cordon):.1f}x**;
  against DuckDB computing the same pair table: **{t_duck_ev / t_cordon:.1f}x**.
- Peak RSS of the whole run: {rss_gb():.1f} GiB.
""")
    return 0 if identical and n_ev == len(theirs) else 1


if __name__ == "__main__":
    sys.exit(main())
