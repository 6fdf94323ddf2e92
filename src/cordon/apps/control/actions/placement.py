"""Placing waiting persons: rooms reserved at a site (the officer's accepted proposal), or home quarantine.

Concurrency: placing locks the orders and rooms concerned (``select_for_update``, in id order) and re-checks
them, so two officers placing the same person end with one placement and a clear message for the other; the
partial unique constraints (one open order and one live placement per person) back this up in the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none

from ..models import (
    ControlOrder,
    OrderStatus,
    Placement,
    PlacementMode,
    PlacementStatus,
    Room,
    RoomStatus,
)
from ._shared import _homes, _lock_orders, _sync_sample_tasks, _update_all


def _lock_rooms(assignments: Sequence[tuple[ControlOrder, Room]]) -> dict[int, Room]:
    room_ids = sorted({r.pk for _o, r in assignments})
    return {
        r.pk: r
        for r in Room.objects.select_for_update(of=("self",))
        .filter(pk__in=room_ids)
        .select_related("site")
        .order_by("pk")
    }


def _reservation_problems(
    assignments: Sequence[tuple[ControlOrder, Room]], orders: dict[int, ControlOrder], rooms: dict[int, Room]
) -> tuple[list[str], dict[int, list[ControlOrder]]]:
    """Why the (locked) orders cannot have the (locked) rooms, and who would be in each room."""
    problems: list[str] = []
    by_room: dict[int, list[ControlOrder]] = defaultdict(list)
    for o, r in assignments:
        order = orders[o.pk]
        room = rooms.get(r.pk)
        name = order.person.name
        if order.status != OrderStatus.WAITING:
            problems.append(
                _("%(name)s is no longer waiting (%(status)s): someone else placed them.")
                % {"name": name, "status": order.get_status_display()}
            )
        elif not order.centralized:
            problems.append(_("%(name)s's plan is home quarantine, not a room.") % {"name": name})
        elif room is None:
            problems.append(_("Unknown room for %(name)s.") % {"name": name})
        else:
            by_room[room.pk].append(order)
    for room_id, members in by_room.items():
        room = rooms[room_id]
        if not room.site.active:
            problems.append(_("%(site)s is closed for intake.") % {"site": room.site.name})
        if room.status != RoomStatus.AVAILABLE:
            problems.append(
                _("Room %(room)s is %(status)s.") % {"room": str(room), "status": room.get_status_display()}
            )
        elif len(members) > room.beds:
            problems.append(
                _("Room %(room)s has %(beds)d beds for %(n)d persons.")
                % {"room": str(room), "beds": room.beds, "n": len(members)}
            )
        households = {m.person.household_id or -m.person_id for m in members}
        if len(households) > 1:
            problems.append(_("Room %(room)s would hold two households.") % {"room": str(room)})
    return problems, by_room


@action
def reserve_rooms(
    *, actor: Actor | None, assignments: Sequence[tuple[ControlOrder, Room]],
    distances: dict[int, float] | None = None, source: str = "web",
) -> list[Placement]:  # fmt: skip
    """Reserve a room for each (order, room) pair: the officer's accepted (or adjusted) proposal. All or
    nothing: a person already placed, a closed site, a room that is not available or too small, or two
    households in one room refuse the whole batch with the reasons."""
    if not assignments:
        raise ValidationError({"orders": _("Choose at least one person to place.")})
    if len({o.pk for o, _r in assignments}) != len(assignments):
        raise ValidationError({"orders": _("A person is listed twice.")})
    orders = _lock_orders([o for o, _r in assignments])
    rooms = _lock_rooms(assignments)
    problems, by_room = _reservation_problems(assignments, orders, rooms)
    if problems:
        raise ValidationError({"orders": " ".join(problems)})
    now = timezone.now()
    placements = [
        Placement(
            order=orders[o.pk],
            person_id=orders[o.pk].person_id,
            plan=orders[o.pk].plan,
            mode=PlacementMode.CENTRALIZED,
            site=rooms[r.pk].site,
            room=rooms[r.pk],
            status=PlacementStatus.RESERVED,
            reserved_at=now,
            distance_km=(distances or {}).get(o.pk),
            created_by=user_or_none(actor),
        )
        for o, r in assignments
    ]
    try:
        with transaction.atomic():
            Placement.objects.bulk_create(placements, batch_size=1000)
    except IntegrityError:
        raise ValidationError(
            {
                "orders": _(
                    "Someone else placed one of these persons at the same moment; reload and try again."
                )
            }
        ) from None
    audit.record_bulk_create(actor, placements, source=source)
    by_site: dict[int, list[ControlOrder]] = defaultdict(list)
    sites = {}
    for o, r in assignments:
        sites[rooms[r.pk].site_id] = rooms[r.pk].site
        by_site[rooms[r.pk].site_id].append(orders[o.pk])
    for site_id, members in by_site.items():  # the same values for a site's orders: one statement per site
        _update_all(actor, members, status=OrderStatus.ALLOCATED, site=sites[site_id], source=source)
    _update_all(actor, [rooms[i] for i in by_room], status=RoomStatus.OCCUPIED, source=source)
    return placements


@action
def place_at_home(
    *, actor: Actor | None, orders: Sequence[ControlOrder], at: dt.datetime | None = None, source: str = "web"
) -> list[Placement]:
    """Home quarantine (the plan starts at home): the person's home building is marked for the grid workers,
    day 1 is today and the sample tasks are generated."""
    if not orders:
        raise ValidationError({"orders": _("Choose at least one person.")})
    at = at or timezone.now()
    locked = _lock_orders(orders)
    problems: list[str] = []
    for order in locked.values():
        name = order.person.name
        if order.status != OrderStatus.WAITING:
            problems.append(_("%(name)s is no longer waiting.") % {"name": name})
        elif order.centralized:
            problems.append(_("%(name)s's plan starts in centralised isolation.") % {"name": name})
        elif order.person.home_building_id is None:
            problems.append(_("%(name)s has no home building in the register.") % {"name": name})
        elif at < order.opened_at:
            problems.append(_("The start cannot be before the judgment."))
    if problems:
        raise ValidationError({"orders": " ".join(dict.fromkeys(problems))})
    homes = _homes(locked.values())
    placements = [
        Placement(
            order=o,
            person_id=o.person_id,
            plan=o.plan,
            mode=PlacementMode.HOME,
            building=homes.get(o.person.home_building_id or 0),
            status=PlacementStatus.ACTIVE,
            reserved_at=at,
            started_at=at,
            created_by=user_or_none(actor),
        )
        for o in locked.values()
    ]
    try:
        with transaction.atomic():
            Placement.objects.bulk_create(placements, batch_size=1000)
    except IntegrityError:
        raise ValidationError({"orders": _("Someone else placed one of these persons; reload.")}) from None
    audit.record_bulk_create(actor, placements, source=source)
    day = timezone.localtime(at).date()
    _update_all(
        actor,
        list(locked.values()),
        status=OrderStatus.HOME,
        controlled_at=at,
        start_date=day,
        source=source,
    )
    _sync_sample_tasks(actor, list(locked.values()), source=source)
    return placements
