"""The scan store's one public class: a store folder with its reading, ingest and purge operations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from . import ingest as _ingest
from . import purge as _purge
from . import reading as _reading
from .layout import MAX_STAY_HOURS, Layout
from .reports import IngestReport, PurgeReport
from .source import Resolver


class ScanStore(Layout):
    """A folder of date-partitioned scan files; see the package docstring for the layout and the rules."""

    # --- reading ---

    def read(
        self, start: dt.date | None = None, end: dt.date | None = None, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """The scans with time_in from ``start`` to ``end`` (dates, inclusive), sorted by time_in."""
        return _reading.read(self, start, end, columns)

    def scans_of(self, person_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> pa.Table:
        """Every scan of these persons overlapping [start, end] (time_in <= end and time_out >= start)."""
        return _reading.lookup(self, "person_id", person_ids, start, end)

    def scans_at(self, venue_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> pa.Table:
        """Every scan at these venues overlapping [start, end] (time_in <= end and time_out >= start)."""
        return _reading.lookup(self, "venue_id", venue_ids, start, end)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-process DuckDB connection with a view ``scans`` (the SCHEMA columns and ``date``).

        The view lists the files present when it is made; connect again to see later ingests.
        """
        return _reading.connect(self)

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
        plausible: tuple[dt.date, dt.date] | None = None,
    ) -> IngestReport:
        """Adds the valid, new scans of a CSV, JSON-lines or Parquet file (or an Arrow table) to the store.

        ``progress(done, total)`` is called once per date written. ``force`` reads a file again even when its
        bytes were already ingested. ``plausible`` (first, last day), when given, rejects a scan whose time_in falls
        outside.
        """
        return _ingest.ingest(
            self,
            source,
            fmt=fmt,
            resolver=resolver,
            max_stay_hours=max_stay_hours,
            progress=progress,
            force=force,
            plausible=plausible,
        )

    def purge(self, *, keep_days: int, today: dt.date) -> PurgeReport:
        """Removes the date partitions before ``today - keep_days`` (that date and later are kept)."""
        return _purge.purge(self, keep_days=keep_days, today=today)


def partition_files(root: Path, start: dt.date | None = None, end: dt.date | None = None) -> list[Path]:
    """The Parquet files of a scan folder for the dates from ``start`` to ``end`` (inclusive)."""
    return Layout(root).files(start, end)
