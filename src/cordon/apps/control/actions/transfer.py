"""Transfers (转运): a vehicle and team for persons with a room reserved at one site; departure, a person not
picked up, arrival (the persons are in isolation from then on)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none

from ..models import (
    ControlOrder,
    EndReason,
    FailureReason,
    IsolationSite,
    MemberStatus,
    OrderStatus,
    Placement,
    PlacementStatus,
    TransferMember,
    TransferStatus,
    TransferTask,
)
from ._shared import _codes, _end_placements, _lock_orders, _sync_sample_tasks, _update_all

MAX_TRANSFER_GROUP = 40


@dataclass
class TransferData:
    vehicle: str
    team: str
    pickup_at: dt.datetime | None


def _transfer_errors(data: TransferData, n_orders: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.vehicle.strip():
        errors["vehicle"] = _("Name the vehicle (plate number).")
    if not data.team.strip():
        errors["team"] = _("Name the team.")
    if data.pickup_at is None:
        errors["pickup_at"] = _("Give the pickup time.")
    if not n_orders:
        errors["orders"] = _("Choose at least one person.")
    elif n_orders > MAX_TRANSFER_GROUP:
        errors["orders"] = _("At most %(n)d persons per vehicle.") % {"n": MAX_TRANSFER_GROUP}
    return errors


@action
def create_transfer(
    *, actor: Actor | None, orders: Sequence[ControlOrder], data: TransferData, source: str = "web"
) -> TransferTask:
    """A vehicle and team for persons with a room reserved at one site."""
    errors = _transfer_errors(data, len(orders))
    if errors:
        raise ValidationError(errors)
    assert data.pickup_at is not None
    locked = _lock_orders(orders)
    problems = []
    sites = {o.site_id for o in locked.values()}
    for o in locked.values():
        if o.status != OrderStatus.ALLOCATED:
            problems.append(
                _("%(name)s has no room reserved (%(status)s).")
                % {"name": o.person.name, "status": o.get_status_display()}
            )
        if data.pickup_at < o.opened_at:
            errors["pickup_at"] = _("The pickup cannot be before the contact was judged (%(at)s).") % {
                "at": timezone.localtime(o.opened_at).strftime("%Y-%m-%d %H:%M")
            }
    if len(sites) > 1:
        problems.append(_("One vehicle goes to one site; these persons have rooms at different sites."))
    if problems:
        errors["orders"] = " ".join(problems)
    if errors:
        raise ValidationError(errors)
    first = next(iter(locked.values()))
    task = audit.create(
        actor,
        TransferTask,
        source=source,
        code=_codes(f"ZY-{timezone.localtime(data.pickup_at):%Y%m%d}-", TransferTask, 1)[0],
        district=first.district,
        site=IsolationSite.objects.get(pk=next(iter(sites)) or 0),
        vehicle=data.vehicle.strip()[:40],
        team=data.team.strip()[:100],
        pickup_at=data.pickup_at,
        created_by=user_or_none(actor),
    )
    placements = {
        p.order_id: p
        for p in Placement.objects.filter(order__in=list(locked), status=PlacementStatus.RESERVED)
    }
    members = TransferMember.objects.bulk_create(
        [TransferMember(task=task, order=o, placement=placements[o.pk]) for o in locked.values()]
    )
    audit.record_bulk_create(actor, members, source=source)
    _update_all(actor, list(locked.values()), status=OrderStatus.IN_TRANSFER, source=source)
    return task


def _lock_task(task: TransferTask) -> TransferTask:
    return TransferTask.objects.select_for_update(of=("self",)).get(pk=task.pk)


@action
def depart_transfer(
    *, actor: Actor | None, task: TransferTask, at: dt.datetime | None = None, source: str = "web"
) -> TransferTask:
    task = _lock_task(task)
    at = at or timezone.now()
    if task.status != TransferStatus.ASSIGNED:
        raise ValidationError({"status": _("This task is %(s)s.") % {"s": task.get_status_display()}})
    if not task.members.filter(status=MemberStatus.ASSIGNED).exists():
        raise ValidationError({"status": _("Nobody is left to pick up.")})
    audit.change(actor, task, status=TransferStatus.EN_ROUTE, departed_at=at, source=source)
    return task


@action
def fail_member(
    *, actor: Actor | None, member: TransferMember, reason: str, note: str = "", source: str = "web"
) -> TransferMember:
    """The person could not be picked up: the reserved room is freed and the person goes back to the queue
    (the clock keeps running from the judgment)."""
    member = (
        TransferMember.objects.select_for_update(of=("self",))
        .select_related("task", "order")
        .get(pk=member.pk)
    )
    if reason not in FailureReason.values:
        raise ValidationError({"reason": _("Say why the transfer failed.")})
    if member.status != MemberStatus.ASSIGNED:
        raise ValidationError(
            {"reason": _("This person is already %(s)s.") % {"s": member.get_status_display()}}
        )
    if member.task.status in (TransferStatus.ARRIVED, TransferStatus.CANCELLED):
        raise ValidationError({"reason": _("The task is closed.")})
    order = ControlOrder.objects.select_for_update(of=("self",)).get(pk=member.order_id)
    audit.change(
        actor,
        member,
        status=MemberStatus.FAILED,
        failure_reason=reason,
        note=note.strip()[:200],
        source=source,
    )
    _end_placements(actor, order, EndReason.TRANSFER_FAILED, timezone.now(), cancel=True, source=source)
    audit.change(actor, order, status=OrderStatus.WAITING, site=None, source=source)
    member.order = order
    task = member.task
    if not task.members.exclude(status=MemberStatus.FAILED).exists():
        audit.change(actor, task, status=TransferStatus.CANCELLED, source=source)
    return member


@action
def arrive_transfer(
    *, actor: Actor | None, task: TransferTask, at: dt.datetime | None = None, source: str = "web"
) -> TransferTask:
    """The vehicle arrived: everyone still on the task is in their room from now on (plan day 1 is today)
    and their sample tasks are generated."""
    task = _lock_task(task)
    at = at or timezone.now()
    if task.status not in (TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE):
        raise ValidationError({"status": _("This task is %(s)s.") % {"s": task.get_status_display()}})
    if at < task.pickup_at - dt.timedelta(hours=12) or at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"at": _("The arrival time must lie between the pickup and now.")})
    members = list(task.members.filter(status=MemberStatus.ASSIGNED).select_related("placement__room__site"))
    if not members:
        raise ValidationError({"status": _("Nobody is left on this task.")})
    orders = _lock_orders([ControlOrder(pk=m.order_id) for m in members])
    day = timezone.localtime(at).date()
    _update_all(actor, members, status=MemberStatus.ARRIVED, source=source)
    _update_all(
        actor, [m.placement for m in members], status=PlacementStatus.ACTIVE, started_at=at, source=source
    )
    _update_all(
        actor,
        list(orders.values()),
        status=OrderStatus.ISOLATED,
        controlled_at=at,
        start_date=day,
        source=source,
    )
    _sync_sample_tasks(actor, list(orders.values()), source=source)
    audit.change(
        actor,
        task,
        status=TransferStatus.ARRIVED,
        departed_at=task.departed_at or at,
        arrived_at=at,
        source=source,
    )
    return task
