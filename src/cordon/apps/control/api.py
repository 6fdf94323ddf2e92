"""API of close-contact control: queue, proposals and placements, transfers, follow-up, release, sites and
plans, and the open-items board."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound, Scope
from cordon.apps.geo import selectors as geo
from cordon.site.access import api

from . import actions, selectors
from .models import ControlOrder

router = Router(tags=["control"])


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


def _order_out(o: ControlOrder) -> dict[str, Any]:
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
    }


class OrderFilter(Schema):
    status: str = ""
    q: str = ""
    district: str = ""
    limit: int = 100
    offset: int = 0


class OrdersIn(Schema):
    orders: list[int]


def _orders(request: HttpRequest, ids: list[int]) -> list[ControlOrder]:
    try:
        return selectors.orders_by_ids(request.user, ids)
    except NotFound:
        raise ValidationError({"orders": _("Unknown person in the list.")}) from None


@router.get("/control/orders", response=list[OrderOut], summary="Control orders in the caller's territory")
@api(Cap.VIEW_CONTROL)
def list_orders(request: HttpRequest, f: Query[OrderFilter]) -> Any:
    qs = selectors.search_orders(request.user, status=f.status, query=f.q, district=f.district)
    limit = max(1, min(f.limit, 1000))
    return [_order_out(o) for o in qs[f.offset : f.offset + limit]]


@router.get("/control/queue", response=list[OrderOut], summary="Judged contacts waiting for placement")
@api(Cap.VIEW_CONTROL)
def list_queue(request: HttpRequest, limit: int = 500) -> Any:
    return [_order_out(o) for o in selectors.queue(request.user)[: max(1, min(limit, 5000))]]


@router.get("/control/orders/{int:order_id}", summary="An order with its schedule, tests and placements")
@api(Cap.VIEW_CONTROL)
def get_order(request: HttpRequest, order_id: int) -> Any:
    o = selectors.get_order_for(request.user, order_id)
    t = selectors.order_timeline(o)
    return {
        **_order_out(o),
        "tests": [
            {
                "task_id": x["task"].pk if x["task"] else None,
                "key": x["planned"].key,
                "on": x["planned"].on,
                "status": x["task"].status if x["task"] else None,
            }
            for x in t["tests"]
        ],
        "placements": [
            {
                "mode": p.mode,
                "site": p.site.code if p.site else None,
                "room": p.room.number if p.room else None,
                "status": p.status,
                "started_at": p.started_at,
                "ended_at": p.ended_at,
            }
            for p in t["placements"]
        ],
        "release_problems": actions.release_check(o) if o.is_open else [],
    }


class ProposalIn(Schema):
    orders: list[int]
    sites: list[int] = []


@router.post("/control/proposals", summary="Propose rooms for waiting contacts (nothing is reserved)")
@api(Cap.CONTROL)
def propose(request: HttpRequest, payload: ProposalIn) -> Any:
    view = selectors.propose_placements(
        request.user, _orders(request, payload.orders), site_ids=payload.sites
    )
    return {
        "placements": [
            {"order": r.order.pk, "site": r.site.pk, "room": r.room.pk, "distance_km": r.distance_km}
            for r in view.rows
            if r.room is not None and r.site is not None
        ],
        "unplaced": [{"order": r.order.pk, "reason": r.reason} for r in view.rows if r.room is None],
        "split_households": view.split_households,
    }


class AssignmentIn(Schema):
    order: int
    room: int


class PlacementsIn(Schema):
    assignments: list[AssignmentIn]


@router.post(
    "/control/placements", response={201: list[OrderOut]}, summary="Reserve rooms (accept a proposal)"
)
@api(Cap.CONTROL)
def reserve(request: HttpRequest, payload: PlacementsIn) -> Any:
    orders = _orders(request, [a.order for a in payload.assignments])
    rooms = []
    for a in payload.assignments:
        try:
            rooms.append(selectors.get_room_for(request.user, a.room))
        except NotFound:
            raise ValidationError({"room": _("Unknown room %(id)s.") % {"id": a.room}}) from None
    actions.reserve_rooms(actor=request.user, assignments=list(zip(orders, rooms, strict=True)), source="api")
    return Status(201, [_order_out(o) for o in _orders(request, [o.pk for o in orders])])


@router.post("/control/home-placements", response={201: list[OrderOut]}, summary="Start home quarantine")
@api(Cap.CONTROL)
def home(request: HttpRequest, payload: OrdersIn) -> Any:
    orders = _orders(request, payload.orders)
    actions.place_at_home(actor=request.user, orders=orders, source="api")
    return Status(201, [_order_out(o) for o in _orders(request, payload.orders)])


class TransferIn(Schema):
    orders: list[int]
    vehicle: str
    team: str
    pickup_at: dt.datetime | None = None


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
    members: list[dict[str, Any]]


def _transfer_out(t: Any) -> dict[str, Any]:
    return {
        "id": t.pk,
        "code": t.code,
        "site": t.site.code,
        "vehicle": t.vehicle,
        "team": t.team,
        "pickup_at": t.pickup_at,
        "status": t.status,
        "departed_at": t.departed_at,
        "arrived_at": t.arrived_at,
        "members": [
            {"id": m.pk, "order": m.order_id, "status": m.status, "failure_reason": m.failure_reason}
            for m in t.members.all()
        ],
    }


@router.get(
    "/control/transfers", response=list[TransferOut], summary="Transfer tasks of the day and open ones"
)
@api(Cap.VIEW_CONTROL)
def list_transfers(request: HttpRequest) -> Any:
    board = selectors.transfer_board(request.user)
    return [_transfer_out(t) for tasks in board["columns"].values() for t in tasks]


@router.post("/control/transfers", response={201: TransferOut}, summary="Assign a vehicle and team")
@api(Cap.CONTROL)
def create_transfer(request: HttpRequest, payload: TransferIn) -> Any:
    task = actions.create_transfer(
        actor=request.user,
        orders=_orders(request, payload.orders),
        data=actions.TransferData(payload.vehicle, payload.team, payload.pickup_at),
        source="api",
    )
    return Status(201, _transfer_out(task))


class WhenIn(Schema):
    at: dt.datetime | None = None


@router.post("/control/transfers/{int:task_id}/depart", response=TransferOut, summary="The vehicle left")
@api(Cap.CONTROL)
def depart(request: HttpRequest, task_id: int, payload: WhenIn) -> Any:
    task = selectors.get_transfer_for(request.user, task_id)
    return _transfer_out(actions.depart_transfer(actor=request.user, task=task, at=payload.at, source="api"))


@router.post("/control/transfers/{int:task_id}/arrive", response=TransferOut, summary="The vehicle arrived")
@api(Cap.CONTROL)
def arrive(request: HttpRequest, task_id: int, payload: WhenIn) -> Any:
    task = selectors.get_transfer_for(request.user, task_id)
    return _transfer_out(actions.arrive_transfer(actor=request.user, task=task, at=payload.at, source="api"))


class FailIn(Schema):
    reason: str
    note: str = ""


@router.post("/control/transfer-members/{int:member_id}/fail", summary="A person could not be picked up")
@api(Cap.CONTROL)
def fail(request: HttpRequest, member_id: int, payload: FailIn) -> Any:
    member = selectors.get_member_for(request.user, member_id)
    m = actions.fail_member(
        actor=request.user, member=member, reason=payload.reason, note=payload.note, source="api"
    )
    return {"id": m.pk, "status": m.status, "order_status": m.order.status}


class HealthIn(Schema):
    day: dt.date | None = None
    temperature: float
    symptoms: list[str] = []
    note: str = ""


@router.post("/control/orders/{int:order_id}/health", response={201: dict}, summary="A daily health check")
@api(Cap.RECORD_HEALTH)
def health(request: HttpRequest, order_id: int, payload: HealthIn) -> Any:
    order = selectors.get_order_for(request.user, order_id)
    r = actions.record_health(
        actor=request.user, order=order, day=payload.day, temperature=payload.temperature,
        symptoms=payload.symptoms, note=payload.note, source="api",
    )  # fmt: skip
    return Status(201, {"id": r.pk, "day": r.day, "alert": r.alert})


class ResultIn(Schema):
    result: str
    ct_value: float | None = None
    sampled_at: dt.datetime | None = None


@router.post("/control/sample-tasks/{int:task_id}/result", summary="A PCR result (a positive becomes a case)")
@api(Cap.CONTROL)
def result(request: HttpRequest, task_id: int, payload: ResultIn) -> Any:
    task = selectors.get_sample_task_for(request.user, task_id)
    out = actions.record_result(
        actor=request.user, task=task, result=payload.result, ct_value=payload.ct_value,
        sampled_at=payload.sampled_at, source="api",
    )  # fmt: skip
    return {"task": out.task.pk, "status": out.task.status, "case": out.case.code if out.case else None}


class ExtendIn(Schema):
    days: int
    reason: str


@router.post(
    "/control/orders/{int:order_id}/extend", response=OrderOut, summary="Extend the plan (with reason)"
)
@api(Cap.CONTROL)
def extend(request: HttpRequest, order_id: int, payload: ExtendIn) -> Any:
    order = selectors.get_order_for(request.user, order_id)
    actions.extend(actor=request.user, order=order, days=payload.days, reason=payload.reason, source="api")
    return _order_out(selectors.get_order_for(request.user, order_id))


@router.post("/control/home-stage", summary="Move persons from centralised isolation to home monitoring")
@api(Cap.CONTROL)
def home_stage(request: HttpRequest, payload: OrdersIn) -> Any:
    n = actions.move_to_home(actor=request.user, orders=_orders(request, payload.orders), source="api")
    return {"moved": n}


@router.post("/control/releases", response=list[OrderOut], summary="Release at the end of the plan")
@api(Cap.CONTROL)
def release(request: HttpRequest, payload: OrdersIn) -> Any:
    done = actions.release(actor=request.user, orders=_orders(request, payload.orders), source="api")
    return [_order_out(o) for o in done]


@router.get("/control/board", summary="Open items per district (每日清零) and the clocks of recent cases")
@api(Cap.VIEW_CONTROL)
def board(request: HttpRequest) -> Any:
    b = selectors.open_items(request.user)
    clocks = selectors.recent_cases_with_clocks(request.user)
    return {
        "items": list(b["items"]),
        "districts": [
            {"district": r.district.code, "name": r.district.name, "open": r.counts, "overdue": r.overdue}
            for r in b["rows"]
        ],
        "total": {"open": b["total"].counts, "overdue": b["total"].overdue},
        "sites": b["sites"],
        "teams": b["teams"],
        "cases": [
            {
                "case": c.code,
                "confirmed_at": k.confirmed_at,
                "judged_hours": k.judge_hours,
                "transferred_hours": k.transfer_hours,
                "isolated_hours": k.isolate_hours,
                "to_judge": k.to_judge,
                "confirmed": k.confirmed,
                "controlled": k.controlled,
            }
            for c, k in clocks
        ],
    }


class SiteOut(Schema):
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


@router.get("/control/sites", response=list[SiteOut], summary="Isolation sites with their capacity")
@api(Cap.VIEW_CONTROL)
def list_sites(request: HttpRequest) -> Any:
    sites = list(selectors.sites_visible_to(request.user))
    cap = selectors.capacity(request.user, sites)
    return [
        {"id": s.pk, "code": s.code, "name": s.name, "district": s.district.code, "active": s.active,
         **{k: getattr(cap[s.pk], k) for k in ("rooms", "beds", "available_rooms", "occupied_rooms", "persons",
                                               "reserved", "cleaning", "out_of_service")}}
        for s in sites
    ]  # fmt: skip


class SiteIn(Schema):
    code: str
    name: str
    jurisdiction: str
    kind: str = "hotel"
    name_en: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    phone: str = ""
    takes_children: bool = True
    takes_special_needs: bool = False


@router.post("/control/sites", response={201: dict}, summary="Add an isolation site")
@api(Cap.CONTROL)
def create_site(request: HttpRequest, payload: SiteIn) -> Any:
    try:
        node = geo.get_jurisdiction_for(request.user, payload.jurisdiction)
    except NotFound:
        node = None
    site = actions.save_site(
        actor=request.user,
        data=actions.SiteData(
            code=payload.code, name=payload.name, jurisdiction=node, kind=payload.kind, name_en=payload.name_en,
            address=payload.address, latitude=payload.latitude, longitude=payload.longitude, phone=payload.phone,
            takes_children=payload.takes_children, takes_special_needs=payload.takes_special_needs,
        ),
        source="api",
    )  # fmt: skip
    return Status(201, {"id": site.pk, "code": site.code})


class RoomsIn(Schema):
    numbers: str
    beds: int = 1
    floor: int | None = None
    accessible: bool = False


@router.post("/control/sites/{code}/rooms", response={201: dict}, summary="Add rooms (e.g. 101-130)")
@api(Cap.CONTROL)
def add_rooms(request: HttpRequest, code: str, payload: RoomsIn) -> Any:
    site = selectors.get_site_for(request.user, code)
    rooms = actions.add_rooms(
        actor=request.user, site=site, numbers=payload.numbers, beds=payload.beds, floor=payload.floor,
        accessible=payload.accessible, source="api",
    )  # fmt: skip
    return Status(201, {"added": len(rooms)})


@router.get("/control/plans", summary="Quarantine plans (versions; the ones in force first)")
@api(Cap.VIEW_CONTROL)
def list_plans(request: HttpRequest) -> Any:
    return [
        {"id": p.pk, "profile": p.profile, "code": p.code, "version": p.version, "applies_to": p.applies_to,
         "in_force": p.in_force, "definition": p.definition, "created_at": p.created_at, "note": p.note}
        for p in selectors.plans(request.user).order_by("-in_force", "profile", "applies_to", "-version")
    ]  # fmt: skip


class PlanIn(Schema):
    applies_to: str
    definition: dict[str, Any]
    note: str


@router.post("/control/plans", response={201: dict}, summary="A new version of a plan, put in force")
@api(Cap.ADMIN)
def save_plan(request: HttpRequest, payload: PlanIn) -> Any:
    Scope.of(request.user).require(Cap.VIEW_CONTROL)
    p = actions.save_plan_version(
        actor=request.user, applies_to=payload.applies_to, definition=payload.definition, note=payload.note,
        source="api",
    )  # fmt: skip
    return Status(201, {"id": p.pk, "code": p.code, "version": p.version})
