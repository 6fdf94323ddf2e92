"""The shapes of the screening API: what each operation takes (``...In``, the coverage filter) and returns
(``...Out``), each output built by its one constructor (``RoundOut.of(round)``) from the records and reports the
selectors and actions give."""

import datetime as dt
from typing import Annotated, Any, Self

from ninja import Field, Schema

from cordon.apps.geo.models import Building, IndustrySector, Jurisdiction
from cordon.apps.people.models import Person
from cordon.core.inputs import TEXT_MAX, Count, EventTime, LocalTime, SmallCount, text, words
from cordon.engine import pooling

from .. import actions, selectors
from ..models import FrequencyRule, Lab, ResampleTask, SamplingSite, ScreeningRound, TemporaryControl, Tube


class RoundOut(Schema):
    id: int
    code: str
    name: str
    owner: str
    status: str
    design: str
    tube_size: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    key_industry: bool
    areas: list[str]
    buildings: list[str]
    sectors: list[str]

    @classmethod
    def of(cls, r: ScreeningRound) -> Self:
        return cls(
            id=r.pk, code=r.code, name=r.name, owner=r.owner.code, status=r.status, design=r.design,
            tube_size=r.tube_size, starts_at=r.starts_at, ends_at=r.ends_at, key_industry=r.key_industry,
            areas=[j.code for j in r.jurisdictions.all()], buildings=[b.code for b in r.buildings.all()],
            sectors=[s.code for s in r.sectors.all()],
        )  # fmt: skip


class SiteOut(Schema):
    id: int
    code: str
    name: str
    jurisdiction: str
    opens: dt.time
    closes: dt.time
    staff: int
    today: int
    per_hour: int
    wait_minutes: int
    open_now: bool

    @classmethod
    def of(cls, s: SamplingSite) -> Self:
        return cls(
            id=s.pk, code=s.code, name=s.name, jurisdiction=s.jurisdiction.code, opens=s.opens,
            closes=s.closes, staff=s.staff, **selectors.site_status(s),
        )  # fmt: skip


class RoundDetailOut(RoundOut):
    sites: list[SiteOut]

    @classmethod
    def with_sites(cls, r: ScreeningRound, sites: list[SamplingSite]) -> Self:
        return cls(**RoundOut.of(r).model_dump(), sites=[SiteOut.of(s) for s in sites])


JurisdictionCode = Annotated[str, text(Jurisdiction, "code")]
SectorCode = Annotated[str, text(IndustrySector, "code")]
Barcode = Annotated[str, text(Tube, "barcode")]


class RoundIn(Schema):
    code: Annotated[str, text(ScreeningRound, "code")]
    name: Annotated[str, text(ScreeningRound, "name")]
    owner: JurisdictionCode
    starts_at: EventTime
    ends_at: EventTime
    design: Annotated[str, text(ScreeningRound, "design")] = "10-in-1"
    areas: list[JurisdictionCode] = []
    buildings: list[Annotated[str, text(Building, "code")]] = []
    sectors: list[SectorCode] = []
    key_industry: bool = False


class RoundStatusOut(Schema):
    code: str
    status: str

    @classmethod
    def of(cls, r: ScreeningRound) -> Self:
        return cls(code=r.code, status=r.status)


class TargetOut(Schema):
    code: str
    target: int

    @classmethod
    def of(cls, r: ScreeningRound, target: int) -> Self:
        return cls(code=r.code, target=target)


class SiteIn(Schema):
    code: Annotated[str, text(SamplingSite, "code")]
    name: Annotated[str, text(SamplingSite, "name")]
    jurisdiction: JurisdictionCode
    opens: LocalTime = dt.time(7, 0)
    closes: LocalTime = dt.time(21, 0)
    staff: SmallCount = 2


class CreatedOut(Schema):
    """A record just created: its id and code."""

    id: int
    code: str

    @classmethod
    def of(cls, row: SamplingSite | Lab) -> Self:
        return cls(id=row.pk, code=row.code)


class TubesIn(Schema):
    barcodes: Annotated[str, words(TEXT_MAX)]  # one barcode a line, or a range
    size: int | None = None


class IssuedOut(Schema):
    issued: int


class QueueIn(Schema):
    persons: Count


class QueueOut(Schema):
    queue_length: int
    today: int
    per_hour: int
    wait_minutes: int
    open_now: bool

    @classmethod
    def of(cls, site: SamplingSite) -> Self:
        return cls(queue_length=site.queue_length, **selectors.site_status(site))


class BindingIn(Schema):
    tube: Barcode
    person: Annotated[str, words()]  # a national ID or a pass code
    at: EventTime | None = None


class BatchIn(Schema):
    site: int
    bindings: list[BindingIn]


class RefusalOut(Schema):
    index: int
    code: str
    message: str


class BatchOut(Schema):
    bound: int
    refused: list[RefusalOut]
    flagged: list[int]
    tubes: dict[str, int]

    @classmethod
    def of(cls, res: actions.BatchResult) -> Self:
        return cls(
            bound=len(res.bound),
            refused=[RefusalOut(index=i, code=c, message=m) for i, c, m in res.refused],
            flagged=res.flagged,
            tubes=res.tubes,
        )


class SealOut(Schema):
    tube: str
    status: str
    samples: int

    @classmethod
    def of(cls, tube: Tube) -> Self:
        return cls(tube=tube.barcode, status=tube.status, samples=tube.bound)


class LabIn(Schema):
    code: Annotated[str, text(Lab, "code")]
    name: Annotated[str, text(Lab, "name")]
    jurisdiction: JurisdictionCode


class RowErrorOut(Schema):
    row: int
    message: str


class ReportOut(Schema):
    done: int
    unchanged: int
    errors: list[RowErrorOut]
    positive_pools: list[str]
    cases: list[str]

    @classmethod
    def of(cls, rep: actions.RowReport) -> Self:
        return cls(
            done=rep.done,
            unchanged=rep.unchanged,
            errors=[RowErrorOut(row=n, message=m) for n, m in rep.errors],
            positive_pools=rep.positive_pools,
            cases=rep.cases,
        )


class ManifestIn(Schema):
    tubes: list[Barcode]


class ResultRow(Schema):
    tube: Barcode
    result: Annotated[str, text(Tube, "result")]
    ct: dict[str, float] = {}


class ResultsIn(Schema):
    results: list[ResultRow]


class CoverageFilter(Schema):
    """Paged by person id (keyset), not by offset: ``after`` is the ``next_after`` of the previous page."""

    node: Annotated[str, text(Jurisdiction, "code")] = ""
    after: int = Field(0, ge=0, le=selectors.MAX_KEY, description="The person id the page starts after.")
    limit: int = Field(
        50, ge=1, description=f"How many persons to return (lowered to {selectors.NOT_SAMPLED_CAP})."
    )


class CoverageRowOut(Schema):
    code: str
    name: str
    target: int
    sampled: int
    missing: int
    percent: float

    @classmethod
    def of(cls, x: selectors.CoverageRow) -> Self:
        return cls(code=x.jurisdiction.code, name=x.jurisdiction.name, target=x.target, sampled=x.sampled,
                   missing=x.missing, percent=x.percent)  # fmt: skip


class NotSampledOut(Schema):
    person_id: int
    name: str
    jurisdiction: str
    building: str | None

    @classmethod
    def of(cls, p: Person) -> Self:
        return cls(person_id=p.pk, name=p.name, jurisdiction=p.jurisdiction.code,
                   building=p.home_building.code if p.home_building else None)  # fmt: skip


class CoverageOut(Schema):
    node: CoverageRowOut
    children: list[CoverageRowOut]
    outside_scope: int
    resampled: int
    not_sampled: list[NotSampledOut]
    next_after: int | None

    @classmethod
    def of(cls, cov: selectors.Coverage, missing: list[Person], limit: int) -> Self:
        assert cov.total is not None
        full = len(missing) >= selectors.not_sampled_limit(limit)
        return cls(
            node=CoverageRowOut.of(cov.total),
            children=[CoverageRowOut.of(x) for x in cov.rows],
            outside_scope=cov.outside_scope,
            resampled=cov.resampled,
            not_sampled=[NotSampledOut.of(p) for p in missing],
            next_after=missing[-1].pk if full else None,
        )


class TemporaryControlOut(Schema):
    person_id: int
    name: str
    district: str
    building: str | None
    tube: str
    reason: str
    started_at: dt.datetime
    case: str | None

    @classmethod
    def of(cls, t: TemporaryControl) -> Self:
        return cls(
            person_id=t.person_id, name=t.person.name, district=t.district.code,
            building=t.building.code if t.building else None, tube=t.tube.barcode, reason=t.reason,
            started_at=t.started_at, case=t.case.code if t.case else None,
        )  # fmt: skip


class ResampleTaskOut(Schema):
    id: int
    person_id: int
    name: str
    district: str
    round: str
    source_tube: str
    status: str
    due_at: dt.datetime
    overdue: bool

    @classmethod
    def of(cls, t: ResampleTask) -> Self:
        return cls(
            id=t.pk, person_id=t.person_id, name=t.person.name, district=t.district.code, round=t.round.code,
            source_tube=t.source_tube.barcode, status=t.status, due_at=t.due_at, overdue=t.overdue(),
        )  # fmt: skip


class MarkedBuildingOut(Schema):
    building: str
    address: str
    persons: int

    @classmethod
    def of(cls, b: dict[str, Any]) -> Self:
        return cls(building=b["building__code"], address=b["building__address"], persons=b["n"])


class AlertsOut(Schema):
    temporary_controls: list[TemporaryControlOut]
    resample_tasks: list[ResampleTaskOut]
    marked_buildings: list[MarkedBuildingOut]

    @classmethod
    def of(
        cls, controls: list[TemporaryControl], tasks: list[ResampleTask], buildings: list[dict[str, Any]]
    ) -> Self:
        return cls(
            temporary_controls=[TemporaryControlOut.of(t) for t in controls],
            resample_tasks=[ResampleTaskOut.of(t) for t in tasks],
            marked_buildings=[MarkedBuildingOut.of(b) for b in buildings],
        )


class WorkerOut(Schema):
    person_id: int
    name: str
    last_sampled: dt.datetime | None

    @classmethod
    def of(cls, p: Person) -> Self:
        # ``last`` is the latest sample, annotated by ``selectors.overdue_workers``
        return cls(person_id=p.pk, name=p.name, last_sampled=getattr(p, "last", None))


class RuleIn(Schema):
    sector: SectorCode
    every_days: int
    # The jurisdiction the rule is for: by default the caller's own (the city's rule for the city, a district's
    # own rule for a district). A district's rule may be stricter than the city's, never looser.
    jurisdiction: JurisdictionCode = ""


class RuleOut(Schema):
    sector: str
    every_days: int
    jurisdiction: str

    @classmethod
    def of(cls, rule: FrequencyRule) -> Self:
        return cls(sector=rule.sector.code, every_days=rule.every_days, jurisdiction=rule.jurisdiction.code)


class OverdueOut(Schema):
    sector: str
    every_days: int  # the rule holding at the caller's own node (the stricter where several do)
    overdue: int
    workers: list[WorkerOut]
    rules: list[RuleOut]  # every rule of the sector in the caller's territory and above it

    @classmethod
    def of(cls, x: dict[str, Any]) -> Self:
        return cls(sector=x["sector"].code, every_days=x["rule"].every_days, overdue=x["overdue"],
                   workers=[WorkerOut.of(p) for p in x["workers"]],
                   rules=[RuleOut.of(r) for r in x["rules"]])  # fmt: skip


class AlternativeOut(Schema):
    design: str
    tests_per_person: float
    feasible: bool

    @classmethod
    def of(cls, a: pooling.Assessment) -> Self:
        return cls(design=a.design.label, tests_per_person=a.tests_per_person, feasible=a.feasible)


class AdviceOut(Schema):
    station_design: str
    station_tests_per_person: float
    design: str
    tests_per_person: float
    missed_per_10000: float
    expected_tests: float | None
    alternatives: list[AlternativeOut]
    notes: list[str]

    @classmethod
    def of(cls, rec: pooling.Recommendation, station: pooling.Assessment) -> Self:
        return cls(
            station_design=station.design.label,
            station_tests_per_person=station.tests_per_person,
            design=rec.design.label,
            tests_per_person=rec.tests_per_person,
            missed_per_10000=rec.missed_per_10000,
            expected_tests=rec.expected_tests,
            alternatives=[AlternativeOut.of(a) for a in rec.alternatives],
            notes=list(rec.notes),
        )
