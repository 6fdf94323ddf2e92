"""The tracing engine (see the package docstring for the rules): a batch of cases is prepared once (their stays
and each stay's candidate range in the index), then worked in blocks of whole cases on worker threads."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .index import ScanIndex, expand
from .lazy import kernels
from .links import Link, add_members, add_secondary, links_of
from .model import I16, I64, B, CaseWindow, Register, Rules, Visit
from .results import FIELDS, Contacts, Part, Rows, Stays, evidence_rows, pair_table

# The score of a stay shared for m minutes, before the sub-area factor: 1 - exp(-m / 30), looked up by the
# co-presence kernel instead of an exp per finding (longer stays are computed).
_DECAY = 1 - np.exp(-np.arange(2048) / 30.0)
_BLOCK = 1_000_000  # candidate rows per block of whole cases (the unit of work of a thread)
_DEFAULT_RULES = Rules()


def trace(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    *,
    register: Register | None = None,
    trajectory: Sequence[Visit] = (),
    rules: Rules = _DEFAULT_RULES,
    workers: int = 2,
) -> Contacts:
    """Close and secondary contacts and risk-venue visitors of ``cases`` (see the package docstring). The
    cases are worked in blocks of about ``_BLOCK`` candidate rows on ``workers`` threads; the result does not
    depend on the number of workers."""
    case_ids = np.array([c.case_id for c in cases], np.int64)
    parts = list(_parts(index, cases, register, trajectory, rules, workers))
    return Contacts._joined(case_ids, parts)


def trace_blocks(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    *,
    register: Register | None = None,
    trajectory: Sequence[Visit] = (),
    rules: Rules = _DEFAULT_RULES,
    workers: int = 2,
) -> Iterator[Contacts]:
    """The same as :func:`trace`, one :class:`Contacts` per block of whole cases as each is done (in case
    order), for batches too large to hold every contact's evidence at once."""
    case_ids = np.array([c.case_id for c in cases], np.int64)
    for part in _parts(index, cases, register, trajectory, rules, workers):
        yield Contacts._joined(case_ids, [part])


@dataclass(frozen=True)
class _Batch:
    """A batch of cases prepared once for all its blocks: the cases' stays in case order (stay ``j`` belongs
    to case ``c = stay_case[j]``, and ``case_stays[c] <= j < case_stays[c + 1]``), each stay's candidate range
    ``[r_lo, r_hi)`` in the index, and the register's links."""

    index: ScanIndex
    rules: Rules
    case_ids: I64
    case_person: I64
    case_stays: I64
    stay_case: I64
    stays: Stays
    sub: I16
    traj: B
    hub: B
    r_lo: I64
    r_hi: I64
    links: list[Link]


def _parts(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    register: Register | None,
    trajectory: Sequence[Visit],
    rules: Rules,
    workers: int,
) -> Iterator[Part]:
    """The batch's results, one :class:`Part` per block of whole cases, in case order.

    Blocks of about ``_BLOCK`` candidate rows each run on ``workers`` threads (the compiled kernels and numpy
    let go of the GIL); the results are joined in case order, so any number of workers gives the same."""
    batch = _prepare(index, cases, register, trajectory, rules)
    spans = _spans(batch)
    if workers <= 1 or len(spans) <= 1:
        for c0, c1 in spans:
            yield _block(batch, c0, c1)
        return
    # At most two blocks per worker in flight, so a consumer that writes blocks away keeps memory bounded.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[Part]] = deque()
        for span in spans:
            pending.append(pool.submit(_block, batch, *span))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _prepare(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    register: Register | None,
    trajectory: Sequence[Visit],
    rules: Rules,
) -> _Batch:
    """The case stays (own scans, then typed-in visits, clipped to the window), in case order so that a block
    of whole cases is a slice of them, and their candidate ranges."""
    case_ids = np.array([c.case_id for c in cases], np.int64)
    case_person = np.array([c.person_id for c in cases], np.int64)
    a_case, a_venue, a_sub, a_in, a_out, a_traj = _case_stays(index, cases, case_ids, case_person, trajectory)
    by_case = np.argsort(a_case, kind="stable")
    a_case, a_venue, a_sub = a_case[by_case], a_venue[by_case], a_sub[by_case]
    a_in, a_out, a_traj = a_in[by_case], a_out[by_case], a_traj[by_case]
    hubs = np.array(sorted(rules.hub_venues), np.int64)
    a_hub = np.isin(a_venue, hubs) if len(hubs) else np.zeros(len(a_venue), bool)
    r_lo, r_hi = index._ranges(a_venue, a_in, a_out, rules.margin_minutes)
    return _Batch(
        index=index,
        rules=rules,
        case_ids=case_ids,
        case_person=case_person,
        case_stays=np.searchsorted(a_case, np.arange(len(cases) + 1)).astype(np.int64),
        stay_case=a_case,
        stays=Stays(a_venue, a_in, a_out),
        sub=a_sub,
        traj=a_traj,
        hub=a_hub,
        r_lo=r_lo,
        r_hi=r_hi,
        links=links_of(register),
    )


def _case_stays(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    case_ids: I64,
    case_person: I64,
    trajectory: Sequence[Visit],
) -> tuple[I64, I64, I16, I64, I64, B]:
    """Each case's own scans overlapping its window, then its typed-in visits overlapping it, each clipped to
    the window (only the part of a stay inside the exposure window counts): (case position, venue, sub-area,
    in, out, typed in), not yet in case order."""
    s = index.scans
    w_start = np.array([c.start for c in cases], np.int64)
    w_end = np.array([c.end for c in cases], np.int64)
    lo = np.searchsorted(index.p_sorted, case_person, side="left").astype(np.int64)
    hi = np.searchsorted(index.p_sorted, case_person, side="right").astype(np.int64)
    ci, pos = expand(lo, hi)
    idx = index.p_order[pos]
    st_case, st_venue, st_sub = [ci], [s.venue[idx]], [s.subarea[idx]]
    st_in, st_out, st_traj = [s.t_in[idx]], [s.t_out[idx]], [np.zeros(len(ci), bool)]
    if trajectory:
        pos_of = {cid: i for i, cid in enumerate(case_ids.tolist())}
        visits = [v for v in trajectory if v.case_id in pos_of]
        st_case.append(np.array([pos_of[v.case_id] for v in visits], np.int64))
        st_venue.append(np.array([v.venue_id for v in visits], np.int64))
        st_sub.append(np.array([v.subarea for v in visits], np.int16))
        st_in.append(np.array([v.t_in for v in visits], np.int64))
        st_out.append(np.array([v.t_out for v in visits], np.int64))
        st_traj.append(np.ones(len(visits), bool))
    case, t_in, t_out = np.concatenate(st_case), np.concatenate(st_in), np.concatenate(st_out)
    inside = (t_in <= w_end[case]) & (t_out >= w_start[case])
    case, t_in, t_out = case[inside], t_in[inside], t_out[inside]
    return (
        case,
        np.concatenate(st_venue)[inside],
        np.concatenate(st_sub)[inside],
        np.maximum(t_in, w_start[case]),
        np.minimum(t_out, w_end[case]),
        np.concatenate(st_traj)[inside],
    )


def _spans(batch: _Batch) -> list[tuple[int, int]]:
    """Blocks of whole cases of about ``_BLOCK`` candidate rows each: (first case, one past the last)."""
    n_cases = len(batch.case_ids)
    per_case = np.bincount(batch.stay_case, weights=batch.r_hi - batch.r_lo, minlength=n_cases)
    # A cut after the last case whose candidates end at or before each multiple of _BLOCK (cuts at the end
    # would fall on the last case: none are looked for past the total).
    cuts = np.searchsorted(np.cumsum(per_case), np.arange(_BLOCK, per_case.sum(), _BLOCK), side="right")
    bounds = sorted({0, n_cases, *(int(c) for c in cuts if 0 < c < n_cases)})
    return list(itertools.pairwise(bounds))


def _block(batch: _Batch, c0: int, c1: int) -> Part:
    """Everything found for cases c0 .. c1 - 1."""
    stays, case_ids = batch.stays, batch.case_ids
    # Co-presence: one compiled pass over the cases' stays and their candidate ranges, grouped into pairs as
    # found (kernels.copresence); without links that is the result, and the evidence rows are made again only
    # when asked for.
    if not batch.links:
        pairs, shared, total, _ = _copresence(batch, c0, c1, want_rows=False)
        return Part(
            pair_table(pairs, shared, total, case_ids, stays),
            lambda: evidence_rows(_copresence(batch, c0, c1, want_rows=True)[3], slice(None), stays),
        )
    rows = Rows()
    rows.add(**_copresence(batch, c0, c1, want_rows=True)[3])
    # Household and work-unit contacts of the cases; secondary contacts of every close contact.
    add_members(rows, batch.links, np.arange(c0, c1, dtype=np.int64), batch.case_person)
    if batch.rules.secondary:
        add_secondary(rows, batch.links, batch.case_person)
    # Co-presence rows (each pair's already reduced to its strongest degree: the rows left out would be left
    # out here too) and links, grouped together.
    every = {name: rows.get(name, dtype) for name, dtype in FIELDS.items()}
    idx, first, shared, total, best = kernels().group_pairs(
        every["case"], every["contact"], every["type"], every["overlap"], every["stay"], every["score"], c0, c1
    )  # fmt: skip
    pair_rows = {name: col[idx[first]] for name, col in every.items()}
    pair_rows["score"] = best
    return Part(
        pair_table(pair_rows, shared, total, case_ids, stays), lambda: evidence_rows(every, idx, stays)
    )


def _copresence(
    batch: _Batch, c0: int, c1: int, want_rows: bool
) -> tuple[dict[str, Any], I64, I64, dict[str, Any]]:
    """kernels.copresence for cases c0 .. c1 - 1: the pair rows (each pair's best evidence and highest score),
    stays shared and minutes together per pair, and with ``want_rows`` the evidence rows."""
    s, rules, stays = batch.index.scans, batch.rules, batch.stays
    r_lo, r_hi = batch.r_lo, batch.r_hi
    s0, s1 = int(batch.case_stays[c0]), int(batch.case_stays[c1])
    cap = int((r_hi[s0:s1] - r_lo[s0:s1]).sum())
    p = {name: np.empty(cap, dtype) for name, dtype in FIELDS.items() if name != "via"}
    shared, total = np.empty(cap, np.int64), np.empty(cap, np.int64)
    r = {name: np.empty(cap if want_rows else 0, dtype) for name, dtype in FIELDS.items() if name != "via"}
    first = np.zeros(cap if want_rows else 0, bool)
    n_pairs, n_rows = kernels().copresence(
        c0, c1, batch.case_stays, r_lo, r_hi, stays.t_in, stays.t_out, batch.sub, batch.traj, batch.hub,
        batch.case_person, s.t_in, s.t_out, s.person, s.subarea, rules.margin_minutes,
        rules.hub_min_overlap_minutes, rules.min_overlap_minutes, _DECAY,
        p["case"], p["contact"], p["type"], p["stay"], p["subarea"], p["contact_in"], p["contact_out"],
        p["overlap"], p["score"], shared, total,
        want_rows, r["case"], r["contact"], r["type"], r["stay"], r["subarea"], r["contact_in"],
        r["contact_out"], r["overlap"], r["score"], first,
    )  # fmt: skip
    # Shrunk in place to what was written (the ranges hold several times more scans than match).
    for col in (*p.values(), shared, total):
        col.resize(n_pairs, refcheck=False)
    for col in (*r.values(), first):
        col.resize(n_rows, refcheck=False)
    p["via"] = np.full(n_pairs, -1, np.int64)
    r["via"] = np.full(n_rows, -1, np.int64)
    return p, shared, total, r
