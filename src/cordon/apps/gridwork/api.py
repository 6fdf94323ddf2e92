"""The grid management API: duty posts, their plans and shifts, patrols and missed patrols, in the caller's
scope. A patrol's photo is sent from the phone page; the API records patrols without one."""

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from cordon.core.access import AuthedRequest, api
from cordon.core.inputs import EventDate, EventTime, text, words
from cordon.core.paging import Paging, page
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound

from . import actions, selectors
from .models import DutyPost, DutyShift, Patrol, PatrolPlan

router = Router(tags=["grid management"])

PATROLS_CAP = 500


class PatrolPlanOut(Schema):
    id: int
    times: list[str]
    every_hours: int | None
    tolerance_minutes: int
    active_from: dt.date
    active_to: dt.date | None

    @classmethod
    def of(cls, p: PatrolPlan) -> "PatrolPlanOut":
        return cls(
            id=p.pk, times=list(p.times), every_hours=p.every_hours, tolerance_minutes=p.tolerance_minutes,
            active_from=p.active_from, active_to=p.active_to,
        )  # fmt: skip


class DutyShiftOut(Schema):
    id: int
    username: str
    starts_at: dt.datetime
    ends_at: dt.datetime

    @classmethod
    def of(cls, s: DutyShift) -> "DutyShiftOut":
        return cls(id=s.pk, username=s.user.username, starts_at=s.starts_at, ends_at=s.ends_at)


class DutyPostOut(Schema):
    id: int
    zone: str
    name: str
    kind: str
    grid: str
    building: str | None
    latitude: float | None
    longitude: float | None
    active: bool

    @classmethod
    def of(cls, p: DutyPost) -> "DutyPostOut":
        return cls(
            id=p.pk, zone=p.zone.code, name=p.name, kind=p.kind, grid=p.jurisdiction.code,
            building=p.building.code if p.building is not None else None, latitude=p.latitude,
            longitude=p.longitude, active=p.active,
        )  # fmt: skip


class DutyPostDetailOut(DutyPostOut):
    plan: PatrolPlanOut | None
    on_duty: list[DutyShiftOut]


class PatrolOut(Schema):
    id: int
    post: int
    by: str | None
    at: dt.datetime
    findings: str
    result: str
    note: str
    has_photo: bool

    @classmethod
    def of(cls, p: Patrol) -> "PatrolOut":
        return cls(
            id=p.pk, post=p.post_id, by=p.by.username if p.by is not None else None, at=p.at,
            findings=p.findings, result=p.result, note=p.note, has_photo=bool(p.photo),
        )  # fmt: skip


class MissedPatrolOut(Schema):
    post: int
    post_name: str
    zone: str
    due: dt.datetime
    overdue: bool


class DutyPostQuery(Schema):
    zone: int | None = None


class DutyPostIn(Schema):
    zone: int
    name: Annotated[str, text(DutyPost, "name")]
    kind: Annotated[str, words(20)] = "gate"
    building: Annotated[str, words(60)] = Field(
        "", description="The code of a building: the post's grid is its grid."
    )
    grid: Annotated[str, words(60)] = Field("", description="The code of the grid, for a post at a point.")
    latitude: float | None = None
    longitude: float | None = None


class DutyShiftIn(Schema):
    username: Annotated[str, words(150)]
    starts_at: EventTime
    ends_at: EventTime


class PatrolPlanIn(Schema):
    times: list[Annotated[str, words(5)]] = Field(
        default_factory=list, max_length=48, description='Times of day, "HH:MM".'
    )
    every_hours: int | None = None
    tolerance_minutes: int = 30
    active_from: EventDate | None = None
    active_to: EventDate | None = None


class PatrolIn(Schema):
    findings: Annotated[str, words(20)] = Field(
        description="all_clear, crowding, unregistered, unstaffed, fence, supplies, other"
    )
    at: EventTime | None = Field(None, description="When; now when left out.")
    note: Annotated[str, text(Patrol, "note")] = ""


def _detail(request: AuthedRequest, post: DutyPost) -> DutyPostDetailOut:
    plan = selectors.plan_in_force(post, timezone.localdate())
    on_duty = [DutyShiftOut.of(s) for s in selectors.on_duty(post, timezone.now())]
    return DutyPostDetailOut(
        **DutyPostOut.of(post).model_dump(), plan=PatrolPlanOut.of(plan) if plan else None, on_duty=on_duty
    )


@router.get("/gridwork/posts", response=list[DutyPostOut], summary="Duty posts in your scope")
@api(Cap.VIEW_POSTS)
def list_posts(request: AuthedRequest, filters: Query[DutyPostQuery]) -> list[DutyPostOut]:
    qs = selectors.posts_visible_to(request.user).order_by("zone_id", "name", "id")
    if filters.zone is not None:
        qs = qs.filter(zone_id=filters.zone)
    return [DutyPostOut.of(p) for p in qs[:1000]]


@router.post("/gridwork/posts", response={201: DutyPostDetailOut}, summary="Set up a duty post of a zone")
@api(Cap.MANAGE_POSTS)
def create_post(request: AuthedRequest, payload: DutyPostIn) -> Status[DutyPostDetailOut]:
    try:
        zone = selectors.get_zone_to_post(request.user, payload.zone)
    except NotFound:
        raise ValidationError({"zone": _("Unknown zone, closed, or not of your area.")}) from None
    building = grid = None
    if payload.building:
        try:
            building = selectors.building_by_code(request.user, payload.building)
        except NotFound:
            raise ValidationError(
                {"building": _("Unknown building %(code)s.") % {"code": payload.building}}
            ) from None
    if payload.grid:
        try:
            grid = selectors.grid_by_code(request.user, payload.grid)
        except NotFound:
            raise ValidationError({"grid": _("Unknown grid %(code)s.") % {"code": payload.grid}}) from None
    post = actions.create_post(
        actor=request.user, zone=zone, name=payload.name, kind=payload.kind, building=building,
        jurisdiction=grid, latitude=payload.latitude, longitude=payload.longitude, source="api",
    )  # fmt: skip
    return Status(201, _detail(request, post))


@router.get(
    "/gridwork/posts/{post_id}",
    response=DutyPostDetailOut,
    summary="A duty post, its plan and who is on duty",
)
@api(Cap.VIEW_POSTS)
def get_post(request: AuthedRequest, post_id: int) -> DutyPostDetailOut:
    return _detail(request, selectors.get_post_for(request.user, post_id))


@router.post("/gridwork/posts/{post_id}/shifts", response={201: DutyShiftOut}, summary="Put someone on duty")
@api(Cap.MANAGE_POSTS)
def add_shift(request: AuthedRequest, post_id: int, payload: DutyShiftIn) -> Status[DutyShiftOut]:
    post = selectors.get_post_for(request.user, post_id)
    try:
        user = selectors.user_to_put_on_duty(request.user, payload.username)
    except NotFound:
        user = None
    shift = actions.assign_duty(
        actor=request.user, post=post, user=user, starts_at=payload.starts_at, ends_at=payload.ends_at,
        source="api",
    )  # fmt: skip
    return Status(201, DutyShiftOut.of(shift))


@router.post(
    "/gridwork/posts/{post_id}/plan", response={201: PatrolPlanOut}, summary="Set the post's patrol plan"
)
@api(Cap.MANAGE_POSTS)
def set_plan(request: AuthedRequest, post_id: int, payload: PatrolPlanIn) -> Status[PatrolPlanOut]:
    post = selectors.get_post_for(request.user, post_id)
    plan = actions.set_plan(
        actor=request.user, post=post, times=payload.times, every_hours=payload.every_hours,
        tolerance_minutes=payload.tolerance_minutes, active_from=payload.active_from,
        active_to=payload.active_to, source="api",
    )  # fmt: skip
    return Status(201, PatrolPlanOut.of(plan))


class PatrolPaging(Paging):
    pass


@router.get(
    "/gridwork/posts/{post_id}/patrols",
    response=list[PatrolOut],
    summary="The patrols of a post, latest first",
    description=f"At most {PATROLS_CAP} rows per call (a larger limit is lowered).",
)
@api(Cap.VIEW_POSTS)
def list_patrols(request: AuthedRequest, post_id: int, filters: Query[PatrolPaging]) -> list[PatrolOut]:
    post = selectors.get_post_for(request.user, post_id)
    rows: list[Patrol] = page(selectors.patrols_of(post), filters, cap=PATROLS_CAP)
    return [PatrolOut.of(p) for p in rows]


@router.post("/gridwork/posts/{post_id}/patrols", response={201: PatrolOut}, summary="Record a patrol")
@api(Cap.PATROL)
def record_patrol(request: AuthedRequest, post_id: int, payload: PatrolIn) -> Status[PatrolOut]:
    post = selectors.get_post_for(request.user, post_id)
    patrol = actions.record_patrol(
        actor=request.user,
        post=post,
        findings=payload.findings,
        at=payload.at,
        note=payload.note,
        source="api",
    )
    return Status(201, PatrolOut.of(patrol))


@router.get(
    "/gridwork/missed", response=list[MissedPatrolOut], summary="Missed patrols still open, oldest first"
)
@api(Cap.VIEW_POSTS)
def list_missed(request: AuthedRequest) -> list[MissedPatrolOut]:
    return [
        MissedPatrolOut(
            post=m.post.pk, post_name=m.post.name, zone=m.post.zone.code, due=m.due, overdue=m.overdue
        )
        for m in selectors.missed_patrols(request.user)[:1000]
    ]
