"""Every write of the command app (one ``@action`` each): the day's figures of every jurisdiction the home
compares with; asking for a daily report (a job) and recording one once its figures are computed and its PDF
kept."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.jobs import actions as jobs
from cordon.apps.jobs.models import Job
from cordon.core import bulk, locks
from cordon.core.actions import action
from cordon.core.actors import Actor, CityReader, user_or_none
from cordon.core.inputs import date_problem

from . import figures, selectors
from .models import DailyReport, DayFigures

COLUMNS = ["day", "jurisdiction_id", "figures", "taken_at"]


@action(atomic=False)
def take_day_figures(*, now: dt.datetime | None = None) -> int:
    """Count the headline figures of every city and district as they are now (reads only, outside any
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
