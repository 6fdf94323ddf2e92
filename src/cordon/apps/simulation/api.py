"""The simulator's API: the runs the caller may see, one run with its daily figures, and starting a run (202:
it is queued as a background job; follow it by its run or its job)."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import text, words
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap
from cordon.engine.sim.strategy import Scenario, Strategy

from . import actions, selectors
from .models import SimulationRun

RUNS_CAP = 200
DEFAULT = Strategy()


class StrategyIn(Schema):
    isolate_cases: bool = False
    isolation_days: Annotated[int, Field(ge=1, le=60)] = DEFAULT.isolation_days
    quarantine_contacts: bool = False
    quarantine_days: Annotated[int, Field(ge=1, le=60)] = DEFAULT.quarantine_days
    lockdown_areas: bool = False
    lockdown_level: Annotated[int, Field(ge=2, le=5, description="2 district ... 5 grid")] = (
        DEFAULT.lockdown_level
    )
    lockdown_kind: Literal["sealed", "controlled", "prevention"] = "sealed"
    lockdown_outer: Literal["", "controlled", "prevention"] = ""
    zone_rules: Annotated[
        str,
        words(60),
        Field(description="The code of a zone rule set of the zones app (GET /api/zones/rules)"),
    ] = DEFAULT.zone_rules
    zone_rules_version: Annotated[
        int | None,
        Field(ge=1, le=100_000, description="Its version (default: the one in force, else the latest)"),
    ] = None
    screening: bool = False
    screening_every: Annotated[int, Field(ge=1, le=30)] = DEFAULT.screening_every
    screening_from: Annotated[int, Field(ge=0, le=365)] = DEFAULT.screening_from
    pool_size: Annotated[int, Field(ge=1, le=50)] = DEFAULT.pool_size


class RunIn(Schema):
    title: Annotated[str, text(SimulationRun, "title")] = ""
    preset: Annotated[str, words(32)] = "demo"
    population: int | None = Field(
        None, ge=1, description="Residents (default: the preset's); bounded by the server"
    )
    days: int = Field(60, ge=1, le=actions.MAX_DAYS)
    seed: int = Field(1, ge=0, le=actions.MAX_SEED)
    profile: Annotated[str, words(64)] = "covid19-omicron"
    r0: float | None = Field(None, gt=0, le=30)
    seed_infections: int | None = Field(None, ge=0)
    strategy: StrategyIn = Field(default_factory=lambda: StrategyIn())

    def scenario(self) -> Scenario:
        settings = self.strategy.model_dump()
        code, version = settings.pop("zone_rules"), settings.pop("zone_rules_version")
        chosen = selectors.zone_rule_choice(code, version)
        if chosen is None:
            raise ValidationError({"zone_rules": _("There is no such zone rule set.")})
        strategy = Strategy(**settings, zone_rules=chosen.name, zone_rules_definition=chosen.definition)
        return Scenario(
            preset=self.preset, population=self.population, days=self.days, seed=self.seed, profile=self.profile,
            r0=self.r0, seed_infections=self.seed_infections, strategy=strategy,
        )  # fmt: skip


class RunOut(Schema):
    id: int
    title: str
    preset: str
    persons: int
    days: int
    seed: int
    started_by: str
    jurisdiction: str
    created_at: dt.datetime
    status: str = Field(description="queued, running, done, failed or cancelled (its job's)")
    job_id: int | None
    error: str
    summary: dict[str, Any]

    @staticmethod
    def of(run: SimulationRun) -> "RunOut":
        job = getattr(run, "job", None)
        status = "done" if run.recorded else (job.status if job is not None else "")
        return RunOut(
            id=run.pk, title=run.title, preset=run.preset, persons=run.persons, days=run.days, seed=run.seed,
            started_by=run.started_by.username, jurisdiction=run.jurisdiction.code, created_at=run.created_at,
            status=status, job_id=job.pk if job is not None else None,
            error=job.error if job is not None and not run.recorded else "", summary=run.summary,
        )  # fmt: skip


class RunDetailOut(RunOut):
    scenario: dict[str, Any]
    series: dict[str, list[Any]] = Field(description="Daily figures, one list each; 'date' as YYYY-MM-DD")

    @staticmethod
    def of(run: SimulationRun) -> "RunDetailOut":  # type: ignore[override]
        return RunDetailOut(**RunOut.of(run).model_dump(), scenario=run.scenario, series=run.series)


router = Router(tags=["simulation"])


@router.get("/simulation/runs", response=list[RunOut], summary="Simulator runs the caller may see")
@api(Cap.SIMULATE)
def list_runs(request: AuthedRequest, paging: Query[Paging]) -> list[RunOut]:
    runs: list[SimulationRun] = page(selectors.runs_for(request.user), paging, cap=RUNS_CAP)
    return [RunOut.of(r) for r in selectors.with_jobs(runs)]


@router.get("/simulation/runs/{int:run_id}", response=RunDetailOut, summary="A simulator run and its results")
@api(Cap.SIMULATE)
def get_run(request: AuthedRequest, run_id: int) -> RunDetailOut:
    return RunDetailOut.of(selectors.get_run_for(request.user, run_id))


@router.post("/simulation/runs", response={202: RunOut}, summary="Start a simulator run (a background job)")
@api(Cap.SIMULATE)
def start_run(request: AuthedRequest, payload: RunIn) -> Any:
    run = actions.start_run(
        actor=request.user, scenario=payload.scenario(), title=payload.title, source="api"
    )
    return Status(202, RunOut.of(selectors.with_jobs([run])[0]))
