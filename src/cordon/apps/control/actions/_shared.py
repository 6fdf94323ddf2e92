"""What several control actions do alike: lock the orders of a batch, number new records, end an order's live
placements (freeing their rooms), keep sample tasks in step with a schedule, refuse an order not under control.

Each helper runs inside the calling action's transaction and writes through the audit helpers, one audit row
per record it changes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Building
from cordon.core import versions
from cordon.core.actors import Actor

from ..models import (
    LIVE_PLACEMENT,
    ControlOrder,
    OrderStatus,
    Placement,
    PlacementStatus,
    Room,
    RoomStatus,
    SampleStatus,
    SampleTask,
)


def _lock_orders(orders: Sequence[ControlOrder]) -> dict[int, ControlOrder]:
    """The orders, locked in id order (with their person and plan); refused when one is gone."""
    ids = sorted({o.pk for o in orders})
    locked = {
        o.pk: o
        for o in ControlOrder.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("person", "plan")
        .order_by("pk")
    }
    if len(locked) != len(ids):
        raise ValidationError({"orders": _("Some of the chosen persons are no longer in the queue.")})
    return locked


def _update_all(actor: Actor | None, instances: Sequence[Any], *, source: str, **fields: Any) -> None:
    """The same ``fields`` on many records of one model (a district's batch of hundreds): one ``UPDATE ...
    WHERE id IN (...)`` and one audit row per changed record (``audit.record_bulk_update``, inserted in bulk).
    For the placement hot path instead of ``audit.change_many``, whose ``bulk_update`` builds a ``CASE WHEN``
    per row and field for values that are all the same (most of the time of an arrival in the benchmark)."""
    if not instances:
        return
    changes = []
    for obj in instances:
        before = audit.snapshot(obj)
        for name, value in fields.items():
            setattr(obj, name, value)
        changes.append((obj, before))
    type(instances[0])._default_manager.filter(pk__in=[obj.pk for obj in instances]).update(
        **fields, **versions.bump(instances)
    )
    audit.record_bulk_update(actor, changes, source=source)


def _homes(orders: Iterable[ControlOrder]) -> dict[int, Building]:
    """The home building of each order's person, by building id (for home placements)."""
    return Building.objects.in_bulk({o.person.home_building_id for o in orders if o.person.home_building_id})


def _codes(prefix: str, model: Any, n: int) -> list[str]:
    """``n`` new codes ``<prefix>00001``, ... following the last code of ``model`` with that prefix."""
    last = (
        model.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    )
    start = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return [f"{prefix}{i:05d}" for i in range(start, start + n)]


def _controlled(order: ControlOrder) -> None:
    if order.status not in (OrderStatus.ISOLATED, OrderStatus.HOME) or order.start_date is None:
        raise ValidationError(
            {"order": _("%(name)s is not under control (%(s)s).") % {
                "name": order.person.name, "s": order.get_status_display()}}
        )  # fmt: skip


def _end_placements(
    actor: Actor | None,
    order: ControlOrder,
    reason: str,
    at: dt.datetime,
    *,
    source: str,
    cancel: bool = False,
) -> None:
    """End the order's live placements (a reservation never started, or any when ``cancel``, is cancelled)
    and free the rooms nobody is placed in any more."""
    live = list(
        Placement.objects.filter(order=order, status__in=LIVE_PLACEMENT).select_related(
            "room__site", "building"
        )
    )
    stayed: list[int | None] = []
    reserved_only: list[int | None] = []
    for p in live:
        (reserved_only if p.status == PlacementStatus.RESERVED else stayed).append(p.room_id)

    def ended(p: Placement) -> dict[str, Any]:
        never_started = p.status == PlacementStatus.RESERVED
        status = PlacementStatus.CANCELLED if (cancel or never_started) else PlacementStatus.ENDED
        return {"status": status, "ended_at": at, "end_reason": reason}

    audit.change_each(actor, live, ended, source=source)
    _free_rooms(actor, stayed, reserved_only, source=source)


def _free_rooms(
    actor: Actor | None, stayed: Iterable[int | None], reserved_only: Iterable[int | None], *, source: str
) -> None:
    """Rooms nobody is placed in any more: those someone stayed in go to cleaning, those only reserved are
    available again."""
    stayed_ids = {i for i in stayed if i}
    reserved_ids = {i for i in reserved_only if i}
    ids = stayed_ids | reserved_ids
    if not ids:
        return
    still = set(
        Placement.objects.filter(room_id__in=ids, status__in=LIVE_PLACEMENT).values_list("room_id", flat=True)
    )
    for room_ids, status in (
        (stayed_ids - still, RoomStatus.CLEANING),
        (reserved_ids - stayed_ids - still, RoomStatus.AVAILABLE),
    ):
        if not room_ids:
            continue
        rooms = list(
            Room.objects.select_for_update(of=("self",))
            .filter(pk__in=room_ids, status=RoomStatus.OCCUPIED)
            .select_related("site")
            .order_by("pk")
        )
        audit.change_many(actor, rooms, status=status, source=source)


def _sync_sample_tasks(actor: Actor | None, orders: Sequence[ControlOrder], *, source: str) -> int:
    """Make each order's sample tasks follow its schedule: add missing ones, move or drop due ones that the
    schedule no longer has (after an extension); tasks with a sample or a result are kept. Returns how many
    tasks were added."""
    existing: dict[int, dict[str, SampleTask]] = defaultdict(dict)
    for t in SampleTask.objects.filter(order__in=[o.pk for o in orders]):
        existing[t.order_id][t.key] = t
    new: list[SampleTask] = []
    moved: dict[SampleTask, dt.date] = {}
    dropped: list[SampleTask] = []
    for order in orders:
        sched = order.schedule()
        if sched is None:
            continue
        mine = existing.get(order.pk, {})
        wanted = {t.key: t for t in sched.tests}
        for key, planned in wanted.items():
            if key not in mine:
                new.append(
                    SampleTask(order=order, key=key, stage=planned.stage, day=planned.day, due_on=planned.on)
                )
            elif mine[key].status == SampleStatus.DUE and mine[key].due_on != planned.on:
                moved[mine[key]] = planned.on
        dropped += [t for k, t in mine.items() if k not in wanted and t.status == SampleStatus.DUE]
    SampleTask.objects.bulk_create(new, batch_size=2000)
    audit.record_bulk_create(actor, new, source=source)
    audit.change_each(actor, list(moved), lambda t: {"due_on": moved[t]}, source=source)
    audit.delete_many(actor, dropped, source=source)
    return len(new)
