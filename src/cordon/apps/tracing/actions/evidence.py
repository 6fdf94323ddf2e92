"""What tracing writes as a contact's evidence: the JSON text of its longest shared stays, made from the
engine's evidence table without a dict per row."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from cordon.apps.venues.models import Venue

from ..store import from_minutes
from .register import chunks

EVIDENCE_PER_CONTACT = 5


def by_case(table: pa.Table) -> dict[int, pa.Table]:
    """The table's rows split by case (one sort, then slices; not one scan of the table per case)."""
    if table.num_rows == 0:
        return {}
    case = np.asarray(table.column("case_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    order = np.argsort(case, kind="stable")
    table, case = table.take(pa.array(order)), case[order]
    starts = np.r_[0, np.flatnonzero(case[1:] != case[:-1]) + 1, len(case)]
    return {int(case[a]): table.slice(int(a), int(b - a)) for a, b in itertools.pairwise(starts)}


class EvidenceVenues:
    """The venues named by evidence, each with the JSON text of its part of an evidence row (venue, name,
    place code, sub-area name), made once per venue and sub-area."""

    def __init__(self, venue_ids: list[int]) -> None:
        self._venues: dict[int, tuple[str, str, list[Any]]] = {}
        for part in chunks(venue_ids):
            rows = Venue.objects.filter(pk__in=part).values_list("pk", "name", "code", "sub_areas")
            self._venues.update((pk, (name, code, subs or [])) for pk, name, code, subs in rows)
        self._text: dict[tuple[int, int | None], str | None] = {}

    def text(self, venue_id: int, sub: int | None) -> str | None:
        """``, "venue": .., "venue_name": .., "venue_code": .., "subarea": ..`` (the sub-area's name, empty
        when not known), or None for a venue no longer in the register."""
        key = (venue_id, sub)
        if key not in self._text:
            venue = self._venues.get(venue_id)
            if venue is None:
                self._text[key] = None
            else:
                name, code, subs = venue
                subarea = subs[sub] if sub is not None and 0 <= sub < len(subs) else ""
                self._text[key] = (
                    f', "venue": {venue_id}, "venue_name": {json.dumps(name)}, '
                    f'"venue_code": {json.dumps(code)}, "subarea": {json.dumps(subarea)}'
                )
        return self._text[key]


def evidence_json(evidence: pa.Table, venues: EvidenceVenues) -> dict[int, str]:
    """Each contact's evidence as the JSON text of a list: its longest shared stays first, at most
    EVIDENCE_PER_CONTACT, each ``{"type", "via" (through a close contact), and at a venue of the register
    "venue", "venue_name", "venue_code", "subarea", "case_in", "case_out", "contact_in", "contact_out",
    "overlap_minutes"}``. The text is exactly what ``json.dumps`` makes of that list of dicts (what the JSON
    field writes), put together from pieces made once per type, venue, sub-area and minute rather than a dict
    and its encoding per row (a dense case has tens of thousands of contacts)."""
    if evidence.num_rows == 0:
        return {}
    # The longest shared stays first, at most EVIDENCE_PER_CONTACT per contact (vectorised; a case can have
    # hundreds of thousands of evidence rows in a dense city).
    contact = np.asarray(evidence.column("contact_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    overlap = np.asarray(evidence.column("overlap_minutes").fill_null(-1).to_numpy(zero_copy_only=False))
    order = np.lexsort((-overlap, contact))
    sorted_contact = contact[order]
    first = np.r_[0, np.flatnonzero(sorted_contact[1:] != sorted_contact[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    chosen = order[rank < EVIDENCE_PER_CONTACT]
    evidence = evidence.take(pa.array(chosen))
    names = ("contact_id", "contact_type", "via_id", "venue_id", "subarea", "case_in", "case_out",
             "contact_in", "contact_out", "overlap_minutes")  # fmt: skip
    cols = [
        evidence.column(n).to_pylist() if n in evidence.column_names else [None] * evidence.num_rows
        for n in names
    ]
    dumps = json.dumps
    iso = lru_cache(maxsize=65536)(lambda minutes: dumps(from_minutes(minutes).isoformat()))
    heads: dict[str, str] = {}
    pieces: dict[int, list[str]] = defaultdict(list)
    for contact_id, ctype, via, venue_id, sub, case_in, case_out, contact_in, contact_out, minutes in zip(
        *cols, strict=True
    ):
        head = heads.get(ctype)
        if head is None:
            head = heads[ctype] = '{"type": ' + dumps(ctype)
        if via is not None and via >= 0:
            head += f', "via": {int(via)}'
        where = venues.text(int(venue_id), sub) if venue_id is not None and venue_id >= 0 else None
        if where is None:
            pieces[int(contact_id)].append(head + "}")
        else:
            pieces[int(contact_id)].append(
                f'{head}{where}, "case_in": {iso(case_in)}, "case_out": {iso(case_out)}, '
                f'"contact_in": {iso(contact_in)}, "contact_out": {iso(contact_out)}, '
                f'"overlap_minutes": {int(minutes)}}}'
            )
    return {c: "[" + ", ".join(p) + "]" for c, p in pieces.items()}
