"""The nightly reconciliation of screening's kept counters (``RoundCount``: first samples per round and
jurisdiction; ``SiteDayCount``: samples per site and day), which the binding action keeps in the same
transaction as the samples: recount them from the samples, report every counter that differs, and repair it.

The recount and the counters are read in one snapshot (a repeatable-read transaction on PostgreSQL; one
transaction on SQLite), and each counter is repaired by the difference seen there, so batches bound while the
recount runs (counted by their own transaction, not in the snapshot) are kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cordon.core.actions import action

from ..models import Binding, RoundCount, SiteDayCount


@dataclass(frozen=True)
class Drift:
    counter: str  # "round" or "site_day"
    key: tuple[Any, ...]  # (round id, jurisdiction id) or (site id, day)
    kept: tuple[int, ...]  # (sampled, outside) or (sampled,)
    actual: tuple[int, ...]
    existed: bool = True  # whether the kept counter had a row


Counts = dict[tuple[Any, ...], tuple[int, ...]]


def _recount() -> tuple[Counts, Counts, Counts, Counts]:
    rounds: Counts = {
        (r["round_id"], r["jurisdiction_id"]): (r["sampled"], r["outside"])
        for r in Binding.objects.filter(resample__isnull=True)
        .values("round_id", "jurisdiction_id")
        .annotate(
            sampled=Count("id", filter=Q(out_of_scope=False)),
            outside=Count("id", filter=Q(out_of_scope=True)),
        )
        .order_by()
    }
    days: Counts = {
        (r["site_id"], r["day"]): (r["n"],)
        for r in Binding.objects.annotate(day=TruncDate("bound_at", tzinfo=timezone.get_current_timezone()))
        .values("site_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    }
    kept_rounds: Counts = {
        (c.round_id, c.jurisdiction_id): (c.sampled, c.outside) for c in RoundCount.objects.all()
    }
    kept_days: Counts = {(c.site_id, c.day): (c.sampled,) for c in SiteDayCount.objects.all()}
    return rounds, kept_rounds, days, kept_days


def _differences(
    name: str,
    actual: dict[tuple[Any, ...], tuple[int, ...]],
    kept: dict[tuple[Any, ...], tuple[int, ...]],
    width: int,
) -> list[Drift]:
    zero = (0,) * width
    return [
        Drift(name, key, kept.get(key, zero), actual.get(key, zero), key in kept)
        for key in sorted(set(actual) | set(kept), key=str)
        if kept.get(key, zero) != actual.get(key, zero)
    ]


@action(atomic=False)
def reconcile_counts() -> list[Drift]:
    """Recount the samples per round and jurisdiction and per site and day, and repair every kept counter
    that differs (returned, for the worker to log)."""
    outer = not connection.in_atomic_block
    with transaction.atomic():
        if outer and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        rounds, kept_rounds, days, kept_days = _recount()
    drift = _differences("round", rounds, kept_rounds, 2) + _differences("site_day", days, kept_days, 1)
    if drift:
        _repair(drift)
    return drift


def _repair(drift: list[Drift]) -> None:
    """Add each difference to its counter: an update of the counters that exist, an upsert of those that do
    not (a batch may insert one meanwhile: then its count and the difference add up)."""
    rounds, days = RoundCount._meta.db_table, SiteDayCount._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        for d in drift:
            delta = [a - k for a, k in zip(d.actual, d.kept, strict=True)]
            if d.counter == "round" and d.existed:
                cur.execute(
                    f"UPDATE {rounds} SET sampled = sampled + %s, outside = outside + %s "
                    "WHERE round_id = %s AND jurisdiction_id = %s",
                    [*delta, *d.key],
                )
            elif d.counter == "round":
                cur.execute(
                    f"INSERT INTO {rounds} (round_id, jurisdiction_id, sampled, outside) VALUES (%s, %s, %s, %s) "
                    f"ON CONFLICT (round_id, jurisdiction_id) DO UPDATE SET sampled = {rounds}.sampled + "
                    f"excluded.sampled, outside = {rounds}.outside + excluded.outside",
                    [*d.key, *delta],
                )
            elif d.existed:
                cur.execute(
                    f"UPDATE {days} SET sampled = sampled + %s WHERE site_id = %s AND day = %s",
                    [*delta, *d.key],
                )
            else:
                cur.execute(
                    f"INSERT INTO {days} (site_id, day, sampled) VALUES (%s, %s, %s) ON CONFLICT (site_id, day) "
                    f"DO UPDATE SET sampled = {days}.sampled + excluded.sampled",
                    [*d.key, *delta],
                )
