"""``cordon trace`` (the tracing engine on files, no database) and ``cordon scans ingest|purge|info`` (the
platform's scan store). Input and output columns are documented in docs/tracing.md."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _django

TRACE_HELP = (
    "trace contacts of cases from a scan folder and files (no database); one row per case-contact pair"
)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("trace", help=TRACE_HELP, description=TRACE_HELP + ". Columns: see docs/tracing.md.")
    p.add_argument(
        "--scans", required=True, help="scan folder: Parquet partitioned by date (date=YYYY-MM-DD/)"
    )
    p.add_argument("--cases", required=True, help="cases: CSV or Parquet (case_id, person_id and a window)")
    p.add_argument("--out", required=True, help="output file, .csv or .parquet")
    p.add_argument("--persons", help="persons: person_id, household_id, unit_id (optional class_id) for "
                   "household, work-unit and secondary contacts")  # fmt: skip
    p.add_argument("--venues", help="venues: venue_id and hub (true for stations, malls, large markets)")
    p.add_argument("--margin", type=int, default=0, help="minutes by which stays may miss and still count")
    p.add_argument(
        "--hub-overlap", type=int, default=15, help="minutes together needed at a hub without a sub-area"
    )
    p.add_argument("--profile", default="covid19-omicron", help="pathogen profile for the exposure window")
    p.add_argument("--evidence", help="also write every matched stay (one row per shared stay) to this file")
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser(
        "scans", help="the scan store: ingest check-in scans, purge old ones, show what it holds"
    )
    ssub = p.add_subparsers(dest="scans_command", metavar="SCANS_COMMAND", required=True)
    q = ssub.add_parser("ingest", help="load CSV, JSON lines or Parquet scans (re-loading adds nothing)")
    q.add_argument("files", nargs="+")
    q.add_argument("--user", required=True, help="load as this user (needs the ingest_scans capability)")
    q.set_defaults(func=cmd_scans_ingest)
    q = ssub.add_parser("purge", help="delete scans older than the retention period")
    q.add_argument("--keep-days", type=int, help="default: CORDON_SCAN_RETENTION_DAYS")
    q.add_argument("--user", required=True)
    q.set_defaults(func=cmd_scans_purge)
    q = ssub.add_parser("info", help="dates and row counts in the scan store")
    q.set_defaults(func=cmd_scans_info)


def _read(path: Path) -> Any:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.suffix.lower() == ".parquet":
        return pq.read_table(path)
    if path.suffix.lower() == ".csv":
        return pacsv.read_csv(path)
    raise ValueError(f"{path.name}: expected a .csv or .parquet file")


def _minutes(values: Any) -> np.ndarray:
    """Timestamps or dates (Arrow) as minutes since 1970-01-01 (local wall-clock)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values.combine_chunks() if hasattr(values, "combine_chunks") else values
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.timestamp("s"))  # ISO 8601 text, "T" or a space between date and time
    if pa.types.is_date(arr.type):
        arr = arr.cast(pa.date32()).cast(pa.int32())
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.int64) * 1440
    arr = arr.cast(pa.timestamp("s"))
    return np.asarray(arr.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64) // 60


def case_windows(table: Any, days_before: int) -> list[Any]:
    """Exposure windows from a cases table: explicit ``window_start``/``window_end``, or from ``onset_on`` (or
    ``sampled_on`` when there is no onset) minus ``days_before`` days until ``isolated_at`` / the end of
    ``reported_on``."""
    from cordon.engine import tracing

    cols = set(table.column_names)
    if "person_id" not in cols:
        raise ValueError("the cases file needs a person_id column")
    person = np.asarray(table.column("person_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    case_id = (
        np.asarray(table.column("case_id").to_numpy(zero_copy_only=False), dtype=np.int64)
        if "case_id" in cols
        else person
    )
    n = len(person)
    if {"window_start", "window_end"} <= cols:
        start, end = _minutes(table.column("window_start")), _minutes(table.column("window_end"))
    else:
        if "onset_on" not in cols and "sampled_on" not in cols:
            raise ValueError("the cases file needs window_start and window_end, or onset_on / sampled_on")
        onset = table.column("onset_on") if "onset_on" in cols else None
        sampled = table.column("sampled_on") if "sampled_on" in cols else None
        base = np.full(n, -1, np.int64)
        if sampled is not None:
            mask = np.asarray(sampled.is_valid().to_numpy(zero_copy_only=False))
            base[mask] = _minutes(sampled.drop_null())
        if onset is not None:
            mask = np.asarray(onset.is_valid().to_numpy(zero_copy_only=False))
            base[mask] = _minutes(onset.drop_null())
        if (base < 0).any():
            raise ValueError(f"{int((base < 0).sum())} cases have neither an onset nor a sample date")
        start = base - days_before * 1440
        if "isolated_at" in cols:
            end = _minutes(table.column("isolated_at"))
        elif "reported_on" in cols:
            end = _minutes(table.column("reported_on")) + 1440 - 1
        else:
            raise ValueError("the cases file needs isolated_at or reported_on to end the exposure window")
    if len(start) != n or len(end) != n or (end < start).any():
        raise ValueError("every case needs an exposure window that ends after it starts")
    return [
        tracing.CaseWindow(case_id=int(c), person_id=int(p), start=int(s), end=int(e))
        for c, p, s, e in zip(case_id.tolist(), person.tolist(), start.tolist(), end.tolist(), strict=True)
    ]


def _register(table: Any) -> Any:
    from cordon.engine import tracing

    cols = set(table.column_names)
    if "person_id" not in cols:
        raise ValueError("the persons file needs a person_id column")

    def column(name: str) -> np.ndarray:
        if name not in cols:
            return np.full(table.num_rows, -1, np.int64)
        return np.asarray(table.column(name).fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)

    unit, klass = column("unit_id"), column("class_id")
    # Work units and school classes are both "units"; keep their ids apart.
    unit_key = np.where(unit >= 0, unit * 2, np.where(klass >= 0, klass * 2 + 1, -1))
    return tracing.Register(
        person_id=column("person_id"), household_id=column("household_id"), unit_id=unit_key
    )


def _open_index(scans: Path, windows: list[Any], margin_minutes: int) -> Any:
    """The scans of every date partition that can hold a scan meeting a case stay (clipped to its window,
    widened by the margin; docs/tracing.md, "The window's edges"). Refuses (ValueError) a folder holding a stay
    longer than the store keeps: it may begin before the first day read, so the contacts would depend on
    the read."""
    from cordon.engine import tracing
    from cordon.engine.scanstore import MAX_STAY_HOURS, MAX_STAY_MINUTES, days_holding

    epoch, margin = dt.datetime(1970, 1, 1), dt.timedelta(minutes=margin_minutes)
    first_day, last_day = days_holding(
        epoch + dt.timedelta(minutes=min(w.start for w in windows)) - margin,
        epoch + dt.timedelta(minutes=max(w.end for w in windows)) + margin,
    )
    index = tracing.ScanIndex.open(scans, start=first_day, end=last_day)
    if len(index) and int(index.max_stay.max()) > MAX_STAY_MINUTES:
        long = int((index.scans.t_out - index.scans.t_in > MAX_STAY_MINUTES).sum())
        raise ValueError(
            f"{long:,} scans last longer than {MAX_STAY_HOURS} hours, the longest stay the scan store keeps; "
            "split them (cordon scans ingest refuses them as row errors)"
        )
    return index


def cmd_trace(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from cordon.engine import tracing
    from cordon.engine.sim import load_profile
    from cordon.engine.sim.errors import SimConfigError

    scans, out = Path(args.scans), Path(args.out)
    if not scans.is_dir():
        return _django.fail(f"no scan folder {scans}")
    for name in ("cases", "persons", "venues"):
        value = getattr(args, name)
        if value and not Path(value).is_file():
            return _django.fail(f"no such file: {value}")
    for target in filter(None, (out, Path(args.evidence) if args.evidence else None)):
        if target.suffix.lower() not in (".csv", ".parquet"):
            return _django.fail(f"{target.name}: the output must end in .csv or .parquet")
    if args.margin < 0 or args.hub_overlap < 0:
        return _django.fail("--margin and --hub-overlap cannot be negative")
    try:
        profile = load_profile(args.profile)
        windows = case_windows(_read(Path(args.cases)), profile.exposure_window_days_before_onset)
        register = _register(_read(Path(args.persons))) if args.persons else None
        hubs: frozenset[int] = frozenset()
        if args.venues:
            venues = _read(Path(args.venues))
            if not {"venue_id", "hub"} <= set(venues.column_names):
                raise ValueError("the venues file needs venue_id and hub columns")
            hub_ids = venues.filter(venues.column("hub").cast(pa.bool_())).column("venue_id")
            hubs = frozenset(int(v) for v in hub_ids.to_pylist())
    except (ValueError, SimConfigError, pa.ArrowInvalid) as exc:
        return _django.fail(str(exc))
    if not windows:
        return _django.fail("the cases file has no rows")
    t0 = time.perf_counter()
    try:
        index = _open_index(scans, windows, args.margin)
    except ValueError as exc:
        return _django.fail(str(exc))
    t_open = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = tracing.trace(
        index,
        windows,
        register=register,
        rules=tracing.Rules(
            margin_minutes=args.margin, hub_venues=hubs, hub_min_overlap_minutes=args.hub_overlap,
            secondary=register is not None,
        ),
    )  # fmt: skip
    pairs = result.pairs()
    t_trace = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(table: Any, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        i = table.column_names.index("contact_type")
        table = table.set_column(i, "contact_type", table.column(i).cast(pa.string()))
        if path.suffix.lower() == ".parquet":
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(table, tmp)
        tmp.replace(path)

    write(pairs, out)
    if args.evidence:
        write(result.evidence(), Path(args.evidence))
    print(
        f"{len(windows):,} cases, {len(index):,} scans read in {t_open:.1f} s, traced in {t_trace:.2f} s: "
        f"{pairs.num_rows:,} case-contact pairs written to {out}",
        file=sys.stderr,
    )
    return 0


def cmd_scans_ingest(args: argparse.Namespace) -> int:
    _django.setup()
    from django.core.exceptions import PermissionDenied
    from tqdm import tqdm

    from cordon.apps.tracing import actions
    from cordon.core.roles import Cap
    from cordon.core.scoping import Scope

    user = _django.user(args.user)
    try:
        Scope.of(user).require(Cap.INGEST_SCANS)
    except PermissionDenied:
        return _django.fail(f"user {args.user} may not load scans (role: {user.role})")
    paths = [Path(f) for f in args.files]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return _django.fail(f"no such file: {', '.join(missing)}")
    status = 0
    for path in paths:
        bar = tqdm(total=0, unit="date", desc=path.name, disable=not sys.stderr.isatty(), leave=False)

        def progress(done: int, total: int, bar: Any = bar) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            report = actions.ingest_scans(actor=user, source_file=path, source="cli", progress=progress)
        except ValueError as exc:
            bar.close()
            print(f"cordon: {path.name}: {exc}", file=sys.stderr)
            status = 1
            continue
        bar.close()
        print(f"{path.name}: {report.describe()}")
    return status


def cmd_scans_purge(args: argparse.Namespace) -> int:
    _django.setup()
    from cordon.apps.tracing import actions
    from cordon.core.roles import Cap
    from cordon.core.scoping import Scope

    user = _django.user(args.user)
    if not Scope.of(user).can(Cap.INGEST_SCANS):
        return _django.fail(f"user {args.user} may not purge scans (role: {user.role})")
    if args.keep_days is not None and args.keep_days < 1:
        return _django.fail("--keep-days must be at least 1")
    report = actions.purge_scans(actor=user, keep_days=args.keep_days)
    print(report.describe() if hasattr(report, "describe") else report)
    return 0


def cmd_scans_info(args: argparse.Namespace) -> int:
    _django.setup()
    from cordon.apps.tracing.selectors import scan_store

    store = scan_store()
    dates = store.dates()
    if not dates:
        print("The scan store is empty.")
        return 0
    print(f"{store.count():,} scans on {len(dates)} days, {dates[0]} to {dates[-1]}")
    return 0
