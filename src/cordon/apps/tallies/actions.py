"""Writes of the kept counts: the refresh (a recount that replaces them whole) and the reconciliation (the same,
reporting what differed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cordon.core import bulk, locks
from cordon.core.actions import action

from . import selectors
from .models import OpenItemClose, OpenItemTally

COLUMNS = ["kind", "jurisdiction_id", "district_id", "open", "overdue", "due_today", "counted_at"]
CLOSE_COLUMNS = ["day", "kind", "jurisdiction_id", "open", "overdue", "counted_at"]


@dataclass(frozen=True)
class Drift:
    kind: str
    jurisdiction_id: int  # the node whose territory is counted
    district_id: int
    kept: tuple[int, int, int]  # open, overdue, due today
    actual: tuple[int, int, int]


def _replace(counts: selectors.Counts, now: dt.datetime) -> int:
    """Replace the kept counts (the recount ran before, holding no lock), with ``COPY`` on PostgreSQL."""
    rows = ((kind, node, d, n, late, due, now) for (kind, node, d), (n, late, due) in counts.items())
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
        Drift(kind, node, district, kept.get(key, (0, 0, 0)), actual.get(key, (0, 0, 0)))
        for key in sorted(set(actual) | set(kept))
        for kind, node, district in [key]
        if kept.get(key, (0, 0, 0)) != actual.get(key, (0, 0, 0))
    ]
    _replace(actual, now)
    return drift


@action(atomic=False)
def close_day(*, now: dt.datetime | None = None) -> int:
    """Store yesterday's closing figures (per kind and node, ``OpenItemClose``) unless they are stored already:
    the open items recounted with their clocks read at the local midnight that ended yesterday (``now``'s
    day's start). Run by every worker every few minutes; the first run after midnight writes, the others find
    the day closed (checked again under the lock, so two workers never write it twice). Returns the rows
    written."""
    now = now or timezone.now()
    day = timezone.localtime(now).date() - dt.timedelta(days=1)
    if OpenItemClose.objects.filter(day=day).exists():
        return 0
    midnight = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    figures = selectors.closing_figures(selectors.recount(midnight))
    rows = [(day, kind, node, n, late, now) for (kind, node), (n, late) in sorted(figures.items())]
    with transaction.atomic():
        locks.exclusive("tallies.close")
        if OpenItemClose.objects.filter(day=day).exists():
            return 0
        return bulk.insert_rows(OpenItemClose, CLOSE_COLUMNS, rows)
