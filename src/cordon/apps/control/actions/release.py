"""The end of a plan's stages: centralised isolation continued at home, an extension, release by rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.core import versions
from cordon.core.actions import action
from cordon.core.actors import Actor, user_or_none

from .. import selectors
from ..models import (
    ControlOrder,
    EndReason,
    Extension,
    OrderStatus,
    Placement,
    PlacementMode,
    PlacementStatus,
)
from ._shared import _controlled, _end_placements, _homes, _lock_orders, _sync_sample_tasks

MAX_EXTENSION_DAYS = 30


def _home_stage_problem(o: ControlOrder, today: dt.date) -> str | None:
    """Why ``o`` cannot move to its plan's home stage today (``None``: it can)."""
    sched = o.schedule()
    nxt = next((s for s in sched.stages if s.kind != "centralized"), None) if sched else None
    results = selectors.results_of(o)
    if o.status != OrderStatus.ISOLATED or sched is None:
        return _("%(name)s is not in centralised isolation.") % {"name": o.person.name}
    if nxt is None:
        return _("%(name)s's plan has no home stage; release instead.") % {"name": o.person.name}
    if today < nxt.first:
        return _("%(name)s: the home stage starts on %(d)s.") % {"name": o.person.name, "d": nxt.first}
    if any(results.get(t.key) != "negative" for t in sched.tests if t.on < nxt.first):
        return _("%(name)s: every test of the centralised stage must be negative.") % {"name": o.person.name}
    if o.person.home_building_id is None:
        return _("%(name)s has no home building in the register.") % {"name": o.person.name}
    return None


@action
def move_to_home(
    *, actor: Actor | None, orders: Sequence[ControlOrder], at: dt.datetime | None = None, source: str = "web"
) -> int:
    """End centralised isolation for persons whose plan continues at home (e.g. home health monitoring after
    7 days): allowed from the first day of the home stage, with every test of the centralised stage negative."""
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    locked = _lock_orders(orders)
    problems = [p for o in locked.values() if (p := _home_stage_problem(o, today)) is not None]
    if problems:
        raise ValidationError({"orders": " ".join(problems)})
    for o in locked.values():
        _end_placements(actor, o, EndReason.MOVED_HOME, at, source=source)
    audit.change_many(actor, list(locked.values()), status=OrderStatus.HOME, site=None, source=source)
    homes = _homes(locked.values())
    new = [
        Placement(
            order=o, person_id=o.person_id, plan=o.plan, mode=PlacementMode.HOME,
            building=homes.get(o.person.home_building_id or 0), status=PlacementStatus.ACTIVE, reserved_at=at,
            started_at=at, created_by=user_or_none(actor),
        )
        for o in locked.values()
    ]  # fmt: skip
    Placement.objects.bulk_create(new)
    audit.record_bulk_create(actor, new, source=source)
    return len(new)


@action
def extend(
    *,
    actor: Actor | None,
    order: ControlOrder,
    days: int,
    reason: str,
    version: int | None = None,
    source: str = "web",
) -> Extension:
    """Lengthen the plan's last stage (a test is added on the new last day); recorded with the reason.
    ``version``: the order's version the officer saw; an order changed since (extended, moved, released by
    someone else) refuses the extension (``versions.Conflict``)."""
    order = _lock_orders([order])[order.pk]
    versions.check(order, version)
    _controlled(order)
    errors = {}
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = _("Extend by 1 to %(n)d days.") % {"n": MAX_EXTENSION_DAYS}
    if not reason.strip():
        errors["reason"] = _("Give the reason for the extension.")
    if errors:
        raise ValidationError(errors)
    ext = audit.create(
        actor, Extension, source=source, order=order, days=days, reason=reason.strip()[:300],
        created_by=user_or_none(actor),
    )  # fmt: skip
    audit.change(
        actor, order, extension_days=order.extension_days + days, expected_version=version, source=source
    )
    _sync_sample_tasks(actor, [order], source=source)
    return ext


@action
def release(
    *, actor: Actor | None, orders: Sequence[ControlOrder], at: dt.datetime | None = None, source: str = "web"
) -> list[ControlOrder]:
    """Release at the end of the plan with every required test negative; refused, with the reasons for each
    person, otherwise. Rooms go to cleaning; each released person gets a certificate number."""
    if not orders:
        raise ValidationError({"orders": _("Choose at least one person.")})
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    locked = _lock_orders(orders)
    problems = []
    for o in locked.values():
        reasons = selectors.release_check(o, today)
        if reasons:
            problems.append(
                _("%(name)s cannot be released: %(why)s.")
                % {"name": o.person.name, "why": "; ".join(reasons)}
            )
    if problems:
        raise ValidationError({"orders": " ".join(problems)})
    last = (
        ControlOrder.objects.filter(certificate_no__startswith=f"JC-{today:%Y%m%d}-")
        .order_by("-certificate_no")
        .values_list("certificate_no", flat=True)
        .first()
    )
    n = int(last.rsplit("-", 1)[1]) if last else 0
    numbers = {pk: f"JC-{today:%Y%m%d}-{n + i:05d}" for i, pk in enumerate(locked, start=1)}
    for o in locked.values():
        _end_placements(actor, o, EndReason.RELEASED, at, source=source)
    audit.change_each(
        actor,
        list(locked.values()),
        lambda o: {
            "status": OrderStatus.RELEASED,
            "closed_at": at,
            "released_by": user_or_none(actor),
            "site": None,
            "certificate_no": numbers[o.pk],
        },
        source=source,
    )
    return list(locked.values())
