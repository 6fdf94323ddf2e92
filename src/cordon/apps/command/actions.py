"""Every write of the command app (one ``@action`` each): the day's figures of every jurisdiction the home
compares with; asking for a daily report (a job) and recording one once its figures are computed and its PDF
kept; the kept timeliness figures (a recount of the recent days, and each night of every kept day, reporting
drift)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.jobs import actions as jobs
from cordon.apps.jobs.models import Job
from cordon.core import bulk, locks
from cordon.core.actions import action
from cordon.core.actors import Actor, CityReader, user_or_none
from cordon.core.inputs import date_problem

from . import figures, selectors, timeliness
from .models import DailyReport, DayFigures, TimelinessDay

COLUMNS = ["day", "jurisdiction_id", "figures", "taken_at"]


@action(atomic=False)
def take_day_figures(*, now: dt.datetime | None = None) -> int:
    """Count the headline figures of every city, district and street as they are now (reads only, outside any
    transaction, as a reader of each node) and replace the figures stored for today in one transaction. Run by
    the workers all day (``hooks.py``): the last take of a day is its close, the "yesterday" of the next day.
    Returns how many jurisdictions were stored."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    rows = [
        (day, node.pk, json.dumps(figures.values(CityReader(node), day, now)), now)
        for node in figures.stored_nodes()
    ]
    bulk.replace_rows(DayFigures, COLUMNS, rows, lock="command.day_figures", where=Q(day=day))
    return len(rows)


REPORT_JOB = "command.daily_report"


def day_problem(actor: Actor, area: Jurisdiction, day: dt.date) -> str | None:
    """Why a report of ``area`` for ``day`` cannot be asked for, or None: a day in the future, an implausible
    one, or a past day that has its report already (a past day's report is kept as it was, not made again)."""
    if day > timezone.localdate():
        return _("A report covers a day that has begun: choose today or an earlier day.")
    problem = date_problem(day)
    if problem:
        return problem
    if day < timezone.localdate() and selectors.reports_of_day(actor, area, day).exists():
        return _(
            "That day has its report already: open it from the list. A past day's report is not made again."
        )
    return None


@action
def request_report(*, actor: Actor, area: Jurisdiction, day: dt.date, source: str = "web") -> Job:
    """Start the job that makes the daily report of ``area`` (one of the actor's ``selectors.report_areas``) for
    ``day``, computed in the actor's scope."""
    if area.pk not in {a.pk for a in selectors.report_areas(actor)}:
        raise ValidationError({"area": _("You cannot make a report of this area.")})
    problem = day_problem(actor, area, day)
    if problem:
        raise ValidationError({"day": problem})
    return jobs.start(
        actor=actor, kind=REPORT_JOB, params={"area": area.code, "day": day.isoformat()}, source=source
    )


@action
def record_report(
    *,
    actor: Actor | None,
    area: Jurisdiction,
    day: dt.date,
    figures: Mapping[str, Any],
    file: Mapping[str, Any],
    scheduled: bool = False,
    job_id: int | None = None,
    source: str = "job",
) -> DailyReport | None:
    """Record a report whose figures were computed and whose PDF was kept. A report on the clock is made once a
    day per area: ``None`` when another worker has recorded it already (the caller discards its file)."""
    if scheduled:
        locks.exclusive(f"command.daily_report:{area.pk}:{day}")
        if DailyReport.objects.filter(jurisdiction=area, day=day, scheduled=True).exists():
            return None
    return audit.create(
        actor,
        DailyReport,
        source=source,
        day=day,
        jurisdiction=area,
        figures=dict(figures),
        generated_at=dt.datetime.fromisoformat(str(figures["computed_at"])),
        generated_by=user_or_none(actor),
        scheduled=scheduled,
        job_id=job_id,
        file=dict(file),
    )


TIMELINESS_COLUMNS = [
    "district_id", "day", "cases", "under_control", "trajectory_pending", "transfer_pending",
    "trajectory_hours", "transfer_hours", "counted_at",
]  # fmt: skip


def _timeliness_days(today: dt.date) -> set[dt.date]:
    """The days a refresh recounts: the last ``CORDON_TIMELINESS_RECENT_DAYS`` (today at least), every kept day
    with a pending case (an investigation or a transfer may complete days after the report), and every day of
    the kept window not wholly kept (none before the first recount, or a district added since)."""
    window = timeliness.kept_window(today)
    # Today at least: its rows, written anew by every refresh, tell readers when the last one ran.
    days = set(window[-max(1, int(settings.CORDON_TIMELINESS_RECENT_DAYS)) :])
    districts = Jurisdiction.objects.filter(level=Level.DISTRICT).count()
    kept = (
        TimelinessDay.objects.filter(day__gte=window[0], day__lte=today)
        .values("day")
        .annotate(n=Count("id"), pending=Sum("trajectory_pending") + Sum("transfer_pending"))
        .values_list("day", "n", "pending")
        .order_by()
    )
    complete = set()
    for day, n, pending in kept:
        if pending:
            days.add(day)
        if n == districts:
            complete.add(day)
    return days | (set(window) - complete)


def _replace_timeliness(rows: list[timeliness.KeptRow], now: dt.datetime, where: Q | None) -> int:
    return bulk.replace_rows(
        TimelinessDay,
        TIMELINESS_COLUMNS,
        ((*row, now) for row in rows),
        lock="command.timeliness",
        where=where,
    )


@action(atomic=False)
def refresh_timeliness(*, now: dt.datetime | None = None) -> int:
    """Recount the kept timeliness figures of the days that may still change (``_timeliness_days``; reads only,
    outside any transaction, as a reader of every city) and replace those days' rows in one transaction (a
    reader sees the old rows or the new ones). Run by the workers every ``CORDON_TIMELINESS_SECONDS``. Returns
    how many rows were written."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = _timeliness_days(today)
    rows = timeliness.recount(days, today)
    return _replace_timeliness(rows, now, Q(day__in=days) | Q(day__lt=timeliness.kept_window(today)[0]))


@dataclass(frozen=True)
class TimelinessDrift:
    district_id: int
    day: dt.date
    fields: tuple[str, ...]  # the kept values that differed from the recount


@action(atomic=False)
def reconcile_timeliness(*, now: dt.datetime | None = None) -> list[TimelinessDrift]:
    """Recount every day of the kept window, report every kept row that differs from the source tables (a change
    the refresh does not look for, such as a contact confirmed for a case of a day without pending cases, or a
    corrupted row; a row not kept yet is not drift), and replace every row. Run by the workers once a day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    actual = {(r[0], r[1]): r for r in timeliness.recount(set(timeliness.kept_window(today)), today)}
    names = TIMELINESS_COLUMNS[2:-1]
    kept = {
        (r[0], r[1]): (*r[:6], bytes(r[6]), bytes(r[7]))
        for r in TimelinessDay.objects.values_list(*TIMELINESS_COLUMNS[:-1]).order_by()
    }
    drift = []
    for key in sorted(set(actual) | set(kept)):
        if key not in actual or key not in kept:
            continue  # a day gone out of the window, or not kept yet (read live until it is): not drift
        differ = tuple(n for n, a, b in zip(names, actual[key][2:], kept[key][2:], strict=True) if a != b)
        if differ:
            drift.append(TimelinessDrift(key[0], key[1], differ))
    _replace_timeliness(list(actual.values()), now, None)
    return drift
