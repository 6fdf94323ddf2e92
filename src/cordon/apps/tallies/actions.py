"""Writes of the kept counts: the refresh (a recount that replaces them whole) and the reconciliation (the same,
reporting what differed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from cordon.core import bulk
from cordon.core.actions import action

from . import selectors
from .models import OpenItemTally

COLUMNS = ["kind", "jurisdiction_id", "district_id", "open", "overdue", "counted_at"]


@dataclass(frozen=True)
class Drift:
    kind: str
    jurisdiction_id: int  # the node whose territory is counted
    district_id: int
    kept: tuple[int, int]
    actual: tuple[int, int]


def _replace(counts: selectors.Counts, now: dt.datetime) -> int:
    """Replace the kept counts (the recount ran before, holding no lock), with ``COPY`` on PostgreSQL."""
    rows = ((kind, node, d, n, late, now) for (kind, node, d), (n, late) in counts.items())
    return bulk.replace_rows(OpenItemTally, COLUMNS, rows, lock="tallies.replace")


@action(atomic=False)
def refresh(*, now: dt.datetime | None = None) -> int:
    """Recount every kind of open item per node and district (reads only, outside any transaction: on SQLite a
    write transaction would hold every other writer for the recount's seconds) and replace the kept counts in
    one transaction (a reader sees the old counts or the new ones). Returns how many counts were written."""
    now = now or timezone.now()
    return _replace(selectors.recount(now), now)


@action(atomic=False)
def reconcile(*, now: dt.datetime | None = None) -> list[Drift]:
    """Recount, report every kept count that differs from the source tables (changed since the last refresh,
    or corrupted), and replace them."""
    now = now or timezone.now()
    actual = selectors.recount(now)
    kept = selectors.stored()
    drift = [
        Drift(kind, node, district, kept.get(key, (0, 0)), actual.get(key, (0, 0)))
        for key in sorted(set(actual) | set(kept))
        for kind, node, district in [key]
        if kept.get(key, (0, 0)) != actual.get(key, (0, 0))
    ]
    _replace(actual, now)
    return drift
