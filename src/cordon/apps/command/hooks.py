"""What the command app plugs into the platform: the kept roll-up groups of its control figures (orders per
residence, recounted with the roll-ups) and of the cases of today and yesterday (every few seconds); the
workers' take of the day's figures (``actions.take_day_figures``, every ``CORDON_DAY_FIGURES_SECONDS``: the
last take of a day is its close); the daily report as a job (on request, computed as the person who asked) and
on the clock (every worker checks every few minutes; from ``CORDON_DAILY_REPORT_HOUR``, local time, the reports
of the day before are made once for the city and each district, read as the system:
``core.actors.CityReader``); and the kept timeliness figures (``actions.refresh_timeliness`` every
``CORDON_TIMELINESS_SECONDS``; ``actions.reconcile_timeliness`` once a day, at the worker's start then every 24
hours, logging any drift it repaired)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import jobs, periodic, rollups
from cordon.core.actors import Actor, CityReader
from cordon.core.roles import Cap, caps_for
from cordon.core.scoping import NotFound

from . import actions, figures, pdf, selectors
from .models import DailyReport

rollups.register_group(
    rollups.Group(
        figures.CONTROL_GROUP,
        tuple(figures.CONTROL_FIGURES.values()),
        Cap.VIEW_CONTROL,
        figures.control_by_residence,
    )
)
rollups.register_group(
    rollups.Group(
        figures.CASES_GROUP,
        tuple(figures.CASES_FIGURES.values()),
        Cap.VIEW_CASES,
        figures.cases_by_place,
        fast=True,
        daily=True,
        depth=rollups.HEADLINE_DEPTH,
    )
)
periodic.register(
    periodic.Periodic(
        "command.day_figures", lambda: float(settings.CORDON_DAY_FIGURES_SECONDS), actions.take_day_figures
    )
)

log = logging.getLogger("cordon.command")
CHECK_SECONDS = 300.0


def filename(shown: Mapping[str, Any]) -> str:
    return f"daily-report-{shown['area']['code']}-{shown['day']}.pdf"


def _make(
    reader: Actor,
    actor: Actor | None,
    area: Any,
    day: dt.date,
    *,
    scheduled: bool,
    job_id: int | None = None,
    now: dt.datetime | None = None,
) -> DailyReport | None:
    """Compute, draw, keep and record one report; the kept PDF is discarded again when nothing was recorded."""
    shown = selectors.daily_figures(reader, area, day, now)
    data = pdf.daily_report_pdf(shown, made_by=actor.username if actor is not None else "system")
    file = jobs.result_file(io.BytesIO(data), filename(shown), "application/pdf")
    report = None
    try:
        report = actions.record_report(
            actor=actor, area=area, day=day, figures=shown, file=file, scheduled=scheduled, job_id=job_id
        )
    except IntegrityError:  # another worker recorded the day's report meanwhile
        report = None
    finally:
        if report is None:
            jobs.discard_file(file)
    return report


def _report_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    if actor is None:
        raise ValidationError(gettext("A report on request is asked for by a person."))
    try:
        area = selectors.report_area_for(actor, str(params["area"]))
    except NotFound:
        raise ValidationError(gettext("You cannot make a report of this area.")) from None
    day = dt.date.fromisoformat(str(params["day"]))
    progress(0, 2, gettext("Computing the figures"))
    report = _make(actor, actor, area, day, scheduled=False, job_id=getattr(progress, "job_id", None))
    progress(2, 2)
    assert report is not None  # only a report on the clock can be refused as made already
    return {
        "summary": gettext("The daily report of %(area)s for %(day)s is ready.")
        % {"area": area.display_name(get_language() or settings.LANGUAGE_CODE), "day": day.isoformat()},
        "link": reverse("command:report", args=[report.pk]),
        "report": report.pk,
    }


jobs.register(
    jobs.JobKind(
        name=actions.REPORT_JOB,
        label=_("Make a daily report"),
        run=_report_job,
        may_start=lambda actor: Cap.VIEW_CASES in caps_for(actor.role),
    )
)


def make_due_reports(now: dt.datetime | None = None) -> list[DailyReport]:
    """From ``CORDON_DAILY_REPORT_HOUR`` (local time) on, the reports of the day before for every city and
    district that has none made on the clock yet; harmless to run again, or in several workers at once."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < int(settings.CORDON_DAILY_REPORT_HOUR):
        return []
    day = local.date() - dt.timedelta(days=1)
    done = selectors.scheduled_done(day)
    made = []
    for area in selectors.scheduled_areas():
        if area.pk in done:
            continue
        report = _make(CityReader(area), None, area, day, scheduled=True, now=now)
        if report is not None:
            log.info("daily report of %s for %s made", area.code, day)
            made.append(report)
    return made


periodic.register(periodic.Periodic("command.daily_reports", lambda: CHECK_SECONDS, make_due_reports))


periodic.register(
    periodic.Periodic(
        "command.timeliness", lambda: float(settings.CORDON_TIMELINESS_SECONDS), actions.refresh_timeliness
    )
)


def _reconcile_timeliness() -> int:
    drift = actions.reconcile_timeliness()
    for d in drift:
        log.warning(
            "kept timeliness of district %s on %s differed from the source tables in %s: repaired",
            d.district_id,
            d.day,
            ", ".join(d.fields),
        )
    return len(drift)


periodic.register(
    periodic.Periodic("command.timeliness_reconcile", lambda: 24 * 3600.0, _reconcile_timeliness)
)
