"""Writes of the kept counts: the refresh (a recount that replaces them whole) and the reconciliation (the same,
reporting what differed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from cordon.apps.geo.models import Jurisdiction, Level
from cordon.core import bulk, openitems
from cordon.core.actions import action

from . import selectors
from .models import OpenItemTally


@dataclass(frozen=True)
class Drift:
    kind: str
    district_id: int
    kept: tuple[int, int]
    actual: tuple[int, int]


def _replace(counts: selectors.Counts, now: dt.datetime) -> int:
    """Replace the kept counts (the recount ran before, holding no lock): a count for every kind and district."""
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("pk", flat=True))
    rows = [
        OpenItemTally(
            kind=kind.key,
            district_id=d,
            open=counts.get((kind.key, d), (0, 0))[0],
            overdue=counts.get((kind.key, d), (0, 0))[1],
            counted_at=now,
        )
        for kind in openitems.kinds()
        for d in districts
    ]
    return bulk.replace_all(OpenItemTally, rows, lock="tallies.replace")


@action(atomic=False)
def refresh(*, now: dt.datetime | None = None) -> int:
    """Recount every kind of open item per district (reads only, outside any transaction: on SQLite a write
    transaction would hold every other writer for the recount's seconds) and replace the kept counts in one
    transaction (a reader sees the old counts or the new ones). Returns how many counts were written."""
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
        Drift(kind, district, kept.get((kind, district), (0, 0)), actual.get((kind, district), (0, 0)))
        for kind, district in sorted(set(actual) | set(kept))
        if kept.get((kind, district), (0, 0)) != actual.get((kind, district), (0, 0))
    ]
    _replace(actual, now)
    return drift
