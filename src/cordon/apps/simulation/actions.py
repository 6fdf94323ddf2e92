"""Every write of simulator runs: starting one (the run recorded, its job queued) and recording what it gave,
once, when it ends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.jobs import actions as jobs
from cordon.core import locks
from cordon.core.actions import action
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import Scope
from cordon.engine.sim import PRESETS, SimConfigError, available_profiles
from cordon.engine.sim.strategy import Outcome, Scenario

from . import selectors
from .models import SimulationRun

KIND = selectors.KIND
MAX_DAYS = 365
MAX_SEED = 2**31 - 1


def max_population() -> int:
    return int(getattr(settings, "CORDON_SIM_MAX_POPULATION", 1_000_000))


def refusals(scenario: Scenario) -> dict[str, str]:
    """Why the browser or the API may not run ``scenario`` (by field, in the reader's language); empty when it
    may. Besides the simulator's own checks: the largest city allowed from the web, and a year at most."""
    out: dict[str, str] = {}
    if scenario.preset not in PRESETS:
        return {"preset": _("Unknown preset: %(name)s.") % {"name": scenario.preset}}
    if scenario.profile not in available_profiles():
        out["profile"] = _("Unknown pathogen profile: %(name)s.") % {"name": scenario.profile}
    persons = scenario.persons
    if not isinstance(persons, int) or persons < 1:
        out["population"] = _("Give a number of residents of at least 1.")
    elif persons > max_population():
        out["population"] = _(
            "A run from the browser may have at most %(limit)s residents (this one: %(n)s). Choose fewer, or ask "
            "an administrator to raise CORDON_SIM_MAX_POPULATION."
        ) % {"limit": f"{max_population():,}", "n": f"{persons:,}"}
    if not isinstance(scenario.days, int) or not 1 <= scenario.days <= MAX_DAYS:
        out["days"] = _("Give a number of days from 1 to %(max)s.") % {"max": MAX_DAYS}
    if not isinstance(scenario.seed, int) or not 0 <= scenario.seed <= MAX_SEED:
        out["seed"] = _("Give a seed from 0 to %(max)s.") % {"max": MAX_SEED}
    if scenario.start is not None:
        out["start"] = _("A run from the browser starts on its preset's first day.")
    for name in scenario.strategy.problems():
        out[name] = _("This setting is out of range.")
    if out:
        return out
    try:
        scenario.check()
    except SimConfigError as exc:
        out["__all__"] = _("The simulator refused this scenario: %(reason)s") % {"reason": exc}
    return out


@action
def start_run(*, actor: Actor, scenario: Scenario, title: str = "", source: str = "web") -> SimulationRun:
    """Record a run of ``scenario`` and queue its job (queued once this transaction commits). One run at a time
    per person: refused while one they started is queued or running."""
    Scope.of(actor).require(Cap.SIMULATE)
    if actor.jurisdiction is None:
        raise ValidationError(
            _("You have no jurisdiction, so nobody could see the run: ask an administrator.")
        )
    problems = refusals(scenario)
    if problems:
        raise ValidationError(problems)
    locks.exclusive(f"simulation.start:{actor.pk}")
    if selectors.active_job_of(actor) is not None:
        raise ValidationError(
            _("You already have a simulator run queued or running: wait for it, or cancel it.")
        )
    run = audit.create(
        actor,
        SimulationRun,
        source=source,
        title=title.strip()[:120],
        scenario=scenario.as_dict(),
        preset=scenario.preset,
        persons=scenario.persons,
        days=scenario.days,
        seed=scenario.seed,
        started_by=actor,
        jurisdiction=actor.jurisdiction,
    )
    jobs.start(actor=actor, kind=KIND, params={"run": run.pk}, source=source)
    return run


@action
def record_result(
    *, actor: Actor | None, run: SimulationRun, outcome: Outcome, seconds: float, source: str = "job"
) -> SimulationRun:
    """Write what a run gave, all at once; a run already recorded (its job run again after its worker was lost
    between recording and ending) is left as it is: the same scenario gives the same numbers."""
    run = SimulationRun.objects.select_for_update().get(pk=run.pk)
    if run.recorded:
        return run
    summary: Mapping[str, Any] = outcome.summary
    audit.change(
        actor,
        run,
        source=source,
        summary=dict(summary),
        series=dict(outcome.series),
        seconds=round(seconds, 2),
        recorded_at=timezone.now(),
    )
    return run
