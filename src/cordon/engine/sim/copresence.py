"""Co-presence arithmetic without forming pairs.

For intervals ``[s, e)`` (whole minutes) with weights ``w`` in numbered groups (venue sub-areas), the weighted
overlap of a query interval ``[a, b)`` with every interval of its group is ``F(b) - F(a)`` where
``F(x) = sum w * ((x - s)+ - (x - e)+)``. Both terms are prefix sums over the intervals sorted by
``(group, start)`` and ``(group, end)``, so a query costs a few binary searches, whatever the crowd.

:meth:`SourceTable.pick` draws, for each query, one interval with probability proportional to ``w * overlap``
(who infected whom): a minute ``m`` is drawn by inverting ``F`` (bisection), then an interval present in that
minute by rejection from the smaller side (started by ``m`` / still there after ``m``); the rare leftovers are
enumerated exactly.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
SHIFT = 11  # minutes of the day < 2048
PARALLEL_FROM = 400_000  # queries from which an integral is computed in two halves on two threads
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)))
    return _POOL[0]


def order_by(keys: I64) -> I64:
    """A stable argsort of non-negative integer keys: the position is packed into the low bits and the packed
    values sorted with ``np.sort`` (several times faster than a stable ``argsort``); falls back when the keys are
    too wide to pack."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64)
    bits = max(int(n - 1).bit_length(), 1)
    top = int(keys.max())
    if int(keys.min()) >= 0 and top.bit_length() + bits <= 62:
        packed = np.sort((keys.astype(np.int64) << bits) | np.arange(n, dtype=np.int64))
        out: I64 = packed & ((1 << bits) - 1)
        return out
    fallback: I64 = np.argsort(keys, kind="stable")
    return fallback


class SourceTable:
    def __init__(self, group: I64, start: I64, end: I64, weight: F64) -> None:
        self.group, self.start, self.end, self.weight = group, start, end, weight
        self.n_groups = int(group.max()) + 1 if len(group) else 0
        self.ks, self.os, self.cw_s, self.cwt_s = self._sorted(start)
        self.ke, self.oe, self.cw_e, self.cwt_e = self._sorted(end)

    def _sorted(self, times: I64) -> tuple[I64, I64, F64, F64]:
        key = (self.group << SHIFT) | times
        order = order_by(key)
        w = self.weight[order]
        cw = np.concatenate(([0.0], np.cumsum(w)))
        cwt = np.concatenate(([0.0], np.cumsum(w * times[order])))
        return key[order], order, cw, cwt

    def _group_first(self, keys: I64, qg: I64) -> I64:
        out: I64 = np.searchsorted(keys, qg << SHIFT)
        return out

    def F(self, qg: I64, x: I64, first_s: I64, first_e: I64) -> F64:
        hs = np.searchsorted(self.ks, (qg << SHIFT) | x)
        he = np.searchsorted(self.ke, (qg << SHIFT) | x)
        starts = x * (self.cw_s[hs] - self.cw_s[first_s]) - (self.cwt_s[hs] - self.cwt_s[first_s])
        ends = x * (self.cw_e[he] - self.cw_e[first_e]) - (self.cwt_e[he] - self.cwt_e[first_e])
        out: F64 = starts - ends
        return out

    def integral(self, qg: I64, qa: I64, qb: I64) -> F64:
        """For every query, the sum over the intervals of its group of ``w * overlap minutes``."""
        if not len(self.group) or not len(qg):
            return np.zeros(len(qg))
        # Sorted queries make the binary searches cache-friendly; the results go back in the callers' order.
        order = order_by((qg << SHIFT) | qa) if len(qg) > 50_000 else None
        if order is not None:
            qg, qa, qb = qg[order], qa[order], qb[order]
        if len(qg) >= PARALLEL_FROM:
            # Two halves on two threads (NumPy releases the GIL in searches and arithmetic on large arrays).
            half = len(qg) // 2
            pieces = list(_pool().map(lambda sl: self._integral(qg[sl], qa[sl], qb[sl]),
                                      (slice(0, half), slice(half, None))))  # fmt: skip
            result = np.concatenate(pieces)
        else:
            result = self._integral(qg, qa, qb)
        if order is None:
            return result
        out = np.empty_like(result)
        out[order] = result
        return out

    def _integral(self, qg: I64, qa: I64, qb: I64) -> F64:
        fs, fe = self._group_first(self.ks, qg), self._group_first(self.ke, qg)
        return self.F(qg, qb, fs, fe) - self.F(qg, qa, fs, fe)

    def pick(self, qg: I64, qa: I64, qb: I64, rng: np.random.Generator) -> tuple[I64, I64]:
        """For each query (with a positive integral), an interval index drawn in proportion to ``w * overlap``,
        and the minute in which they were together."""
        # Queries in (group, start) order keep the binary searches cache-friendly; results go back in the
        # callers' order.
        back = order_by((qg << SHIFT) | qa)
        qg, qa, qb = qg[back], qa[back], qb[back]
        q = len(qg)
        fs, fe = self._group_first(self.ks, qg), self._group_first(self.ke, qg)
        fa, fb = self.F(qg, qa, fs, fe), self.F(qg, qb, fs, fe)
        y = fa + rng.random(q) * (fb - fa)
        lo, hi = qa.copy(), qb.copy()  # F(lo) <= y <= F(hi); F is linear within each minute
        todo = np.flatnonzero(hi - lo > 1)
        while len(todo):
            mid = (lo[todo] + hi[todo]) // 2
            go = self.F(qg[todo], mid, fs[todo], fe[todo]) < y[todo]
            lo[todo[go]] = mid[go]
            hi[todo[~go]] = mid[~go]
            todo = todo[hi[todo] - lo[todo] > 1]
        minute = lo
        # Candidates: started by the minute (start side), or still there after it (end side).
        s_hi = np.searchsorted(self.ks, (qg << SHIFT) | minute, side="right")
        e_lo = np.searchsorted(self.ke, (qg << SHIFT) | minute, side="right")
        e_hi = np.searchsorted(self.ke, (qg + 1) << SHIFT)
        use_start = (s_hi - fs) <= (e_hi - e_lo)
        lo_pos = np.where(use_start, fs, e_lo)
        hi_pos = np.where(use_start, s_hi, e_hi)
        chosen = np.full(q, -1, np.int64)
        todo = np.flatnonzero(hi_pos > lo_pos)
        for _ in range(200):
            if not len(todo):
                break
            st = use_start[todo]
            cw_lo = np.where(st, self.cw_s[lo_pos[todo]], self.cw_e[lo_pos[todo]])
            cw_hi = np.where(st, self.cw_s[hi_pos[todo]], self.cw_e[hi_pos[todo]])
            target = cw_lo + rng.random(len(todo)) * (cw_hi - cw_lo)
            pos_s = np.searchsorted(self.cw_s, target, side="right") - 1
            pos_e = np.searchsorted(self.cw_e, target, side="right") - 1
            pos = np.clip(np.where(st, pos_s, pos_e), lo_pos[todo], hi_pos[todo] - 1)
            idx = np.where(
                st, self.os[np.minimum(pos, len(self.os) - 1)], self.oe[np.minimum(pos, len(self.oe) - 1)]
            )
            m = minute[todo]
            ok = (self.start[idx] <= m) & (self.end[idx] > m)
            chosen[todo[ok]] = idx[ok]
            todo = todo[~ok]
        for i in todo.tolist():  # leftovers after many rejections: enumerate exactly
            cand = self.os[lo_pos[i] : hi_pos[i]] if use_start[i] else self.oe[lo_pos[i] : hi_pos[i]]
            cand = cand[(self.start[cand] <= minute[i]) & (self.end[cand] > minute[i])]
            if len(cand):
                w = self.weight[cand]
                chosen[i] = cand[rng.choice(len(cand), p=w / w.sum())]
        out_chosen, out_minute = np.empty_like(chosen), np.empty_like(minute)
        out_chosen[back], out_minute[back] = chosen, minute
        return out_chosen, out_minute


def overlap_integral(sg: I64, ss: I64, se: I64, sw: F64, qg: I64, qa: I64, qb: I64) -> F64:
    """For every query interval ``[qa, qb)`` in group ``qg``: the sum over source intervals ``[ss, se)`` of the
    same group of ``sw * overlap minutes`` (see the module docstring)."""
    return SourceTable(sg, ss, se, sw).integral(qg, qa, qb)
