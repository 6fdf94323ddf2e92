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

Counted live (:func:`timeliness` with ``live=True``, and for users it cannot serve from the kept rows): three
queries for the whole window, whatever the number of cases (the cases with their investigation, then the judging
and the close contacts' control aggregated per case in the database), then numpy; about 10 s for a city of
100,000 cases. So the page and the API read **kept figures** instead (``TimelinessDay``: per district and report
day the counts and every done case's hours, sorted, so the merged medians and 90th percentiles are exact), recounted
by this same reading (:func:`recount`) in the workers (``actions.refresh_timeliness``): the last
``CORDON_TIMELINESS_RECENT_DAYS`` days, every day that still has a pending case and every day not kept yet,
every ``CORDON_TIMELINESS_SECONDS``; every day of the last ``MAX_DAYS`` each night (``actions.reconcile_timeliness``,
reporting drift). Counted live instead for a street user, a user limited to an industry sector, a window not
wholly kept, or when the last refresh is older than ``CORDON_TIMELINESS_STALE_SECONDS`` (no worker running).
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
from cordon.core.actors import Actor, CityReader, WholeTree
from cordon.core.scoping import NotFound, Scope

from .models import TimelinessDay

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


def _read(
    user: Actor,
    district: Jurisdiction | None,
    first: dt.date,
    today: dt.date,
    only: set[dt.date] | None = None,
) -> _Rows:
    """The window's cases, read in one transaction with PostgreSQL's JIT compilation off: the planner's cost
    of these few large aggregates calls for it, and compiling them took longer than running them (1.6 s of
    2.4 s at 20,000 cases)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return _read_rows(user, district, first, today, only)


def _day_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as runs of consecutive days (first, last)."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in days:
        if out and out[-1][1] + dt.timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _read_rows(
    user: Actor, district: Jurisdiction | None, first: dt.date, today: dt.date, only: set[dt.date] | None
) -> _Rows:
    tz = timezone.get_current_timezone()

    def start(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time()), tz)

    runs = [(first, today)] if only is None else _day_ranges(sorted(d for d in only if first <= d <= today))
    window = Q() if runs else Q(pk__in=[])
    for a, b in runs:
        window |= Q(reported_at__gte=start(a), reported_at__lt=start(b + dt.timedelta(days=1)))
    cases = tracing.cases_visible_to(user).filter(window)
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


# --- the kept figures (TimelinessDay) ------------------------------------------------------------------------

# A kept row's values, in the order of ``actions.TIMELINESS_COLUMNS`` (before ``counted_at``).
KeptRow = tuple[int, dt.date, int, int, int, int, bytes, bytes]
HOURS = np.dtype("<f8")  # how the hours are stored: float64, little-endian


def _sorted_hours(values: Any) -> bytes:
    return np.sort(values[~np.isnan(values)]).astype(HOURS).tobytes()


def kept_window(today: dt.date) -> list[dt.date]:
    """The report days kept: the last ``MAX_DAYS`` up to ``today``, the longest window the page offers."""
    return [today - dt.timedelta(days=i) for i in range(MAX_DAYS - 1, -1, -1)]


def recount(days: set[dt.date], today: dt.date) -> list[KeptRow]:
    """The kept rows of ``days`` (those of the kept window), counted live (the per-request reading, as a reader
    of every city), one for every district and day, zero too."""
    window = kept_window(today)
    days = {d for d in days if window[0] <= d <= today}
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).values_list("pk", flat=True))
    if not days or not districts:
        return []
    first = min(days)
    rows = _read(CityReader(WholeTree()), None, first, today, days)
    order = np.lexsort((rows.day, rows.district))
    key = rows.district[order] * (MAX_DAYS + 1) + rows.day[order]  # a day's index is below MAX_DAYS
    found: dict[tuple[int, dt.date], KeptRow] = {}
    for chunk in np.split(order, np.flatnonzero(np.diff(key)) + 1):
        if not len(chunk):
            continue  # no case at all
        district, day = int(rows.district[chunk[0]]), first + dt.timedelta(days=int(rows.day[chunk[0]]))
        trajectory, transfer = rows.trajectory[chunk], rows.transfer[chunk]
        found[(district, day)] = (
            district,
            day,
            len(chunk),
            int(rows.control[chunk].sum()),
            int(np.isnan(trajectory).sum()),
            int(np.isnan(transfer).sum()),
            _sorted_hours(trajectory),
            _sorted_hours(transfer),
        )
    empty = np.empty(0, HOURS).tobytes()
    return [
        found.get((d, day), (d, day, 0, 0, 0, 0, empty, empty)) for d in districts for day in sorted(days)
    ]


def _kept_rows(user: Actor, districts: list[Jurisdiction], first: dt.date, today: dt.date) -> Any:
    """The ``_Rows`` of the window rebuilt from the kept rows of ``districts`` (one entry per case; a case's
    measures are no longer paired, which nothing needs) and the time of the last refresh; ``None`` (count live)
    for a user limited to an industry sector, when a day of the window is not kept or the last refresh is older
    than ``CORDON_TIMELINESS_STALE_SECONDS``."""
    if Scope.of(user).sector_id is not None or not districts:
        return None
    # Every refresh writes today's rows anew (new ids): the newest row tells when the last one ran.
    last = TimelinessDay.objects.order_by("-pk").values_list("counted_at", flat=True).first()
    stale = dt.timedelta(seconds=settings.CORDON_TIMELINESS_STALE_SECONDS)
    if last is None or timezone.now() - last > stale:
        return None
    kept = list(
        TimelinessDay.objects.filter(district__in=districts, day__gte=first, day__lte=today)
        .values_list("district_id", "day", "cases", "under_control", "trajectory_pending",
                     "transfer_pending", "trajectory_hours", "transfer_hours")
        .order_by()
    )  # fmt: skip
    if len(kept) != len(districts) * ((today - first).days + 1):
        return None
    district, day, control, trajectory, transfer = [], [], [], [], []
    for pk, on, cases, under, t_pending, x_pending, t_hours, x_hours in kept:
        i = (on - first).days
        district.append(np.full(cases, pk, np.int64))
        day.append(np.full(cases, i, np.int64))
        control.append(np.arange(cases) < under)
        trajectory.append(np.frombuffer(bytes(t_hours), HOURS))
        trajectory.append(np.full(t_pending, math.nan))
        transfer.append(np.frombuffer(bytes(x_hours), HOURS))
        transfer.append(np.full(x_pending, math.nan))
    rows = _Rows(
        district=np.concatenate(district),
        day=np.concatenate(day),
        control=np.concatenate(control),
        trajectory=np.concatenate(trajectory).astype(np.float64),
        transfer=np.concatenate(transfer).astype(np.float64),
    )
    if not len(rows.day) == len(rows.trajectory) == len(rows.transfer):
        return None  # a corrupted row: the nightly recount repairs it
    return rows, last


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
    user: Actor, *, district: str = "", days: int = DAYS, today: dt.date | None = None, live: bool = False
) -> dict[str, Any]:
    """The timeliness figures of the last ``days`` report days (today included), the area's total first, then
    each district the user sees. ``district``: one district's code (``NotFound`` for one the user does not
    see); all of the user's when empty. Read from the kept rows for a city or district user (``counted_at``:
    the time of their last refresh), counted from the cases otherwise or with ``live`` (``counted_at`` None);
    the same figures either way as of the refresh."""
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
    kept = None
    if not live and root.level in (Level.CITY, Level.DISTRICT):
        kept = _kept_rows(user, [chosen] if chosen else districts, first, today)
    rows, counted_at = kept if kept is not None else (_read(user, chosen, first, today), None)
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
        "counted_at": counted_at,
        "days": days,
        "dates": [(first + dt.timedelta(days=i)).isoformat() for i in range(days)],
        "targets": {"trajectory": TRAJECTORY_TARGET, "transfer": TRANSFER_TARGET},
        "rows": out_rows,
    }
