"""Control orders as a user may see them (the queue, searches, one order's timeline) and the quarantine plans.

An order is seen by users whose territory holds the person's residence, or the site the person is placed at
(site staff of another district see the persons in their site).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from ..models import NOT_YET_CONTROLLED, OPEN_ORDER, AppliesTo, ControlOrder, OrderStatus, QuarantinePlan

# The pipeline stages the commander's home counts, as filters of the order list (``status=...``): the residents
# of the user's territory (not the persons placed at a site of it) judged for centralised isolation and not yet
# on the road, judged and not yet under control (any plan), and under control (isolated or at home).
RESIDENT_STATUSES = {
    "to_transfer": Q(status__in=[OrderStatus.WAITING, OrderStatus.ALLOCATED], centralized=True),
    "not_controlled": Q(status__in=NOT_YET_CONTROLLED),
    "under_control": Q(status__in=[OrderStatus.ISOLATED, OrderStatus.HOME]),
}


def _scope(user: Actor, cap: Cap = Cap.VIEW_CONTROL) -> Scope:
    scope = Scope.of(user)
    scope.require(cap)
    return scope


def orders_visible_to(user: Actor) -> QuerySet[ControlOrder]:
    scope = _scope(user)
    return ControlOrder.objects.filter(
        scope.territory("jurisdiction") | scope.territory("site__jurisdiction")
    ).select_related("person", "case", "district", "site", "plan", "jurisdiction")


def get_order_for(user: Actor, pk: int) -> ControlOrder:
    try:
        return orders_visible_to(user).get(pk=pk)
    except (ControlOrder.DoesNotExist, ValueError):
        raise NotFound from None


def orders_by_ids(user: Actor, ids: Sequence[int | str]) -> list[ControlOrder]:
    """The orders with these ids that the user may see, in the order given; an unknown or hidden id raises
    NotFound (a batch is all or nothing)."""
    try:
        wanted = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise NotFound from None
    found = {o.pk: o for o in orders_visible_to(user).filter(pk__in=wanted)}
    if len(found) != len(set(wanted)):
        raise NotFound
    return [found[i] for i in dict.fromkeys(wanted)]


def search_orders(
    user: Actor, *, status: str = "", query: str = "", district: str = "", site: int | None = None
) -> QuerySet[ControlOrder]:
    qs = orders_visible_to(user)
    if status in RESIDENT_STATUSES:
        # The commander's home counts the residents of its area (kept per residence, ``command.figures``).
        qs = qs.filter(_scope(user).territory("jurisdiction"), RESIDENT_STATUSES[status])
    elif status == "open":
        qs = qs.filter(status__in=OPEN_ORDER)
    elif status:
        qs = qs.filter(status=status)
    q = query.strip()
    if q:
        qs = qs.filter(
            Q(code__iexact=q)
            | Q(person__name__startswith=q)
            | Q(case__code__iexact=q)
            | Q(person__national_id=q.upper())
        )
    if district:
        qs = qs.filter(district__code=district)
    if site is not None:
        qs = qs.filter(site_id=site)
    return qs


def queue(user: Actor, *, centralized: bool | None = None, district: str = "") -> QuerySet[ControlOrder]:
    """Persons judged and not yet placed, the longest waiting (earliest due) first."""
    qs = orders_visible_to(user).filter(status=OrderStatus.WAITING)
    if centralized is not None:
        qs = qs.filter(centralized=centralized)
    if district:
        qs = qs.filter(district__code=district)
    return qs.select_related("person__home_building", "person__household").order_by("due_at", "id")


def plans(user: Actor) -> QuerySet[QuarantinePlan]:
    _scope(user)
    return QuarantinePlan.objects.select_related("created_by")


def current_plan(user: Actor, applies_to: str) -> QuarantinePlan | None:
    """The plan in force for ``applies_to`` under the installation's profile, if any."""
    return plans(user).filter(profile=profile_id(), applies_to=applies_to, in_force=True).first()


def get_plan_for(user: Actor, pk: int) -> QuarantinePlan:
    try:
        return plans(user).get(pk=pk)
    except (QuarantinePlan.DoesNotExist, ValueError):
        raise NotFound from None


def order_timeline(order: ControlOrder) -> dict[str, Any]:
    """The schedule with each test's task, the placements, transfers, health records and extensions of an
    order (which must come from ``get_order_for``)."""
    sched = order.schedule()
    tasks = {t.key: t for t in order.sample_tasks.all()}
    tests = [{"planned": t, "task": tasks.get(t.key)} for t in sched.tests] if sched else []
    return {
        "schedule": sched,
        "tests": tests,
        "placements": list(
            order.placements.select_related("site", "room", "building").order_by("reserved_at")
        ),
        "transfers": list(order.transfers.select_related("task").order_by("task__pickup_at")),
        "health": list(order.health_records.select_related("recorded_by", "handled_by")),
        "extensions": list(order.extensions.select_related("created_by")),
        "last_update": order.health_records.aggregate(m=Max("recorded_at"))["m"],
    }


# --- Quarantine plans (unscoped: the plan in force is the same for everyone) ----------------------------------


def profile_id() -> str:
    """The pathogen profile the installation runs (``CORDON_PATHOGEN_PROFILE``)."""
    return str(settings.CORDON_PATHOGEN_PROFILE)


def plan_ever_set(applies_to: str, profile: str | None = None) -> bool:
    """Whether any plan, in force or withdrawn, was ever set for ``applies_to`` under the profile (unscoped)."""
    return QuarantinePlan.objects.filter(profile=profile or profile_id(), applies_to=applies_to).exists()


def plan_in_force(applies_to: str, profile: str | None = None) -> QuarantinePlan:
    """The plan in force for ``applies_to`` (unscoped). Refused with the reason when there is none: a profile
    whose plans an administrator has withdrawn stays without one until an administrator sets one (where no
    plan was ever set, the action that needs one puts the profile's default in force first:
    ``actions.load_default_plans``)."""
    plan = QuarantinePlan.objects.filter(
        profile=profile or profile_id(), applies_to=applies_to, in_force=True
    ).first()
    if plan is None:
        raise ValidationError(
            {"plan": _("No quarantine plan is in force for %(who)s; an administrator must set one.")
             % {"who": AppliesTo(applies_to).label}}
        )  # fmt: skip
    return plan
