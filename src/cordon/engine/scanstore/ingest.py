"""Ingesting a batch: its scans checked (:mod:`.source`), the new ones written a date at a time under hidden names
and renamed into place, the manifest updated last; a failed batch takes its files out again."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .layout import BATCH_ROWS, CASTS, MAX_STAY_HOURS, SCHEMA, Layout, parquet_scan
from .reports import IngestReport
from .source import (
    MAX_EXAMPLES,
    REASONS,
    InputError,
    Resolver,
    check,
    column_roles,
    open_source,
    stage,
)

SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
FORMATS = ("csv", "jsonl", "parquet")


def ingest(
    store: Layout,
    source: Path | pa.Table,
    *,
    fmt: str | None = None,
    resolver: Resolver | None = None,
    max_stay_hours: int = MAX_STAY_HOURS,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
    plausible: tuple[dt.date, dt.date] | None = None,
) -> IngestReport:
    """Adds the valid, new scans of a CSV, JSON-lines or Parquet file (or an Arrow table) to the store.

    ``progress(done, total)`` is called once per date written. ``force`` reads a file again even when its
    bytes were already ingested. ``plausible`` (first, last day), when given, rejects a scan whose time_in
    falls outside.
    """
    resolver = resolver or Resolver()
    if not isinstance(max_stay_hours, int) or not 1 <= max_stay_hours <= MAX_STAY_HOURS:
        raise ValueError(f"max_stay_hours must be from 1 to {MAX_STAY_HOURS}, not {max_stay_hours}")
    digest: str | None = None
    batches = store._manifest()  # read first: a damaged manifest stops the ingest before any work
    if isinstance(source, pa.Table):
        fmt = "table"
    else:
        source = Path(source)
        fmt = _format(source, fmt)
        if not source.is_file():
            raise ValueError(f"no such file: {source.name}")
        with source.open("rb") as fh:
            digest = "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
        if not force:
            for entry in batches:
                if entry.get("digest") == digest and entry.get("format") == fmt and not entry["rejected"]:
                    rows = int(entry["rows_read"])
                    return IngestReport(rows, 0, rows, {}, [], [], entry.get("batch"), already_ingested=True)
    new_root = not store.root.exists()
    store.root.mkdir(parents=True, exist_ok=True)
    batch_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    try:
        with (
            tempfile.TemporaryDirectory(dir=store.root, prefix=".ingest-") as scratch,
            duckdb.connect(config={"temp_directory": scratch, "preserve_insertion_order": False}) as con,
        ):
            report = _ingest(store, con, source, fmt, resolver, max_stay_hours, progress, batch_id, plausible)
    except BaseException:
        if new_root and not any(store.root.iterdir()):
            store.root.rmdir()
        raise
    entry = {
        "batch": batch_id,
        "digest": digest,
        "format": fmt,
        "rows_read": report.rows_read,
        "added": report.added,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "dates": [d.isoformat() for d in report.dates],
    }
    try:
        store._save_manifest([*batches, entry])
    except BaseException:
        _remove(store, report.dates, batch_id)
        raise
    return report


def _format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        found = SUFFIXES.get(path.suffix.lower())
        if found is None:
            raise InputError(
                "file_type",
                f"unknown file type: cannot tell the format of {path.name} from its suffix; use one of "
                f"{', '.join(SUFFIXES)} or pass fmt ({', '.join(FORMATS)})",
                file=path.name,
                suffixes=", ".join(SUFFIXES),
            )
        return found
    fmt = SUFFIXES.get("." + fmt.lower().lstrip("."), fmt)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def _ingest(
    store: Layout,
    con: duckdb.DuckDBPyConnection,
    source: Path | pa.Table,
    fmt: str,
    resolver: Resolver,
    max_stay_hours: int,
    progress: Callable[[int, int], None] | None,
    batch_id: str,
    plausible: tuple[dt.date, dt.date] | None = None,
) -> IngestReport:
    name = "the table" if isinstance(source, pa.Table) else source.name
    try:
        fields = open_source(con, source, fmt)
    except (pa.ArrowException, duckdb.InvalidInputException, duckdb.IOException) as exc:
        raise InputError("unreadable", f"could not read {name}: {exc}", file=name, detail=str(exc)) from exc
    roles, types = column_roles(fields, resolver)
    try:
        stage(con, types, roles)
    except (pa.ArrowException, duckdb.InvalidInputException, duckdb.IOException) as exc:
        raise InputError("unreadable", f"could not read {name}: {exc}", file=name, detail=str(exc)) from exc
    check(con, roles, resolver, max_stay_hours, plausible)
    con.execute("DROP TABLE raw")

    (rows_read,) = con.sql("SELECT count(*) FROM staged").fetchall()[0]
    counts = dict(
        con.sql("SELECT reason, count(*) FROM staged WHERE reason IS NOT NULL GROUP BY 1").fetchall()
    )
    order = [r.format(hours=max_stay_hours) for r in REASONS]
    rejected = {r: int(counts[r]) for r in order if r in counts}
    examples = [
        (int(row), str(reason))
        for row, reason in con.sql(
            f"SELECT row_no, reason FROM staged WHERE reason IS NOT NULL ORDER BY row_no LIMIT {MAX_EXAMPLES}"
        ).fetchall()
    ]
    days = [
        d for (d,) in con.sql("SELECT DISTINCT day FROM staged WHERE reason IS NULL ORDER BY 1").fetchall()
    ]

    added, written = 0, []
    try:
        if progress:
            progress(0, len(days))
        for i, day in enumerate(days):
            rows = _write_day(store, con, day, batch_id)
            if rows:
                added += rows
                written.append(day)
            if progress:
                progress(i + 1, len(days))
    except BaseException:
        _remove(store, days, batch_id)
        raise
    valid = int(rows_read) - sum(rejected.values())
    return IngestReport(int(rows_read), added, valid - added, rejected, examples, written, batch_id)


def _write_day(store: Layout, con: duckdb.DuckDBPyConnection, day: dt.date, batch_id: str) -> int:
    """Writes the batch's new scans of one date as one file (sorted by venue, time in); returns the rows."""
    existing = store._day_files(day)
    valid = "SELECT person_id, venue_id, subarea, time_in, time_out FROM staged WHERE reason IS NULL AND day = $day"
    if existing:  # EXCEPT is a set difference: it also drops repeats inside the batch; NULL equals NULL
        fresh = f"{valid} EXCEPT SELECT {CASTS} FROM {parquet_scan(existing)}"
    else:
        fresh = f"SELECT DISTINCT * FROM ({valid})"
    sql = f"SELECT * FROM ({fresh}) ORDER BY venue_id, time_in, person_id, time_out, subarea NULLS FIRST"
    folder = store.folder(day)
    folder.mkdir(exist_ok=True)
    final = folder / f"part-{batch_id}.parquet"
    tmp = folder / f".part-{batch_id}.parquet.tmp"
    rows = 0
    try:
        reader = con.sql(sql, params={"day": day}).to_arrow_reader(BATCH_ROWS)
        assert reader is not None
        with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
            for batch in reader:
                if batch.num_rows:
                    writer.write_batch(batch.cast(SCHEMA), row_group_size=BATCH_ROWS)
                    rows += batch.num_rows
        if rows:
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
        if not rows and not any(folder.iterdir()):
            folder.rmdir()
    return rows


def _remove(store: Layout, days: Sequence[dt.date], batch_id: str) -> None:
    """Takes a failed batch's files out again (and the partition folders it left empty)."""
    for day in days:
        folder = store.folder(day)
        for name in (f"part-{batch_id}.parquet", f".part-{batch_id}.parquet.tmp"):
            (folder / name).unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
