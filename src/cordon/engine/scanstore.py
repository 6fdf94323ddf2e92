"""The scan store: venue check-in scans kept as a date-partitioned Parquet dataset, queried with DuckDB.

Layout of a store folder::

    root/date=2026-11-19/part-0.parquet                        (written by the simulator, read as is)
    root/date=2026-11-20/part-20261121T020000-3fa2b1c4.parquet (one file per ingested batch and date)
    root/_ingested.json                                        (manifest: one entry per ingested batch)

The partitions are hive style (``date=YYYY-MM-DD``), so DuckDB (``read_parquet('root/*/*.parquet',
hive_partitioning = true)``), Spark and Trino read the folder as it is. Every file holds the columns of
:data:`SCHEMA`: ``person_id`` and ``venue_id`` (int64), ``subarea`` (int16, an index into the venue's sub-area
list, null when unknown), ``time_in`` and ``time_out`` (timestamp[ms], local wall-clock times without a zone).
Files written by older tools with narrower integers (venue_id int32, subarea int8) are read and cast on read.

Rules:

* A scan belongs to the partition of the date of its ``time_in``; a stay lasts at most 24 hours, so the scans
  overlapping a window are in the partitions from the day before the window starts to the day it ends.
* Every file is sorted by (venue_id, time_in), so the row-group statistics let a venue lookup skip most of it.
* Files are written under a hidden temporary name in their partition folder and renamed into place: a reader
  never sees half a file. A batch is all or nothing: if it fails, the files it already renamed are removed, and
  the manifest is updated only once every file is in place.
* A scan is identified by (person_id, venue_id, time_in, time_out, subarea), an unknown sub-area counting as
  one value. Ingesting a scan the store already holds, or repeating one inside a batch, adds nothing; such rows
  are reported as duplicates. A file whose exact bytes were already ingested without any rejected row is not
  read again.
* Input rows with a problem are skipped and counted under one reason each (the first that applies, in the order
  of :data:`REASONS`), with the numbers of the first rows for the report: nothing is dropped silently. Rows are
  numbered as a person looking at the file would: the line number in a CSV file (the header is line 1) or a
  JSON-lines file (blank lines count), the 1-based row in a Parquet file or an Arrow table.
  A file that cannot be read at all (broken CSV, a line that is not a JSON object, missing columns) is refused
  as a whole with a ValueError before anything is written.
* The store has one writer at a time (ingest and purge); any number of readers may run alongside.

Parsing and checking run in DuckDB over Arrow record batches, so an ingest of tens of millions of rows is
bounded by DuckDB's memory limit (it spills to a scratch folder inside the store) and by one date at a time when
writing. Nothing here imports Django.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SCHEMA = pa.schema([
    pa.field("person_id", pa.int64(), nullable=False),
    pa.field("venue_id", pa.int64(), nullable=False),
    pa.field("subarea", pa.int16()),
    pa.field("time_in", pa.timestamp("ms"), nullable=False),
    pa.field("time_out", pa.timestamp("ms"), nullable=False),
])  # fmt: skip

MANIFEST = "_ingested.json"
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
FORMATS = ("csv", "jsonl", "parquet")

MISSING_PERSON = "missing person"
UNKNOWN_PERSON = "unknown person"
MISSING_VENUE = "missing venue"
UNKNOWN_VENUE = "unknown venue"
BAD_TIME = "bad time"
TIME_OUT_BEFORE_IN = "time out before time in"
LONG_STAY = "stay longer than {hours} hours"
BAD_SUBAREA = "bad sub-area"
REASONS = (
    MISSING_PERSON, UNKNOWN_PERSON, MISSING_VENUE, UNKNOWN_VENUE, BAD_TIME, TIME_OUT_BEFORE_IN, LONG_STAY, BAD_SUBAREA,
)  # fmt: skip

MAX_EXAMPLES = 20
MAX_STAY_HOURS = 24  # the partition pruning of the queries relies on stays of at most a day
SUBAREA_MAX = 32767
TIME_FORMATS = (  # ISO 8601 local times, "T" or a space between date and time, seconds optional
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
)  # fmt: skip
BATCH_ROWS = 122_880  # rows per Arrow batch and per Parquet row group written (DuckDB's row-group size)
RESOLVE_CHUNK = 100_000  # identifiers handed to a Resolver callable per call

INPUT_COLUMNS = ("person_id", "national_id", "venue_id", "venue_code", "subarea", "time_in", "time_out")

_ROW = "__row__"  # the input row number column while ingesting
_SORT = "time_in, venue_id, person_id, time_out, subarea NULLS FIRST"
_CASTS = (
    "CAST(person_id AS BIGINT) AS person_id, CAST(venue_id AS BIGINT) AS venue_id, "
    "CAST(subarea AS SMALLINT) AS subarea, CAST(time_in AS TIMESTAMP_MS) AS time_in, "
    "CAST(time_out AS TIMESTAMP_MS) AS time_out"
)


@dataclass(frozen=True, slots=True)
class Resolver:
    """Optional translation and checking of the identifiers a file carries; each callable takes a batch.

    ``person_by_national_id`` and ``venue_by_code`` return the ids they know (unknown ones are left out);
    ``known_persons`` and ``known_venues`` return the subset of the given ids that exist. National ids are passed
    normalised (spaces removed, upper case), venue codes trimmed.
    """

    person_by_national_id: Callable[[Sequence[str]], dict[str, int]] | None = None
    venue_by_code: Callable[[Sequence[str]], dict[str, int]] | None = None
    known_venues: Callable[[Sequence[int]], set[int]] | None = None
    known_persons: Callable[[Sequence[int]], set[int]] | None = None


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did. ``rows_read == added + duplicates + sum(rejected.values())``.

    ``examples`` holds the first rejected rows as (row number in the input, reason), numbered as the module
    docstring says (CSV: the line number, the header being line 1). ``dates`` are the partitions that received
    new scans; ``already_ingested`` says the file's bytes were ingested before and it was not read again.
    """

    rows_read: int
    added: int
    duplicates: int
    rejected: dict[str, int]
    examples: list[tuple[int, str]]
    dates: list[dt.date]
    batch_id: str | None = None
    already_ingested: bool = False

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def describe(self) -> str:
        if self.already_ingested:
            return (
                f"This file was already ingested; nothing was read or added "
                f"({_plural(self.rows_read, 'row')} last time)."
            )
        text = f"Read {_plural(self.rows_read, 'row')}: {_plural(self.added, 'scan')} added"
        if self.dates:
            first, last = self.dates[0].isoformat(), self.dates[-1].isoformat()
            span = f"on {first}" if first == last else f"on {len(self.dates)} dates from {first} to {last}"
            text += f" {span}"
        text += f"; {self.duplicates:,} {'was' if self.duplicates == 1 else 'were'} already in the store "
        text += "or repeated within the batch"
        if self.rejected:
            reasons = ", ".join(f"{reason} {n:,}" for reason, n in self.rejected.items())
            rows = ", ".join(f"{row} ({reason})" for row, reason in self.examples[:5])
            text += f"; {_plural(self.rejected_total, 'row')} rejected ({reasons}), first at rows {rows}"
        return text + "."


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """The date partitions a purge removed (all dates before ``kept_from``) and the scans they held."""

    kept_from: dt.date
    dates: list[dt.date]
    rows: int

    @property
    def partitions(self) -> int:
        return len(self.dates)

    def describe(self) -> str:
        if not self.dates:
            return f"Nothing to purge: the store holds no scans before {self.kept_from.isoformat()}."
        return (
            f"Removed {_plural(self.partitions, 'date partition')} ({self.dates[0].isoformat()} to "
            f"{self.dates[-1].isoformat()}) holding {_plural(self.rows, 'scan')}; "
            f"scans from {self.kept_from.isoformat()} on are kept."
        )


# --- SQL helpers --------------------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parquet_scan(files: Sequence[Path], *, hive: bool = False) -> str:
    """A ``read_parquet`` over an explicit file list; narrower integer columns are unified by name."""
    listing = ", ".join(_literal(str(f)) for f in files)
    options = "hive_partitioning = true, hive_types = {'date': DATE}" if hive else "hive_partitioning = false"
    return f"read_parquet([{listing}], union_by_name = true, {options})"


def _int_sql(col: str, typ: pa.DataType) -> tuple[str, str]:
    """(value as BIGINT or NULL when not an integer, is-missing) for an input column holding integers."""
    if pa.types.is_integer(typ):
        return f"TRY_CAST({col} AS BIGINT)", f"({col} IS NULL)"
    if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        x = f"CAST({col} AS DOUBLE)"
        return (
            f"(CASE WHEN isfinite({x}) AND {x} = trunc({x}) THEN TRY_CAST({x} AS BIGINT) END)",
            f"({x} IS NULL OR isnan({x}))",
        )
    text = f"trim(CAST({col} AS VARCHAR))"
    return (
        f"(CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') THEN TRY_CAST({text} AS BIGINT) END)",
        f"(coalesce({text}, '') = '')",
    )


def _time_sql(col: str, typ: pa.DataType) -> str:
    if pa.types.is_timestamp(typ):
        return f"CAST({col} AS TIMESTAMP_MS)"
    formats = "[" + ", ".join(_literal(f) for f in TIME_FORMATS) + "]"
    return f"CAST(TRY_STRPTIME(trim(CAST({col} AS VARCHAR)), {formats}) AS TIMESTAMP_MS)"


# --- reading the input --------------------------------------------------------------------------------------


def _numbered(batches: Iterator[pa.RecordBatch], schema: pa.Schema, first: int = 1) -> pa.RecordBatchReader:
    """The batches with a leading row-number column, counting from ``first``."""
    out_schema = pa.schema([pa.field(_ROW, pa.int64()), *schema])

    def gen() -> Iterator[pa.RecordBatch]:
        done = first - 1
        for batch in batches:
            rows = pa.array(np.arange(done + 1, done + 1 + batch.num_rows, dtype=np.int64))
            yield pa.RecordBatch.from_arrays([rows, *batch.columns], schema=out_schema)
            done += batch.num_rows

    return pa.RecordBatchReader.from_batches(out_schema, gen())


def _open_source(
    con: duckdb.DuckDBPyConnection, source: Path | pa.Table, fmt: str
) -> list[tuple[str, pa.DataType]]:
    """Registers the input as the relation ``src`` (row number + the input's columns); returns the columns.

    Rows are numbered from 1, except in a CSV file, where the header is row 1 (the line number in an editor).
    """
    if isinstance(source, pa.Table):
        numbered = source.add_column(0, _ROW, pa.array(np.arange(1, source.num_rows + 1, dtype=np.int64)))
        con.register("src", numbered)
        return [(f.name, f.type) for f in source.schema]
    path = str(source)
    if fmt == "parquet":
        schema = pq.read_schema(source)
        con.execute(
            f"CREATE TEMP VIEW src AS SELECT file_row_number + 1 AS {_ROW}, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({_literal(path)}, file_row_number = true, hive_partitioning = false)"
        )
        return [(f.name, f.type) for f in schema]
    if fmt == "csv":
        names = pacsv.open_csv(source).schema.names  # the header (the first block is parsed to find it)
        reader = pacsv.open_csv(
            source,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
        con.register("src", _numbered(iter(reader), reader.schema, first=2))  # line 1 is the header
        return [(name, pa.string()) for name in names]
    # JSON lines: each line read as one text value (no JSON object holds a raw U+001F), parsed by DuckDB.
    lines = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=["line"]),
        parse_options=pacsv.ParseOptions(
            delimiter="\x1f", quote_char=False, escape_char=False, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
    )
    con.register("src_lines", _numbered(iter(lines), lines.schema))
    con.execute(f"CREATE TEMP TABLE lines AS SELECT {_ROW}, line FROM src_lines WHERE trim(line) <> ''")
    con.unregister("src_lines")
    bad = con.sql(
        f"SELECT min({_ROW}) FROM lines "
        "WHERE NOT (CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END)"
    ).fetchall()[0][0]
    if bad is not None:
        raise ValueError(f"line {bad} of {source.name} is not a JSON object (expected one object per line)")
    keys = [k for (k,) in con.sql("SELECT DISTINCT unnest(json_keys(line)) FROM lines ORDER BY 1").fetchall()]
    keys = [k for k in keys if k.strip().lower() in INPUT_COLUMNS]  # other keys are never read
    columns = "".join(
        f", json_extract_string(line, {_literal('$.' + json.dumps(k, ensure_ascii=False))}) AS {_ident(k)}"
        for k in keys
    )
    con.execute(f"CREATE TEMP VIEW src AS SELECT {_ROW}{columns} FROM lines")
    return [(k, pa.string()) for k in keys]


def _columns(
    fields: list[tuple[str, pa.DataType]], resolver: Resolver
) -> tuple[dict[str, str], dict[str, pa.DataType]]:
    """Maps each role to the input column that fills it (names matched trimmed and case-insensitively), and
    gives the types of those columns. Other columns are ignored."""
    found: dict[str, str] = {}
    types: dict[str, pa.DataType] = {}
    for name, typ in fields:
        key = name.strip().lower()
        if key not in INPUT_COLUMNS:
            continue
        if key in found:
            raise ValueError(f"the input has two {key} columns")
        found[key], types[name] = name, typ
    person = "person_id" if "person_id" in found else "national_id" if "national_id" in found else None
    venue = "venue_id" if "venue_id" in found else "venue_code" if "venue_code" in found else None
    missing = [
        label
        for label, ok in (
            ("person_id (or national_id)", person),
            ("venue_id (or venue_code)", venue),
            ("time_in", "time_in" in found),
            ("time_out", "time_out" in found),
        )
        if not ok
    ]
    if missing:
        names = ", ".join(name for name, _ in fields) or "none"
        raise ValueError(f"the input lacks required columns: {', '.join(missing)} (its columns: {names})")
    if person == "national_id" and resolver.person_by_national_id is None:
        raise ValueError(
            "the input identifies persons by national_id but there is no way to look national IDs up "
            "(resolver.person_by_national_id)"
        )
    if venue == "venue_code" and resolver.venue_by_code is None:
        raise ValueError(
            "the input identifies venues by venue_code but there is no way to look venue codes up "
            "(resolver.venue_by_code)"
        )
    for col in ("time_in", "time_out"):
        typ = types[found[col]]
        if pa.types.is_timestamp(typ) and typ.tz is not None:
            raise ValueError(
                f"{col} carries a time zone ({typ}); scans are local wall-clock times without a zone"
            )
    assert person is not None and venue is not None  # else reported missing above
    roles = {"person": found[person], "person_kind": person, "venue": found[venue], "venue_kind": venue}
    roles |= {"time_in": found["time_in"], "time_out": found["time_out"]}
    if "subarea" in found:
        roles["subarea"] = found["subarea"]
    return roles, types


# --- the store ----------------------------------------------------------------------------------------------


def _visible_parquet(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith((".", "_"))


class ScanStore:
    """A folder of date-partitioned scan files; see the module docstring for the layout and the rules."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- layout ---

    def folder(self, day: dt.date) -> Path:
        return self.root / f"date={day.isoformat()}"

    def _day_files(self, day: dt.date) -> list[Path]:
        folder = self.folder(day)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if _visible_parquet(p.name) and p.is_file())

    def _partitions(
        self, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[tuple[dt.date, list[Path]]]:
        """The non-empty partitions from ``start`` to ``end`` (inclusive), oldest first, with their files."""
        if not self.root.is_dir():
            return []
        if start is not None and end is not None:  # a bounded range: look up its folders by name
            days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        else:  # an open range: one listing of the root (not a recursive glob)
            days = []
            for entry in os.scandir(self.root):
                name = entry.name.removeprefix("date=")
                try:
                    day = dt.date.fromisoformat(name)
                except ValueError:
                    continue
                named = entry.name.startswith("date=") and day.isoformat() == name
                if (
                    named
                    and (start is None or day >= start)
                    and (end is None or day <= end)
                    and entry.is_dir()
                ):
                    days.append(day)
        found = [(day, self._day_files(day)) for day in sorted(days)]
        return [(day, files) for day, files in found if files]

    def _files(self, start: dt.date | None = None, end: dt.date | None = None) -> list[Path]:
        return [f for _, files in self._partitions(start, end) for f in files]

    def files(self, start: dt.date | None = None, end: dt.date | None = None) -> list[Path]:
        """The Parquet files of the dates from ``start`` to ``end`` (inclusive; None = open), oldest first."""
        return self._files(start, end)

    # --- reading ---

    def dates(self) -> list[dt.date]:
        """The dates that hold scans, oldest first."""
        return [day for day, _ in self._partitions()]

    def count(self, start: dt.date | None = None, end: dt.date | None = None) -> int:
        """The number of scans with time_in from ``start`` to ``end`` (inclusive), from the Parquet footers."""
        return sum(pq.read_metadata(f).num_rows for f in self._files(start, end))

    def read(
        self, start: dt.date | None = None, end: dt.date | None = None, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """The scans with time_in from ``start`` to ``end`` (dates, inclusive), sorted by time_in."""
        names = list(SCHEMA.names if columns is None else columns)
        unknown = [c for c in names if c not in SCHEMA.names]
        if unknown:
            raise ValueError(
                f"unknown scan columns: {', '.join(unknown)} (the columns are {', '.join(SCHEMA.names)})"
            )
        schema = pa.schema([SCHEMA.field(c) for c in names])
        files = self._files(start, end)
        if not files or not names:
            return schema.empty_table()
        sql = f"SELECT {', '.join(names)} FROM (SELECT {_CASTS} FROM {_parquet_scan(files)}) ORDER BY {_SORT}"
        return self._fetch(sql, {}, schema)

    def scans_of(self, person_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> pa.Table:
        """Every scan of these persons overlapping [start, end] (time_in <= end and time_out >= start)."""
        return self._lookup("person_id", person_ids, start, end)

    def scans_at(self, venue_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> pa.Table:
        """Every scan at these venues overlapping [start, end] (time_in <= end and time_out >= start)."""
        return self._lookup("venue_id", venue_ids, start, end)

    def _lookup(self, column: str, ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> pa.Table:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("scan windows are local wall-clock times: pass datetimes without a time zone")
        if end < start:
            raise ValueError(f"the window ends ({end}) before it starts ({start})")
        # A stay lasts at most a day, so scans overlapping the window started at the earliest the day before.
        files = self._files(start.date() - dt.timedelta(days=1), end.date())
        wanted = np.unique(np.asarray(ids, dtype=np.int64))
        if not files or not len(wanted):
            return SCHEMA.empty_table()
        sql = (
            f"SELECT {_CASTS} FROM {_parquet_scan(files)} "
            f"WHERE {column} IN (SELECT id FROM wanted) AND time_in <= $end AND time_out >= $start "
            f"ORDER BY {_SORT}"
        )
        return self._fetch(sql, {"start": start, "end": end}, SCHEMA, wanted=pa.table({"id": wanted}))

    @staticmethod
    def _fetch(sql: str, params: dict[str, Any], schema: pa.Schema, **tables: pa.Table) -> pa.Table:
        with duckdb.connect() as con:
            for name, table in tables.items():
                con.register(name, table)
            result = con.sql(sql, params=params).to_arrow_table()
        return schema.empty_table() if result is None else result.cast(schema)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-process DuckDB connection with a view ``scans`` (the SCHEMA columns and ``date``).

        The view lists the files present when it is made; connect again to see later ingests.
        """
        con = duckdb.connect()
        files = self._files()
        if files:
            con.execute(f"CREATE VIEW scans AS SELECT {_CASTS}, date FROM {_parquet_scan(files, hive=True)}")
        else:
            con.execute(
                "CREATE VIEW scans AS SELECT CAST(NULL AS BIGINT) AS person_id, CAST(NULL AS BIGINT) AS venue_id, "
                "CAST(NULL AS SMALLINT) AS subarea, CAST(NULL AS TIMESTAMP_MS) AS time_in, "
                "CAST(NULL AS TIMESTAMP_MS) AS time_out, CAST(NULL AS DATE) AS date WHERE false"
            )
        return con

    # --- the manifest ---

    def _manifest(self) -> list[dict[str, Any]]:
        path = self.root / MANIFEST
        if not path.is_file():
            return []
        batches: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["batches"]
        return batches

    def _save_manifest(self, batches: list[dict[str, Any]]) -> None:
        path = self.root / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(json.dumps({"version": 1, "batches": batches}, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    # --- writing ---

    def ingest(
        self,
        source: Path | pa.Table,
        *,
        fmt: str | None = None,
        resolver: Resolver | None = None,
        max_stay_hours: int = MAX_STAY_HOURS,
        progress: Callable[[int, int], None] | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Adds the valid, new scans of a CSV, JSON-lines or Parquet file (or an Arrow table) to the store.

        ``progress(done, total)`` is called once per date written. ``force`` reads a file again even when its
        bytes were already ingested.
        """
        resolver = resolver or Resolver()
        if not isinstance(max_stay_hours, int) or not 1 <= max_stay_hours <= MAX_STAY_HOURS:
            raise ValueError(f"max_stay_hours must be from 1 to {MAX_STAY_HOURS}, not {max_stay_hours}")
        digest: str | None = None
        batches = self._manifest()  # read first: a damaged manifest stops the ingest before any work
        if isinstance(source, pa.Table):
            fmt = "table"
        else:
            source = Path(source)
            fmt = self._format(source, fmt)
            if not source.is_file():
                raise ValueError(f"no such file: {source.name}")
            with source.open("rb") as fh:
                digest = "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
            if not force:
                for entry in batches:
                    if entry.get("digest") == digest and entry.get("format") == fmt and not entry["rejected"]:
                        rows = int(entry["rows_read"])
                        return IngestReport(
                            rows, 0, rows, {}, [], [], entry.get("batch"), already_ingested=True
                        )
        new_root = not self.root.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        batch_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        try:
            with (
                tempfile.TemporaryDirectory(dir=self.root, prefix=".ingest-") as scratch,
                duckdb.connect(config={"temp_directory": scratch, "preserve_insertion_order": False}) as con,
            ):
                report = self._ingest(con, source, fmt, resolver, max_stay_hours, progress, batch_id)
        except BaseException:
            if new_root and not any(self.root.iterdir()):
                self.root.rmdir()
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
            self._save_manifest([*batches, entry])
        except BaseException:
            self._remove(report.dates, batch_id)
            raise
        return report

    @staticmethod
    def _format(path: Path, fmt: str | None) -> str:
        if fmt is None:
            found = SUFFIXES.get(path.suffix.lower())
            if found is None:
                raise ValueError(
                    f"unknown file type: cannot tell the format of {path.name} from its suffix; use one of "
                    f"{', '.join(SUFFIXES)} or pass fmt ({', '.join(FORMATS)})"
                )
            return found
        fmt = SUFFIXES.get("." + fmt.lower().lstrip("."), fmt)
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt

    def _ingest(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Path | pa.Table,
        fmt: str,
        resolver: Resolver,
        max_stay_hours: int,
        progress: Callable[[int, int], None] | None,
        batch_id: str,
    ) -> IngestReport:
        name = "the table" if isinstance(source, pa.Table) else source.name
        try:
            fields = _open_source(con, source, fmt)
        except (pa.ArrowException, duckdb.InvalidInputException, duckdb.IOException) as exc:
            raise ValueError(f"could not read {name}: {exc}") from exc
        roles, types = _columns(fields, resolver)
        try:
            self._stage(con, types, roles)
        except (pa.ArrowException, duckdb.InvalidInputException, duckdb.IOException) as exc:
            raise ValueError(f"could not read {name}: {exc}") from exc
        self._check(con, roles, resolver, max_stay_hours)
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
            d
            for (d,) in con.sql("SELECT DISTINCT day FROM staged WHERE reason IS NULL ORDER BY 1").fetchall()
        ]

        added, written = 0, []
        try:
            if progress:
                progress(0, len(days))
            for i, day in enumerate(days):
                rows = self._write_day(con, day, batch_id)
                if rows:
                    added += rows
                    written.append(day)
                if progress:
                    progress(i + 1, len(days))
        except BaseException:
            self._remove(days, batch_id)
            raise
        valid = int(rows_read) - sum(rejected.values())
        return IngestReport(int(rows_read), added, valid - added, rejected, examples, written, batch_id)

    @staticmethod
    def _stage(con: duckdb.DuckDBPyConnection, types: dict[str, pa.DataType], roles: dict[str, str]) -> None:
        """``raw``: one row per input row, identifiers and times converted (NULL where they do not parse)."""

        def col(role: str) -> tuple[str, pa.DataType]:
            return _ident(roles[role]), types[roles[role]]

        def key(role: str, kind: str) -> tuple[str, str]:
            column, typ = col(role)
            if kind == "national_id":
                text = f"nullif(upper(replace(trim(CAST({column} AS VARCHAR)), ' ', '')), '')"
                return text, f"({text} IS NULL)"
            if kind == "venue_code":
                text = f"nullif(trim(CAST({column} AS VARCHAR)), '')"
                return text, f"({text} IS NULL)"
            return _int_sql(column, typ)

        p_key, p_missing = key("person", roles["person_kind"])
        v_key, v_missing = key("venue", roles["venue_kind"])
        sub_val, sub_missing = _int_sql(*col("subarea")) if "subarea" in roles else ("NULL::BIGINT", "true")
        con.execute(f"""
            CREATE TEMP TABLE raw AS
            SELECT row_no, p_key, p_missing, v_key, v_missing, time_in, time_out,
                   CASE WHEN sub_val BETWEEN 0 AND {SUBAREA_MAX} THEN CAST(sub_val AS SMALLINT) END AS subarea,
                   NOT sub_missing AND coalesce(sub_val NOT BETWEEN 0 AND {SUBAREA_MAX}, true) AS sub_bad
            FROM (
                SELECT {_ROW} AS row_no, {p_key} AS p_key, {p_missing} AS p_missing,
                       {v_key} AS v_key, {v_missing} AS v_missing,
                       {_time_sql(*col("time_in"))} AS time_in, {_time_sql(*col("time_out"))} AS time_out,
                       {sub_val} AS sub_val, {sub_missing} AS sub_missing
                FROM src
            )
        """)  # fmt: skip

    @staticmethod
    def _check(
        con: duckdb.DuckDBPyConnection, roles: dict[str, str], resolver: Resolver, max_stay_hours: int
    ) -> None:
        """``staged``: ``raw`` with resolved ids, the day of time_in and the first reason to reject the row."""

        def resolve(kind: str, fn: Callable[[Sequence[str]], dict[str, int]]) -> None:
            keys = con.sql(
                f"SELECT DISTINCT {kind}_key FROM raw WHERE {kind}_key IS NOT NULL"
            ).to_arrow_table()
            found: dict[str, int] = {}
            column = keys.column(0) if keys is not None else pa.chunked_array([], pa.string())
            for i in range(0, len(column), RESOLVE_CHUNK):
                found.update(fn(column.slice(i, RESOLVE_CHUNK).to_pylist()))
            mapping = pa.table({
                "k": pa.array(list(found), pa.string()), "id": pa.array(list(found.values()), pa.int64())
            })  # fmt: skip
            con.register(f"{kind}_map", mapping)

        def known(kind: str, expr: str, joins: str, fn: Callable[[Sequence[int]], set[int]]) -> None:
            ids = con.sql(f"SELECT DISTINCT {expr} FROM raw {joins} WHERE {expr} >= 0").to_arrow_table()
            column = ids.column(0) if ids is not None else pa.chunked_array([], pa.int64())
            found: set[int] = set()
            for i in range(0, len(column), RESOLVE_CHUNK):
                found |= fn(column.slice(i, RESOLVE_CHUNK).to_pylist())
            con.register(f"{kind}_known", pa.table({"id": pa.array(sorted(found), pa.int64())}))

        joins, person, venue = "", "raw.p_key", "raw.v_key"
        if roles["person_kind"] == "national_id":
            assert resolver.person_by_national_id is not None  # checked by _columns
            resolve("p", resolver.person_by_national_id)
            joins += " LEFT JOIN p_map ON p_map.k = raw.p_key"
            person = "p_map.id"
        if roles["venue_kind"] == "venue_code":
            assert resolver.venue_by_code is not None
            resolve("v", resolver.venue_by_code)
            joins += " LEFT JOIN v_map ON v_map.k = raw.v_key"
            venue = "v_map.id"
        unknown_person, unknown_venue = f"coalesce({person} < 0, true)", f"coalesce({venue} < 0, true)"
        checks = joins
        if resolver.known_persons is not None:
            known("p", person, joins, resolver.known_persons)
            checks += f" LEFT JOIN p_known ON p_known.id = {person}"
            unknown_person += " OR p_known.id IS NULL"
        if resolver.known_venues is not None:
            known("v", venue, joins, resolver.known_venues)
            checks += f" LEFT JOIN v_known ON v_known.id = {venue}"
            unknown_venue += " OR v_known.id IS NULL"
        long_stay = LONG_STAY.format(hours=max_stay_hours)
        con.execute(f"""
            CREATE TEMP TABLE staged AS
            SELECT raw.row_no, {person} AS person_id, {venue} AS venue_id, raw.subarea, raw.time_in, raw.time_out,
                   CAST(raw.time_in AS DATE) AS day,
                   CASE
                       WHEN raw.p_missing THEN '{MISSING_PERSON}'
                       WHEN {unknown_person} THEN '{UNKNOWN_PERSON}'
                       WHEN raw.v_missing THEN '{MISSING_VENUE}'
                       WHEN {unknown_venue} THEN '{UNKNOWN_VENUE}'
                       WHEN raw.time_in IS NULL OR raw.time_out IS NULL THEN '{BAD_TIME}'
                       WHEN raw.time_out < raw.time_in THEN '{TIME_OUT_BEFORE_IN}'
                       WHEN raw.time_out > raw.time_in + to_hours({max_stay_hours}) THEN '{long_stay}'
                       WHEN raw.sub_bad THEN '{BAD_SUBAREA}'
                   END AS reason
            FROM raw {checks}
            ORDER BY day
        """)  # fmt: skip

    def _write_day(self, con: duckdb.DuckDBPyConnection, day: dt.date, batch_id: str) -> int:
        """Writes the batch's new scans of one date as one file (sorted by venue, time in); returns the rows."""
        existing = self._day_files(day)
        valid = "SELECT person_id, venue_id, subarea, time_in, time_out FROM staged WHERE reason IS NULL AND day = $day"
        if existing:  # EXCEPT is a set difference: it also drops repeats inside the batch; NULL equals NULL
            fresh = f"{valid} EXCEPT SELECT {_CASTS} FROM {_parquet_scan(existing)}"
        else:
            fresh = f"SELECT DISTINCT * FROM ({valid})"
        sql = f"SELECT * FROM ({fresh}) ORDER BY venue_id, time_in, person_id, time_out, subarea NULLS FIRST"
        folder = self.folder(day)
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

    def _remove(self, days: Sequence[dt.date], batch_id: str) -> None:
        """Takes a failed batch's files out again (and the partition folders it left empty)."""
        for day in days:
            folder = self.folder(day)
            for name in (f"part-{batch_id}.parquet", f".part-{batch_id}.parquet.tmp"):
                (folder / name).unlink(missing_ok=True)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    def purge(self, *, keep_days: int, today: dt.date) -> PurgeReport:
        """Removes the date partitions before ``today - keep_days`` (that date and later are kept)."""
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, not {keep_days}")
        kept_from = today - dt.timedelta(days=keep_days)
        removed, rows = [], 0
        for day, files in self._partitions(end=kept_from - dt.timedelta(days=1)):
            rows += sum(pq.read_metadata(f).num_rows for f in files)
            folder = self.folder(day)
            hidden = folder.with_name(f".purge-{folder.name}-{secrets.token_hex(4)}")
            os.replace(folder, hidden)  # the partition vanishes for readers at once
            shutil.rmtree(hidden)
            removed.append(day)
        return PurgeReport(kept_from, removed, rows)


def partition_files(root: Path, start: dt.date | None = None, end: dt.date | None = None) -> list[Path]:
    """The Parquet files of a scan folder for the dates from ``start`` to ``end`` (inclusive)."""
    return ScanStore(root).files(start, end)
