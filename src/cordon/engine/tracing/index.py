"""Scans as parallel arrays, and :class:`ScanIndex`: the scans sorted once by a packed (venue, time in) key,
with a person order, so that every query is a binary search."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cordon.engine.scanstore import partition_files

from .lazy import kernels
from .model import I16, I64

LOW32 = (1 << 32) - 1
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
        if n and int(t_in.max()) - self.t0 > LOW32:
            raise ValueError("scans span more than 8,000 years")
        key = venue << 32
        key |= t_in - self.t0
        del t_in, venue
        if not bool((key[1:] >= key[:-1]).all()):  # (no scans, or one, are in order)
            # Stable: timsort, which merges runs that are sorted already.
            order = np.argsort(key, kind="stable")
            key = key[order]
            for f in _SCAN_FIELDS:
                cols[f] = cols[f][order]
            del order
        self.key: I64 = key
        self.scans = ScanArrays(*(cols.pop(f) for f in _SCAN_FIELDS))
        self.p_order, self.p_sorted = person_order(self.scans.person)
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
        low = np.clip(a_in - margin - max_stay - self.t0, 0, LOW32)
        high = a_out + margin - self.t0
        empty = ~known | (high < 0)
        high = np.clip(high, 0, LOW32)
        lo = np.searchsorted(self.key, (venue << 32) | low, side="left").astype(np.int64)
        hi = np.searchsorted(self.key, (venue << 32) | high, side="right").astype(np.int64)
        hi = np.where(empty, lo, hi)
        return lo, hi

    def present(self, venue: int, start: int, end: int) -> ScanArrays:
        lo, hi = self._ranges(np.array([venue], np.int64), np.array([start]), np.array([end]), 0)
        idx = np.arange(lo[0], hi[0])
        return self.scans.take(idx[self.scans.t_out[idx] >= start])


def person_order(person: I64) -> tuple[I64, I64]:
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
        counted: tuple[I64, I64] = kernels().person_order(person, lo, hi)
        return counted
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


def expand(lo: I64, hi: I64) -> tuple[I64, I64]:
    """Flatten ranges: (which range, position) for every position of every [lo, hi)."""
    counts = hi - lo
    total = int(counts.sum())
    which = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return which, lo[which] + offsets
