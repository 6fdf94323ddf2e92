"""The schemas of control's API: what each operation returns, built by the schema's one constructor
(``OrderOut.of(order)``, ...), and what the operations take. The JSON shapes are part of the API's contract."""

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema

from cordon.apps.geo.models import Jurisdiction
from cordon.apps.tracing.models import Case
from cordon.core.inputs import EventDate, EventTime, text, words
from cordon.core.paging import Paging

from .. import actions, selectors
from ..models import (
    ControlOrder,
    Extension,
    HealthRecord,
    IsolationSite,
    Placement,
    QuarantinePlan,
    TransferMember,
    TransferTask,
)

ORDERS_CAP = 1000
QUEUE_CAP = 5000


# --- Schemas ----------------------------------------------------------------------------------------------


class OrderOut(Schema):
    id: int
    code: str
    person_id: int
    name: str
    case: str
    degree: int
    plan: str
    plan_version: int
    centralized: bool
    status: str
    district: str
    site: str | None
    opened_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    controlled_at: dt.datetime | None
    start_date: dt.date | None
    last_day: dt.date | None
    certificate_no: str
    version: int = Field(
        description="The order's version: send it back with an extension; a stale one gets 409."
    )

    @classmethod
    def of(cls, o: ControlOrder) -> "OrderOut":
        return cls(**_order_fields(o))


def _order_fields(o: ControlOrder) -> dict[str, Any]:
    sched = o.schedule()
    return {
        "id": o.pk,
        "code": o.code,
        "person_id": o.person_id,
        "name": o.person.name,
        "case": o.case.code,
        "degree": o.degree,
        "plan": o.plan.code,
        "plan_version": o.plan.version,
        "centralized": o.centralized,
        "status": o.status,
        "district": o.district.code,
        "site": o.site.code if o.site else None,
        "opened_at": o.opened_at,
        "due_at": o.due_at,
        "overdue": o.overdue(),
        "controlled_at": o.controlled_at,
        "start_date": o.start_date,
        "last_day": sched.last_day if sched else None,
        "certificate_no": o.certificate_no,
        "version": o.version,
    }


class PlannedTestOut(Schema):
    task_id: int | None
    key: str
    on: dt.date
    status: str | None

    @classmethod
    def of(cls, test: dict[str, Any]) -> "PlannedTestOut":
        """``test``: an entry of ``selectors.order_timeline(...)["tests"]`` (the planned test and its task)."""
        task, planned = test["task"], test["planned"]
        return cls(
            task_id=task.pk if task else None,
            key=planned.key,
            on=planned.on,
            status=task.status if task else None,
        )


class PlacementOut(Schema):
    mode: str
    site: str | None
    room: str | None
    status: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None

    @classmethod
    def of(cls, p: Placement) -> "PlacementOut":
        return cls(
            mode=p.mode,
            site=p.site.code if p.site else None,
            room=p.room.number if p.room else None,
            status=p.status,
            started_at=p.started_at,
            ended_at=p.ended_at,
        )


class OrderDetailOut(OrderOut):
    tests: list[PlannedTestOut]
    placements: list[PlacementOut]
    release_problems: list[str]

    @classmethod
    def of(cls, o: ControlOrder) -> "OrderDetailOut":
        """The order (from a scoped selector) with its schedule's tests, its placements and, while it is open,
        why it cannot be released yet."""
        t = selectors.order_timeline(o)
        return cls(
            **_order_fields(o),
            tests=[PlannedTestOut.of(x) for x in t["tests"]],
            placements=[PlacementOut.of(p) for p in t["placements"]],
            release_problems=selectors.release_check(o) if o.is_open else [],
        )


class ProposedOut(Schema):
    order: int
    site: int
    room: int
    distance_km: float | None


class UnplacedOut(Schema):
    order: int
    reason: str


class ProposalOut(Schema):
    placements: list[ProposedOut]
    unplaced: list[UnplacedOut]
    split_households: int

    @classmethod
    def of(cls, view: selectors.ProposalView) -> "ProposalOut":
        return cls(
            placements=[
                ProposedOut(order=r.order.pk, site=r.site.pk, room=r.room.pk, distance_km=r.distance_km)
                for r in view.rows
                if r.room is not None and r.site is not None
            ],
            unplaced=[UnplacedOut(order=r.order.pk, reason=r.reason) for r in view.rows if r.room is None],
            split_households=view.split_households,
        )


class MemberOut(Schema):
    id: int
    order: int
    status: str
    failure_reason: str

    @classmethod
    def of(cls, m: TransferMember) -> "MemberOut":
        return cls(id=m.pk, order=m.order_id, status=m.status, failure_reason=m.failure_reason)


class TransferOut(Schema):
    id: int
    code: str
    site: str
    vehicle: str
    team: str
    pickup_at: dt.datetime
    status: str
    departed_at: dt.datetime | None
    arrived_at: dt.datetime | None
    members: list[MemberOut]

    @classmethod
    def of(cls, t: TransferTask) -> "TransferOut":
        return cls(
            id=t.pk,
            code=t.code,
            site=t.site.code,
            vehicle=t.vehicle,
            team=t.team,
            pickup_at=t.pickup_at,
            status=t.status,
            departed_at=t.departed_at,
            arrived_at=t.arrived_at,
            members=[MemberOut.of(m) for m in t.members.all()],
        )


class FailOut(Schema):
    id: int
    status: str
    order_status: str

    @classmethod
    def of(cls, m: TransferMember) -> "FailOut":
        return cls(id=m.pk, status=m.status, order_status=m.order.status)


class HealthOut(Schema):
    id: int
    day: dt.date
    alert: bool

    @classmethod
    def of(cls, r: HealthRecord) -> "HealthOut":
        return cls(id=r.pk, day=r.day, alert=r.alert)


class ResultOut(Schema):
    task: int
    status: str
    case: str | None

    @classmethod
    def of(cls, out: actions.ResultOutcome) -> "ResultOut":
        return cls(task=out.task.pk, status=out.task.status, case=out.case.code if out.case else None)


class MovedOut(Schema):
    moved: int


class BoardDistrictOut(Schema):
    district: str
    name: str
    open: dict[str, int]
    overdue: dict[str, int]

    @classmethod
    def of(cls, row: selectors.BoardRow) -> "BoardDistrictOut":
        return cls(district=row.district.code, name=row.district.name, open=row.counts, overdue=row.overdue)


class BoardTotalOut(Schema):
    open: dict[str, int]
    overdue: dict[str, int]


class BoardSiteOut(Schema):
    name: str
    missed_tests: int
    alerts: int


class BoardTeamOut(Schema):
    team: str
    open: int
    overdue: int


class CaseClockOut(Schema):
    case: str
    confirmed_at: dt.datetime
    judged_hours: float | None
    transferred_hours: float | None
    isolated_hours: float | None
    to_judge: int
    confirmed: int
    controlled: int

    @classmethod
    def of(cls, case: Case, k: selectors.Clock) -> "CaseClockOut":
        return cls(
            case=case.code,
            confirmed_at=k.confirmed_at,
            judged_hours=k.judge_hours,
            transferred_hours=k.transfer_hours,
            isolated_hours=k.isolate_hours,
            to_judge=k.to_judge,
            confirmed=k.confirmed,
            controlled=k.controlled,
        )


class BoardOut(Schema):
    items: list[str]
    districts: list[BoardDistrictOut]
    total: BoardTotalOut
    sites: list[BoardSiteOut]
    teams: list[BoardTeamOut]
    cases: list[CaseClockOut]

    @classmethod
    def of(cls, b: dict[str, Any], clocks: list[tuple[Case, selectors.Clock]]) -> "BoardOut":
        """``b``: ``selectors.open_items(...)``; ``clocks``: ``selectors.recent_cases_with_clocks(...)``."""
        return cls(
            items=list(b["items"]),
            districts=[BoardDistrictOut.of(r) for r in b["rows"]],
            total=BoardTotalOut(open=b["total"].counts, overdue=b["total"].overdue),
            sites=[BoardSiteOut(**s) for s in b["sites"]],
            teams=[BoardTeamOut(**t) for t in b["teams"]],
            cases=[CaseClockOut.of(c, k) for c, k in clocks],
        )


class IsolationSiteOut(Schema):
    id: int
    code: str
    name: str
    district: str
    active: bool
    rooms: int
    beds: int
    available_rooms: int
    occupied_rooms: int
    persons: int
    reserved: int
    cleaning: int
    out_of_service: int

    @classmethod
    def of(cls, s: IsolationSite, c: selectors.Capacity) -> "IsolationSiteOut":
        return cls(
            id=s.pk, code=s.code, name=s.name, district=s.district.code, active=s.active, rooms=c.rooms,
            beds=c.beds, available_rooms=c.available_rooms, occupied_rooms=c.occupied_rooms, persons=c.persons,
            reserved=c.reserved, cleaning=c.cleaning, out_of_service=c.out_of_service,
        )  # fmt: skip


class SiteCreatedOut(Schema):
    id: int
    code: str


class RoomsAddedOut(Schema):
    added: int


class PlanOut(Schema):
    id: int
    profile: str
    code: str
    version: int
    applies_to: str
    in_force: bool
    definition: dict[str, Any]
    created_at: dt.datetime
    note: str

    @classmethod
    def of(cls, p: QuarantinePlan) -> "PlanOut":
        return cls(
            id=p.pk, profile=p.profile, code=p.code, version=p.version, applies_to=p.applies_to,
            in_force=p.in_force, definition=p.definition, created_at=p.created_at, note=p.note,
        )  # fmt: skip


class PlanSavedOut(Schema):
    id: int
    code: str
    version: int


# --- Inputs -----------------------------------------------------------------------------------------------


class OrderFilter(Paging):
    limit: int = Field(100, ge=1, description=f"How many rows to return (at most {ORDERS_CAP:,}).")
    status: Annotated[str, text(ControlOrder, "status")] = ""
    q: Annotated[str, words()] = ""
    district: Annotated[str, text(Jurisdiction, "code")] = ""


class QueuePaging(Paging):
    limit: int = Field(500, ge=1, description=f"How many rows to return (at most {QUEUE_CAP:,}).")


class OrdersIn(Schema):
    orders: list[int]


class ProposalIn(Schema):
    orders: list[int]
    sites: list[int] = []


class AssignmentIn(Schema):
    order: int
    room: int


class PlacementsIn(Schema):
    assignments: list[AssignmentIn]


class TransferIn(Schema):
    orders: list[int]
    vehicle: Annotated[str, text(TransferTask, "vehicle")]
    team: Annotated[str, text(TransferTask, "team")]
    pickup_at: EventTime | None = None


class WhenIn(Schema):
    at: EventTime | None = None


class FailIn(Schema):
    reason: Annotated[str, text(TransferMember, "failure_reason")]
    note: Annotated[str, text(TransferMember, "note")] = ""


class HealthIn(Schema):
    day: EventDate | None = None
    temperature: float
    symptoms: list[Annotated[str, words()]] = []
    note: Annotated[str, text(HealthRecord, "note")] = ""


class ResultIn(Schema):
    result: Annotated[str, words()]
    ct_value: float | None = None
    sampled_at: EventTime | None = None


class ExtendIn(Schema):
    days: int
    reason: Annotated[str, text(Extension, "reason")]
    version: int | None = Field(
        None,
        description="The order's version the caller saw (`version` of the order); when given, an order changed "
        "since is refused with 409 and its current state. Omitted: no check (for older clients).",
    )


class IsolationSiteIn(Schema):
    code: Annotated[str, text(IsolationSite, "code")]
    name: Annotated[str, text(IsolationSite, "name")]
    jurisdiction: Annotated[str, text(Jurisdiction, "code")]
    kind: Annotated[str, text(IsolationSite, "kind")] = "hotel"
    name_en: Annotated[str, text(IsolationSite, "name_en")] = ""
    address: Annotated[str, text(IsolationSite, "address")] = ""
    latitude: float | None = None
    longitude: float | None = None
    phone: Annotated[str, text(IsolationSite, "phone")] = ""
    takes_children: bool = True
    takes_special_needs: bool = False


class RoomsIn(Schema):
    numbers: Annotated[str, words()]
    beds: int = 1
    floor: int | None = None
    accessible: bool = False


class PlanIn(Schema):
    applies_to: Annotated[str, text(QuarantinePlan, "applies_to")]
    definition: dict[str, Any]
    note: Annotated[str, text(QuarantinePlan, "note")]
    based_on: int | None = Field(
        None,
        description="The version in force the caller started from (0: none was); when another version was put "
        "in force since, 409 with the plan in force now. Omitted: no check (for older clients).",
    )
