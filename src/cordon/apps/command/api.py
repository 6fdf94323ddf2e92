"""The situation analysis as JSON, for a city's or a district's own big screen: every figure of the page
``/command/analysis/``, from the same selector (``selectors.analysis``), scoped to the caller."""

from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from cordon.apps.geo.models import Jurisdiction
from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import text, words
from cordon.core.roles import Cap

from . import selectors

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

    bbox = command_map_reads.parse_bbox(params.bbox)
    if params.bbox and bbox is None:
        raise ValidationError({"bbox": _("A box is west,south,east,north in degrees.")})
    if params.layer not in command_map_reads.layers_for(request.user):
        raise PermissionDenied
    return CommandMapOut.model_validate(
        command_map_reads.layer(request.user, params.layer, bbox, days=params.days)
    )
