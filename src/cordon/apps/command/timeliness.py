"""The timeliness of the response (the anchors' clocks, 每日清零) per district and report day: the share of cases
found under control, and the hours from a case's report to its trajectory done and to its close contacts
transferred, as medians and 90th percentiles. Read from the cases the user may see
(``tracing.selectors.cases_visible_to``, which starts from ``Scope.of(user)``); a district user sees their own
district only. The page section and the API show the one dictionary :func:`timeliness` returns.

Where the times are stored:

- the report: ``Case.reported_at``; the day of a case is the local date of its report;
- the trajectory done: ``Investigation.completed_at`` (the investigator marks the investigation complete);
- the close contacts transferred, as the control board's clocks define it (``control.selectors.case_clocks``):
  the case was traced and none of its candidate contacts is left to judge, and every confirmed close contact
  (``Contact``, degree 1) came under control (the first ``ControlOrder.controlled_at`` of the person; an order
  converted to a case counts as done). The time is the last of those; a case without a confirmed close contact
  counts from its judging being done (the last judgment, else the tracing).

A missing time is *not yet*: the case is counted as pending and left out of the median and the 90th percentile,
never counted as zero hours. A time before the report (a contact already under control) counts as zero hours.
The quantiles interpolate linearly between order statistics (numpy's default, the ``inclusive`` method of
Python's ``statistics.quantiles``).

Speed: three queries for the whole window, whatever the number of cases (the cases with their investigation,
then the judging and the close contacts' control aggregated per case in the database), then numpy.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone, translation

from cordon.apps.control.models import ControlOrder, OrderStatus
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.tracing import selectors as tracing
from cordon.apps.tracing.models import Contact, Control, Decision
from cordon.core.actors import Actor
from cordon.core.scoping import NotFound

DAYS = 30
MAX_DAYS = 120
TRAJECTORY_TARGET = 4.0  # hours, DOMAIN: trajectory within 4 h
TRANSFER_TARGET = 8.0  # hours, DOMAIN: close contacts transferred within 8 h


@dataclass
class _Rows:
    """One entry per case of the window (numpy arrays)."""

    district: Any  # the district's id
    day: Any  # days since the first day of the window
    control: Any  # found under control
    trajectory: Any  # hours from the report to the trajectory done; NaN: not yet
    transfer: Any  # hours from the report to the close contacts transferred; NaN: not yet


def _hours(start: list[dt.datetime], end: list[dt.datetime | None]) -> Any:
    out = np.array(
        [math.nan if e is None else (e - s).total_seconds() / 3600 for s, e in zip(start, end, strict=True)],
        np.float64,
    )
    return np.where(np.isnan(out), out, np.maximum(out, 0.0))


def _read(user: Actor, district: Jurisdiction | None, first: dt.date, today: dt.date) -> _Rows:
    """The window's cases, read in one transaction with PostgreSQL's JIT compilation off: the planner's cost
    of these few large aggregates calls for it, and compiling them took longer than running them (1.6 s of
    2.4 s at 20,000 cases)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _read_rows(user, district, first, today)


def _read_rows(user: Actor, district: Jurisdiction | None, first: dt.date, today: dt.date) -> _Rows:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(first, dt.time()), tz)
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()), tz)
    cases = tracing.cases_visible_to(user).filter(reported_at__gte=start, reported_at__lt=end)
    if district is not None:
        cases = cases.filter(district=district)
    rows = list(
        cases.select_related(None)
        .annotate(day=TruncDate("reported_at", tzinfo=tz))
        .values_list("id", "district_id", "day", "reported_at", "control", "traced_at",
                     "investigation__completed_at")
        .order_by()
    )  # fmt: skip
    ids = cases.select_related(None).values("id")
    contacts = Contact.objects.filter(case__in=ids, degree__gt=0)
    judging = {
        r[0]: (r[1], r[2])
        for r in contacts.values("case_id")
        .annotate(
            to_judge=Count("id", filter=Q(status=Decision.CANDIDATE)),
            decided=Max("decided_at", filter=~Q(status=Decision.CANDIDATE)),
        )
        .values_list("case_id", "to_judge", "decided")
        .order_by()
    }
    first_controlled = (
        ControlOrder.objects.filter(person=OuterRef("person"), controlled_at__isnull=False)
        .values("person")
        .annotate(first=Min("controlled_at"))
        .values("first")
    )
    converted = ControlOrder.objects.filter(person=OuterRef("person"), status=OrderStatus.CONVERTED)
    close = {
        r[0]: (r[1], r[2], r[3])
        for r in contacts.filter(degree=1, status=Decision.CONFIRMED)
        .annotate(controlled=Subquery(first_controlled), converted=Exists(converted))
        .values("case_id")
        .annotate(
            n=Count("id"),
            done=Count("id", filter=Q(controlled__isnull=False) | Q(converted=True)),
            last=Max("controlled"),
        )
        .values_list("case_id", "n", "done", "last")
        .order_by()
    }
    reported: list[dt.datetime] = []
    completed: list[dt.datetime | None] = []
    transferred: list[dt.datetime | None] = []
    for pk, _district, _day, rep, _control, traced, done in rows:
        reported.append(rep)
        completed.append(done)
        to_judge, decided = judging.get(pk, (0, None))
        judged = (decided or traced) if traced is not None and not to_judge else None
        n, n_done, last = close.get(pk, (0, 0, None))
        if judged is None or (n and (n_done < n or last is None)):
            transferred.append(None)
        else:
            transferred.append(last if n else judged)
    return _Rows(
        district=np.array([r[1] for r in rows], np.int64),
        day=np.array([(r[2] - first).days for r in rows], np.int64),
        control=np.array([r[4] != Control.COMMUNITY for r in rows], np.bool_),
        trajectory=_hours(reported, completed),
        transfer=_hours(reported, transferred),
    )


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 2)


def _quantiles(values: Any, day: Any, n: int) -> tuple[list[float | None], list[float | None]]:
    """The median and the 90th percentile of ``values`` per day (``None`` where no value), grouped in one sort."""
    med: list[float | None] = [None] * n
    p90: list[float | None] = [None] * n
    ok = ~np.isnan(values)
    v, d = values[ok], day[ok]
    order = np.lexsort((v, d))
    v, d = v[order], d[order]
    bounds = np.flatnonzero(np.diff(d)) + 1
    for chunk, days in zip(np.split(v, bounds), np.split(d, bounds), strict=True):
        if len(chunk):
            q = np.quantile(chunk, [0.5, 0.9])
            med[int(days[0])], p90[int(days[0])] = _num(q[0]), _num(q[1])
    return med, p90


def _measure(values: Any, day: Any, n: int, target: float) -> dict[str, Any]:
    done = ~np.isnan(values)
    med, p90 = _quantiles(values, day, n)
    whole = np.quantile(values[done], [0.5, 0.9]) if done.any() else [math.nan, math.nan]
    within = done & (np.nan_to_num(values, nan=np.inf) <= target)
    return {
        "target_hours": target,
        "done": np.bincount(day[done], minlength=n).tolist(),
        "pending": np.bincount(day[~done], minlength=n).tolist(),
        "within": np.bincount(day[within], minlength=n).tolist(),
        "median": med,
        "p90": p90,
        "total": {
            "done": int(done.sum()),
            "pending": int((~done).sum()),
            "within": int(within.sum()),
            "median": _num(whole[0]),
            "p90": _num(whole[1]),
        },
    }


def _row(code: str, name: str, rows: _Rows, keep: Any, n: int) -> dict[str, Any]:
    day = rows.day[keep]
    cases = np.bincount(day, minlength=n)
    control = np.bincount(day[rows.control[keep]], minlength=n)
    total, under = int(cases.sum()), int(control.sum())
    return {
        "code": code,
        "name": name,
        "cases": cases.tolist(),
        "under_control": control.tolist(),
        "control_share": [_num(c / t) if t else None for c, t in zip(control, cases, strict=True)],
        "total": {
            "cases": total,
            "under_control": under,
            "control_share": _num(under / total) if total else None,
        },
        "trajectory": _measure(rows.trajectory[keep], day, n, TRAJECTORY_TARGET),
        "transfer": _measure(rows.transfer[keep], day, n, TRANSFER_TARGET),
    }


def districts_for(user: Actor) -> list[Jurisdiction]:
    """The districts a user may choose: every district of the city for a city user, their own for a district
    user, none below (a street user sees their own node's cases only)."""
    root = geo.root_for(user)
    if root is None:
        return []
    if root.level <= Level.CITY:
        return list(geo.children_of(user, root).order_by("code"))
    return [root] if root.level == Level.DISTRICT else []


def timeliness(
    user: Actor, *, district: str = "", days: int = DAYS, today: dt.date | None = None
) -> dict[str, Any]:
    """The timeliness figures of the last ``days`` report days (today included), the area's total first, then
    each district the user sees. ``district``: one district's code (``NotFound`` for one the user does not
    see); all of the user's when empty."""
    days = max(1, min(int(days), MAX_DAYS))
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    tracing.cases_visible_to(user)  # requires view_cases
    root = geo.root_for(user)
    if root is None:
        raise NotFound
    districts = districts_for(user)
    chosen = None
    if district:
        chosen = next((d for d in districts if d.code == district), None)
        if chosen is None:
            raise NotFound
    rows = _read(user, chosen, first, today)
    language = translation.get_language() or settings.LANGUAGE_CODE
    area = chosen or root
    out_rows = [_row(area.code, area.display_name(language), rows, np.ones(len(rows.day), np.bool_), days)]
    if chosen is None and root.level <= Level.CITY:
        for d in districts:
            out_rows.append(_row(d.code, d.display_name(language), rows, rows.district == d.pk, days))
    return {
        "area": {"code": area.code, "name": area.display_name(language)},
        "districts": [{"code": d.code, "name": d.display_name(language)} for d in districts],
        "today": today.isoformat(),
        "days": days,
        "dates": [(first + dt.timedelta(days=i)).isoformat() for i in range(days)],
        "targets": {"trajectory": TRAJECTORY_TARGET, "transfer": TRANSFER_TARGET},
        "rows": out_rows,
    }
