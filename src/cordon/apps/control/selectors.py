"""Scoped reads of close-contact control: the queue, orders, sites and capacity, proposals, transfers, homes
under control, follow-up lists, clocks per case and the open-items board (每日清零).

- An order is seen by users whose territory holds the person's residence, or the site the person is placed
  at (site staff of another district see the persons in their site).
- A site is seen by users whose territory holds the site.
- A transfer task is seen by users whose territory holds its district or its destination site.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from cordon.apps.accounts.roles import Cap
from cordon.apps.accounts.scoping import NotFound, Scope
from cordon.apps.geo.models import Jurisdiction, Level
from cordon.apps.people.models import SpecialGroup
from cordon.apps.tracing.models import Case, Contact, Decision, Linkage
from cordon.engine import allocation as engine

from .models import (
    LIVE_PLACEMENT,
    NOT_YET_CONTROLLED,
    OPEN_ORDER,
    ControlOrder,
    HealthRecord,
    IsolationSite,
    MemberStatus,
    OrderStatus,
    Placement,
    PlacementMode,
    PlacementStatus,
    QuarantinePlan,
    Room,
    RoomStatus,
    SampleStatus,
    SampleTask,
    TransferMember,
    TransferStatus,
    TransferTask,
)

SPECIAL_NEEDS = frozenset(
    {SpecialGroup.DISABLED, SpecialGroup.PREGNANT, SpecialGroup.DIALYSIS, SpecialGroup.BEDRIDDEN,
     SpecialGroup.MENTAL_HEALTH, SpecialGroup.INFANT}
)  # fmt: skip
CHILD_AGE = 14


def _scope(user: Any, cap: Cap = Cap.VIEW_CONTROL) -> Scope:
    scope = Scope.of(user)
    scope.require(cap)
    return scope


def orders_visible_to(user: Any) -> QuerySet[ControlOrder]:
    scope = _scope(user)
    return ControlOrder.objects.filter(
        scope.territory("jurisdiction") | scope.territory("site__jurisdiction")
    ).select_related("person", "case", "district", "site", "plan", "jurisdiction")


def get_order_for(user: Any, pk: int) -> ControlOrder:
    try:
        return orders_visible_to(user).get(pk=pk)
    except (ControlOrder.DoesNotExist, ValueError):
        raise NotFound from None


def orders_by_ids(user: Any, ids: Sequence[int | str]) -> list[ControlOrder]:
    """The orders with these ids that the user may see, in the order given; an unknown or hidden id raises
    NotFound (a batch is all or nothing)."""
    try:
        wanted = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise NotFound from None
    found = {o.pk: o for o in orders_visible_to(user).filter(pk__in=wanted)}
    if len(found) != len(set(wanted)):
        raise NotFound
    return [found[i] for i in dict.fromkeys(wanted)]


def search_orders(
    user: Any, *, status: str = "", query: str = "", district: str = "", site: int | None = None
) -> QuerySet[ControlOrder]:
    qs = orders_visible_to(user)
    if status == "open":
        qs = qs.filter(status__in=OPEN_ORDER)
    elif status:
        qs = qs.filter(status=status)
    q = query.strip()
    if q:
        qs = qs.filter(
            Q(code__iexact=q)
            | Q(person__name__startswith=q)
            | Q(case__code__iexact=q)
            | Q(person__national_id=q.upper())
        )
    if district:
        qs = qs.filter(district__code=district)
    if site is not None:
        qs = qs.filter(site_id=site)
    return qs


def queue(user: Any, *, centralized: bool | None = None, district: str = "") -> QuerySet[ControlOrder]:
    """Persons judged and not yet placed, the longest waiting (earliest due) first."""
    qs = orders_visible_to(user).filter(status=OrderStatus.WAITING)
    if centralized is not None:
        qs = qs.filter(centralized=centralized)
    if district:
        qs = qs.filter(district__code=district)
    return qs.select_related("person__home_building", "person__household").order_by("due_at", "id")


def plans(user: Any) -> QuerySet[QuarantinePlan]:
    _scope(user)
    return QuarantinePlan.objects.select_related("created_by")


def get_plan_for(user: Any, pk: int) -> QuarantinePlan:
    try:
        return plans(user).get(pk=pk)
    except (QuarantinePlan.DoesNotExist, ValueError):
        raise NotFound from None


# --- Sites, rooms, capacity --------------------------------------------------------------------------------


def sites_visible_to(user: Any) -> QuerySet[IsolationSite]:
    scope = _scope(user)
    return scope.filter(IsolationSite.objects.select_related("district", "jurisdiction"))


def get_site_for(user: Any, key: int | str) -> IsolationSite:
    qs = sites_visible_to(user)
    try:
        return qs.get(pk=key) if isinstance(key, int) else qs.get(code=key)
    except (IsolationSite.DoesNotExist, ValueError):
        raise NotFound from None


def get_room_for(user: Any, pk: int) -> Room:
    try:
        return Room.objects.select_related("site").get(pk=pk, site__in=sites_visible_to(user))
    except (Room.DoesNotExist, ValueError):
        raise NotFound from None


@dataclass
class Capacity:
    rooms: int = 0
    beds: int = 0
    available_rooms: int = 0
    available_beds: int = 0
    occupied_rooms: int = 0
    persons: int = 0
    reserved: int = 0
    cleaning: int = 0
    out_of_service: int = 0

    def add(self, other: Capacity) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def use_percent(self) -> int:
        usable = self.rooms - self.out_of_service
        return round(100 * self.occupied_rooms / usable) if usable else 0


def capacity(user: Any, sites: Sequence[IsolationSite] | None = None) -> dict[int, Capacity]:
    """Capacity per site (rooms and beds by status, persons staying and reserved), in two grouped queries."""
    site_ids = (
        [s.pk for s in sites]
        if sites is not None
        else list(sites_visible_to(user).values_list("pk", flat=True))
    )
    out = {pk: Capacity() for pk in site_ids}
    for row in (
        Room.objects.filter(site_id__in=site_ids)
        .values("site_id", "status")
        .annotate(n=Count("id"), beds=Sum("beds"))
    ):
        c = out[row["site_id"]]
        c.rooms += row["n"]
        c.beds += row["beds"] or 0
        if row["status"] == RoomStatus.AVAILABLE:
            c.available_rooms += row["n"]
            c.available_beds += row["beds"] or 0
        elif row["status"] == RoomStatus.OCCUPIED:
            c.occupied_rooms += row["n"]
        elif row["status"] == RoomStatus.CLEANING:
            c.cleaning += row["n"]
        else:
            c.out_of_service += row["n"]
    for live in (
        Placement.objects.filter(site_id__in=site_ids, status__in=LIVE_PLACEMENT)
        .values("site_id", "status")
        .annotate(n=Count("id"))
    ):
        if live["status"] == PlacementStatus.ACTIVE:
            out[live["site_id"]].persons += live["n"]
        else:
            out[live["site_id"]].reserved += live["n"]
    return out


def capacity_by_district(user: Any) -> tuple[list[dict[str, Any]], Capacity]:
    sites = list(sites_visible_to(user))
    per_site = capacity(user, sites)
    rows: dict[int, dict[str, Any]] = {}
    total = Capacity()
    for s in sites:
        row = rows.setdefault(s.district_id, {"district": s.district, "sites": 0, "capacity": Capacity()})
        row["sites"] += 1
        row["capacity"].add(per_site[s.pk])
        total.add(per_site[s.pk])
    return sorted(rows.values(), key=lambda r: r["district"].code), total


def rooms_of(site: IsolationSite) -> list[Room]:
    """``site`` must come from ``get_site_for``. Each room carries ``occupants`` (live placements)."""
    rooms = list(Room.objects.filter(site=site).order_by("floor", "number"))
    occupants: dict[int, list[Placement]] = defaultdict(list)
    for p in Placement.objects.filter(site=site, status__in=LIVE_PLACEMENT).select_related("person", "order"):
        occupants[p.room_id or 0].append(p)
    for r in rooms:
        r.occupants = occupants.get(r.pk, [])  # type: ignore[attr-defined]
    return rooms


# --- Proposals ---------------------------------------------------------------------------------------------


@dataclass
class ProposedRow:
    order: ControlOrder
    site: IsolationSite | None = None
    room: Room | None = None
    distance_km: float | None = None
    reason: str = ""
    options: list[Room] = field(default_factory=list)


def spare_rooms(sites: Sequence[IsolationSite], *, exclude: set[int], per_site: int) -> dict[int, list[Room]]:
    """Up to ``per_site`` available rooms of each site, leaving out ``exclude`` (rooms already proposed)."""
    out: dict[int, list[Room]] = defaultdict(list)
    for s in sites:
        out[s.pk] = list(
            Room.objects.filter(site=s, status=RoomStatus.AVAILABLE)
            .exclude(pk__in=exclude)
            .select_related("site")
            .order_by("floor", "number")[:per_site]
        )
    return out


@dataclass
class ProposalView:
    rows: list[ProposedRow]
    split_households: int = 0
    sites: list[IsolationSite] = field(default_factory=list)


def _age(person: Any, today: dt.date) -> int | None:
    b = person.birth_date
    if b is None:
        return None
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def propose_placements(
    user: Any, orders: Sequence[ControlOrder], *, site_ids: Sequence[int] = ()
) -> ProposalView:
    """Placements for waiting orders of centralised plans over the available rooms of the open sites the user
    sees (or of ``site_ids``): households together, children with a guardian, special needs in accessible
    rooms at sites that take them, nearest site first (see ``cordon.engine.allocation``)."""
    sites_qs = sites_visible_to(user).filter(active=True)
    if site_ids:
        sites_qs = sites_qs.filter(pk__in=list(site_ids))
    sites = list(sites_qs)
    rooms = list(Room.objects.filter(site__in=sites, status=RoomStatus.AVAILABLE).select_related("site"))
    today = timezone.localdate()
    persons = []
    for o in orders:
        p = o.person
        b = p.home_building
        age = _age(p, today)
        persons.append(
            engine.Person(
                id=o.pk,
                household=p.household_id or -1,
                lon=b.longitude if b else None,
                lat=b.latitude if b else None,
                child=age is not None and age < CHILD_AGE,
                special_needs=bool(SPECIAL_NEEDS & set(p.tags or [])),
            )
        )
    result = engine.propose(
        persons,
        [engine.Site(s.pk, s.longitude, s.latitude, s.takes_children, s.takes_special_needs) for s in sites],
        [engine.Room(r.pk, r.site_id, r.beds, r.accessible) for r in rooms],
    )
    site_by_id = {s.pk: s for s in sites}
    room_by_id = {r.pk: r for r in rooms}
    placed = {pl.person: pl for pl in result.placements}
    why = {u.person: u.reason for u in result.unplaced}
    rows = []
    for o in orders:
        pl = placed.get(o.pk)
        if pl is not None:
            rows.append(ProposedRow(o, site_by_id[pl.site], room_by_id[pl.room], round(pl.distance_km, 1)))
        else:
            rows.append(ProposedRow(o, reason=why.get(o.pk, "no_capacity")))
    return ProposalView(rows, len(result.split_households), sites)


# --- Transfers, homes, follow-up ---------------------------------------------------------------------------


def transfers_visible_to(user: Any) -> QuerySet[TransferTask]:
    scope = _scope(user)
    return TransferTask.objects.filter(
        scope.territory("district") | scope.territory("site__jurisdiction")
    ).select_related("site", "district")


def get_transfer_for(user: Any, pk: int) -> TransferTask:
    try:
        return transfers_visible_to(user).get(pk=pk)
    except (TransferTask.DoesNotExist, ValueError):
        raise NotFound from None


def get_member_for(user: Any, pk: int) -> TransferMember:
    try:
        return TransferMember.objects.select_related("task", "order__person").get(
            pk=pk, task__in=transfers_visible_to(user)
        )
    except (TransferMember.DoesNotExist, ValueError):
        raise NotFound from None


def transfer_board(user: Any, day: dt.date | None = None) -> dict[str, Any]:
    """Rooms reserved and waiting for a vehicle (by site), and the tasks of the day by status."""
    day = day or timezone.localdate()
    allocated = (
        orders_visible_to(user)
        .filter(status=OrderStatus.ALLOCATED)
        .select_related("person__home_building")
        .order_by("site__code", "due_at")
    )
    by_site: dict[int, dict[str, Any]] = {}
    rooms = {
        p.order_id: p.room
        for p in Placement.objects.filter(
            order__in=allocated, status=PlacementStatus.RESERVED
        ).select_related("room")
    }
    for o in allocated:
        entry = by_site.setdefault(o.site_id or 0, {"site": o.site, "orders": []})
        o.room = rooms.get(o.pk)  # type: ignore[attr-defined]
        entry["orders"].append(o)
    tasks = list(
        transfers_visible_to(user)
        # Open tasks, the day's pickups, and what arrived that day (a pickup planned past midnight included).
        .filter(
            Q(status__in=[TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE])
            | Q(pickup_at__date=day)
            | Q(arrived_at__date=day)
        )
        .annotate(
            n=Count("members"),
            failed=Count("members", filter=Q(members__status=MemberStatus.FAILED)),
        )
        .order_by("pickup_at")
    )
    members: dict[int, list[TransferMember]] = defaultdict(list)
    for m in TransferMember.objects.filter(task__in=[t.pk for t in tasks]).select_related("order__person"):
        members[m.task_id].append(m)
    columns: dict[str, list[TransferTask]] = {s: [] for s in TransferStatus.values}
    for t in tasks:
        t.member_list = members.get(t.pk, [])  # type: ignore[attr-defined]
        columns[t.status].append(t)
    return {"waiting": list(by_site.values()), "columns": columns, "day": day}


def homes_under_control(user: Any) -> list[dict[str, Any]]:
    """Buildings with persons in home quarantine or home monitoring in the user's territory (for the grid
    workers), with who and until when."""
    scope = _scope(user)
    placements = (
        Placement.objects.filter(
            scope.territory("building__jurisdiction"), mode=PlacementMode.HOME, status=PlacementStatus.ACTIVE
        )
        .select_related("building", "building__jurisdiction", "person", "order", "order__plan")
        .order_by("building__jurisdiction__code", "building__address")
    )
    out: dict[int, dict[str, Any]] = {}
    for p in placements:
        entry = out.setdefault(p.building_id or 0, {"building": p.building, "persons": []})
        sched = p.order.schedule()
        stage = sched.stage_on(timezone.localdate()) if sched else None
        entry["persons"].append(
            {"placement": p, "order": p.order, "until": sched.last_day if sched else None, "stage": stage}
        )
    return list(out.values())


def home_buildings(user: Any) -> set[int]:
    scope = Scope.of(user)
    if not scope.can(Cap.VIEW_CONTROL):
        return set()
    return set(
        Placement.objects.filter(
            scope.territory("building__jurisdiction"), mode=PlacementMode.HOME, status=PlacementStatus.ACTIVE
        ).values_list("building_id", flat=True)
    )


def sample_tasks_due(
    user: Any, day: dt.date | None = None, *, site: int | None = None
) -> QuerySet[SampleTask]:
    """Sample tasks due by ``day`` (default today) without a result, for persons under control."""
    day = day or timezone.localdate()
    qs = SampleTask.objects.filter(
        order__in=orders_visible_to(user).filter(status__in=[OrderStatus.ISOLATED, OrderStatus.HOME]),
        due_on__lte=day,
        status__in=[SampleStatus.DUE, SampleStatus.SAMPLED, SampleStatus.INVALID],
    ).select_related("order__person", "order__site")
    if site is not None:
        qs = qs.filter(order__site_id=site)
    return qs.order_by("due_on", "order__site__code", "id")


def get_sample_task_for(user: Any, pk: int) -> SampleTask:
    try:
        return SampleTask.objects.select_related("order__person").get(
            pk=pk, order__in=orders_visible_to(user)
        )
    except (SampleTask.DoesNotExist, ValueError):
        raise NotFound from None


def open_alerts(user: Any) -> QuerySet[HealthRecord]:
    return (
        HealthRecord.objects.filter(alert=True, handled_at__isnull=True, order__in=orders_visible_to(user))
        .select_related("order__person", "order__site")
        .order_by("day", "id")
    )


def get_health_record_for(user: Any, pk: int) -> HealthRecord:
    try:
        return HealthRecord.objects.select_related("order__person").get(
            pk=pk, order__in=orders_visible_to(user)
        )
    except (HealthRecord.DoesNotExist, ValueError):
        raise NotFound from None


def releases_due(user: Any, today: dt.date | None = None) -> list[ControlOrder]:
    """Persons under control whose plan (with extensions) has reached its last day."""
    today = today or timezone.localdate()
    qs = orders_visible_to(user).filter(
        status__in=[OrderStatus.ISOLATED, OrderStatus.HOME], start_date__lte=today
    )
    out = []
    for o in qs:
        sched = o.schedule()
        if sched is not None and sched.last_day <= today:
            out.append(o)
    return out


def home_stage_due(user: Any, today: dt.date | None = None) -> list[ControlOrder]:
    """Persons in centralised isolation whose plan continues at home from today or earlier."""
    today = today or timezone.localdate()
    out = []
    for o in orders_visible_to(user).filter(status=OrderStatus.ISOLATED, start_date__lte=today):
        sched = o.schedule()
        nxt = next((s for s in sched.stages if s.kind != "centralized"), None) if sched else None
        if nxt is not None and nxt.first <= today:
            out.append(o)
    return out


# --- Clocks and the open-items board (每日清零) ------------------------------------------------------------


@dataclass
class Clock:
    confirmed_at: dt.datetime
    judged_at: dt.datetime | None
    transferred_at: dt.datetime | None
    isolated_at: dt.datetime | None
    to_judge: int
    close_confirmed: int
    close_transferred: int
    confirmed: int
    controlled: int
    traced: bool = True

    @staticmethod
    def hours(start: dt.datetime, end: dt.datetime | None) -> float | None:
        return None if end is None else round((end - start).total_seconds() / 3600, 1)

    @property
    def judge_hours(self) -> float | None:
        return self.hours(self.confirmed_at, self.judged_at)

    @property
    def transfer_hours(self) -> float | None:
        return self.hours(self.confirmed_at, self.transferred_at)

    @property
    def isolate_hours(self) -> float | None:
        return self.hours(self.confirmed_at, self.isolated_at)


def case_clocks(cases: Sequence[Case]) -> dict[int, Clock]:
    """For each case, from its confirmation (report): when every candidate close or secondary contact was
    judged, when every confirmed close contact arrived in centralised isolation (transferred), and when every
    confirmed contact was under control (isolated, at home, or already closed). None: not yet."""
    ids = [c.pk for c in cases]
    contacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Contact.objects.filter(case_id__in=ids, degree__gt=0).values(
        "case_id", "person_id", "degree", "status", "decided_at"
    ):
        contacts[row["case_id"]].append(dict(row))
    person_ids = {r["person_id"] for rows in contacts.values() for r in rows}
    # The first time each person came under control after being judged (any order of theirs).
    controlled: dict[int, dt.datetime] = {}
    for first in (
        ControlOrder.objects.filter(person_id__in=person_ids, controlled_at__isnull=False)
        .values("person_id")
        .annotate(first=Min("controlled_at"))
    ):
        controlled[first["person_id"]] = first["first"]
    converted = set(
        ControlOrder.objects.filter(person_id__in=person_ids, status=OrderStatus.CONVERTED).values_list(
            "person_id", flat=True
        )
    )
    out = {}
    for case in cases:
        rows = contacts.get(case.pk, [])
        to_judge = sum(1 for r in rows if r["status"] == Decision.CANDIDATE)
        decided = [r["decided_at"] for r in rows if r["status"] != Decision.CANDIDATE and r["decided_at"]]
        judged_at = (max(decided) if decided else case.traced_at) if case.traced_at and not to_judge else None
        confirmed = [r for r in rows if r["status"] == Decision.CONFIRMED]
        close = [r for r in confirmed if r["degree"] == 1]

        def done(rs: list[dict[str, Any]]) -> tuple[int, dt.datetime | None]:
            times = [controlled.get(r["person_id"]) for r in rs]
            n = sum(1 for t, r in zip(times, rs, strict=True) if t is not None or r["person_id"] in converted)
            known = [t for t in times if t is not None]
            return n, (max(known) if known else None) if n == len(rs) else None

        n_close, t_close = done(close)
        n_all, t_all = done(confirmed)
        if judged_at is None:
            t_close = t_all = None
        out[case.pk] = Clock(
            confirmed_at=case.reported_at,
            judged_at=judged_at,
            transferred_at=(t_close or judged_at) if judged_at else None,
            isolated_at=(t_all or judged_at) if judged_at and (t_all or not confirmed) else None,
            to_judge=to_judge,
            close_confirmed=len(close),
            close_transferred=n_close,
            confirmed=len(confirmed),
            controlled=n_all,
            traced=case.traced_at is not None,
        )
        if confirmed and t_all is None:
            out[case.pk].isolated_at = None
        if close and t_close is None:
            out[case.pk].transferred_at = None
    return out


ITEMS = (
    "untraced",
    "to_judge",
    "linkage",
    "waiting",
    "transfers",
    "missed_tests",
    "alerts",
    "releases",
    "temporary_controls",
    "resamples",
)


@dataclass
class BoardRow:
    district: Jurisdiction
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ITEMS, 0))
    overdue: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ITEMS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def open_items(user: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """Every open item per district, the list that must reach zero each day: cases not traced, candidates not
    judged, handovers not acknowledged, persons not yet under control, transfers not done, tests missed,
    health alerts not handled and releases due. Also per site (tests missed, alerts) and per transfer team."""
    from django.conf import settings

    scope = _scope(user)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    path = scope.path or "\0"
    # The districts in the user's subtree, or the one district a street or community user lies in.
    ancestors = ["/".join(path.split("/")[:i]) + "/" for i in range(2, path.count("/"))]
    districts = {
        d.pk: d
        for d in Jurisdiction.objects.filter(level=Level.DISTRICT)
        .filter(Q(path__startswith=path) | Q(path__in=ancestors))
        .order_by("code")
    }
    rows = {pk: BoardRow(d) for pk, d in districts.items()}

    def bump(district_id: int | None, item: str, n: int, late: int = 0) -> None:
        if district_id in rows:
            rows[district_id].counts[item] += n
            rows[district_id].overdue[item] += late

    can_cases = scope.can(Cap.VIEW_CASES)
    judge = dt.timedelta(hours=settings.CORDON_JUDGE_HOURS)
    if can_cases:
        cases = scope.filter(Case.objects.all())
        for r in (
            cases.filter(traced_at__isnull=True)
            .values("district_id")
            .annotate(n=Count("id"), late=Count("id", filter=Q(reported_at__lt=now - judge)))
        ):
            bump(r["district_id"], "untraced", r["n"], r["late"])
        for r in (
            Contact.objects.filter(case__in=cases, status=Decision.CANDIDATE, degree__gt=0)
            .values("case__district_id")
            .annotate(n=Count("id"), late=Count("id", filter=Q(found_at__lt=now - judge)))
        ):
            bump(r["case__district_id"], "to_judge", r["n"], r["late"])
        ack = dt.timedelta(hours=settings.CORDON_LINKAGE_ACK_HOURS)
        for r in (
            Linkage.objects.filter(scope.territory("to_district"), acknowledged_at__isnull=True)
            .values("to_district_id")
            .annotate(n=Count("id"), late=Count("id", filter=Q(created_at__lt=now - ack)))
        ):
            bump(r["to_district_id"], "linkage", r["n"], r["late"])
    orders = orders_visible_to(user)
    for r in (
        orders.filter(status__in=NOT_YET_CONTROLLED)
        .values("district_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=now)))
    ):
        bump(r["district_id"], "waiting", r["n"], r["late"])
    tasks = list(
        transfers_visible_to(user).filter(status__in=[TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE])
    )
    teams: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0})
    for t in tasks:
        late = t.overdue(now)
        bump(t.district_id, "transfers", 1, int(late))
        teams[t.team]["open"] += 1
        teams[t.team]["overdue"] += int(late)
    missed = SampleTask.objects.filter(
        order__in=orders.filter(status__in=[OrderStatus.ISOLATED, OrderStatus.HOME]),
        status=SampleStatus.DUE,
        due_on__lt=today,
    )
    for r in missed.values("order__district_id").annotate(n=Count("id")):
        bump(r["order__district_id"], "missed_tests", r["n"], r["n"])
    alerts = open_alerts(user)
    for r in alerts.values("order__district_id").annotate(n=Count("id")):
        bump(r["order__district_id"], "alerts", r["n"], r["n"])
    due = releases_due(user, today)
    for o in due:
        bump(o.district_id, "releases", 1)
    # Screening: persons of positive pools under temporary control, re-sample tasks overdue.
    from cordon.apps.screening.selectors import open_items_by_district

    for district_id, n in open_items_by_district(user, now).items():
        bump(district_id, "temporary_controls", n["temporary_controls"])
        bump(district_id, "resamples", n["overdue_resamples"], n["overdue_resamples"])
    sites: dict[int, dict[str, Any]] = {}
    for r in (
        missed.exclude(order__site__isnull=True)
        .values("order__site_id", "order__site__name")
        .annotate(n=Count("id"))
    ):
        sites.setdefault(
            r["order__site_id"], {"name": r["order__site__name"], "missed_tests": 0, "alerts": 0}
        )
        sites[r["order__site_id"]]["missed_tests"] = r["n"]
    for r in (
        alerts.exclude(order__site__isnull=True)
        .values("order__site_id", "order__site__name")
        .annotate(n=Count("id"))
    ):
        sites.setdefault(
            r["order__site_id"], {"name": r["order__site__name"], "missed_tests": 0, "alerts": 0}
        )
        sites[r["order__site_id"]]["alerts"] = r["n"]
    board = list(rows.values())
    total = BoardRow(Jurisdiction(name="", code=""))
    for row in board:
        for k in ITEMS:
            total.counts[k] += row.counts[k]
            total.overdue[k] += row.overdue[k]
    return {
        "rows": board,
        "total": total,
        "items": ITEMS if can_cases else ITEMS[3:],
        "sites": sorted(sites.values(), key=lambda s: -(s["missed_tests"] + s["alerts"])),
        "teams": sorted(({"team": k, **v} for k, v in teams.items()), key=lambda t: -t["overdue"]),
        "now": now,
    }


def recent_cases_with_clocks(user: Any, days: int = 3) -> list[tuple[Case, Clock]]:
    """Cases reported in the last ``days`` days in the user's territory, with their clocks."""
    scope = Scope.of(user)
    if not scope.can(Cap.VIEW_CASES):
        return []
    since = timezone.now() - dt.timedelta(days=days)
    cases = list(scope.filter(Case.objects.select_related("district")).filter(reported_at__gte=since)[:500])
    clocks = case_clocks(cases)
    return [(c, clocks[c.pk]) for c in cases]


def order_timeline(order: ControlOrder) -> dict[str, Any]:
    """The schedule with each test's task, the placements, transfers, health records and extensions of an
    order (which must come from ``get_order_for``)."""
    sched = order.schedule()
    tasks = {t.key: t for t in order.sample_tasks.all()}
    tests = [{"planned": t, "task": tasks.get(t.key)} for t in sched.tests] if sched else []
    return {
        "schedule": sched,
        "tests": tests,
        "placements": list(
            order.placements.select_related("site", "room", "building").order_by("reserved_at")
        ),
        "transfers": list(order.transfers.select_related("task").order_by("task__pickup_at")),
        "health": list(order.health_records.select_related("recorded_by", "handled_by")),
        "extensions": list(order.extensions.select_related("created_by")),
        "last_update": order.health_records.aggregate(m=Max("recorded_at"))["m"],
    }
