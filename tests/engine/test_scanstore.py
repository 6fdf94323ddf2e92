"""The scan store: ingestion of CSV, JSON lines and Parquet, bad rows counted, duplicates never added, all or
nothing batches, windows across midnight, retention, and files written by the simulator."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordon.engine.scanstore import MANIFEST, SCHEMA, Resolver, ScanStore, partition_files

D = dt.date(2026, 11, 20)
NEXT = D + dt.timedelta(days=1)
Row = tuple[int, int, int | None, dt.datetime, dt.datetime]


def at(hhmm: str, day: dt.date = D) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m))


def table(rows: Sequence[Row]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in rows], schema=SCHEMA)


def rows_of(store: ScanStore) -> set[tuple[Any, ...]]:
    return {tuple(r.values()) for r in store.read().to_pylist()}


def jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8"
    )
    return path


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- ingestion ------------------------------------------------------------------------------------------------


def test_csv_with_bad_rows_counted_and_reingest_adds_nothing(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    f = tmp_path / "batch.csv"
    f.write_text(
        "person_id,venue_id,subarea,time_in,time_out\n"
        "1,10,,2026-11-20 08:15,2026-11-20 09:00\n"  # line 2
        "2,10,1,2026-11-20T08:30:00,2026-11-21T01:00:00\n"
        ",10,,2026-11-20 08:15,2026-11-20 09:00\n"  # line 4: missing person
        "3,,,2026-11-20 08:15,2026-11-20 09:00\n"  # missing venue
        "3,10,,soon,2026-11-20 09:00\n"  # bad time
        "3,10,,2026-11-20 10:00,2026-11-20 09:00\n"  # out before in
        "3,10,,2026-11-20 10:00,2026-11-22 09:00\n"  # too long
        "3,10,x,2026-11-20 10:00,2026-11-20 11:00\n"  # bad sub-area
        "1,10,,2026-11-20 08:15,2026-11-20 09:00\n",  # duplicate inside the batch
        encoding="utf-8",
    )
    report = store.ingest(f)
    assert (report.rows_read, report.added, report.duplicates) == (9, 2, 1)
    assert report.rejected == {
        "missing person": 1, "missing venue": 1, "bad time": 1, "time out before time in": 1,
        "stay longer than 24 hours": 1, "bad sub-area": 1,
    }  # fmt: skip
    assert [row for row, _ in report.examples] == [4, 5, 6, 7, 8, 9]
    assert report.dates == [D]
    assert "2 scans added" in report.describe() and "missing person 1" in report.describe()
    again = store.ingest(f)  # rows were rejected, so the file is read again: nothing new
    assert (again.added, again.duplicates, again.rejected) == (0, 3, report.rejected)
    assert not again.already_ingested and again.dates == []
    assert store.count() == 2 and store.dates() == [D]
    assert rows_of(store) == {
        (1, 10, None, at("08:15"), at("09:00")),
        (2, 10, 1, at("08:30"), at("01:00", NEXT)),
    }


def test_a_clean_file_is_recognised_by_its_digest(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    f = tmp_path / "clean.csv"
    f.write_text(
        "person_id,venue_id,time_in,time_out\n1,10,2026-11-20 08:00,2026-11-20 09:00\n"
        "2,10,2026-11-21 08:00,2026-11-21 09:00\n",
        encoding="utf-8",
    )
    first = store.ingest(f)
    assert (first.added, first.dates) == (2, [D, NEXT])
    again = store.ingest(f)
    assert again.already_ingested and (again.rows_read, again.added, again.duplicates) == (2, 0, 2)
    assert "already ingested" in again.describe()
    forced = store.ingest(f, force=True)  # read again all the same: every row is a duplicate
    assert not forced.already_ingested and (forced.added, forced.duplicates) == (0, 2)
    manifest = json.loads((store.root / MANIFEST).read_text(encoding="utf-8"))
    assert [b["added"] for b in manifest["batches"]] == [2, 0]
    assert manifest["batches"][0]["digest"].startswith("sha256:")
    assert store.count() == 2


def test_every_reason_is_counted_once_with_line_numbers(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    ok = {"time_in": "2026-11-20T08:15:00", "time_out": "2026-11-20 09:00"}
    f = jsonl(
        tmp_path / "mixed.ndjson",
        [
            {"person_id": 1, "venue_id": 10, **ok},  # line 1: fine
            {"person_id": 2, "venue_id": "10", "subarea": "3", "time_in": "2026-11-20 08:15",
             "time_out": "2026-11-20T08:20"},
            "",  # line 3: blank, skipped but counted as a line
            {"person_id": None, "venue_id": 10, **ok},  # 4: missing person
            {"person_id": "abc", "venue_id": 10, **ok},  # 5: unknown person (not an id)
            {"person_id": -4, "venue_id": 10, **ok},  # 6: unknown person (negative)
            {"person_id": 1, **ok},  # 7: missing venue
            {"person_id": 1, "venue_id": 1.5, **ok},  # 8: unknown venue
            {"person_id": 1, "venue_id": 10, "time_in": "2026-11-20", "time_out": "2026-11-20 09:00"},  # 9: bad time
            {"person_id": 1, "venue_id": 10, "time_in": "2026-11-20T08:15+08:00", "time_out": "2026-11-20 09:00"},
            {"person_id": 1, "venue_id": 10, "time_in": "2026-11-20 08:15"},  # 11: bad time (missing)
            {"person_id": 1, "venue_id": 10, "time_in": "2026-11-20 09:15", "time_out": "2026-11-20 09:00"},
            {"person_id": 1, "venue_id": 10, "time_in": "2026-11-20 09:15", "time_out": "2026-11-21 09:16"},
            {"person_id": 1, "venue_id": 10, "subarea": 40000, **ok},  # 14: bad sub-area
            {"person_id": 1, "venue_id": 10, "subarea": "1.5", **ok},  # 15: bad sub-area
            {"person_id": 1, "venue_id": 10, "subarea": -1, **ok},  # 16: bad sub-area
            {"person_id": "", "venue_id": "", "time_in": "x", "subarea": "y"},  # 17: several problems, the first
            {"person_id": "7", "venue_id": " 11 ", "subarea": 32767, "time_in": "2026-11-20 23:59:59.250",
             "time_out": "2026-11-21 00:10:00"},  # 18: fine (fractions of a second, spaces around an id)
        ],
    )  # fmt: skip
    report = store.ingest(f)
    assert report.rows_read == 17 and report.added == 3 and report.duplicates == 0
    assert report.rejected == {
        "missing person": 2, "unknown person": 2, "missing venue": 1, "unknown venue": 1, "bad time": 3,
        "time out before time in": 1, "stay longer than 24 hours": 1, "bad sub-area": 3,
    }  # fmt: skip
    assert report.rows_read == report.added + report.duplicates + report.rejected_total
    assert report.examples == [
        (4, "missing person"), (5, "unknown person"), (6, "unknown person"), (7, "missing venue"),
        (8, "unknown venue"), (9, "bad time"), (10, "bad time"), (11, "bad time"), (12, "time out before time in"),
        (13, "stay longer than 24 hours"), (14, "bad sub-area"), (15, "bad sub-area"), (16, "bad sub-area"),
        (17, "missing person"),
    ]  # fmt: skip
    assert rows_of(store) == {
        (1, 10, None, at("08:15"), at("09:00")),
        (2, 10, 3, at("08:15"), at("08:20")),
        (7, 11, 32767, dt.datetime(2026, 11, 20, 23, 59, 59, 250000), at("00:10", NEXT)),
    }
    short = ScanStore(tmp_path / "short").ingest(f, max_stay_hours=2)
    assert short.rejected["stay longer than 2 hours"] == 1
    with pytest.raises(ValueError, match="max_stay_hours"):
        store.ingest(f, max_stay_hours=25)


def test_examples_stop_at_twenty(tmp_path: Path) -> None:
    bad = [(i, 10, None, at("10:00"), at("09:00")) for i in range(30)]
    report = ScanStore(tmp_path / "scans").ingest(table(bad))
    assert report.rejected == {"time out before time in": 30}
    assert [row for row, _ in report.examples] == list(range(1, 21))


def test_resolution_known_ids_and_partial_overlap(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    stay = {"time_in": "2026-11-20 08:00", "time_out": "2026-11-20 08:30"}
    j = jsonl(
        tmp_path / "b.jsonl",
        [
            {"national_id": "11010519900101001x", "venue_code": " V1", **stay},
            {"national_id": "NOBODY", "venue_code": "V1", **stay},  # line 2: unknown person
            {"national_id": "1101 0519 9001 0100 1X", "venue_code": "NOPE", **stay},  # known person, unknown venue
            {"national_id": " ", "venue_code": "V1", **stay},  # missing person
        ],
    )  # fmt: skip
    asked: list[list[str]] = []

    def by_national_id(ids: Any) -> dict[str, int]:
        asked.append(sorted(ids))
        return {i: 5 for i in ids if i == "11010519900101001X"}

    resolver = Resolver(
        person_by_national_id=by_national_id, venue_by_code=lambda codes: {c: 7 for c in codes if c == "V1"}
    )
    report = store.ingest(j, resolver=resolver)
    assert (report.added, report.rejected) == (
        1,
        {"missing person": 1, "unknown person": 1, "unknown venue": 1},
    )
    assert asked == [["11010519900101001X", "NOBODY"]]  # one batch call, normalised, distinct
    with pytest.raises(ValueError, match="no way to look national IDs up"):
        store.ingest(j)
    with pytest.raises(ValueError, match="venue codes"):
        store.ingest(j, resolver=Resolver(person_by_national_id=by_national_id))

    p = tmp_path / "c.parquet"  # one scan already stored (resolved above), one new
    pq.write_table(table([(5, 7, None, at("08:00"), at("08:30")), (6, 7, 0, at("08:10"), at("08:20"))]), p)
    report = store.ingest(p)
    assert (report.added, report.duplicates) == (1, 1)
    assert len(store.files()) == 2 and partition_files(store.root, D, D) == store.files()

    known = Resolver(known_persons=lambda ids: {5, 6} & set(ids), known_venues=lambda ids: {7} & set(ids))
    report = store.ingest(
        table([
            (9, 7, None, at("09:00"), at("09:30")), (5, 8, None, at("09:00"), at("09:30")),
            (6, 7, None, at("09:00"), at("09:30")),
        ]),
        resolver=known,
    )  # fmt: skip
    assert report.rejected == {"unknown person": 1, "unknown venue": 1} and report.added == 1
    assert store.count() == 3


def test_partial_overlap_adds_only_new_rows_in_new_files(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    first = [(p, 10, None, at("08:00"), at("09:00")) for p in range(5)]
    second = first[2:] + [(p, 11, 2, at("10:00", NEXT), at("11:00", NEXT)) for p in range(3)]
    assert store.ingest(table(first)).added == 5
    report = store.ingest(table(second))
    assert (report.rows_read, report.added, report.duplicates, report.dates) == (6, 3, 3, [NEXT])
    assert len(store.files(D, D)) == 1 and len(store.files(NEXT, NEXT)) == 1  # no empty file for D
    assert rows_of(store) == set(first) | set(second)


def test_bad_inputs_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "scans"
    store = ScanStore(root)
    f = tmp_path / "x.csv"
    f.write_text("person_id,time_in\n1,2026-11-20 08:00\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"venue_id \(or venue_code\), time_out"):
        store.ingest(f)
    with pytest.raises(ValueError, match="unknown file type"):
        store.ingest(tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="unknown format"):
        store.ingest(f, fmt="xml")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("person_id,venue_id,time_in,time_out\n1,2,2026-11-20 08:00\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"could not read ragged\.csv"):
        store.ingest(ragged)
    broken = jsonl(tmp_path / "broken.jsonl", [{"person_id": 1}, "{oops", "[1, 2]"])
    with pytest.raises(ValueError, match=r"line 2 of broken\.jsonl is not a JSON object"):
        store.ingest(broken)
    zoned = pa.table({
        "person_id": [1], "venue_id": [2],
        "time_in": pa.array([at("08:00")], pa.timestamp("ms", tz="UTC")),
        "time_out": pa.array([at("09:00")], pa.timestamp("ms", tz="UTC")),
    })  # fmt: skip
    with pytest.raises(ValueError, match="time zone"):
        store.ingest(zoned)
    assert not root.exists()
    assert store.count() == 0 and store.dates() == [] and store.read().num_rows == 0


def test_a_failing_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    store.ingest(table([(1, 10, None, at("08:00"), at("09:00"))]))
    before = files_in(store.root)
    rows = [(2, 10, None, at("08:00"), at("09:00")), (3, 10, None, at("08:00", NEXT), at("09:00", NEXT))]

    def fail_after_first_date(done: int, total: int) -> None:
        if done == 1:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store.ingest(table(rows), progress=fail_after_first_date)
    assert (
        files_in(store.root) == before
    )  # the file already renamed into place is gone again, manifest as it was
    calls: list[tuple[int, int]] = []
    report = store.ingest(table(rows), progress=lambda done, total: calls.append((done, total)))
    assert report.added == 2 and calls == [(0, 2), (1, 2), (2, 2)]


def test_files_are_sorted_typed_and_readable_as_a_hive_dataset(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    rows = [
        (p, v, None, at(f"{h:02d}:00"), at(f"{h:02d}:30")) for p, v, h in [(1, 3, 9), (2, 1, 12), (3, 1, 8)]
    ]
    report = store.ingest(table(rows))
    (path,) = store.files()
    assert path.parent.name == f"date={D}" and path.name == f"part-{report.batch_id}.parquet"
    assert pq.read_schema(path).remove_metadata() == SCHEMA
    written = pq.read_table(path)
    assert written.column("venue_id").to_pylist() == [1, 1, 3]
    assert written.column("time_in").to_pylist() == [at("08:00"), at("12:00"), at("09:00")]
    assert sorted(p.name for p in store.root.iterdir()) == [MANIFEST, f"date={D}"]  # no temporary files left
    con = duckdb.connect()
    glob = str(store.root / "*" / "*.parquet")
    assert con.execute(
        "SELECT count(*), min(date) FROM read_parquet(?, hive_partitioning = true)", [glob]
    ).fetchall() == [(3, D)]
    assert store.read().column("person_id").to_pylist() == [3, 1, 2]  # sorted by time_in
    assert store.read(columns=["venue_id"]).schema == pa.schema([SCHEMA.field("venue_id")])
    with pytest.raises(ValueError, match="unknown scan columns"):
        store.read(columns=["nope"])


# --- queries --------------------------------------------------------------------------------------------------


def test_windows_across_midnight_and_retention(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    store.ingest(
        table([
            (1, 10, None, at("23:30"), at("00:30", NEXT)),
            (2, 10, None, at("08:00"), at("09:00")),
            (3, 11, 1, at("00:10", NEXT), at("00:20", NEXT)),
            (4, 10, None, at("00:30", NEXT), at("02:00", NEXT)),  # touches the window's end
        ])
    )  # fmt: skip
    late = store.scans_at([10], at("00:00", NEXT), at("00:30", NEXT))
    assert late.schema == SCHEMA and late.column("person_id").to_pylist() == [1, 4]
    found = store.scans_of([1, 3, 2, 3], at("00:15", NEXT), at("00:16", NEXT))
    assert found.column("person_id").to_pylist() == [1, 3]
    assert store.scans_of([2], at("09:00"), at("10:00")).num_rows == 1  # closed interval: touching counts
    assert store.scans_of([2], at("09:01"), at("10:00")).num_rows == 0
    assert store.scans_of([], at("00:00"), at("01:00")).num_rows == 0
    with pytest.raises(ValueError, match="before it starts"):
        store.scans_of([1], at("02:00"), at("01:00"))
    with pytest.raises(ValueError, match="time zone"):
        store.scans_at([10], at("01:00").replace(tzinfo=dt.UTC), at("02:00").replace(tzinfo=dt.UTC))
    assert store.count(NEXT) == 2 and store.count(end=D) == 2 and store.count() == 4

    with pytest.raises(ValueError):
        store.purge(keep_days=0, today=NEXT)
    assert store.purge(keep_days=1, today=NEXT).rows == 0  # D is kept (today - 1)
    report = store.purge(keep_days=1, today=NEXT + dt.timedelta(days=1))
    assert (report.partitions, report.dates, report.rows) == (1, [D], 2)
    assert "2 scans" in report.describe()
    assert store.dates() == [NEXT] and not (store.root / f"date={D}").exists()
    assert store.scans_at([10], at("00:00", NEXT), at("01:00", NEXT)).column("person_id").to_pylist() == [4]


def test_simulator_partitions_are_read_and_deduplicated(tmp_path: Path) -> None:
    folder = tmp_path / "scans" / f"date={D}"
    folder.mkdir(parents=True)
    sim = pa.table({
        "person_id": pa.array([1, 2], pa.int64()), "venue_id": pa.array([3, 3], pa.int32()),
        "subarea": pa.array([0, None], pa.int8()),
        "time_in": pa.array([at("08:00"), at("09:00")], pa.timestamp("ms")),
        "time_out": pa.array([at("08:30"), at("09:30")], pa.timestamp("ms")),
    })  # fmt: skip
    pq.write_table(sim, folder / "part-0.parquet")
    store = ScanStore(tmp_path / "scans")
    assert store.count() == 2 and store.dates() == [D]
    f = tmp_path / "again.csv"  # the same two scans (sub-area 0, and unknown) and one new
    f.write_text(
        "person_id,venue_id,subarea,time_in,time_out\n1,3,0,2026-11-20 08:00,2026-11-20 08:30\n"
        "2,3,,2026-11-20 09:00,2026-11-20 09:30\n2,3,0,2026-11-20 09:00,2026-11-20 09:30\n",
        encoding="utf-8",
    )
    report = store.ingest(f)
    assert (report.added, report.duplicates) == (1, 2)
    assert store.read().schema == SCHEMA and store.count() == 3
    assert store.scans_at([3], at("09:10"), at("09:20")).column("subarea").to_pylist() == [None, 0]
    with store.connect() as con:
        assert con.execute("SELECT count(DISTINCT person_id), min(date) FROM scans").fetchall() == [(2, D)]
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE scans)").fetchall())
    assert types["venue_id"] == "BIGINT" and types["subarea"] == "SMALLINT"


def test_an_empty_store_answers_with_empty_tables(tmp_path: Path) -> None:
    empty = ScanStore(tmp_path / "none")
    assert empty.dates() == [] and empty.count() == 0
    assert empty.read().schema == SCHEMA and empty.read().num_rows == 0
    assert empty.scans_at([10], at("00:00"), at("23:00")).num_rows == 0
    assert empty.scans_of([1], at("00:00"), at("23:00")).schema == SCHEMA
    assert empty.purge(keep_days=7, today=D).partitions == 0
    with empty.connect() as con:
        assert con.execute("SELECT count(*) FROM scans").fetchall() == [(0,)]
    nothing = empty.ingest(table([]))
    assert (nothing.rows_read, nothing.added, nothing.dates) == (0, 0, [])


# --- the store holds exactly the distinct valid rows -------------------------------------------------------------

scan_rows = st.tuples(
    st.integers(1, 4),  # person
    st.integers(1, 3),  # venue
    st.sampled_from([None, 0, 1]),  # sub-area
    st.integers(0, 3 * 1440),  # minute of time in, over three days
    st.integers(-30, 600),  # length of stay in minutes (negative: rejected)
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(scan_rows, max_size=12), min_size=1, max_size=3))
def test_store_holds_exactly_the_distinct_valid_rows(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple[int, int, int | None, int, int]]]
) -> None:
    store = ScanStore(tmp_path_factory.mktemp("prop") / "scans")
    start = dt.datetime.combine(D, dt.time())
    seen: set[Row] = set()
    for batch in [*batches, batches[0]]:  # the first batch again at the end
        rows: list[Row] = [
            (p, v, s, start + dt.timedelta(minutes=t), start + dt.timedelta(minutes=t + d))
            for p, v, s, t, d in batch
        ]
        valid = {r for r in rows if r[4] >= r[3]}
        report = store.ingest(table(rows))
        assert report.added == len(valid - seen)
        assert report.rejected_total == len(rows) - sum(r[4] >= r[3] for r in rows)
        assert report.rows_read == report.added + report.duplicates + report.rejected_total
        seen |= valid
    assert rows_of(store) == seen and store.count() == len(seen)
    assert store.dates() == sorted({r[3].date() for r in seen})


# --- reports ----------------------------------------------------------------------------------------------------


def test_reports_read_as_sentences() -> None:
    from cordon.engine.scanstore import IngestReport, PurgeReport

    one = IngestReport(1, 1, 0, {}, [], [D], "b1")
    assert one.describe() == (
        f"Read 1 row: 1 scan added on {D.isoformat()}; 0 were already in the store or repeated within the batch."
    )
    many = IngestReport(
        1205, 1000, 1, {"missing person": 3, "bad time": 201}, [(2, "missing person"), (5, "bad time")] * 4,
        [D, NEXT, NEXT + dt.timedelta(days=1)],
    )  # fmt: skip
    text = many.describe()
    assert text.startswith("Read 1,205 rows: 1,000 scans added on 3 dates from 2026-11-20 to 2026-11-22; ")
    assert "; 1 was already in the store or repeated within the batch; " in text
    assert "204 rows rejected (missing person 3, bad time 201), first at rows " in text
    assert text.endswith(
        "2 (missing person), 5 (bad time), 2 (missing person), 5 (bad time), 2 (missing person)."
    )
    assert many.rejected_total == 204
    none = IngestReport(0, 0, 0, {}, [], [])
    assert (
        none.describe()
        == "Read 0 rows: 0 scans added; 0 were already in the store or repeated within the batch."
    )
    again = IngestReport(7, 0, 7, {}, [], [], "b1", already_ingested=True)
    assert again.describe() == "This file was already ingested; nothing was read or added (7 rows last time)."
    assert IngestReport(1, 0, 1, {}, [], [], already_ingested=True).describe().endswith("(1 row last time).")
    purged = PurgeReport(NEXT, [D - dt.timedelta(days=1), D], 1)
    assert purged.partitions == 2
    assert purged.describe() == (
        "Removed 2 date partitions (2026-11-19 to 2026-11-20) holding 1 scan; scans from 2026-11-21 on are kept."
    )
    assert (
        PurgeReport(NEXT, [], 0).describe() == "Nothing to purge: the store holds no scans before 2026-11-21."
    )
    assert (
        PurgeReport(NEXT, [D], 3).describe().startswith("Removed 1 date partition (2026-11-20 to 2026-11-20)")
    )


def test_only_named_date_folders_with_visible_parquet_files_are_partitions(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "store")
    assert store.dates() == [] and store.files() == [] and store.count() == 0
    store.ingest(
        table([(1, 5, 0, at("10:00", D), at("11:00", D)), (2, 5, 0, at("10:00", NEXT), at("11:00", NEXT))])
    )
    root = store.root
    (root / "date=2026-11-25").mkdir()  # empty
    (root / "date=2026-11-26").mkdir()  # only hidden or private files
    for name in (".part-x.parquet.tmp", "_meta.parquet", ".hidden.parquet", "notes.txt"):
        (root / "date=2026-11-26" / name).write_bytes(b"x")
    (root / "date=2026-11-27" / "part-0.parquet").mkdir(parents=True)  # a folder, not a file
    for odd in ("date=2026-11-5", "2026-11-28", "date=2026-11-29x"):
        (root / odd).mkdir()
        pq.write_table(table([(3, 5, 0, at("10:00"), at("11:00"))]), root / odd / "part-0.parquet")
    (root / "date=2026-11-30").write_text("a file named like a partition")
    assert store.dates() == [D, NEXT]
    assert store.count() == 2 and store.count(start=NEXT) == 1 and store.count(end=D) == 1
    before, after = D - dt.timedelta(days=1), NEXT + dt.timedelta(days=1)
    assert (
        store.count(start=before)
        == store.count(start=D)
        == store.count(end=after)
        == store.count(end=NEXT)
        == 2
    )
    assert [f.parent.name for f in store.files(start=NEXT)] == ["date=2026-11-21"]
    assert [f.parent.name for f in store.files(end=D)] == ["date=2026-11-20"]
    assert store.files(start=NEXT, end=D) == []
    assert len(store.files(D, NEXT + dt.timedelta(days=10))) == 2
    assert partition_files(root) == store.files()


def test_the_same_bytes_in_another_format_are_read_again(tmp_path: Path) -> None:
    f = tmp_path / "scans.csv"
    f.write_text(
        "person_id,venue_id,time_in,time_out\n1,5,2026-11-20 08:00,2026-11-20 09:00\n", encoding="utf-8"
    )
    store = ScanStore(tmp_path / "store")
    assert store.ingest(f).added == 1
    assert store.ingest(f).already_ingested
    assert store.ingest(f, fmt=".CSV").already_ingested  # the same format, however it is named
    with pytest.raises(ValueError, match="is not a JSON object"):  # not taken as ingested: read, and refused
        store.ingest(f, fmt="jsonl")
    with pytest.raises(ValueError, match=r"no such file: gone\.csv"):
        store.ingest(tmp_path / "gone.csv")
    for hours in (1, 24):
        assert ScanStore(tmp_path / f"h{hours}").ingest(f, max_stay_hours=hours).added == 1
    for hours in (0, 25, 2.5):
        with pytest.raises(ValueError, match="max_stay_hours must be from 1 to 24"):
            store.ingest(f, max_stay_hours=hours)  # type: ignore[arg-type]
