"""The store folder: the file schema, the date partitions and their files, the manifest of ingested batches, and
the SQL that reads the files (see the package docstring for the layout and the rules)."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema([
    pa.field("person_id", pa.int64(), nullable=False),
    pa.field("venue_id", pa.int64(), nullable=False),
    pa.field("subarea", pa.int16()),
    pa.field("time_in", pa.timestamp("ms"), nullable=False),
    pa.field("time_out", pa.timestamp("ms"), nullable=False),
])  # fmt: skip

MANIFEST = "_ingested.json"

# The longest stay the store keeps (ingestion refuses longer ones, row by row). Every reader relies on it: the
# scans overlapping a window [start, end] began at the earliest this long before its start, so they lie in the
# partitions from the date of ``start - MAX_STAY`` to the date of ``end`` (:func:`days_holding`).
MAX_STAY_HOURS = 24
MAX_STAY_MINUTES = MAX_STAY_HOURS * 60
MAX_STAY = dt.timedelta(hours=MAX_STAY_HOURS)
BATCH_ROWS = 122_880  # rows per Arrow batch and per Parquet row group written (DuckDB's row-group size)

SORT = "time_in, venue_id, person_id, time_out, subarea NULLS FIRST"
CASTS = (
    "CAST(person_id AS BIGINT) AS person_id, CAST(venue_id AS BIGINT) AS venue_id, "
    "CAST(subarea AS SMALLINT) AS subarea, CAST(time_in AS TIMESTAMP_MS) AS time_in, "
    "CAST(time_out AS TIMESTAMP_MS) AS time_out"
)


def days_holding(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The first and last date partition that can hold a scan overlapping [start, end] (local wall-clock
    times): a scan is filed under the date of its time in and lasts at most :data:`MAX_STAY`."""
    return (start - MAX_STAY).date(), end.date()


# --- SQL helpers --------------------------------------------------------------------------------------------


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_scan(files: Sequence[Path], *, hive: bool = False) -> str:
    """A ``read_parquet`` over an explicit file list; narrower integer columns are unified by name."""
    listing = ", ".join(literal(str(f)) for f in files)
    options = "hive_partitioning = true, hive_types = {'date': DATE}" if hive else "hive_partitioning = false"
    return f"read_parquet([{listing}], union_by_name = true, {options})"


# --- the folder ---------------------------------------------------------------------------------------------


def _visible_parquet(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith((".", "_"))


class Layout:
    """A store folder: its date partitions, their files and the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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

    def dates(self) -> list[dt.date]:
        """The dates that hold scans, oldest first."""
        return [day for day, _ in self._partitions()]

    def count(self, start: dt.date | None = None, end: dt.date | None = None) -> int:
        """The number of scans with time_in from ``start`` to ``end`` (inclusive), from the Parquet footers."""
        return sum(pq.read_metadata(f).num_rows for f in self._files(start, end))

    # --- the manifest ---

    def _manifest(self) -> list[dict[str, Any]]:
        path = self.root / MANIFEST
        if not path.is_file():
            return []
        batches: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["batches"]
        return batches

    def _save_manifest(self, batches: list[dict[str, Any]]) -> None:
        path = self.root / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{secrets.token_hex()}.tmp")
        tmp.write_text(json.dumps({"version": 1, "batches": batches}, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
