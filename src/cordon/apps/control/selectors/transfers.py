"""Transfer tasks as a user may see them (the transfer board) and the homes under control.

A transfer task is seen by users whose territory holds its district or its destination site.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from ..models import (
    MemberStatus,
    OrderStatus,
    Placement,
    PlacementMode,
    PlacementStatus,
    TransferMember,
    TransferStatus,
    TransferTask,
)
from .orders import _scope, orders_visible_to


def transfers_visible_to(user: Actor) -> QuerySet[TransferTask]:
    scope = _scope(user)
    return TransferTask.objects.filter(
        scope.territory("district") | scope.territory("site__jurisdiction")
    ).select_related("site", "district")


def get_transfer_for(user: Actor, pk: int) -> TransferTask:
    try:
        return transfers_visible_to(user).get(pk=pk)
    except (TransferTask.DoesNotExist, ValueError):
        raise NotFound from None


def get_member_for(user: Actor, pk: int) -> TransferMember:
    try:
        return TransferMember.objects.select_related("task", "order__person").get(
            pk=pk, task__in=transfers_visible_to(user)
        )
    except (TransferMember.DoesNotExist, ValueError):
        raise NotFound from None


def transfer_board(user: Actor, day: dt.date | None = None) -> dict[str, Any]:
    """Rooms reserved and waiting for a vehicle (by site), and the tasks of the day by status."""
    day = day or timezone.localdate()
    allocated = (
        orders_visible_to(user)
        .filter(status=OrderStatus.ALLOCATED)
        .select_related("person__home_building")
        .order_by("site__code", "due_at")
    )
    by_site: dict[int, dict[str, Any]] = {}
    rooms = {
        p.order_id: p.room
        for p in Placement.objects.filter(
            order__in=allocated, status=PlacementStatus.RESERVED
        ).select_related("room")
    }
    for o in allocated:
        entry = by_site.setdefault(o.site_id or 0, {"site": o.site, "orders": []})
        o.room = rooms.get(o.pk)  # type: ignore[attr-defined]
        entry["orders"].append(o)
    tasks = list(
        transfers_visible_to(user)
        # Open tasks, the day's pickups, and what arrived that day (a pickup planned past midnight included).
        .filter(
            Q(status__in=[TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE])
            | Q(pickup_at__date=day)
            | Q(arrived_at__date=day)
        )
        .annotate(
            n=Count("members"),
            failed=Count("members", filter=Q(members__status=MemberStatus.FAILED)),
        )
        .order_by("pickup_at")
    )
    members: dict[int, list[TransferMember]] = defaultdict(list)
    for m in TransferMember.objects.filter(task__in=[t.pk for t in tasks]).select_related("order__person"):
        members[m.task_id].append(m)
    columns: dict[str, list[TransferTask]] = {s: [] for s in TransferStatus.values}
    for t in tasks:
        t.member_list = members.get(t.pk, [])  # type: ignore[attr-defined]
        columns[t.status].append(t)
    return {"waiting": list(by_site.values()), "columns": columns, "day": day}


def homes_under_control(user: Actor) -> list[dict[str, Any]]:
    """Buildings with persons in home quarantine or home monitoring in the user's territory (for the grid
    workers), with who and until when."""
    scope = _scope(user)
    placements = (
        Placement.objects.filter(
            scope.territory("building__jurisdiction"), mode=PlacementMode.HOME, status=PlacementStatus.ACTIVE
        )
        .select_related("building", "building__jurisdiction", "person", "order", "order__plan")
        .order_by("building__jurisdiction__code", "building__address")
    )
    out: dict[int, dict[str, Any]] = {}
    for p in placements:
        entry = out.setdefault(p.building_id or 0, {"building": p.building, "persons": []})
        sched = p.order.schedule()
        stage = sched.stage_on(timezone.localdate()) if sched else None
        entry["persons"].append(
            {"placement": p, "order": p.order, "until": sched.last_day if sched else None, "stage": stage}
        )
    return list(out.values())


def home_buildings(user: Actor) -> set[int]:
    scope = Scope.of(user)
    if not scope.can(Cap.VIEW_CONTROL):
        return set()
    return set(
        Placement.objects.filter(
            scope.territory("building__jurisdiction"), mode=PlacementMode.HOME, status=PlacementStatus.ACTIVE
        ).values_list("building_id", flat=True)
    )
