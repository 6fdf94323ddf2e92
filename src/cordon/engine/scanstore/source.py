"""Reading and checking an ingest's input: the file (or table) opened as a DuckDB relation with row numbers, its
columns matched to roles, then every row converted and given the first reason to reject it (``staged``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .layout import ident, literal


class InputError(ValueError):
    """A file the store cannot read at all, refused as a whole. The message is English; ``code`` and
    ``params`` let a user interface say the same in its own language."""

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


MISSING_PERSON = "missing person"
UNKNOWN_PERSON = "unknown person"
MISSING_VENUE = "missing venue"
UNKNOWN_VENUE = "unknown venue"
BAD_TIME = "bad time"
TIME_OUT_BEFORE_IN = "time out before time in"
LONG_STAY = "stay longer than {hours} hours"
BAD_SUBAREA = "bad sub-area"
IMPLAUSIBLE_TIME = "time outside the plausible days"
REASONS = (
    MISSING_PERSON, UNKNOWN_PERSON, MISSING_VENUE, UNKNOWN_VENUE, BAD_TIME, IMPLAUSIBLE_TIME, TIME_OUT_BEFORE_IN,
    LONG_STAY, BAD_SUBAREA,
)  # fmt: skip

MAX_EXAMPLES = 20
SUBAREA_MAX = 32767
TIME_FORMATS = (  # ISO 8601 local times, "T" or a space between date and time, seconds optional
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
)  # fmt: skip
RESOLVE_CHUNK = 100_000  # identifiers handed to a Resolver callable per call

INPUT_COLUMNS = ("person_id", "national_id", "venue_id", "venue_code", "subarea", "time_in", "time_out")

_ROW = "__row__"  # the input row number column while ingesting


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
    formats = "[" + ", ".join(literal(f) for f in TIME_FORMATS) + "]"
    return f"CAST(TRY_STRPTIME(trim(CAST({col} AS VARCHAR)), {formats}) AS TIMESTAMP_MS)"


# --- the input ----------------------------------------------------------------------------------------------


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


def open_source(
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
            f"FROM read_parquet({literal(path)}, file_row_number = true, hive_partitioning = false)"
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
    ((bad,),) = con.sql(  # one row: the first line that is not a JSON object, or NULL
        f"SELECT min({_ROW}) FROM lines "
        "WHERE NOT (CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END)"
    ).fetchall()
    if bad is not None:
        raise InputError(
            "not_json", f"line {bad} of {source.name} is not a JSON object (expected one object per line)",
            line=str(bad), file=source.name,
        )  # fmt: skip
    keys = [k for (k,) in con.sql("SELECT DISTINCT unnest(json_keys(line)) FROM lines ORDER BY 1").fetchall()]
    keys = [k for k in keys if k.strip().lower() in INPUT_COLUMNS]  # other keys are never read
    columns = "".join(
        f", json_extract_string(line, {literal('$.' + json.dumps(k, ensure_ascii=False))}) AS {ident(k)}"
        for k in keys
    )
    con.execute(f"CREATE TEMP VIEW src AS SELECT {_ROW}{columns} FROM lines")
    return [(k, pa.string()) for k in keys]


def column_roles(
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
            raise InputError("two_columns", f"the input has two {key} columns", column=key)
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
        raise InputError(
            "missing_columns", f"the input lacks required columns: {', '.join(missing)} (its columns: {names})",
            missing=", ".join(missing), columns=names,
        )  # fmt: skip
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
            raise InputError(
                "time_zone", f"{col} carries a time zone ({typ}); scans are local wall-clock times without a zone",
                column=col,
            )  # fmt: skip
    assert person is not None and venue is not None  # else reported missing above
    roles = {"person": found[person], "person_kind": person, "venue": found[venue], "venue_kind": venue}
    roles |= {"time_in": found["time_in"], "time_out": found["time_out"]}
    if "subarea" in found:
        roles["subarea"] = found["subarea"]
    return roles, types


def stage(con: duckdb.DuckDBPyConnection, types: dict[str, pa.DataType], roles: dict[str, str]) -> None:
    """``raw``: one row per input row, identifiers and times converted (NULL where they do not parse)."""

    def col(role: str) -> tuple[str, pa.DataType]:
        return ident(roles[role]), types[roles[role]]

    # Identifiers given as text (national IDs normalised, venue codes trimmed); ids are integers.
    texts = {
        "national_id": "nullif(upper(replace(trim(CAST({} AS VARCHAR)), ' ', '')), '')",
        "venue_code": "nullif(trim(CAST({} AS VARCHAR)), '')",
    }

    def key(role: str, kind: str) -> tuple[str, str]:
        column, typ = col(role)
        if kind in texts:
            text = texts[kind].format(column)
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


def check(
    con: duckdb.DuckDBPyConnection,
    roles: dict[str, str],
    resolver: Resolver,
    max_stay_hours: int,
    plausible: tuple[dt.date, dt.date] | None = None,
) -> None:
    """``staged``: ``raw`` with resolved ids, the day of time_in and the first reason to reject the row (a
    time_in outside ``plausible``, its first and last day, when given, is not plausible)."""

    def resolve(kind: str, fn: Callable[[Sequence[str]], dict[str, int]]) -> None:
        keys = con.sql(f"SELECT DISTINCT {kind}_key FROM raw WHERE {kind}_key IS NOT NULL").to_arrow_table()
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
        assert resolver.person_by_national_id is not None  # checked by column_roles
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
    implausible = "false"
    if plausible is not None:
        first, last = plausible[0].isoformat(), (plausible[1] + dt.timedelta(days=1)).isoformat()
        implausible = f"raw.time_in < TIMESTAMP '{first}' OR raw.time_in >= TIMESTAMP '{last}'"
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
                   WHEN {implausible} THEN '{IMPLAUSIBLE_TIME}'
                   WHEN raw.time_out < raw.time_in THEN '{TIME_OUT_BEFORE_IN}'
                   WHEN raw.time_out > raw.time_in + to_hours({max_stay_hours}) THEN '{long_stay}'
                   WHEN raw.sub_bad THEN '{BAD_SUBAREA}'
               END AS reason
        FROM raw {checks}
        ORDER BY day
    """)  # fmt: skip
