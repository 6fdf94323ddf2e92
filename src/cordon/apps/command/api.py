"""The situation analysis and the commander's headline as JSON, for a city's or a district's own big screen:
every figure of the pages ``/command/analysis/`` and ``/command/`` (the commanders' home), from the same
functions (``selectors.analysis``, ``figures.headline``), scoped to the caller. The daily reports: the list the
caller may read, one report with its stored figures, and asking for one (202: a job)."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from cordon.apps.geo.models import Jurisdiction
from cordon.core import inputs
from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import EventDate, text, words
from cordon.core.jobs import JobStarted
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap

from . import actions, figures, selectors, timeliness, zero
from .models import DailyReport

Num = float | None


class AreaOut(Schema):
    code: str
    name: str


class CurveOut(Schema):
    dates: list[str] = Field(description="Local dates, YYYY-MM-DD, oldest first; up to today")
    community: list[int] = Field(description="Cases found in the community, per date")
    control: list[int] = Field(description="Cases found under control (isolation, quarantine, sealed area)")
    imported: list[int] = Field(description="Imported cases per date (counted in community or control too)")


class RtLatestOut(Schema):
    mean: Num
    lower: Num = Field(description="2.5 % quantile of the posterior")
    upper: Num = Field(description="97.5 % quantile of the posterior")
    cv: Num
    warning: bool = Field(description="The posterior's coefficient of variation exceeds the threshold")
    date: str | None = Field(None, description="The latest date with an estimate")


class RtSeriesOut(Schema):
    mean: list[Num] = Field(
        description="Posterior mean per date of the curve; null where there is no estimate"
    )
    lower: list[Num]
    upper: list[Num]
    warning: list[bool]
    latest: RtLatestOut


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
    on: Literal["nowcast", "reported"] = Field(
        description="What the series above is computed on: the nowcast-corrected local incidence (by onset or "
        "sampling date) or the counts as reported (by report date)"
    )
    reported: RtSeriesOut = Field(
        description="Rt on the counts as reported (the last days lean low by onset)"
    )
    nowcast: RtSeriesOut | None = Field(
        description="Rt on the nowcast-corrected local incidence; null by report date"
    )


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


# --- timeliness (timeliness.py) -----------------------------------------------------------------------------


class TimelinessTotalOut(Schema):
    done: int = Field(description="Cases whose time is known")
    pending: int = Field(description="Cases whose time is not yet known (not counted as zero)")
    within: int = Field(description="Cases done within the target")
    median: Num = Field(description="Hours from the report; null where no case is done")
    p90: Num = Field(description="90th percentile of the hours from the report")


class TimelinessMeasureOut(Schema):
    target_hours: float
    done: list[int] = Field(description="Per report day")
    pending: list[int]
    within: list[int]
    median: list[Num] = Field(description="Per report day; null where no case is done")
    p90: list[Num]
    total: TimelinessTotalOut


class TimelinessCasesOut(Schema):
    cases: int
    under_control: int
    control_share: Num


class TimelinessRowOut(Schema):
    code: str
    name: str
    cases: list[int] = Field(description="Cases reported per day")
    under_control: list[int] = Field(description="Cases found under control per day")
    control_share: list[Num]
    total: TimelinessCasesOut
    trajectory: TimelinessMeasureOut = Field(description="Report to trajectory done")
    transfer: TimelinessMeasureOut = Field(description="Report to every close contact transferred")


class TimelinessTargetsOut(Schema):
    trajectory: float
    transfer: float


class TimelinessOut(Schema):
    area: AreaOut
    districts: list[AreaOut] = Field(description="The districts the caller may choose")
    today: str
    counted_at: dt.datetime | None = Field(
        description="When the kept figures read were counted (refreshed every few minutes); null: counted now"
    )
    days: int
    dates: list[str] = Field(description="Report days, YYYY-MM-DD, oldest first")
    targets: TimelinessTargetsOut = Field(description="The target hours")
    rows: list[TimelinessRowOut] = Field(description="The area's total first, then each district")


class TimelinessIn(Schema):
    district: Annotated[str, text(Jurisdiction, "code")] = Field(
        "", description="A district's code; all the caller's districts when empty"
    )
    days: int = Field(timeliness.DAYS, ge=1, le=timeliness.MAX_DAYS, description="Report days up to today")


@router.get(
    "/command/timeliness",
    response=TimelinessOut,
    summary="The timeliness of the response per district and day",
)
@api(Cap.VIEW_CASES)
def get_timeliness(request: AuthedRequest, params: Query[TimelinessIn]) -> TimelinessOut:
    data = timeliness.timeliness(request.user, district=params.district, days=params.days)
    return TimelinessOut.model_validate(data)


# --- The daily-zero board (每日清零) ----------------------------------------------------------------------------


# The cells and rows are plain pydantic models, not ninja schemas: a district's board has about 700 cells, and a
# ninja schema reads every field of every one through its Django-aware getter (most of the response's time).
class ZeroCellOut(BaseModel):
    kind: str
    links: dict[str, str] = Field(
        description="Per state (overdue, due_today, open), the list of exactly the items that figure counts in "
        "this row's area; empty when the kind has no such list or the caller may not open it"
    )
    listed: bool = Field(description="The kind has a list that can show its items")
    open: int
    overdue: int = Field(description="Open and past its deadline now")
    due_today: int = Field(description="Not overdue now, overdue before the local day ends")
    closed_open: int | None = Field(
        description="Open at yesterday's close; null when yesterday was not closed"
    )
    closed_overdue: int | None = Field(description="Open and overdue at yesterday's close")
    cleared: bool | None = Field(
        description="Cleared to zero yesterday: nothing of this kind overdue at close"
    )


class ZeroRowOut(BaseModel):
    code: str
    name: str
    overdue: int
    due_today: int
    cleared: bool | None = Field(description="Every kind cleared to zero at yesterday's close")
    cells: list[ZeroCellOut] = Field(description="One per kind, in the order of ``kinds``")


class ZeroKindOut(Schema):
    key: str
    label: str
    link: str = Field(description="The page listing this kind's items; empty when there is none")


class ZeroOut(Schema):
    area: ZeroRowOut = Field(description="The chosen node itself (its whole territory)")
    rows: list[ZeroRowOut] = Field(
        description="The nodes one level down: a city's districts, a district's streets"
    )
    kinds: list[ZeroKindOut]
    today: str
    yesterday: str
    closed: bool = Field(description="Yesterday's closing figures are stored")
    counted_at: str | None = Field(description="When the kept counts were counted; null when counted now")
    up: str = Field(description="The code of the node above the chosen one, when the caller may see it")


class ZeroIn(Schema):
    area: Annotated[str, text(Jurisdiction, "code")] = Field(
        "", description="A node's code in the caller's territory; the caller's own node when empty"
    )


@router.get("/command/zero", response=ZeroOut, summary="The daily-zero board of an area")
@api(Cap.VIEW_CASES)
def get_zero(request: AuthedRequest, params: Query[ZeroIn]) -> dict[str, Any]:
    data = zero.board(request.user, area=params.area)
    at = data["counted_at"]
    return {**data, "counted_at": at.isoformat() if at else None}


# --- The command map: one layer at a time (``map.py``) -----------------------------------------------------------


class MapFeatureOut(Schema):
    type: str
    geometry: dict[str, Any]
    properties: dict[str, Any]


class CommandMapOut(Schema):
    type: str = "FeatureCollection"
    layer: str
    grain: str = Field(
        description="How features are grouped: street or grid (counts at the outline's centre), building, "
        "venue, zone, site or district"
    )
    features: list[MapFeatureOut]
    truncated: bool = Field(description="More than the layer's limit matched: zoom in")


class CommandMapIn(Schema):
    layer: Literal["cases", "venues", "zones", "sites", "districts"] = "cases"
    bbox: Annotated[str, words(100)] = Field(
        "", description="west,south,east,north in degrees; empty for the caller's whole area"
    )
    days: int = Field(14, ge=1, le=60, description="Cases and risk venues of the last days")


@router.get("/command/map", response=CommandMapOut, summary="A layer of the command map")
@api(Cap.VIEW_CASES)
def get_command_map(request: AuthedRequest, params: Query[CommandMapIn]) -> CommandMapOut:
    from . import map as command_map_reads

    bbox = inputs.bbox(params.bbox)
    if params.bbox and bbox is None:
        raise ValidationError({"bbox": _("A box is west,south,east,north in degrees.")})
    if params.layer not in command_map_reads.layers_for(request.user):
        raise PermissionDenied
    return CommandMapOut.model_validate(
        command_map_reads.layer(request.user, params.layer, bbox, days=params.days)
    )


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
@api(selectors.REPORT_RULE)
def list_reports(request: AuthedRequest, params: Query[DailyReportsIn]) -> list[DailyReportOut]:
    rows = selectors.reports_visible_to(request.user, area=params.area)
    shown: list[DailyReport] = page(rows, params, cap=REPORTS_CAP)
    return [DailyReportOut.of(r) for r in shown]


@router.get(
    "/command/reports/{int:report_id}", response=DailyReportDetailOut, summary="A daily report's figures"
)
@api(selectors.REPORT_RULE)
def get_report(request: AuthedRequest, report_id: int) -> DailyReportDetailOut:
    return DailyReportDetailOut.of(selectors.get_report_for(request.user, report_id))


@router.post("/command/reports", response={202: JobStarted}, summary="Make a daily report (a background job)")
@api(selectors.REPORT_RULE)
def request_report(request: AuthedRequest, payload: DailyReportRequestIn) -> Any:
    area = selectors.report_area_for(request.user, payload.area)
    job = actions.request_report(actor=request.user, area=area, day=payload.day, source="api")
    return Status(202, JobStarted.of(job.pk, job.status))
