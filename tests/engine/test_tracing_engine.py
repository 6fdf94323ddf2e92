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
        stays = [
            (v, s, i, o, "venue")
            for p, v, s, i, o in scans
            if p == c.person_id and i <= c.end and o >= c.start
        ]
        stays += [
            (x.venue_id, x.subarea, x.t_in, x.t_out, "trajectory") for x in visits if x.case_id == c.case_id
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
        t_out = t_in + draw(st.sampled_from([0, 1, 5, 30, 90, 600, DAY - 1]))  # some cross midnight
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


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=100, deadline=None)
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


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=100, deadline=None)
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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 2**62), max_size=50), st.sampled_from(["any", "small", "dense"]))
def test_person_order_is_a_stable_argsort(persons: list[int], kind: str) -> None:
    from cordon.engine.tracing.core import _person_order

    p = np.array(persons, dtype=np.int64)
    if kind == "small":
        p = np.abs(p) % 7  # fits with the position: the packed path
    elif kind == "dense":
        # Ids in a range of at most 4x the scans, repeated to 1,024 scans or more: the counting sort.
        p = np.resize(p % 3000 - 1000, max(1024, len(p) * 30)) if len(p) else p
    order, sorted_ = _person_order(p)
    expected = np.argsort(p, kind="stable")
    assert np.array_equal(order, expected) and np.array_equal(sorted_, p[expected])
