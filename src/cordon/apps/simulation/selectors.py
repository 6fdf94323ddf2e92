"""Reads of simulator runs. A run belongs to the jurisdiction of the person who started it: it is seen by
everyone with the ``simulate`` capability at that level or above it (a city commander sees every run, a
district commander their district's)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from cordon.apps.jobs.models import Job
from cordon.apps.zones import selectors as zone_selectors
from cordon.core.actors import Actor
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope
from cordon.engine import zones

from .models import SimulationRun

KIND = "simulation.run"  # the kind of job that runs a simulation (registered in hooks.py)


def runs_for(actor: Actor) -> QuerySet[SimulationRun]:
    scope = Scope.of(actor)
    scope.require(Cap.SIMULATE)
    rows = SimulationRun.objects.select_related("started_by", "jurisdiction")
    return scope.filter(rows, territory="jurisdiction")


def recorded_runs_for(actor: Actor) -> QuerySet[SimulationRun]:
    """The runs that have their results (the ones a run can be compared with)."""
    return runs_for(actor).filter(recorded_at__isnull=False)


def get_run_for(actor: Actor, run_id: int) -> SimulationRun:
    run = runs_for(actor).filter(pk=run_id).first()
    if run is None:
        raise NotFound(run_id)
    return with_jobs([run])[0]


def with_jobs(runs: Iterable[SimulationRun]) -> list[SimulationRun]:
    """The runs, each with ``job``: the latest job that ran it (a job run again is a new job with the same
    parameters), for its status, progress and error. One query."""
    runs = list(runs)
    latest: dict[int, Job] = {}
    if runs:
        jobs = Job.objects.filter(kind=KIND, params__run__in=[r.pk for r in runs]).select_related("progress")
        for job in jobs.order_by("created_at", "id"):
            latest[int(job.params["run"])] = job
    for run in runs:
        run.job = latest.get(run.pk)  # type: ignore[attr-defined]
    return runs


def active_job_of(actor: Actor) -> Job | None:
    """A simulation this person started that is queued or running (one at a time per person)."""
    active = (Job.Status.QUEUED, Job.Status.RUNNING)
    return Job.objects.filter(kind=KIND, started_by_id=actor.pk, status__in=active).first()


def run_to_record(run_id: int) -> SimulationRun | None:
    """Unscoped: the run a worker's job runs (the job names it; its starter's scope was checked at the start)."""
    return SimulationRun.objects.filter(pk=run_id).first()


# --- Zone rules a strategy may follow (the zones app's stored versions) ----------------------------------------


@dataclass(frozen=True)
class RuleChoice:
    """A zone rule set a simulated lockdown may follow: ``key`` (``code:version``) names it in forms, ``name``
    in the scenario, ``definition`` is its rules as data (``None``: the engine's default of that code, where the
    zones app has stored none)."""

    key: str
    name: str
    label: str
    definition: dict[str, Any] | None
    in_force: bool = False


def zone_rule_choices(language: str = "") -> list[RuleChoice]:
    """The zone rule sets as the zones app stores them (every version; unscoped: rules are the city's), or
    the engine's defaults where none is stored."""
    stored = list(zone_selectors.rule_sets())
    if stored:
        return [
            RuleChoice(
                key=f"{r.code}:{r.version}",
                name=f"{r.code} v{r.version}",
                label=f"{r.display_name(language)} ({r.code} v{r.version})",
                definition=r.definition,
                in_force=r.in_force,
            )
            for r in stored
        ]
    zh = language.startswith("zh")
    return [
        RuleChoice(
            key=f"{r.code}:1",
            name=r.code,
            label=f"{zones.RULE_NAMES[r.code][1 if zh else 0]} ({r.code})",
            definition=None,
            in_force=r is zones.NINTH_EDITION,
        )
        for r in zones.DEFAULT_RULE_SETS
    ]


def zone_rule_choice(code: str, version: int | None = None) -> RuleChoice | None:
    """Rule set ``code`` at ``version`` (``None``: the version in force if that code is in force, else its
    latest), or ``None`` when there is no such rule set."""
    same = [c for c in zone_rule_choices() if c.key.split(":")[0] == code]
    if version is not None:
        return next((c for c in same if c.key == f"{code}:{version}"), None)
    in_force = [c for c in same if c.in_force]
    if in_force:
        return in_force[0]
    return max(same, key=lambda c: int(c.key.split(":")[1]), default=None)
