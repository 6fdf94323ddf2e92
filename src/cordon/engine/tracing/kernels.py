"""Compiled inner loops of the tracing engine (numba; they let go of the GIL, so the engine's worker threads run
them in parallel). Each does in one pass over memory what took numpy a dozen passes and a sort of every row:
at 100 million scans and 70 million findings the batch went from 10.4 s to 2.6 s (docs/benchmarks.md).

Each is tested against a plain reference: the engine as a whole against a brute-force tracer, the grouping
against ``np.lexsort``, the person order against a stable argsort (tests/engine/test_tracing_engine.py).
Compiled once per machine (``cache=True``: the machine code is kept beside this file, or in
``NUMBA_CACHE_DIR``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
I16 = npt.NDArray[np.int16]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(fn: _F) -> _F:
    return cast(_F, numba.njit(nogil=True, cache=True)(fn))


# Contact types as in model.CONTACT_TYPES.
_VENUE, _TRAJECTORY, _RISK_VENUE = 2, 3, 6
_DEGREE_RANK = np.array([0, 0, 0, 0, 1, 1, 2], np.int8)  # close, secondary, risk-venue: by contact type
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing


@_compiled
def _pair_up(
    who: I64,
    kind: I8,
    overlap: I64,
    k: int,
    table: I64,
    pair_contact: I64,
    pair_of: I64,
    end: I64,
    placed: I64,
) -> int:
    """Findings ``0 .. k - 1`` of one case (contact, type, minutes together) grouped into pairs: hashed by
    contact (pairs numbered in the order first found; ``table`` at least 2k long, so at most half full and
    small enough to stay in cache), then ``placed`` pair by pair, each pair's findings by type (strongest
    first), then minutes (longest first), then finding order. Returns the number of pairs; pair ``e`` is
    ``placed[end[e - 1] : end[e]]`` (from 0 for the first), its contact ``pair_contact[e]``."""
    bits = 1
    while (1 << bits) < 2 * k:
        bits += 1
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table[: mask + 1] = -1
    pairs = 0
    for x in range(k):
        w = who[x]
        h = np.int64((np.uint64(w) * _GOLDEN) >> shift)
        while True:
            e = table[h]
            if e < 0:
                table[h] = e = pairs
                pair_contact[pairs] = w
                end[pairs] = 0
                pairs += 1
                break
            if pair_contact[e] == w:
                break
            h = (h + 1) & mask
        pair_of[x] = e
        end[e] += 1
    at = 0
    for e in range(pairs):
        n_e = end[e]
        end[e] = at
        at += n_e
    for x in range(k):
        e = pair_of[x]
        placed[end[e]] = x
        end[e] += 1
    lo = 0
    for e in range(pairs):
        hi = end[e]
        for x in range(lo + 1, hi):
            r = placed[x]
            y = x - 1
            while y >= lo and (
                kind[placed[y]] > kind[r] or (kind[placed[y]] == kind[r] and overlap[placed[y]] < overlap[r])
            ):
                placed[y + 1] = placed[y]
                y -= 1
            placed[y + 1] = r
        lo = hi
    return pairs


# One piece: on purpose (131 lines), the loop over a case's stays and candidate scans, the grouping of its
# findings into pairs and the writing of its pairs and rows all run while that case's findings are in cache,
# and the per-case scratch arrays are allocated once for the block. Split into compiled helpers, each step
# would take a dozen of the 40 arrays and walk the findings again from memory.
@_compiled
def copresence(
    c0: int, c1: int, case_stays: I64, r_lo: I64, r_hi: I64, a_in: I64, a_out: I64, a_sub: I16, a_traj: B,
    a_hub: B, case_person: I64, t_in: I64, t_out: I64, person: I64, subarea: I16, margin: int, hub_min: int,
    min_overlap: int, decay: F64,
    p_case: I64, p_contact: I64, p_kind: I8, p_stay: I64, p_sub: I16, p_in: I64, p_out: I64, p_overlap: I64,
    p_score: F64, p_shared: I64, p_total: I64,
    want_rows: bool, r_case: I64, r_contact: I64, r_kind: I8, r_stay: I64, r_sub: I16, r_in: I64, r_out: I64,
    r_overlap: I64, r_score: F64, r_first: B,
) -> tuple[int, int]:  # fmt: skip
    """The co-presence findings of the cases ``c0 .. c1 - 1`` (case ``c``'s stays are ``case_stays[c] ..
    case_stays[c + 1] - 1``): every scan in a stay's candidate range [r_lo, r_hi) of another person that had
    not left before the stay began (less the margin), with its overlap, contact type and score (core's rules;
    ``decay[m]`` is ``1 - exp(-m / 30)``, the score of m minutes together, looked up rather than computed).

    Grouped as :func:`group_pairs` groups rows, while a case's findings are hot in cache (no finding is
    written out unless asked for). Writes one row per (case, contact) pair into the ``p_*`` arrays: case,
    contact, and of its best finding the type, stay, sub-area, contact's times and minutes together; then the
    highest score, the stays shared and their minutes, over the pair's findings of its strongest degree. With
    ``want_rows`` also those findings into the ``r_*`` arrays (same columns, each pair's best first and marked
    in ``r_first``). The caller allocates the arrays as long as the candidate ranges (numpy gives large arrays
    huge pages, which saves a page fault per 4 KiB written); returns the number of pairs and of rows
    written."""
    largest = 0
    for c in range(c0, c1):
        n_c = 0
        for j in range(case_stays[c], case_stays[c + 1]):
            n_c += r_hi[j] - r_lo[j]
        largest = max(largest, n_c)
    # A case's findings (stay, contact, the contact's scan, type, minutes, score) and _pair_up's scratch.
    f_in = np.empty(largest, np.int64)
    f_out = np.empty(largest, np.int64)
    f_sub = np.empty(largest, np.int16)
    f_stay = np.empty(largest, np.int64)
    f_kind = np.empty(largest, np.int8)
    f_overlap = np.empty(largest, np.int64)
    f_score = np.empty(largest, np.float64)
    f_who = np.empty(largest, np.int64)
    pair_of = np.empty(largest, np.int64)
    placed = np.empty(largest, np.int64)
    pair_contact = np.empty(largest, np.int64)
    end = np.empty(largest, np.int64)
    bits = 1
    while (1 << bits) < 2 * largest:
        bits += 1
    table = np.empty(1 << bits, np.int64)
    n_rows = 0
    n_pairs = 0
    for c in range(c0, c1):
        p_self = case_person[c]
        # 1. Findings.
        k = 0
        for j in range(case_stays[c], case_stays[c + 1]):
            s_in, s_out, s_sub = a_in[j], a_out[j], a_sub[j]
            earliest = s_in - margin
            hub, traj = a_hub[j], a_traj[j]
            for p in range(r_lo[j], r_hi[j]):
                b_out = t_out[p]
                if b_out < earliest:
                    continue
                who = person[p]
                if who == p_self:
                    continue
                b_in, b_sub = t_in[p], subarea[p]
                ov = min(s_out, b_out) - max(s_in, b_in)
                if ov < 0:
                    ov = 0
                # Different known sub-areas never make a close contact; a hub needs the same sub-area or a
                # long overlap; any other venue at least min_overlap minutes together.
                same = s_sub >= 0 and s_sub == b_sub
                differ = s_sub >= 0 and b_sub >= 0 and s_sub != b_sub
                if differ:
                    close = False
                elif hub:
                    close = same or ov >= hub_min
                else:
                    close = ov >= min_overlap
                if close:
                    f_kind[k] = _TRAJECTORY if traj else _VENUE
                    d = decay[ov] if ov < len(decay) else 1.0 - math.exp(-ov / 30.0)
                    f_score[k] = d * (1.0 if same else 0.7)
                else:
                    f_kind[k] = _RISK_VENUE
                    f_score[k] = 0.1
                f_stay[k], f_overlap[k], f_who[k] = j, ov, who
                f_in[k], f_out[k], f_sub[k] = b_in, b_out, b_sub
                k += 1
        # 2. Findings grouped into pairs, each pair's best first.
        pairs = _pair_up(f_who, f_kind, f_overlap, k, table, pair_contact, pair_of, end, placed)
        lo = 0
        for e in range(pairs):
            hi = end[e]
            # 3. The pair: its best finding; the totals over its findings of the strongest degree, and those
            # findings as rows when asked for.
            first = placed[lo]
            rank = _DEGREE_RANK[f_kind[first]]
            n_sh = 0
            n_tot = 0
            top = f_score[first]
            for x in range(lo, hi):
                r = placed[x]
                if _DEGREE_RANK[f_kind[r]] != rank:
                    continue
                n_sh += 1
                n_tot += f_overlap[r]
                top = max(top, f_score[r])
                if want_rows:
                    r_first[n_rows] = x == lo
                    r_case[n_rows] = c
                    r_contact[n_rows] = pair_contact[e]
                    r_kind[n_rows] = f_kind[r]
                    r_stay[n_rows] = f_stay[r]
                    r_sub[n_rows] = f_sub[r]
                    r_in[n_rows] = f_in[r]
                    r_out[n_rows] = f_out[r]
                    r_overlap[n_rows] = f_overlap[r]
                    r_score[n_rows] = f_score[r]
                    n_rows += 1
            p_case[n_pairs] = c
            p_contact[n_pairs] = pair_contact[e]
            p_kind[n_pairs] = f_kind[first]
            p_stay[n_pairs] = f_stay[first]
            p_sub[n_pairs] = f_sub[first]
            p_in[n_pairs] = f_in[first]
            p_out[n_pairs] = f_out[first]
            p_overlap[n_pairs] = f_overlap[first]
            p_score[n_pairs] = top
            p_shared[n_pairs] = n_sh
            p_total[n_pairs] = n_tot
            n_pairs += 1
            lo = hi
    return n_pairs, n_rows


@_compiled
def group_pairs(
    case: I64, contact: I64, kind: I8, overlap: I64, stay: I64, score: F64, c0: int, c1: int
) -> tuple[I64, B, I64, I64, F64]:
    """Rows grouped into (case, contact) pairs, keeping per pair only the rows of its strongest degree.

    Returns the kept rows' positions ordered by case, then pair (in the order each pair was first found), then
    type (strongest first), minutes together (longest first) and row order; which of them is its pair's first
    (and best) row; and per pair the number of stays shared, their minutes together and the highest score, of
    the kept rows. No global sort: rows are counted into cases, and a case's rows hashed into pairs."""
    n = len(case)
    start, by_case, largest = _rows_by_case(case, c0, c1 - c0)
    # Per case, its rows grouped into pairs (_pair_up, on copies of their contact, type and minutes).
    bits = 1
    while (1 << bits) < 2 * largest:
        bits += 1
    table = np.empty(1 << bits, np.int64)
    who = np.empty(largest, np.int64)
    kinds = np.empty(largest, np.int8)
    minutes = np.empty(largest, np.int64)
    pair_contact = np.empty(largest, np.int64)
    pair_of = np.empty(largest, np.int64)
    end = np.empty(largest, np.int64)
    placed = np.empty(largest, np.int64)
    order = np.empty(n, np.int64)  # all rows, sorted
    first = np.zeros(n, np.bool_)
    for c in range(c1 - c0):
        a, b = start[c], start[c + 1]
        for x in range(b - a):
            r = by_case[a + x]
            who[x], kinds[x], minutes[x] = contact[r], kind[r], overlap[r]
        pairs = _pair_up(who, kinds, minutes, b - a, table, pair_contact, pair_of, end, placed)
        for x in range(b - a):
            order[a + x] = by_case[a + placed[x]]
        lo = 0
        for e in range(pairs):
            first[a + lo] = True
            lo = end[e]
    return _strongest_degree(order, first, kind, overlap, stay, score)


@_compiled
def _rows_by_case(case: I64, c0: int, n_cases: int) -> tuple[I64, I64, int]:
    """Rows by case, a stable counting sort (none needed when the rows come in case order, as co-presence rows
    do): the first position of each case (and one past the last), the rows in case order, and the most rows
    of one case."""
    n = len(case)
    start = np.zeros(n_cases + 1, np.int64)
    in_order = True
    for i in range(n):
        start[case[i] - c0 + 1] += 1
        if i and case[i] < case[i - 1]:
            in_order = False
    largest = 0
    for c in range(n_cases):
        largest = max(largest, start[c + 1])
        start[c + 1] += start[c]
    by_case = np.arange(n)
    if not in_order:
        fill = start[:-1].copy()
        for i in range(n):
            c = case[i] - c0
            by_case[fill[c]] = i
            fill[c] += 1
    return start, by_case, largest


@_compiled
def _strongest_degree(
    order: I64, first: B, kind: I8, overlap: I64, stay: I64, score: F64
) -> tuple[I64, B, I64, I64, F64]:
    """Of the rows in pair ``order`` (``first`` marks each pair's first row), those of each pair's strongest
    degree, which of them is first, and per pair the stays shared, their minutes and the highest score."""
    n = len(order)
    n_pairs = 0
    for i in range(n):
        if first[i]:
            n_pairs += 1
    idx = np.empty(n, np.int64)
    keep_first = np.empty(n, np.bool_)
    shared = np.zeros(n_pairs, np.int64)
    total = np.zeros(n_pairs, np.int64)
    best = np.zeros(n_pairs, np.float64)
    kept = 0
    p = -1
    rank = 0
    for i in range(n):
        r = order[i]
        if first[i]:
            p += 1
            rank = _DEGREE_RANK[kind[r]]
            best[p] = score[r]
        elif _DEGREE_RANK[kind[r]] != rank:
            continue
        idx[kept] = r
        keep_first[kept] = first[i]
        kept += 1
        if stay[r] >= 0:
            shared[p] += 1
            total[p] += overlap[r]
        if score[r] > best[p]:
            best[p] = score[r]
    return idx[:kept], keep_first[:kept], shared, total, best


@_compiled
def person_order(person: I64, lo: int, hi: int) -> tuple[I64, I64]:
    """Positions of the scans in person order (ties in position order) and the persons so sorted, for persons
    in ``lo .. hi``: a counting sort, two passes over the scans instead of a sort's many."""
    n = len(person)
    start = np.zeros(hi - lo + 2, np.int64)
    for i in range(n):
        start[person[i] - lo + 1] += 1
    for d in range(hi - lo + 1):
        start[d + 1] += start[d]
    order = np.empty(n, np.int64)
    persons = np.empty(n, np.int64)
    for i in range(n):
        d = person[i] - lo
        at = start[d]
        order[at] = i
        persons[at] = person[i]
        start[d] = at + 1
    return order, persons
