"""The results of a trace: evidence rows as found (:class:`Rows`), gathered into the evidence table and the
pair table (one row per case and contact) of :class:`Contacts`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .model import CONTACT_TYPES, DEGREE_OF_TYPE, I64, B


@dataclass
class Rows:
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


FIELDS = {
    "case": np.int64, "contact": np.int64, "type": np.int8, "via": np.int64, "stay": np.int64,
    "subarea": np.int16, "contact_in": np.int64, "contact_out": np.int64, "overlap": np.int64, "score": np.float64,
}  # fmt: skip
"""Rows as found: a co-presence row points at the case's stay (-1 for the household, unit and secondary links)
and carries the contact's scan (read in scan order while finding it: the 100-million-row columns are never read
again in another order); the stay's columns (venue, times) are gathered only for the rows asked for."""


class Stays(NamedTuple):
    """The batch's case stays (own scans in the window and typed-in visits), in case order."""

    venue: I64
    t_in: I64
    t_out: I64


def evidence_rows(
    rows: dict[str, npt.NDArray[Any]], sel: npt.NDArray[Any] | slice, stays: Stays
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


class Part:
    """A block of whole cases: its pair table (made on the worker thread) and its evidence rows, made when
    asked for."""

    def __init__(self, pairs: pa.Table, evidence: Callable[[], dict[str, npt.NDArray[Any]]]) -> None:
        self.pairs, self.evidence = pairs, evidence


class Contacts:
    """The result of :func:`trace`: evidence rows and one row per (case, contact) pair."""

    case_ids: I64
    _parts: list[Part]

    @classmethod
    def _joined(cls, case_ids: I64, parts: Sequence[Part]) -> Contacts:
        """From the results of blocks of whole cases, in case order."""
        out = cls.__new__(cls)
        out.case_ids = case_ids
        none = np.zeros(0, np.int64)
        if not parts:
            rows = {name: np.zeros(0, dtype) for name, dtype in FIELDS.items()}
            none_stays = Stays(none, none, none)
            parts = [Part(pair_table(rows, none, none, case_ids, none_stays),
                           lambda: evidence_rows(rows, slice(None), none_stays))]  # fmt: skip
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


def pair_table(
    r: dict[str, npt.NDArray[Any]], shared: I64, total: I64, case_ids: I64, stays: Stays
) -> pa.Table:
    """The pair table of pair rows ``r`` (each its pair's best evidence and highest score), with the stays
    shared and their minutes."""
    cols = _columns(evidence_rows(r, slice(None), stays), case_ids)
    cols["shared_stays"] = pa.array(shared)
    cols["total_overlap_minutes"] = pa.array(total)
    return pa.table(cols)
