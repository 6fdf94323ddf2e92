"""The situation analysis and the commander's headline as JSON, for a city's or a district's own big screen:
every figure of the pages ``/command/analysis/`` and ``/command/`` (the commanders' home), from the same
functions (``selectors.analysis``, ``figures.headline``), scoped to the caller. The daily reports: the list the
caller may read, one report with its stored figures, and asking for one (202: a job)."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from cordon.apps.geo.models import Jurisdiction
from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import EventDate, text
from cordon.core.jobs import JobStarted
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap

from . import actions, figures, selectors
from .models import DailyReport

Num = float | None


class AreaOut(Schema):
    code: str
    name: str


class CurveOut(Schema):
    dates: list[str] = Field(description="Local dates, YYYY-MM-DD, oldest first; up to today")
    community: list[int] = Field(description="Cases found in the community, per date")
    control: list[int] = Field(description="Cases found under control (isolation, quarantine, sealed area)")


class RtLatestOut(Schema):
    mean: Num
    lower: Num = Field(description="2.5 % quantile of the posterior")
    upper: Num = Field(description="97.5 % quantile of the posterior")
    cv: Num
    warning: bool = Field(description="The posterior's coefficient of variation exceeds the threshold")


class RtOut(Schema):
    profile: str = Field(description="The pathogen profile whose serial interval is used")
    si_mean: float
    si_sd: float
    window: int
    cv_threshold: float
    mean: list[Num] = Field(
        description="Posterior mean per date of the curve; null where there is no estimate"
    )
    lower: list[Num]
    upper: list[Num]
    warning: list[bool]
    latest: RtLatestOut


class NowcastOut(Schema):
    basis: str = Field(description="The event day: onset or sampling")
    dates: list[str]
    reported: list[int]
    estimate: list[Num]
    lower: list[Num] = Field(description="5 % quantile")
    upper: list[Num] = Field(description="95 % quantile")
    completeness: list[Num] = Field(description="The share of a day's cases expected to be reported by now")


class GrowthOut(Schema):
    days: int
    cases: int
    rate: Num = Field(description="Growth rate per day (log-linear fit), with its 95 % interval")
    lower: Num
    upper: Num
    doubling: Num = Field(description="Doubling time in days when growing; null bounds are unbounded")
    doubling_lower: Num
    doubling_upper: Num
    halving: Num
    halving_lower: Num
    halving_upper: Num


class KnownSourceOut(Schema):
    days: int
    cases: int
    known: int
    share: Num


class GrowingClusterOut(Schema):
    code: str
    name: str
    cases: int
    last_7: int
    previous_7: int
    change: int


class MovedAreaOut(Schema):
    code: str
    name: str
    today: int
    yesterday: int
    change: int
    total: int
    rt: Num
    rt_lower: Num
    rt_upper: Num
    rt_yesterday: Num
    rt_warning: bool


class AnalysisOut(Schema):
    area: AreaOut
    areas: list[AreaOut] = Field(description="The areas the caller may analyse")
    basis: str
    today: str
    cases: int
    reported_today: int
    reported_yesterday: int
    curve: CurveOut
    rt: RtOut
    nowcast: NowcastOut
    growth: list[GrowthOut]
    known_source: KnownSourceOut
    clusters: list[GrowingClusterOut] = Field(
        description="The clusters growing fastest (cases of the last 7 days)"
    )
    moved: list[MovedAreaOut] = Field(description="The areas one level down, those that moved most first")


class AnalysisIn(Schema):
    district: Annotated[str, text(Jurisdiction, "code")] = Field(
        "", description="An area's code; the caller's own area when empty"
    )
    basis: Literal["onset", "sampling", "report"] = "onset"


router = Router(tags=["command"])


@router.get("/command/analysis", response=AnalysisOut, summary="The situation analysis of an area")
@api(Cap.VIEW_CASES)
def get_analysis(request: AuthedRequest, params: Query[AnalysisIn]) -> AnalysisOut:
    data = selectors.analysis(request.user, area=params.district, basis=params.basis)
    return AnalysisOut.model_validate(data)


class HeadlineFigureOut(Schema):
    label: str
    value: int | None = Field(description="As counted now (today) or as stored that day; null: not known")
    yesterday: int | None = Field(description="The figure stored for the day before; null: none was stored")
    change: int | None = Field(description="value - yesterday, when both are known")
    link: str = Field(description="The page listing what the figure counts, filtered the same way")


class HeadlineCoverageOut(Schema):
    percent: Num = Field(description="Persons sampled / persons to sample in the rounds of the day, in %")
    yesterday: Num
    change: Num


class HeadlineOut(Schema):
    area: AreaOut
    areas: list[AreaOut] = Field(description="The areas the caller may read the headline of")
    day: str = Field(description="The local day, YYYY-MM-DD")
    taken_at: str | None = Field(description="When the figures were counted (today) or stored (a past day)")
    yesterday_stored: bool = Field(description="Whether the day before's figures were stored")
    figures: dict[str, HeadlineFigureOut] = Field(
        description="cases, cases_community, cases_control, to_judge, to_transfer, not_controlled, "
        "under_control, zones_sealed, zones_controlled, zones_prevention, screening_rounds, screening_sampled, "
        "screening_target, overdue"
    )
    coverage: HeadlineCoverageOut


class HeadlineIn(Schema):
    district: Annotated[str, text(Jurisdiction, "code")] = Field(
        "", description="An area's code (the caller's node or one level down); the caller's own when empty"
    )
    day: EventDate | None = Field(None, description="A past local day (its stored figures); today when empty")


@router.get("/command/home", response=HeadlineOut, summary="The commander's headline figures of an area")
@api(Cap.VIEW_CASES)
def get_headline(request: AuthedRequest, params: Query[HeadlineIn]) -> HeadlineOut:
    day = params.day or timezone.localdate()
    return HeadlineOut.model_validate(figures.headline(request.user, day, area=params.district))


# --- Daily reports ------------------------------------------------------------------------------------------

REPORTS_CAP = 200


class DailyReportOut(Schema):
    id: int
    day: dt.date
    area: AreaOut
    generated_at: dt.datetime
    generated_by: str = Field(description="Who asked for it; empty when made on the clock")
    scheduled: bool = Field(description="Made on the clock (CORDON_DAILY_REPORT_HOUR)")
    reconstructed: bool = Field(
        description="Made after the day after its own: the open work of that day was not kept and is null"
    )
    page: str
    pdf: str

    @classmethod
    def of(cls, r: DailyReport) -> "DailyReportOut":
        return cls(
            id=r.pk,
            day=r.day,
            area=AreaOut(code=r.jurisdiction.code, name=r.jurisdiction.name),
            generated_at=r.generated_at,
            generated_by=r.generated_by.get_username() if r.generated_by else "",
            scheduled=r.scheduled,
            reconstructed=bool(r.figures.get("reconstructed")),
            page=f"/command/reports/{r.pk}/",
            pdf=f"/command/reports/{r.pk}/pdf/",
        )


class DailyReportDetailOut(DailyReportOut):
    figures: dict[str, Any] = Field(
        description="Every figure the report shows, as stored when it was made (the page and the PDF show these)"
    )

    @classmethod
    def of(cls, r: DailyReport) -> "DailyReportDetailOut":
        return cls(**DailyReportOut.of(r).model_dump(), figures=r.figures)


class DailyReportsIn(Paging):
    area: Annotated[str, text(Jurisdiction, "code")] = Field("", description="Only this area's reports")


class DailyReportRequestIn(Schema):
    area: Annotated[str, text(Jurisdiction, "code")] = Field(
        "", description="The city's or a district's code; the caller's own area when empty"
    )
    day: EventDate = Field(description="The local day the report covers: today or an earlier day")


@router.get(
    "/command/reports", response=list[DailyReportOut], summary="The daily reports the caller may read"
)
@api(Cap.VIEW_CASES)
def list_reports(request: AuthedRequest, params: Query[DailyReportsIn]) -> list[DailyReportOut]:
    rows = selectors.reports_visible_to(request.user, area=params.area)
    shown: list[DailyReport] = page(rows, params, cap=REPORTS_CAP)
    return [DailyReportOut.of(r) for r in shown]


@router.get(
    "/command/reports/{int:report_id}", response=DailyReportDetailOut, summary="A daily report's figures"
)
@api(Cap.VIEW_CASES)
def get_report(request: AuthedRequest, report_id: int) -> DailyReportDetailOut:
    return DailyReportDetailOut.of(selectors.get_report_for(request.user, report_id))


@router.post("/command/reports", response={202: JobStarted}, summary="Make a daily report (a background job)")
@api(Cap.VIEW_CASES)
def request_report(request: AuthedRequest, payload: DailyReportRequestIn) -> Any:
    area = selectors.report_area_for(request.user, payload.area)
    job = actions.request_report(actor=request.user, area=area, day=payload.day, source="api")
    return Status(202, JobStarted.of(job.pk, job.status))
