"""Reading the store: a date range as one table, the scans of persons or at venues in a time window, and a
DuckDB connection with a ``scans`` view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from .layout import CASTS, SCHEMA, SORT, Layout, days_holding, parquet_scan


def read(
    store: Layout,
    start: dt.date | None = None,
    end: dt.date | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """The scans with time_in from ``start`` to ``end`` (dates, inclusive), sorted by time_in."""
    names = list(SCHEMA.names if columns is None else columns)
    unknown = [c for c in names if c not in SCHEMA.names]
    if unknown:
        raise ValueError(
            f"unknown scan columns: {', '.join(unknown)} (the columns are {', '.join(SCHEMA.names)})"
        )
    schema = pa.schema([SCHEMA.field(c) for c in names])
    files = store._files(start, end)
    if not files or not names:
        return schema.empty_table()
    sql = f"SELECT {', '.join(names)} FROM (SELECT {CASTS} FROM {parquet_scan(files)}) ORDER BY {SORT}"
    return _fetch(sql, {}, schema)


def lookup(store: Layout, column: str, ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> pa.Table:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("scan windows are local wall-clock times: pass datetimes without a time zone")
    if end < start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    # A stay lasts at most MAX_STAY, so scans overlapping the window started at the earliest that long before.
    files = store._files(*days_holding(start, end))
    wanted = np.unique(np.asarray(ids, dtype=np.int64))
    if not files or not len(wanted):
        return SCHEMA.empty_table()
    sql = (
        f"SELECT {CASTS} FROM {parquet_scan(files)} "
        f"WHERE {column} IN (SELECT id FROM wanted) AND time_in <= $end AND time_out >= $start "
        f"ORDER BY {SORT}"
    )
    return _fetch(sql, {"start": start, "end": end}, SCHEMA, wanted=pa.table({"id": wanted}))


def _fetch(sql: str, params: dict[str, Any], schema: pa.Schema, **tables: pa.Table) -> pa.Table:
    with duckdb.connect() as con:
        for name, table in tables.items():
            con.register(name, table)
        result = con.sql(sql, params=params).to_arrow_table()
    return schema.empty_table() if result is None else result.cast(schema)


def connect(store: Layout) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB connection with a view ``scans`` (the SCHEMA columns and ``date``).

    The view lists the files present when it is made; connect again to see later ingests.
    """
    con = duckdb.connect()
    files = store._files()
    if files:
        con.execute(f"CREATE VIEW scans AS SELECT {CASTS}, date FROM {parquet_scan(files, hive=True)}")
    else:
        con.execute(
            "CREATE VIEW scans AS SELECT CAST(NULL AS BIGINT) AS person_id, CAST(NULL AS BIGINT) AS venue_id, "
            "CAST(NULL AS SMALLINT) AS subarea, CAST(NULL AS TIMESTAMP_MS) AS time_in, "
            "CAST(NULL AS TIMESTAMP_MS) AS time_out, CAST(NULL AS DATE) AS date WHERE false"
        )
    return con
