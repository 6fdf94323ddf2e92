"""API operations of close-contact control: queue, proposals and placements, transfers, follow-up, release,
sites and plans, and the open-items board. Thin: reads through selectors, writes through actions, answers with
the schemas of ``schemas.py``."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from cordon.apps.geo import selectors as geo
from cordon.core import versions
from cordon.core.access import AuthedRequest, api
from cordon.core.paging import page
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound, Scope

from .. import actions, selectors
from ..models import ControlOrder
from .schemas import (
    ORDERS_CAP,
    QUEUE_CAP,
    BoardOut,
    ExtendIn,
    FailIn,
    FailOut,
    HealthIn,
    HealthOut,
    IsolationSiteIn,
    IsolationSiteOut,
    MovedOut,
    OrderDetailOut,
    OrderFilter,
    OrderOut,
    OrdersIn,
    PlacementsIn,
    PlanIn,
    PlanOut,
    PlanSavedOut,
    ProposalIn,
    ProposalOut,
    QueuePaging,
    ResultIn,
    ResultOut,
    RoomsAddedOut,
    RoomsIn,
    SiteCreatedOut,
    TransferIn,
    TransferOut,
    WhenIn,
)

router = Router(tags=["control"])


def _chosen(request: AuthedRequest, ids: list[int]) -> list[ControlOrder]:
    try:
        return selectors.orders_by_ids(request.user, ids)
    except NotFound:
        raise ValidationError({"orders": _("Unknown person in the list.")}) from None


# --- Orders, queue, placements ----------------------------------------------------------------------------


@router.get("/control/orders", response=list[OrderOut], summary="Control orders in the caller's territory")
@api(Cap.VIEW_CONTROL)
@personal_data()
def list_orders(request: AuthedRequest, f: Query[OrderFilter]) -> list[OrderOut]:
    qs = selectors.search_orders(request.user, status=f.status, query=f.q, district=f.district)
    orders: list[ControlOrder] = page(qs, f, cap=ORDERS_CAP)
    return [OrderOut.of(o) for o in orders]


@router.get("/control/queue", response=list[OrderOut], summary="Judged contacts waiting for placement")
@api(Cap.VIEW_CONTROL)
@personal_data()
def list_queue(request: AuthedRequest, f: Query[QueuePaging]) -> list[OrderOut]:
    orders: list[ControlOrder] = page(selectors.queue(request.user), f, cap=QUEUE_CAP)
    return [OrderOut.of(o) for o in orders]


@router.get(
    "/control/orders/{int:order_id}",
    response=OrderDetailOut,
    summary="An order with its schedule, tests and placements",
)
@api(Cap.VIEW_CONTROL)
@personal_data()
def get_order(request: AuthedRequest, order_id: int) -> OrderDetailOut:
    return OrderDetailOut.of(selectors.get_order_for(request.user, order_id))


@router.post(
    "/control/proposals",
    response=ProposalOut,
    summary="Propose rooms for waiting contacts (nothing is reserved)",
)
@api(Cap.CONTROL)
def propose(request: AuthedRequest, payload: ProposalIn) -> ProposalOut:
    view = selectors.propose_placements(
        request.user, _chosen(request, payload.orders), site_ids=payload.sites
    )
    return ProposalOut.of(view)


@router.post(
    "/control/placements", response={201: list[OrderOut]}, summary="Reserve rooms (accept a proposal)"
)
@api(Cap.CONTROL)
def reserve(request: AuthedRequest, payload: PlacementsIn) -> Status[list[OrderOut]]:
    orders = _chosen(request, [a.order for a in payload.assignments])
    rooms = []
    for a in payload.assignments:
        try:
            rooms.append(selectors.get_room_for(request.user, a.room))
        except NotFound:
            raise ValidationError({"room": _("Unknown room %(id)s.") % {"id": a.room}}) from None
    actions.reserve_rooms(actor=request.user, assignments=list(zip(orders, rooms, strict=True)), source="api")
    return Status(201, [OrderOut.of(o) for o in _chosen(request, [o.pk for o in orders])])


@router.post("/control/home-placements", response={201: list[OrderOut]}, summary="Start home quarantine")
@api(Cap.CONTROL)
def home(request: AuthedRequest, payload: OrdersIn) -> Status[list[OrderOut]]:
    orders = _chosen(request, payload.orders)
    actions.place_at_home(actor=request.user, orders=orders, source="api")
    return Status(201, [OrderOut.of(o) for o in _chosen(request, payload.orders)])


# --- Transfers --------------------------------------------------------------------------------------------


@router.get(
    "/control/transfers", response=list[TransferOut], summary="Transfer tasks of the day and open ones"
)
@api(Cap.VIEW_CONTROL)
@personal_data()
def list_transfers(request: AuthedRequest) -> list[TransferOut]:
    board = selectors.transfer_board(request.user)
    return [TransferOut.of(t) for tasks in board["columns"].values() for t in tasks]


@router.post("/control/transfers", response={201: TransferOut}, summary="Assign a vehicle and team")
@api(Cap.CONTROL)
def create_transfer(request: AuthedRequest, payload: TransferIn) -> Status[TransferOut]:
    task = actions.create_transfer(
        actor=request.user,
        orders=_chosen(request, payload.orders),
        data=actions.TransferData(payload.vehicle, payload.team, payload.pickup_at),
        source="api",
    )
    return Status(201, TransferOut.of(task))


@router.post("/control/transfers/{int:task_id}/depart", response=TransferOut, summary="The vehicle left")
@api(Cap.CONTROL)
def depart(request: AuthedRequest, task_id: int, payload: WhenIn) -> TransferOut:
    task = selectors.get_transfer_for(request.user, task_id)
    return TransferOut.of(actions.depart_transfer(actor=request.user, task=task, at=payload.at, source="api"))


@router.post("/control/transfers/{int:task_id}/arrive", response=TransferOut, summary="The vehicle arrived")
@api(Cap.CONTROL)
def arrive(request: AuthedRequest, task_id: int, payload: WhenIn) -> TransferOut:
    task = selectors.get_transfer_for(request.user, task_id)
    return TransferOut.of(actions.arrive_transfer(actor=request.user, task=task, at=payload.at, source="api"))


@router.post(
    "/control/transfer-members/{int:member_id}/fail",
    response=FailOut,
    summary="A person could not be picked up",
)
@api(Cap.CONTROL)
def fail(request: AuthedRequest, member_id: int, payload: FailIn) -> FailOut:
    member = selectors.get_member_for(request.user, member_id)
    return FailOut.of(
        actions.fail_member(
            actor=request.user, member=member, reason=payload.reason, note=payload.note, source="api"
        )
    )


# --- Follow-up, extension, release ------------------------------------------------------------------------


@router.post(
    "/control/orders/{int:order_id}/health", response={201: HealthOut}, summary="A daily health check"
)
@api(Cap.RECORD_HEALTH)
def health(request: AuthedRequest, order_id: int, payload: HealthIn) -> Status[HealthOut]:
    order = selectors.get_order_for(request.user, order_id)
    r = actions.record_health(
        actor=request.user, order=order, day=payload.day, temperature=payload.temperature,
        symptoms=payload.symptoms, note=payload.note, source="api",
    )  # fmt: skip
    return Status(201, HealthOut.of(r))


@router.post(
    "/control/sample-tasks/{int:task_id}/result",
    response=ResultOut,
    summary="A PCR result (a positive becomes a case)",
)
@api(Cap.CONTROL)
def result(request: AuthedRequest, task_id: int, payload: ResultIn) -> ResultOut:
    task = selectors.get_sample_task_for(request.user, task_id)
    out = actions.record_result(
        actor=request.user, task=task, result=payload.result, ct_value=payload.ct_value,
        sampled_at=payload.sampled_at, source="api",
    )  # fmt: skip
    return ResultOut.of(out)


@router.post(
    "/control/orders/{int:order_id}/extend",
    response={200: OrderOut, 409: versions.ConflictOut},
    summary="Extend the plan (with reason)",
)
@api(Cap.CONTROL)
def extend(request: AuthedRequest, order_id: int, payload: ExtendIn) -> OrderOut:
    order = selectors.get_order_for(request.user, order_id)
    with versions.showing(lambda: OrderOut.of(selectors.get_order_for(request.user, order_id))):
        actions.extend(
            actor=request.user, order=order, days=payload.days, reason=payload.reason,
            version=payload.version, source="api",
        )  # fmt: skip
    return OrderOut.of(selectors.get_order_for(request.user, order_id))


@router.post(
    "/control/home-stage",
    response=MovedOut,
    summary="Move persons from centralised isolation to home monitoring",
)
@api(Cap.CONTROL)
def home_stage(request: AuthedRequest, payload: OrdersIn) -> MovedOut:
    n = actions.move_to_home(actor=request.user, orders=_chosen(request, payload.orders), source="api")
    return MovedOut(moved=n)


@router.post("/control/releases", response=list[OrderOut], summary="Release at the end of the plan")
@api(Cap.CONTROL)
def release(request: AuthedRequest, payload: OrdersIn) -> list[OrderOut]:
    done = actions.release(actor=request.user, orders=_chosen(request, payload.orders), source="api")
    return [OrderOut.of(o) for o in done]


@router.get(
    "/control/board",
    response=BoardOut,
    summary="Open items per district (每日清零) and the clocks of recent cases",
)
@api(Cap.VIEW_CONTROL)
def board(request: AuthedRequest) -> BoardOut:
    return BoardOut.of(selectors.open_items(request.user), selectors.recent_cases_with_clocks(request.user))


# --- Sites and plans --------------------------------------------------------------------------------------


@router.get("/control/sites", response=list[IsolationSiteOut], summary="Isolation sites with their capacity")
@api(Cap.VIEW_CONTROL)
def list_sites(request: AuthedRequest) -> list[IsolationSiteOut]:
    sites = list(selectors.sites_visible_to(request.user))
    cap = selectors.capacity(request.user, sites)
    return [IsolationSiteOut.of(s, cap[s.pk]) for s in sites]


@router.post("/control/sites", response={201: SiteCreatedOut}, summary="Add an isolation site")
@api(Cap.CONTROL)
def create_site(request: AuthedRequest, payload: IsolationSiteIn) -> Status[SiteCreatedOut]:
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
    return Status(201, SiteCreatedOut(id=site.pk, code=site.code))


@router.post("/control/sites/{code}/rooms", response={201: RoomsAddedOut}, summary="Add rooms (e.g. 101-130)")
@api(Cap.CONTROL)
def add_rooms(request: AuthedRequest, code: str, payload: RoomsIn) -> Status[RoomsAddedOut]:
    site = selectors.get_site_for(request.user, code)
    rooms = actions.add_rooms(
        actor=request.user, site=site, numbers=payload.numbers, beds=payload.beds, floor=payload.floor,
        accessible=payload.accessible, source="api",
    )  # fmt: skip
    return Status(201, RoomsAddedOut(added=len(rooms)))


@router.get(
    "/control/plans", response=list[PlanOut], summary="Quarantine plans (versions; the ones in force first)"
)
@api(Cap.VIEW_CONTROL)
def list_plans(request: AuthedRequest) -> list[PlanOut]:
    return [
        PlanOut.of(p)
        for p in selectors.plans(request.user).order_by("-in_force", "profile", "applies_to", "-version")
    ]


@router.post(
    "/control/plans",
    response={201: PlanSavedOut, 409: versions.ConflictOut},
    summary="A new version of a plan, put in force",
)
@api(Cap.ADMIN)
def save_plan(request: AuthedRequest, payload: PlanIn) -> Status[PlanSavedOut]:
    Scope.of(request.user).require(Cap.VIEW_CONTROL)
    with versions.showing(lambda: _plan_in_force(request, payload.applies_to)):
        p = actions.save_plan_version(
            actor=request.user, applies_to=payload.applies_to, definition=payload.definition, note=payload.note,
            based_on=payload.based_on, source="api",
        )  # fmt: skip
    return Status(201, PlanSavedOut(id=p.pk, code=p.code, version=p.version))


def _plan_in_force(request: AuthedRequest, applies_to: str) -> PlanOut | None:
    current = selectors.current_plan(request.user, applies_to)
    return PlanOut.of(current) if current is not None else None
