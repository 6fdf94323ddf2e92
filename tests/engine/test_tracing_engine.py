"""The tracing engine against a brute-force reference on random inputs (hypothesis), the exposure window, and
reading a date-partitioned scan folder."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.engine.tracing import (
    CaseWindow,
    Register,
    Rules,
    ScanArrays,
    ScanIndex,
    Visit,
    exposure_window,
    trace,
    trace_blocks,
)

DAY = 1440
Scan = tuple[int, int, int, int, int]  # person, venue, subarea, t_in, t_out


def index_of(scans: list[Scan]) -> ScanIndex:
    a = np.array(scans, dtype=np.int64).reshape(-1, 5)
    return ScanIndex(ScanArrays(a[:, 0], a[:, 1], a[:, 2].astype(np.int16), a[:, 3], a[:, 4]))


def reference(
    scans: list[Scan],
    cases: list[CaseWindow],
    visits: list[Visit],
    margin: int,
    hubs: set[int],
    hub_min: int,
    hh: dict[int, int],
    unit: dict[int, int],
    min_overlap: int = 0,
) -> dict[tuple[int, int], tuple[str, set[tuple[Any, ...]]]]:
    """(case, contact) -> (strongest type, evidence of that degree), by plain loops."""
    found: dict[tuple[int, int], list[tuple[int, tuple[Any, ...]]]] = {}
    rank = ["household", "work_unit", "venue", "trajectory", "secondary_household", "secondary_work_unit",
            "risk_venue"]  # fmt: skip
    for c in cases:
        # Only the part of a case's stay (scanned or typed in) inside its window counts.
        stays = [
            (v, s, max(i, c.start), min(o, c.end), "venue")
            for p, v, s, i, o in scans
            if p == c.person_id and i <= c.end and o >= c.start
        ]
        stays += [
            (x.venue_id, x.subarea, max(x.t_in, c.start), min(x.t_out, c.end), "trajectory")
            for x in visits
            if x.case_id == c.case_id and x.t_in <= c.end and x.t_out >= c.start
        ]
        for v, sub, a_in, a_out, kind in stays:
            for p, v2, sub2, b_in, b_out in scans:
                if v2 != v or p == c.person_id or not (b_in <= a_out + margin and b_out >= a_in - margin):
                    continue
                overlap = max(0, min(a_out, b_out) - max(a_in, b_in))
                same = sub >= 0 and sub == sub2
                differ = sub >= 0 and sub2 >= 0 and sub != sub2
                close = not differ and (same or overlap >= hub_min if v in hubs else overlap >= min_overlap)
                t = kind if close else "risk_venue"
                found.setdefault((c.case_id, p), []).append(
                    (rank.index(t), (t, v, sub2, a_in, a_out, b_in, b_out))
                )
        for mapping, t in ((hh, "household"), (unit, "work_unit")):
            g = mapping.get(c.person_id, -1)
            for p, g2 in mapping.items():
                if g >= 0 and g2 == g and p != c.person_id:
                    found.setdefault((c.case_id, p), []).append((rank.index(t), (t, p)))
    for c in cases:
        close = [p for (cid, p), ev in found.items() if cid == c.case_id and min(r for r, _ in ev) <= 3]
        for via in close:
            for mapping, t in ((hh, "secondary_household"), (unit, "secondary_work_unit")):
                g = mapping.get(via, -1)
                for p, g2 in mapping.items():
                    if g >= 0 and g2 == g and p not in (via, c.person_id):
                        found.setdefault((c.case_id, p), []).append((rank.index(t), (t, via, p)))
    degree = {0: 1, 1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3}
    out = {}
    for key, ev in found.items():
        best = min(r for r, _ in ev)
        out[key] = (rank[best], {e for r, e in ev if degree[r] == degree[best] and len(e) == 7})
    return out


times = st.integers(0, 3 * DAY)


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    n_persons = draw(st.integers(2, 8))
    venues = draw(st.integers(1, 3))
    scans: list[Scan] = []
    for _ in range(draw(st.integers(0, 30))):
        t_in = draw(times)
        t_out = t_in + draw(st.sampled_from([0, 1, 5, 30, 90, 600, DAY - 1, DAY]))  # some cross midnight
        scans.append((draw(st.integers(0, n_persons - 1)), draw(st.integers(0, venues - 1)),
                      draw(st.integers(-1, 1)), t_in, t_out))  # fmt: skip
    if scans and draw(st.booleans()):
        scans.append(scans[0])  # a repeated scan
    cases = []
    for cid, p in enumerate(
        sorted(set(draw(st.lists(st.integers(0, n_persons - 1), min_size=1, max_size=3))))
    ):
        start = draw(times)
        cases.append(
            CaseWindow(case_id=100 + cid, person_id=p, start=start, end=start + draw(st.integers(0, 2 * DAY)))
        )
    visits = [
        Visit(case_id=draw(st.sampled_from([c.case_id for c in cases])), venue_id=draw(st.integers(0, venues - 1)),
              subarea=draw(st.integers(-1, 1)), t_in=t, t_out=t + draw(st.integers(0, 120)))
        for t in draw(st.lists(times, max_size=2))
    ]  # fmt: skip
    hh = {p: draw(st.integers(-1, 2)) for p in range(n_persons)}
    unit = {p: draw(st.integers(-1, 2)) for p in range(n_persons)}
    return {
        "scans": scans, "cases": cases, "visits": visits, "margin": draw(st.sampled_from([0, 0, 5])),
        "hubs": set(draw(st.lists(st.integers(0, venues - 1), max_size=1))), "hub_min": draw(st.sampled_from([0, 15])),
        "hh": hh, "unit": unit, "register": draw(st.booleans()), "min_overlap": draw(st.sampled_from([0, 10])),
    }  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_engine_matches_brute_force(w: dict[str, Any]) -> None:
    register = None
    hh, unit = (w["hh"], w["unit"]) if w["register"] else ({}, {})
    if w["register"]:
        ids = np.array(sorted(hh), np.int64)
        register = Register(
            ids, np.array([hh[p] for p in ids], np.int64), np.array([unit[p] for p in ids], np.int64)
        )
    rules = Rules(
        margin_minutes=w["margin"],
        hub_venues=frozenset(w["hubs"]),
        hub_min_overlap_minutes=w["hub_min"],
        min_overlap_minutes=w["min_overlap"],
    )
    result = trace(index_of(w["scans"]), w["cases"], register=register, trajectory=w["visits"], rules=rules)
    expected = reference(
        w["scans"], w["cases"], w["visits"], w["margin"], w["hubs"], w["hub_min"], hh, unit, w["min_overlap"]
    )

    pairs = result.pairs().to_pylist()
    assert {(r["case_id"], r["contact_id"]): r["contact_type"] for r in pairs} == {
        k: v[0] for k, v in expected.items()
    }
    # Every stay match of the pair's degree is in the evidence, with its times.
    got: dict[tuple[int, int], set[tuple[Any, ...]]] = {}
    for r in result.evidence().to_pylist():
        if r["venue_id"] is not None:
            got.setdefault((r["case_id"], r["contact_id"]), set()).add(
                (
                    r["contact_type"],
                    r["venue_id"],
                    -1 if r["subarea"] is None else r["subarea"],
                    r["case_in"],
                    r["case_out"],
                    r["contact_in"],
                    r["contact_out"],
                )
            )
    assert {k: v for k, v in got.items() if v} == {k: v[1] for k, v in expected.items() if v[1]}
    for r in pairs:
        assert 0 <= r["score"] <= 1
        assert r["degree"] == {"secondary_household": 2, "secondary_work_unit": 2, "risk_venue": 0}.get(
            r["contact_type"], 1
        )


@settings(max_examples=60, deadline=None)
@given(worlds(), st.integers(1, 6), st.integers(1, 3))
def test_blocks_and_threads_do_not_change_the_result(w: dict[str, Any], chunk: int, workers: int) -> None:
    """Cases worked in many small blocks, on one or more threads, give exactly the one-block result."""
    from cordon.engine.tracing import core

    register = None
    if w["register"]:
        ids = np.array(sorted(w["hh"]), np.int64)
        register = Register(
            ids,
            np.array([w["hh"][p] for p in ids], np.int64),
            np.array([w["unit"][p] for p in ids], np.int64),
        )
    rules = Rules(
        margin_minutes=w["margin"], hub_venues=frozenset(w["hubs"]), hub_min_overlap_minutes=w["hub_min"]
    )
    index = index_of(w["scans"])
    whole = trace(index, w["cases"], register=register, trajectory=w["visits"], rules=rules, workers=1)
    saved = core._BLOCK
    core._BLOCK = chunk
    try:
        split = trace(
            index, w["cases"], register=register, trajectory=w["visits"], rules=rules, workers=workers
        )
        blocks = list(
            trace_blocks(
                index, w["cases"], register=register, trajectory=w["visits"], rules=rules, workers=workers
            )
        )
    finally:
        core._BLOCK = saved
    assert split.pairs().equals(whole.pairs())
    assert split.evidence().equals(whole.evidence())
    if blocks:
        assert pa.concat_tables([b.pairs() for b in blocks]).equals(whole.pairs())
    else:
        assert whole.pairs().num_rows == 0


def test_touching_stays_midnight_and_own_scans() -> None:
    scans = [
        (1, 7, -1, 600, 700),  # the case
        (1, 7, -1, 650, 660),  # the case again: never its own contact
        (2, 7, -1, 700, 720),  # arrives as the case leaves: a contact
        (3, 7, -1, 701, 720),  # a minute later: not
        (4, 7, -1, DAY - 30, DAY + 30),  # across midnight
        (5, 7, -1, DAY + 20, DAY + 25),
    ]
    index = index_of(scans)
    found = trace(index, [CaseWindow(1, 1, 0, 800), CaseWindow(5, 5, DAY, 2 * DAY)]).pairs().to_pylist()
    assert {(r["case_id"], r["contact_id"]) for r in found} == {(1, 2), (5, 4)}
    assert next(r for r in found if r["contact_id"] == 2)["overlap_minutes"] == 0
    margin = trace(index, [CaseWindow(1, 1, 0, 800)], rules=Rules(margin_minutes=1)).pairs()
    assert set(margin.column("contact_id").to_pylist()) == {2, 3}
    assert len(index.visits_of(1, 0, 800)) == 2
    assert len(index.present(7, DAY, DAY + 10)) == 1


def test_score_rules() -> None:
    scans = [(1, 1, 0, 0, 60), (2, 1, 0, 0, 60), (3, 1, 1, 0, 60), (4, 1, -1, 0, 60)]
    found = {
        r["contact_id"]: r["score"]
        for r in trace(index_of(scans), [CaseWindow(9, 1, 0, 100)]).pairs().to_pylist()
    }
    full = 1 - math.exp(-2)
    assert found[2] == pytest.approx(full, abs=1e-4)
    assert found[3] == pytest.approx(0.1)  # another sub-area: a risk-venue visitor
    assert found[4] == pytest.approx(0.7 * full, abs=1e-4)


def test_exposure_window() -> None:
    onset = dt.datetime(2026, 11, 20)
    now = dt.datetime(2026, 11, 22, 12)
    assert exposure_window(
        onset=onset, first_positive_sample=None, isolated_at=None, days_before=4, now=now
    ) == (
        dt.datetime(2026, 11, 16),
        now,
    )
    sample = dt.datetime(2026, 11, 21, 9)
    iso = dt.datetime(2026, 11, 21, 15)
    assert exposure_window(
        onset=None, first_positive_sample=sample, isolated_at=iso, days_before=4, now=now
    ) == (
        sample - dt.timedelta(days=4),
        iso,
    )
    with pytest.raises(ValueError, match="onset or a first positive sample"):
        exposure_window(onset=None, first_positive_sample=None, isolated_at=None, days_before=4, now=now)


def test_open_reads_only_the_dates_asked_for(tmp_path: Path) -> None:
    def write(day: str, rows: list[tuple[int, int, int | None, str, str]]) -> None:
        folder = tmp_path / f"date={day}"
        folder.mkdir()
        table = pa.table({
            "person_id": pa.array([r[0] for r in rows], pa.int64()),
            "venue_id": pa.array([r[1] for r in rows], pa.int32()),
            "subarea": pa.array([r[2] for r in rows], pa.int8()),
            "time_in": pa.array([dt.datetime.fromisoformat(r[3]) for r in rows], pa.timestamp("ms")),
            "time_out": pa.array([dt.datetime.fromisoformat(r[4]) for r in rows], pa.timestamp("ms")),
        })  # fmt: skip
        pq.write_table(table, folder / "part-0.parquet")

    write(
        "2026-11-20",
        [
            (1, 5, None, "2026-11-20 23:30", "2026-11-21 00:30"),
            (2, 5, 1, "2026-11-20 08:00", "2026-11-20 09:00"),
        ],
    )
    write("2026-11-21", [(3, 5, 0, "2026-11-21 00:10", "2026-11-21 00:20")])
    write("2026-11-25", [(4, 5, 0, "2026-11-25 00:10", "2026-11-25 00:20")])
    index = ScanIndex.open(tmp_path, start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 21))
    assert len(index) == 3
    minute = (dt.date(2026, 11, 21) - dt.date(1970, 1, 1)).days * DAY
    found = trace(index, [CaseWindow(3, 3, minute, minute + DAY)]).pairs().to_pylist()
    assert [(r["contact_id"], r["overlap_minutes"]) for r in found] == [(1, 10)]
    assert len(ScanIndex.open(tmp_path / "missing")) == 0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),  # case (block of cases 0 .. 6)
            st.sampled_from([0, 1, 2, 3, 2**40, -5]),  # contact: hash collisions are likely
            st.integers(0, 6),  # type
            st.integers(0, 30),  # minutes together
            st.integers(-1, 3),  # stay (-1: a household, unit or secondary link)
            st.sampled_from([0.1, 0.25, 0.5, 0.9]),  # score
        ),
        max_size=80,
    )
)
def test_group_pairs_is_a_lexsort_reduction(rows: list[tuple[int, int, int, int, int, float]]) -> None:
    """The compiled grouping equals the plain formulation: rows sorted by case, contact, type, minutes
    together (longest first), row order (np.lexsort), per pair only the rows of its best row's degree, and
    per pair the stays, minutes and highest score of those. Pairs come within their case in the order first
    found, not by contact."""
    from cordon.engine.tracing.kernels import group_pairs

    a = np.array([r[:5] for r in rows], dtype=np.int64).reshape(-1, 5)
    case, contact, kind, overlap, stay = a[:, 0], a[:, 1], a[:, 2].astype(np.int8), a[:, 3], a[:, 4]
    score = np.array([r[5] for r in rows], np.float64)
    idx, first, shared, total, best = group_pairs(case, contact, kind, overlap, stay, score, 0, 7)

    deg = np.array([0, 0, 0, 0, 1, 1, 2])
    want: dict[tuple[int, int], list[int]] = {}
    for i in np.lexsort((-overlap, kind, contact, case)).tolist():
        want.setdefault((int(case[i]), int(contact[i])), []).append(i)
    want = {k: [i for i in v if deg[kind[i]] == deg[kind[v[0]]]] for k, v in want.items()}
    starts = [*np.flatnonzero(first).tolist(), len(idx)]
    got = {
        (int(case[idx[s]]), int(contact[idx[s]])): idx[s:e].tolist() for s, e in itertools.pairwise(starts)
    }
    assert got == want and len(starts) - 1 == len(want)
    # Cases in order; within a case, pairs in the order first found.
    order = [(int(case[idx[s]]), int(contact[idx[s]])) for s in starts[:-1]]
    first_seen = {}
    for i in range(len(case)):
        first_seen.setdefault((int(case[i]), int(contact[i])), i)
    assert order == sorted(order, key=lambda k: (k[0], first_seen[k]))
    for p, key in enumerate(order):
        kept = want[key]
        assert shared[p] == sum(1 for i in kept if stay[i] >= 0)
        assert total[p] == sum(int(overlap[i]) for i in kept if stay[i] >= 0)
        assert best[p] == max(score[i] for i in kept)


@settings(max_examples=50, deadline=None)
@given(worlds(), st.integers(1, 3), st.booleans(), st.integers(1, 4))
def test_open_equals_the_index_of_the_same_scans(
    tmp_path_factory: Any, w: dict[str, Any], files_per_day: int, store_sorted: bool, row_group: int
) -> None:
    """A folder read by ScanIndex.open, with days in several files (sorted by venue and time in as the scan
    store writes them, or not) and small row groups, gives the index of the same scans."""
    root = tmp_path_factory.mktemp("scans")
    scans = w["scans"]
    epoch = dt.datetime(1970, 1, 1) + dt.timedelta(days=20_000)
    by_day: dict[int, list[Scan]] = {}
    for row in scans:
        by_day.setdefault(row[3] // DAY, []).append(row)
    for day, rows in by_day.items():
        folder = root / f"date={(epoch + dt.timedelta(days=day)).date().isoformat()}"
        folder.mkdir()
        for k in range(files_per_day):
            part = rows[k::files_per_day]
            if store_sorted:
                part = sorted(part, key=lambda r: (r[1], r[3]))
            pq.write_table(
                pa.table(
                    {
                        "person_id": pa.array([r[0] for r in part], pa.int64()),
                        "venue_id": pa.array([r[1] for r in part], pa.int32()),
                        "subarea": pa.array([None if r[2] < 0 else r[2] for r in part], pa.int8()),
                        "time_in": pa.array(
                            [epoch + dt.timedelta(minutes=r[3]) for r in part], pa.timestamp("ms")
                        ),
                        "time_out": pa.array(
                            [epoch + dt.timedelta(minutes=r[4]) for r in part], pa.timestamp("ms")
                        ),
                    }
                ),
                folder / f"part-{k}.parquet",
                row_group_size=row_group,
            )
    opened = ScanIndex.open(root)
    shift = 20_000 * DAY
    built = index_of([(p, v, s, i + shift, o + shift) for p, v, s, i, o in scans])
    assert np.array_equal(opened.key, built.key)
    assert np.array_equal(opened.venues, built.venues) and np.array_equal(opened.max_stay, built.max_stay)

    def listed(ix: ScanIndex, idx: Any) -> list[tuple[int, ...]]:
        s = ix.scans
        return sorted(
            zip(*(a[idx].tolist() for a in (s.person, s.venue, s.subarea, s.t_in, s.t_out)), strict=True)
        )

    everything = np.arange(len(scans))
    assert listed(opened, everything) == listed(built, everything)
    for person in {r[0] for r in scans}:
        lo, hi = np.searchsorted(opened.p_sorted, [person, person + 1])
        assert (opened.p_sorted[lo:hi] == person).all()
        assert listed(opened, opened.p_order[lo:hi]) == sorted(
            (p, v, s, i + shift, o + shift) for p, v, s, i, o in scans if p == person
        )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-5, 2**62), max_size=50), st.sampled_from(["any", "small", "dense", "wide"]))
def test_person_order_is_a_stable_argsort(persons: list[int], kind: str) -> None:
    from cordon.engine.tracing.index import person_order as _person_order

    p = np.array(persons, dtype=np.int64)
    if kind == "small":
        p = np.abs(p) % 7  # fits with the position: the packed path
    elif kind == "wide":
        p = p % 7  # small ids, and every other one very negative: the span does not fit beside the position
        p[::2] -= 2**62
    elif kind == "dense":
        # Ids in a range of at most 4x the scans, repeated to 1,024 scans or more: the counting sort.
        p = np.resize(p % 3000 - 1000, max(1024, len(p) * 30)) if len(p) else p
    order, sorted_ = _person_order(p)
    expected = np.argsort(p, kind="stable")
    assert np.array_equal(order, expected) and np.array_equal(sorted_, p[expected])


def test_two_workers_work_two_blocks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks are handed to the workers ahead of the one being waited for: the first block can wait for the
    second to start (it would wait forever if blocks were worked one at a time)."""
    import threading

    from cordon.engine.tracing import core

    scans = [(p, 0, 0, 10 * p, 10 * p + 100) for p in range(8)]
    cases = [CaseWindow(case_id=100 + p, person_id=p, start=0, end=DAY) for p in range(4)]
    second_started = threading.Event()
    real = core._block

    def block(batch: Any, c0: int, c1: int) -> Any:
        if c0 == 1:
            second_started.set()
        if c0 == 0:
            assert second_started.wait(20), "the second block did not start while the first one ran"
        return real(batch, c0, c1)

    monkeypatch.setattr(core, "_block", block)
    monkeypatch.setattr(core, "_BLOCK", 1)
    parts = list(trace_blocks(index_of(scans), cases, workers=2))
    assert len(parts) == 4  # one block per case, in case order
    assert [p.pairs().column("case_id")[0].as_py() for p in parts] == [100, 101, 102, 103]


def test_index_limits_and_arrow_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"venue ids must lie in 0 \.\. 2\*\*31 - 1"):
        index_of([(1, -1, 0, 0, 10)])
    with pytest.raises(ValueError, match="venue ids must lie"):
        index_of([(1, 2**31, 0, 0, 10)])
    assert len(index_of([(1, 2**31 - 1, 0, 0, 10), (2, 0, 0, 0, 10)])) == 2
    with pytest.raises(ValueError, match="more than 8,000 years"):
        index_of([(1, 1, 0, 0, 10), (2, 1, 0, 2**32, 2**32 + 1)])
    assert len(index_of([(1, 1, 0, 5, 10), (2, 1, 0, 2**32 + 4, 2**32 + 5)])) == 2
    times = [dt.datetime(2026, 11, 20, 8, 0, 59), dt.datetime(2026, 11, 20, 9, 30)]
    base = {"person_id": [1, 2], "venue_id": [3, 3], "time_in": times, "time_out": times[::-1]}
    without = ScanArrays.from_arrow(pa.table(base))
    with_nulls = ScanArrays.from_arrow(pa.table({**base, "subarea": pa.array([None, 2], pa.int8())}))
    assert without.subarea.tolist() == [-1, -1] and with_nulls.subarea.tolist() == [-1, 2]
    minute = (dt.date(2026, 11, 20) - dt.date(1970, 1, 1)).days * DAY
    assert without.t_in.tolist() == [minute + 480, minute + 570]  # seconds are dropped, not rounded
    out = {
        f: np.empty(2, np.int64 if f != "subarea" else np.int16)
        for f in ("person", "venue", "subarea", "t_in", "t_out")
    }
    ScanArrays.fill(pa.table({**base, "subarea": pa.array([None, 2], pa.int8())}), out)
    assert out["subarea"].tolist() == [-1, 2] and out["t_out"].tolist() == with_nulls.t_out.tolist()
    ScanArrays.fill(pa.table(base), out)
    assert out["subarea"].tolist() == [-1, -1] and out["person"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="1 scans without person_id"):
        ScanArrays.fill(pa.table({**base, "person_id": pa.array([1, None], pa.int64())}), out)
    assert len(ScanIndex.open(tmp_path / "nothing")) == 0


def test_open_reports_progress_file_by_file(tmp_path: Path) -> None:
    for day in ("2026-11-20", "2026-11-21"):
        (tmp_path / f"date={day}").mkdir()
        start = dt.datetime.fromisoformat(f"{day} 08:00")
        pq.write_table(
            pa.table({"person_id": [1], "venue_id": [2], "subarea": pa.array([0], pa.int16()),
                      "time_in": [start], "time_out": [start + dt.timedelta(hours=1)]}),
            tmp_path / f"date={day}" / "part-0.parquet",
        )  # fmt: skip
    seen: list[tuple[int, int]] = []
    index = ScanIndex.open(tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)] and len(index) == 2


@settings(max_examples=60, deadline=None)
@given(worlds(), st.integers(0, 7), times, st.integers(0, 600))
def test_lookups_equal_plain_filters(w: dict[str, Any], who: int, start: int, length: int) -> None:
    index = index_of(w["scans"])
    # The index keeps each venue's longest stay, which bounds how far back a search starts.
    longest: dict[int, int] = {}
    for _p, v, _s, i, o in w["scans"]:
        longest[v] = max(longest.get(v, 0), o - i)
    assert dict(zip(index.venues.tolist(), index.max_stay.tolist(), strict=True)) == longest
    assert index.venues.tolist() == sorted(longest)
    end = start + length
    mine = sorted(s for s in w["scans"] if s[0] == who and s[3] <= end and s[4] >= start)
    got = index.visits_of(who, start, end)
    assert sorted(zip(got.person.tolist(), got.venue.tolist(), got.subarea.tolist(), got.t_in.tolist(),
                      got.t_out.tolist(), strict=True)) == mine  # fmt: skip
    for venue in range(3):
        there = sorted(s for s in w["scans"] if s[1] == venue and s[3] <= end and s[4] >= start)
        got = index.present(venue, start, end)
        assert sorted(zip(got.person.tolist(), got.venue.tolist(), got.subarea.tolist(), got.t_in.tolist(),
                          got.t_out.tolist(), strict=True)) == there  # fmt: skip


def test_exposure_window_limits() -> None:
    onset = dt.datetime(2026, 11, 20)
    with pytest.raises(ValueError, match="days_before cannot be negative"):
        exposure_window(onset=onset, first_positive_sample=None, isolated_at=None, days_before=-1, now=onset)
    early = exposure_window(onset=onset, first_positive_sample=None, isolated_at=onset - dt.timedelta(days=9),
                            days_before=4, now=onset)  # fmt: skip
    assert early == (
        onset - dt.timedelta(days=4),
        onset - dt.timedelta(days=4),
    )  # never ends before it starts
    both = exposure_window(onset=onset, first_positive_sample=onset + dt.timedelta(days=1), isolated_at=None,
                           days_before=0, now=onset + dt.timedelta(days=3))  # fmt: skip
    assert both == (onset, onset + dt.timedelta(days=3))  # the onset wins over the sample


@pytest.mark.parametrize("with_register", [False, True])
def test_evidence_names_a_via_only_for_secondary_contacts(with_register: bool) -> None:
    scans = [(1, 1, 0, 0, 60), (2, 1, 0, 0, 60), (3, 1, 1, 0, 60), (4, 2, -1, 0, 60)]
    register = (
        Register(np.array([1, 2, 5, 6]), np.array([-1, 7, 7, -1]), np.array([-1, -1, -1, -1]))
        if with_register
        else None
    )
    contacts = trace(index_of(scans), [CaseWindow(9, 1, 0, 100)], register=register)
    for table in (contacts.evidence(), contacts.pairs()):
        rows = table.to_pylist()
        assert rows
        for r in rows:
            if r["contact_type"].startswith("secondary"):
                assert r["via_id"] == 2 and r["contact_id"] == 5
            else:
                assert r["via_id"] is None
        assert any(r["contact_type"] == "secondary_household" for r in rows) == with_register


def test_the_exposure_window_is_closed_at_both_ends() -> None:
    """A case's stay that ends the minute its window starts, or begins the minute it ends, is in the window,
    for that minute only (only the part of a stay inside the window counts): who was there then is a contact,
    who was there only before the window starts (4) or only after it ends (5) is not."""
    scans = [
        (1, 5, 0, 0, 100), (2, 5, 0, 50, 100), (4, 5, 0, 50, 99),
        (1, 6, 0, 300, 400), (3, 6, 0, 300, 320), (5, 6, 0, 301, 320),
    ]  # fmt: skip
    index = index_of(scans)
    for start, end, contacts in ((100, 300, {2, 3}), (101, 299, set()), (100, 100, {2}), (300, 300, {3})):
        found = trace(index, [CaseWindow(9, 1, start, end)]).pairs().column("contact_id").to_pylist()
        assert set(found) == contacts, (start, end)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(st.integers(0, 30), st.integers(-1, 4), max_size=15),
    st.lists(st.integers(-2, 33), max_size=10),
)
def test_group_members_equal_a_plain_lookup(groups: dict[int, int], query: list[int]) -> None:
    """The other members of each queried person's group; a person not in the register, or in no group, has
    none."""
    from cordon.engine.tracing.links import Groups

    persons = np.array(list(groups), np.int64)
    g = Groups.of(persons, np.array(list(groups.values()), np.int64))
    which, member = g.members_of(np.array(query, np.int64))
    got = sorted(zip(which.tolist(), member.tolist(), strict=True))
    want = sorted(
        (i, p)
        for i, q in enumerate(query)
        for p, grp in groups.items()
        if q in groups and groups[q] >= 0 and grp == groups[q] and p != q
    )
    assert got == want


def test_default_rules_are_the_documented_ones() -> None:
    """docs/tracing.md: margin 0, at a hub 15 minutes together (without a sub-area match), elsewhere any
    overlap; secondary contacts on. Inputs are values that cannot change under the engine."""
    import dataclasses

    scans = [
        (1, 1, -1, 0, 100),
        (2, 1, -1, 0, 15),
        (3, 1, -1, 0, 14),
        (1, 2, -1, 200, 300),
        (4, 2, -1, 300, 310),
    ]
    pairs = trace(index_of(scans), [CaseWindow(9, 1, 0, 400)], rules=Rules(hub_venues=frozenset({1}))).pairs()
    kinds = dict(
        zip(pairs.column("contact_id").to_pylist(), pairs.column("contact_type").to_pylist(), strict=True)
    )
    assert kinds == {2: "venue", 3: "risk_venue", 4: "venue"}
    assert Rules().secondary and Rules().margin_minutes == 0 and not Rules().hub_venues
    for value in (
        CaseWindow(1, 1, 0, 1),
        Visit(1, 1, 0, 0, 1),
        Rules(),
        Register(*(np.zeros(1, np.int64),) * 3),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.case_id = 2  # type: ignore[misc, union-attr]


def test_a_secondary_contact_scores_half_the_best_finding_of_its_close_contact() -> None:
    scans = [(1, 1, 0, 0, 60), (2, 1, 0, 0, 60), (1, 2, -1, 100, 110), (2, 2, -1, 100, 110)]
    register = Register(np.array([1, 2, 5]), np.array([-1, 7, 7]), np.array([-1, -1, -1]))
    contacts = trace(index_of(scans), [CaseWindow(9, 1, 0, 200)], register=register)
    by_contact = {r["contact_id"]: r for r in contacts.pairs().to_pylist()}
    # One link through the close contact, however many times the case met it.
    secondary = [r for r in contacts.evidence().to_pylist() if r["contact_id"] == 5]
    assert [(r["contact_type"], r["via_id"]) for r in secondary] == [("secondary_household", 2)]
    best = 1 - math.exp(-60 / 30)  # the hour in the same sub-area, not the ten minutes where it is unknown
    assert by_contact[2]["score"] == pytest.approx(best, abs=1e-4)
    assert by_contact[5]["contact_type"] == "secondary_household" and by_contact[5]["via_id"] == 2
    assert by_contact[5]["score"] == pytest.approx(0.5 * best, abs=1e-4)


def test_no_cases_give_empty_tables_of_the_same_columns() -> None:
    index = index_of([(1, 5, 0, 0, 100), (2, 5, 0, 0, 100)])
    one = trace(index, [CaseWindow(9, 1, 0, 200)])
    for contacts in (trace(index, []), trace(index_of([]), [CaseWindow(9, 1, 0, 200)])):
        assert contacts.pairs().num_rows == 0 and contacts.evidence().num_rows == 0
        assert contacts.pairs().column_names == one.pairs().column_names
        assert contacts.evidence().column_names == one.evidence().column_names
    assert list(trace_blocks(index, [])) == []
