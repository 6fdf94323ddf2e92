"""The tracing engine (see the package docstring for the rules)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cordon.engine.scanstore import partition_files

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

# Strongest first: the index is the rank used to pick a pair's finding.
CONTACT_TYPES = (
    "household",
    "work_unit",
    "venue",
    "trajectory",
    "secondary_household",
    "secondary_work_unit",
    "risk_venue",
)
HOUSEHOLD, WORK_UNIT, VENUE, TRAJECTORY, SEC_HOUSEHOLD, SEC_WORK_UNIT, RISK_VENUE = range(7)
DEGREE_OF_TYPE = np.array([1, 1, 1, 1, 2, 2, 0], np.int8)
_LOW32 = (1 << 32) - 1
# The score of a stay shared for m minutes, before the sub-area factor: 1 - exp(-m / 30), looked up by the
# co-presence kernel instead of an exp per finding (longer stays are computed).
_DECAY = 1 - np.exp(-np.arange(2048) / 30.0)
_BLOCK = 1_000_000  # candidate rows per block of whole cases (the unit of work of a thread)
_SCAN_FIELDS = ("person", "venue", "subarea", "t_in", "t_out")
_SCAN_DTYPES = {
    "person": np.int64,
    "venue": np.int64,
    "subarea": np.int16,
    "t_in": np.int64,
    "t_out": np.int64,
}


@dataclass(frozen=True)
class ScanArrays:
    """Scans as parallel arrays: person, venue, sub-area (-1 unknown), minutes in and out."""

    person: I64
    venue: I64
    subarea: I16
    t_in: I64
    t_out: I64

    def __len__(self) -> int:
        return len(self.person)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> ScanArrays:
        def minutes(name: str) -> I64:
            col = table.column(name).cast(pa.timestamp("ms")).cast(pa.int64())
            return np.asarray(col.to_numpy(), dtype=np.int64) // 60_000

        sub = (
            table.column("subarea").cast(pa.int16()).fill_null(-1)
            if "subarea" in table.column_names
            else None
        )
        n = table.num_rows
        return cls(
            person=np.asarray(table.column("person_id").cast(pa.int64()).to_numpy(), dtype=np.int64),
            venue=np.asarray(table.column("venue_id").cast(pa.int64()).to_numpy(), dtype=np.int64),
            subarea=np.asarray(sub.to_numpy(), dtype=np.int16)
            if sub is not None
            else np.full(n, -1, np.int16),
            t_in=minutes("time_in"),
            t_out=minutes("time_out"),
        )

    @staticmethod
    def fill(table: pa.Table, out: dict[str, Any]) -> None:
        """Convert ``table``'s scans into the given arrays (one per field, of its length), chunk by chunk."""
        for name in ("person_id", "venue_id", "time_in", "time_out"):
            if table.column(name).null_count:
                raise ValueError(f"{table.column(name).null_count} scans without {name}")
        at = 0
        for batch in table.to_batches():
            b = at + batch.num_rows
            np.copyto(
                out["person"][at:b], batch.column("person_id").cast(pa.int64()).to_numpy(), casting="unsafe"
            )
            np.copyto(
                out["venue"][at:b], batch.column("venue_id").cast(pa.int64()).to_numpy(), casting="unsafe"
            )
            if "subarea" in batch.schema.names:
                sub = pc.fill_null(batch.column("subarea").cast(pa.int16()), -1)
                np.copyto(out["subarea"][at:b], sub.to_numpy(), casting="unsafe")
            else:
                out["subarea"][at:b] = -1
            for name, f in (("time_in", "t_in"), ("time_out", "t_out")):
                ms = batch.column(name).cast(pa.timestamp("ms")).cast(pa.int64()).to_numpy()
                np.floor_divide(ms, 60_000, out=out[f][at:b])
            at = b

    def take(self, idx: npt.NDArray[np.intp] | I64) -> ScanArrays:
        return ScanArrays(
            self.person[idx], self.venue[idx], self.subarea[idx], self.t_in[idx], self.t_out[idx]
        )


@dataclass(frozen=True)
class CaseWindow:
    case_id: int
    person_id: int
    start: int
    end: int


@dataclass(frozen=True)
class Visit:
    """A trajectory entry typed in by an investigator: the case was at this venue (no scan)."""

    case_id: int
    venue_id: int
    subarea: int
    t_in: int
    t_out: int


@dataclass(frozen=True)
class Register:
    """Households and units (work unit or school class) of persons; -1 = none."""

    person_id: I64
    household_id: I64
    unit_id: I64


@dataclass(frozen=True)
class Rules:
    margin_minutes: int = 0
    hub_venues: frozenset[int] = frozenset()
    hub_min_overlap_minutes: int = 15
    min_overlap_minutes: int = 0
    secondary: bool = True


def exposure_window(
    *,
    onset: dt.datetime | None,
    first_positive_sample: dt.datetime | None,
    isolated_at: dt.datetime | None,
    days_before: int,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """From ``days_before`` days before onset (or the first positive sample without onset) until isolation
    (or ``now``)."""
    anchor = onset if onset is not None else first_positive_sample
    if anchor is None:
        raise ValueError("an exposure window needs an onset or a first positive sample")
    if days_before < 0:
        raise ValueError("days_before cannot be negative")
    start = anchor - dt.timedelta(days=days_before)
    end = isolated_at if isolated_at is not None else now
    return start, max(start, end)


class ScanIndex:
    """Scans sorted once by (venue, time in), with a person order; queries are binary searches."""

    def __init__(self, scans: ScanArrays) -> None:
        self._build({f: getattr(scans, f) for f in _SCAN_FIELDS})

    def _build(self, cols: dict[str, Any]) -> None:
        """Sort the columns in ``cols`` (replaced one by one, so a caller that hands over the only references
        needs memory for one column more than the scans, not for a second copy of them). Scans already in
        (venue, time in) order, or in a few runs of it (the scan store's files, each sorted so), cost a merge,
        not a full sort."""
        n = len(cols["person"])
        t_in, venue = cols["t_in"], cols["venue"]
        self.t0 = int(t_in.min()) if n else 0
        if n and (int(venue.min()) < 0 or int(venue.max()) >= 1 << 31):
            raise ValueError("venue ids must lie in 0 .. 2**31 - 1")
        if n and int(t_in.max()) - self.t0 > _LOW32:
            raise ValueError("scans span more than 8,000 years")
        key = venue << 32
        key |= t_in - self.t0
        del t_in, venue
        if n > 1 and not bool((key[1:] >= key[:-1]).all()):
            # Stable: timsort, which merges runs that are sorted already.
            order = np.argsort(key, kind="stable")
            key = key[order]
            for f in _SCAN_FIELDS:
                cols[f] = cols[f][order]
            del order
        self.key: I64 = key
        self.scans = ScanArrays(*(cols.pop(f) for f in _SCAN_FIELDS))
        self.p_order, self.p_sorted = _person_order(self.scans.person)
        # Longest stay per venue: bounds how far back a search must start.
        v = self.scans.venue
        starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]]) if len(v) else np.zeros(0, np.int64)
        self.venues: I64 = v[starts]
        stay = self.scans.t_out - self.scans.t_in
        self.max_stay: I64 = np.maximum.reduceat(stay, starts) if len(v) else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.scans)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> ScanIndex:
        return cls(ScanArrays.from_arrow(table))

    @classmethod
    def open(
        cls,
        folder: Path,
        start: dt.date | None = None,
        end: dt.date | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ScanIndex:
        """Read a date-partitioned scan folder (the days from ``start`` to ``end``) into an index."""
        files = partition_files(Path(folder), start, end)
        if not files:
            return cls(_empty_scans())
        # Each file's columns are converted straight into their place in arrays allocated once for all the
        # scans (no per-day arrays to join: at 100 million scans that alone took longer than the sort).
        sizes = [pq.ParquetFile(path).metadata.num_rows for path in files]
        total = sum(sizes)
        cols: dict[str, Any] = {f: np.empty(total, _SCAN_DTYPES[f]) for f in _SCAN_FIELDS}
        at = 0
        for i, (path, size) in enumerate(zip(files, sizes, strict=True)):
            table = pq.read_table(path, columns=list(_COLUMNS))
            if table.num_rows != size:
                raise ValueError(f"{path.name}: {table.num_rows} rows read, its metadata says {size}")
            ScanArrays.fill(table, {f: c[at : at + size] for f, c in cols.items()})
            at += size
            del table
            if progress:
                progress(i + 1, len(files))
        index = cls.__new__(cls)
        index._build(cols)
        return index

    def visits_of(self, person: int, start: int, end: int) -> ScanArrays:
        lo, hi = np.searchsorted(self.p_sorted, [person, person + 1])
        idx = self.p_order[lo:hi]
        s = self.scans
        idx = idx[(s.t_in[idx] <= end) & (s.t_out[idx] >= start)]
        return s.take(np.sort(idx))

    def _ranges(self, venue: I64, a_in: I64, a_out: I64, margin: int) -> tuple[I64, I64]:
        """For each stay, the positions [lo, hi) of scans at its venue that may overlap it."""
        n = len(venue)
        vi = np.searchsorted(self.venues, venue)
        vi_c = np.minimum(vi, max(len(self.venues) - 1, 0))
        known = (
            (vi < len(self.venues)) & (self.venues[vi_c] == venue) if len(self.venues) else np.zeros(n, bool)
        )
        max_stay = np.where(known, self.max_stay[vi_c] if len(self.venues) else 0, 0)
        low = np.clip(a_in - margin - max_stay - self.t0, 0, _LOW32)
        high = a_out + margin - self.t0
        empty = ~known | (high < 0)
        high = np.clip(high, 0, _LOW32)
        lo = np.searchsorted(self.key, (venue << 32) | low, side="left").astype(np.int64)
        hi = np.searchsorted(self.key, (venue << 32) | high, side="right").astype(np.int64)
        hi = np.where(empty, lo, hi)
        return lo, hi

    def present(self, venue: int, start: int, end: int) -> ScanArrays:
        lo, hi = self._ranges(np.array([venue], np.int64), np.array([start]), np.array([end]), 0)
        idx = np.arange(lo[0], hi[0])
        return self.scans.take(idx[self.scans.t_out[idx] >= start])


def _person_order(person: I64) -> tuple[I64, I64]:
    """Positions of the scans in person order (ties in position order) and the persons so sorted. Persons
    with ids in a range not much larger than the scans (a register's ids): a compiled counting sort, about
    three times faster than the next way; else, with the position packed below the person, one plain sort,
    several times faster than a stable argsort, which is what is left when the two do not fit in 63 bits."""
    n = len(person)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos_bits = max(int(n - 1).bit_length(), 1)
    lo, hi = int(person.min()), int(person.max())
    if n >= 1024 and hi - lo <= 4 * n:
        from cordon.engine.tracing import kernels

        return kernels.person_order(person, lo, hi)
    if lo >= 0 and hi.bit_length() + pos_bits <= 63:
        packed = person << pos_bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << pos_bits) - 1)
        packed >>= pos_bits
        return order, packed
    order = np.argsort(person, kind="stable")
    return order, person[order]


_COLUMNS = ("person_id", "venue_id", "subarea", "time_in", "time_out")


def _empty_scans() -> ScanArrays:
    z = np.zeros(0, np.int64)
    return ScanArrays(z, z.copy(), np.zeros(0, np.int16), z.copy(), z.copy())


def _expand(lo: I64, hi: I64) -> tuple[I64, I64]:
    """Flatten ranges: (which range, position) for every position of every [lo, hi)."""
    counts = hi - lo
    total = int(counts.sum())
    which = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, lo[which] + offsets


@dataclass
class _Rows:
    """Evidence rows under construction (parallel lists of arrays)."""

    parts: dict[str, list[npt.NDArray[Any]]] = field(default_factory=dict)

    def add(self, **cols: npt.NDArray[Any]) -> None:
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(v)

    def get(self, name: str, dtype: type) -> npt.NDArray[Any]:
        chunks = self.parts.get(name, [])
        if len(chunks) == 1:  # most blocks: no copy
            return chunks[0].astype(dtype, copy=False)
        return np.concatenate(chunks).astype(dtype, copy=False) if chunks else np.zeros(0, dtype)


_FIELDS = {
    "case": np.int64, "contact": np.int64, "type": np.int8, "via": np.int64, "stay": np.int64,
    "subarea": np.int16, "contact_in": np.int64, "contact_out": np.int64, "overlap": np.int64, "score": np.float64,
}  # fmt: skip
"""Rows as found: a co-presence row points at the case's stay (-1 for the household, unit and secondary links)
and carries the contact's scan (read in scan order while finding it: the 100-million-row columns are never read
again in another order); the stay's columns (venue, times) are gathered only for the rows asked for."""


@dataclass(frozen=True)
class _Stays:
    """The batch's case stays (own scans in the window and typed-in visits), in case order."""

    venue: I64
    t_in: I64
    t_out: I64


def _evidence(
    rows: dict[str, npt.NDArray[Any]], sel: npt.NDArray[Any] | slice, stays: _Stays
) -> dict[str, npt.NDArray[Any]]:
    """The evidence columns of the rows ``sel``."""
    out = {
        k: rows[k][sel]
        for k in (
            "case",
            "contact",
            "type",
            "via",
            "subarea",
            "contact_in",
            "contact_out",
            "overlap",
            "score",
        )
    }
    stay = rows["stay"][sel]
    has = stay >= 0
    every = bool(has.all())
    st = stay if every else stay[has]
    for name, src in (("venue", stays.venue), ("case_in", stays.t_in), ("case_out", stays.t_out)):
        if every:
            out[name] = src[st]
        else:
            col = np.full(len(stay), -1, np.int64)
            col[has] = src[st]
            out[name] = col
    return out


class _Part:
    """A block of whole cases: its pair table (made on the worker thread) and its evidence rows, made when
    asked for."""

    def __init__(self, pairs: pa.Table, evidence: Callable[[], dict[str, npt.NDArray[Any]]]) -> None:
        self.pairs, self.evidence = pairs, evidence


class Contacts:
    """The result of :func:`trace`: evidence rows and one row per (case, contact) pair."""

    case_ids: I64
    _parts: list[_Part]

    @classmethod
    def _joined(cls, case_ids: I64, parts: Sequence[_Part]) -> Contacts:
        """From the results of blocks of whole cases, in case order."""
        out = cls.__new__(cls)
        out.case_ids = case_ids
        none = np.zeros(0, np.int64)
        if not parts:
            rows = {name: np.zeros(0, dtype) for name, dtype in _FIELDS.items()}
            none_stays = _Stays(none, none, none)
            parts = [_Part(_pair_table(rows, none, none, case_ids, none_stays),
                           lambda: _evidence(rows, slice(None), none_stays))]  # fmt: skip
        out._parts = list(parts)
        return out

    def evidence(self) -> pa.Table:
        """One row per matched stay (or household / unit / secondary link)."""
        return pa.concat_tables([pa.table(_columns(p.evidence(), self.case_ids)) for p in self._parts])

    def pairs(self) -> pa.Table:
        """One row per (case, contact): the strongest finding, its best evidence and totals."""
        return pa.concat_tables([p.pairs for p in self._parts])


_TYPE_NAMES = pa.array(CONTACT_TYPES)


def _masked(values: npt.NDArray[Any], invalid: B) -> pa.Array:
    """``values`` as an Arrow array, null where ``invalid`` (no validity mask at all when none is)."""
    return pa.array(values, mask=invalid) if invalid.any() else pa.array(values)


def _columns(rows: dict[str, npt.NDArray[Any]], case_ids: I64) -> dict[str, pa.Array]:
    unknown = rows["venue"] < 0
    return {
        "case_id": pa.array(case_ids[rows["case"]]),
        "contact_id": pa.array(rows["contact"]),
        # Dictionary-encoded (the seven type names, an 8-bit index per row): reads as strings, costs no string
        # per row. `cordon trace` writes plain strings.
        "contact_type": pa.DictionaryArray.from_arrays(pa.array(rows["type"], pa.int8()), _TYPE_NAMES),
        "degree": pa.array(DEGREE_OF_TYPE[rows["type"]]),
        "via_id": _masked(rows["via"], rows["via"] < 0),
        "venue_id": _masked(rows["venue"], unknown),
        "subarea": _masked(rows["subarea"], rows["subarea"] < 0),
        "case_in": _masked(rows["case_in"], unknown),
        "case_out": _masked(rows["case_out"], unknown),
        "contact_in": _masked(rows["contact_in"], unknown),
        "contact_out": _masked(rows["contact_out"], unknown),
        "overlap_minutes": _masked(rows["overlap"], unknown),
        "score": pa.array(np.round(rows["score"], 4)),
    }


def _pair_table(
    r: dict[str, npt.NDArray[Any]], shared: I64, total: I64, case_ids: I64, stays: _Stays
) -> pa.Table:
    """The pair table of pair rows ``r`` (each its pair's best evidence and highest score), with the stays
    shared and their minutes."""
    cols = _columns(_evidence(r, slice(None), stays), case_ids)
    cols["shared_stays"] = pa.array(shared)
    cols["total_overlap_minutes"] = pa.array(total)
    return pa.table(cols)


@dataclass(frozen=True)
class _Groups:
    """A register's persons and one grouping (household or unit), sorted once for lookups."""

    order_p: I64
    persons: I64
    group_of: I64
    order_g: I64
    groups: I64
    members: I64

    @classmethod
    def of(cls, reg_person: I64, reg_group: I64) -> _Groups:
        order_p = np.argsort(reg_person, kind="stable")
        order_g = np.argsort(reg_group, kind="stable")
        return cls(
            order_p, reg_person[order_p], reg_group[order_p], order_g, reg_group[order_g], reg_person[order_g]
        )

    def members_of(self, query: I64) -> tuple[I64, I64]:
        """For each queried person, the other persons of their group: (query index, member)."""
        ps = self.persons
        pos = np.minimum(np.searchsorted(ps, query), max(len(ps) - 1, 0))
        found = (ps[pos] == query) if len(ps) else np.zeros(len(query), bool)
        g = np.where(found, self.group_of[pos] if len(ps) else -1, -1)
        lo = np.searchsorted(self.groups, g, side="left").astype(np.int64)
        hi = np.where(g >= 0, np.searchsorted(self.groups, g, side="right"), lo).astype(np.int64)
        which, pos2 = _expand(lo, hi)
        member = self.members[pos2]
        keep = member != query[which]
        return which[keep], member[keep]


def trace(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    *,
    register: Register | None = None,
    trajectory: Sequence[Visit] = (),
    rules: Rules = Rules(),
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
    rules: Rules = Rules(),
    workers: int = 2,
) -> Iterator[Contacts]:
    """The same as :func:`trace`, one :class:`Contacts` per block of whole cases as each is done (in case
    order), for batches too large to hold every contact's evidence at once."""
    case_ids = np.array([c.case_id for c in cases], np.int64)
    for part in _parts(index, cases, register, trajectory, rules, workers):
        yield Contacts._joined(case_ids, [part])


def _parts(
    index: ScanIndex,
    cases: Sequence[CaseWindow],
    register: Register | None,
    trajectory: Sequence[Visit],
    rules: Rules,
    workers: int,
) -> Iterator[_Part]:
    # Imported here: loading numba and the compiled kernels takes half a second, which a process that never
    # traces (most management commands) need not pay.
    from cordon.engine.tracing import kernels

    n_cases = len(cases)
    case_ids = np.array([c.case_id for c in cases], np.int64)
    case_person = np.array([c.person_id for c in cases], np.int64)
    w_start = np.array([c.start for c in cases], np.int64)
    w_end = np.array([c.end for c in cases], np.int64)
    s = index.scans

    # 1. Case stays: own scans overlapping the window, then typed-in visits.
    lo = np.searchsorted(index.p_sorted, case_person, side="left").astype(np.int64)
    hi = np.searchsorted(index.p_sorted, case_person, side="right").astype(np.int64)
    ci, pos = _expand(lo, hi)
    idx = index.p_order[pos]
    inside = (s.t_in[idx] <= w_end[ci]) & (s.t_out[idx] >= w_start[ci])
    ci, idx = ci[inside], idx[inside]
    st_case = [ci]
    st_venue, st_sub, st_in, st_out = [s.venue[idx]], [s.subarea[idx]], [s.t_in[idx]], [s.t_out[idx]]
    st_traj = [np.zeros(len(ci), bool)]
    if trajectory:
        pos_of = {cid: i for i, cid in enumerate(case_ids.tolist())}
        visits = [v for v in trajectory if v.case_id in pos_of]
        st_case.append(np.array([pos_of[v.case_id] for v in visits], np.int64))
        st_venue.append(np.array([v.venue_id for v in visits], np.int64))
        st_sub.append(np.array([v.subarea for v in visits], np.int16))
        st_in.append(np.array([v.t_in for v in visits], np.int64))
        st_out.append(np.array([v.t_out for v in visits], np.int64))
        st_traj.append(np.ones(len(visits), bool))
    a_case = np.concatenate(st_case)
    a_venue, a_sub = np.concatenate(st_venue), np.concatenate(st_sub)
    a_in, a_out, a_traj = np.concatenate(st_in), np.concatenate(st_out), np.concatenate(st_traj)

    # Stays in case order, so that a block of whole cases is a slice of them.
    by_case = np.argsort(a_case, kind="stable")
    a_case, a_venue, a_sub = a_case[by_case], a_venue[by_case], a_sub[by_case]
    a_in, a_out, a_traj = a_in[by_case], a_out[by_case], a_traj[by_case]
    m = rules.margin_minutes
    hubs = np.array(sorted(rules.hub_venues), np.int64)
    a_hub = np.isin(a_venue, hubs) if len(hubs) else np.zeros(len(a_venue), bool)
    r_lo, r_hi = index._ranges(a_venue, a_in, a_out, m)
    stays = _Stays(a_venue, a_in, a_out)
    case_stays = np.searchsorted(a_case, np.arange(n_cases + 1)).astype(np.int64)
    groups = (
        [
            (_Groups.of(register.person_id, register.household_id), HOUSEHOLD, SEC_HOUSEHOLD, 1.0),
            (_Groups.of(register.person_id, register.unit_id), WORK_UNIT, SEC_WORK_UNIT, 0.8),
        ]
        if register is not None
        else []
    )

    def block(c0: int, c1: int) -> _Part:
        """Everything found for cases c0 .. c1 - 1."""
        # 2. Co-presence: one compiled pass over the cases' stays and their candidate ranges, grouped into
        # pairs as found (kernels.copresence); without links that is the result, and the evidence rows are
        # made again only when asked for.
        if not groups:
            pairs, shared, total, _ = copresence(c0, c1, want_rows=False)
            return _Part(
                _pair_table(pairs, shared, total, case_ids, stays),
                lambda: _evidence(copresence(c0, c1, want_rows=True)[3], slice(None), stays),
            )
        copresent = copresence(c0, c1, want_rows=True)[3]
        rows = _Rows()
        rows.add(**copresent)
        # 3. Household and work-unit contacts of the cases; secondary contacts of every close contact.
        if groups:
            mine = np.arange(c0, c1, dtype=np.int64)
            for g, kind, _secondary, score_v in groups:
                which, member = g.members_of(case_person[mine])
                _add_links(
                    rows, mine[which], member, np.full(len(which), -1, np.int64), kind,
                    np.full(len(which), score_v),
                )  # fmt: skip
        if groups and rules.secondary:
            case_arr = rows.get("case", np.int64)
            contact_arr = rows.get("contact", np.int64)
            types = rows.get("type", np.int8)
            scores = rows.get("score", np.float64)
            close = DEGREE_OF_TYPE[types] == 1 if len(types) else np.zeros(0, bool)
            if close.any():
                key_case, key_contact = case_arr[close], contact_arr[close]
                order = np.lexsort((-scores[close], key_contact, key_case))
                kc, kp, ks = key_case[order], key_contact[order], scores[close][order]
                first = np.r_[True, (kc[1:] != kc[:-1]) | (kp[1:] != kp[:-1])]
                kc, kp, ks = kc[first], kp[first], ks[first]
                for g, _kind, secondary, _score in groups:
                    which, member = g.members_of(kp)
                    keep = member != case_person[kc[which]]
                    which, member = which[keep], member[keep]
                    _add_links(rows, kc[which], member, kp[which], secondary, 0.5 * ks[which])
        # Co-presence rows (each pair's already reduced to its strongest degree: the rows left out would be
        # left out here too) and links, grouped together.
        every = {name: rows.get(name, dtype) for name, dtype in _FIELDS.items()}
        idx, first, shared, total, best = kernels.group_pairs(
            every["case"], every["contact"], every["type"], every["overlap"], every["stay"], every["score"], c0, c1
        )  # fmt: skip
        pair_rows = {name: col[idx[first]] for name, col in every.items()}
        pair_rows["score"] = best
        return _Part(
            _pair_table(pair_rows, shared, total, case_ids, stays), lambda: _evidence(every, idx, stays)
        )

    def copresence(c0: int, c1: int, want_rows: bool) -> tuple[dict[str, Any], I64, I64, dict[str, Any]]:
        """kernels.copresence for cases c0 .. c1 - 1: the pair rows (each pair's best evidence and highest
        score), stays shared and minutes together per pair, and with ``want_rows`` the evidence rows."""
        s0, s1 = int(case_stays[c0]), int(case_stays[c1])
        cap = int((r_hi[s0:s1] - r_lo[s0:s1]).sum())
        p = {name: np.empty(cap, dtype) for name, dtype in _FIELDS.items() if name != "via"}
        shared, total = np.empty(cap, np.int64), np.empty(cap, np.int64)
        r = {
            name: np.empty(cap if want_rows else 0, dtype) for name, dtype in _FIELDS.items() if name != "via"
        }
        first = np.zeros(cap if want_rows else 0, bool)
        n_pairs, n_rows = kernels.copresence(
            c0, c1, case_stays, r_lo, r_hi, a_in, a_out, a_sub, a_traj, a_hub, case_person,
            s.t_in, s.t_out, s.person, s.subarea, m, rules.hub_min_overlap_minutes, rules.min_overlap_minutes,
            _DECAY,
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

    # Blocks of whole cases of about _BLOCK candidate rows each, on ``workers`` threads (the compiled kernels
    # and numpy let go of the GIL); the results are joined in case order, so any number of workers gives the
    # same.
    per_case = np.bincount(a_case, weights=r_hi - r_lo, minlength=n_cases)
    cuts = np.searchsorted(
        np.cumsum(per_case), np.arange(_BLOCK, per_case.sum() + _BLOCK, _BLOCK), side="right"
    )
    bounds = sorted({0, n_cases, *(int(c) for c in cuts if 0 < c < n_cases)})
    spans = list(itertools.pairwise(bounds))
    if workers <= 1 or len(spans) <= 1:
        for c0, c1 in spans:
            yield block(c0, c1)
        return
    # At most two blocks per worker in flight, so a consumer that writes blocks away keeps memory bounded.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[_Part]] = deque()
        for span in spans:
            pending.append(pool.submit(block, *span))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _add_links(rows: _Rows, case: I64, member: I64, via: I64, kind: int, score: F64) -> None:
    n = len(case)
    minus = np.full(n, -1, np.int64)
    rows.add(
        case=case, contact=member, type=np.full(n, kind, np.int8), via=via, stay=minus,
        subarea=np.full(n, -1, np.int16), contact_in=minus, contact_out=minus, overlap=np.zeros(n, np.int64),
        score=score,
    )  # fmt: skip
