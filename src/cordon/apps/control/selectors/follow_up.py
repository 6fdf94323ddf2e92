"""Follow-up of persons under control: sample tasks due, health alerts, the results of an order's tests and
whether it can be released, releases and home stages due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.core.actors import Actor
from cordon.core.scoping import NotFound
from cordon.engine import quarantine as engine

from ..models import ControlOrder, HealthRecord, OrderStatus, QuarantinePlan, SampleStatus, SampleTask
from .orders import orders_visible_to


def sample_tasks_due(
    user: Actor, day: dt.date | None = None, *, site: int | None = None
) -> QuerySet[SampleTask]:
    """Sample tasks due by ``day`` (default today) without a result, for persons under control."""
    day = day or timezone.localdate()
    qs = SampleTask.objects.filter(
        order__in=orders_visible_to(user).filter(status__in=[OrderStatus.ISOLATED, OrderStatus.HOME]),
        due_on__lte=day,
        status__in=[SampleStatus.DUE, SampleStatus.SAMPLED, SampleStatus.INVALID],
    ).select_related("order__person", "order__site")
    if site is not None:
        qs = qs.filter(order__site_id=site)
    return qs.order_by("due_on", "order__site__code", "id")


def get_sample_task_for(user: Actor, pk: int) -> SampleTask:
    try:
        return SampleTask.objects.select_related("order__person").get(
            pk=pk, order__in=orders_visible_to(user)
        )
    except (SampleTask.DoesNotExist, ValueError):
        raise NotFound from None


def missed_tests(user: Actor, today: dt.date) -> QuerySet[SampleTask]:
    """Scheduled samples of persons under control not taken by their day."""
    return SampleTask.objects.filter(
        order__in=orders_visible_to(user).filter(status__in=[OrderStatus.ISOLATED, OrderStatus.HOME]),
        status=SampleStatus.DUE,
        due_on__lt=today,
    )


def open_alerts(user: Actor) -> QuerySet[HealthRecord]:
    return (
        HealthRecord.objects.filter(alert=True, handled_at__isnull=True, order__in=orders_visible_to(user))
        .select_related("order__person", "order__site")
        .order_by("day", "id")
    )


def get_health_record_for(user: Actor, pk: int) -> HealthRecord:
    try:
        return HealthRecord.objects.select_related("order__person").get(
            pk=pk, order__in=orders_visible_to(user)
        )
    except (HealthRecord.DoesNotExist, ValueError):
        raise NotFound from None


def releases_due(user: Actor, today: dt.date | None = None) -> list[ControlOrder]:
    """Persons under control whose plan (with extensions) has reached its last day."""
    return list(releases_due_query(user, today or timezone.localdate()).select_related("plan"))


_ANY_DAY = dt.date(2000, 1, 1)


def releases_due_query(user: Actor, today: dt.date) -> QuerySet[ControlOrder]:
    """``releases_due`` as one query: a plan's last day lies a fixed number of days after its first (its
    stages' days plus the extension), so for each plan and extension in use "the last day has come" is "the
    first day is at least that many days ago"."""
    qs = orders_visible_to(user).filter(
        status__in=[OrderStatus.ISOLATED, OrderStatus.HOME], start_date__lte=today
    )
    combos = set(qs.order_by().values_list("plan_id", "extension_days").distinct())
    plans = {p.pk: p.plan for p in QuarantinePlan.objects.filter(pk__in={plan for plan, _ext in combos})}
    due = Q(pk__in=[])
    for plan_id, extension in combos:
        length = (engine.schedule(plans[plan_id], _ANY_DAY, extension).last_day - _ANY_DAY).days
        due |= Q(plan_id=plan_id, extension_days=extension, start_date__lte=today - dt.timedelta(days=length))
    return qs.filter(due)


def home_stage_due(user: Actor, today: dt.date | None = None) -> list[ControlOrder]:
    """Persons in centralised isolation whose plan continues at home from today or earlier."""
    today = today or timezone.localdate()
    out = []
    for o in (
        orders_visible_to(user)
        .filter(status=OrderStatus.ISOLATED, start_date__lte=today)
        .select_related("plan")
    ):
        sched = o.schedule()
        nxt = next((s for s in sched.stages if s.kind != "centralized"), None) if sched else None
        if nxt is not None and nxt.first <= today:
            out.append(o)
    return out


# --- Results and release (unscoped: ``order`` comes from a scoped selector or a locked row in an action) ------


def results_of(order: ControlOrder) -> dict[str, engine.TestStatus]:
    """The status of each of the order's tests with a sample, by plan day key (unscoped)."""
    status_map: dict[str, engine.TestStatus] = {
        SampleStatus.NEGATIVE: "negative",
        SampleStatus.POSITIVE: "positive",
        SampleStatus.INVALID: "invalid",
        SampleStatus.SAMPLED: "pending",
    }
    return {
        t.key: status_map[t.status] for t in SampleTask.objects.filter(order=order) if t.status in status_map
    }


def problem_messages(problems: Sequence[engine.Problem]) -> list[str]:
    texts = {
        "too_early": _("the plan ends on %(on)s"),
        "missing": _("no sample for the test of %(on)s"),
        "pending": _("the result of %(on)s is pending"),
        "invalid": _("the result of %(on)s is invalid; re-sample"),
        "positive": _("the test of %(on)s is positive"),
    }
    return [texts[p.code] % {"on": p.on.strftime("%Y-%m-%d")} for p in problems]


def release_check(order: ControlOrder, today: dt.date | None = None) -> list[str]:
    """Why ``order`` cannot be released today (empty: it can)."""
    if order.status not in (OrderStatus.ISOLATED, OrderStatus.HOME):
        return [_("not under control (%(s)s)") % {"s": order.get_status_display()}]
    sched = order.schedule()
    assert sched is not None
    return problem_messages(engine.release_problems(sched, today or timezone.localdate(), results_of(order)))
