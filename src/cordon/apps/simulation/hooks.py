"""What the simulation app contributes: a simulator run as a kind of background job, with its day as the unit of
progress (a cancel takes effect between two days) and its results recorded in one action at the end."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import jobs
from cordon.core.actors import Actor
from cordon.core.roles import Cap, caps_for
from cordon.engine.sim import DayResult, SimConfigError
from cordon.engine.sim.strategy import Scenario, outcome

from . import actions, selectors

STEPS = {
    "jurisdictions": _("Generating the city: jurisdictions"),
    "households": _("Generating the city: households"),
    "persons": _("Generating the city: residents"),
    "venues": _("Generating the city: venues"),
    "workplaces and schools": _("Generating the city: workplaces and schools"),
    "calibrating": _("Calibrating transmission to the pathogen's R0"),
}


def _run_job(progress: jobs.Progress, params: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    run = selectors.run_to_record(int(params["run"]))
    if run is None:
        raise ValidationError(gettext("This simulator run no longer exists."))
    link = reverse("simulation:run", kwargs={"run_id": run.pk})
    if run.recorded:  # run again after its results were recorded: nothing to do
        return {
            "summary": gettext("The results of this run were already recorded."),
            "link": link,
            "run": run.pk,
        }
    try:
        scenario = Scenario.of(run.scenario)
    except (SimConfigError, TypeError) as exc:
        raise ValidationError(
            gettext("The simulator refused this scenario: %(reason)s") % {"reason": exc}
        ) from exc
    refused = actions.refusals(scenario)  # the bounds may have changed since it was queued
    if refused:
        raise ValidationError(" ".join(refused.values()))
    days = scenario.days
    began = time.perf_counter()

    def step(name: str) -> None:
        progress(0, days, str(STEPS.get(name, name)))

    def day(r: DayResult) -> None:
        note = gettext("Day %(day)s of %(days)s (%(date)s): %(infectious)s infectious, %(cases)s new cases") % {
            "day": r.day + 1, "days": days, "date": r.date.isoformat(),
            "infectious": f"{r.infectious:,}", "cases": f"{r.new_cases:,}",
        }  # fmt: skip
        progress(r.day + 1, days, note)

    step("jurisdictions")
    try:
        sim = scenario.simulation(progress=step)
    except SimConfigError as exc:
        raise ValidationError(
            gettext("The simulator refused this scenario: %(reason)s") % {"reason": exc}
        ) from exc
    sim.run(days, progress=day)
    result = outcome(sim)
    actions.record_result(actor=actor, run=run, outcome=result, seconds=time.perf_counter() - began)
    s = result.summary
    summary = gettext(
        "%(days)s days in a city of %(persons)s: %(infections)s infections, %(cases)s reported cases."
    ) % {
        "days": s["days"], "persons": f"{s['persons']:,}", "infections": f"{s['infections']:,}",
        "cases": f"{s['cases']:,}",
    }  # fmt: skip
    return {"summary": summary, "link": link, "run": run.pk}


jobs.register(
    jobs.JobKind(
        name=selectors.KIND,
        label=_("Simulator run"),
        run=_run_job,
        may_start=lambda actor: Cap.SIMULATE in caps_for(actor.role),
        one_per_person=True,
    )
)
