"""Every write of close-contact control: plans, sites and rooms, control orders, placements, transfers,
sample tasks and results, health records, extensions, release.

Each public function is one transaction that checks its input, refuses with ``ValidationError({field:
message})`` and changes nothing when something is wrong, and writes the audit trail. Bulk paths (hundreds of
contacts at once) write with ``bulk_create``/``bulk_update`` and one audit row per record.

Concurrency: placing locks the orders and rooms concerned (``select_for_update``, in id order) and re-checks
them, so two officers placing the same person end with one placement and a clear message for the other; the
partial unique constraints (one open order and one live placement per person) back this up in the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cordon.apps.audit import actions as audit
from cordon.apps.geo.models import Jurisdiction
from cordon.apps.tracing.models import Case, Contact, Decision, Degree
from cordon.engine import quarantine as engine

from .models import (
    FEVER_CELSIUS,
    LIVE_PLACEMENT,
    NOT_YET_CONTROLLED,
    OPEN_ORDER,
    AppliesTo,
    ControlOrder,
    EndReason,
    Extension,
    FailureReason,
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
    SiteKind,
    Symptom,
    TransferMember,
    TransferStatus,
    TransferTask,
)

MAX_TRANSFER_GROUP = 40
MAX_EXTENSION_DAYS = 30


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _district_of(node: Jurisdiction) -> Jurisdiction:
    from cordon.apps.tracing.actions import district_of

    return district_of(node)


# --- Quarantine plans --------------------------------------------------------------------------------------


def profile_id() -> str:
    return str(settings.CORDON_PATHOGEN_PROFILE)


def plan_in_force(applies_to: str, profile: str | None = None) -> QuarantinePlan:
    """The plan in force for ``applies_to``. Where no plan was ever set for the profile (a database flushed or
    restored without the installation's data), the profile's default is put in force; a profile whose plans an
    administrator has all withdrawn stays without one, and judgment is refused with the reason."""
    profile = profile or profile_id()
    plan = QuarantinePlan.objects.filter(profile=profile, applies_to=applies_to, in_force=True).first()
    if plan is None and not QuarantinePlan.objects.filter(profile=profile, applies_to=applies_to).exists():
        load_default_plans(profile)
        plan = QuarantinePlan.objects.filter(profile=profile, applies_to=applies_to, in_force=True).first()
    if plan is None:
        raise ValidationError(
            {"plan": _("No quarantine plan is in force for %(who)s; an administrator must set one.")
             % {"who": AppliesTo(applies_to).label}}
        )  # fmt: skip
    return plan


def _plan_problems(exc: engine.PlanError) -> str:
    return "; ".join(exc.problems)


@transaction.atomic
def save_plan_version(
    *, actor: Any, applies_to: str, definition: dict[str, Any], note: str, profile: str | None = None,
    source: str = "web",
) -> QuarantinePlan:  # fmt: skip
    """A new version of the plan for ``applies_to``, put in force (the previous one stays for the placements
    made under it)."""
    profile = profile or profile_id()
    if applies_to not in AppliesTo.values:
        raise ValidationError({"applies_to": _("Unknown kind of contact.")})
    definition = {**definition, "applies_to": applies_to}
    try:
        plan = engine.parse_plan(definition)
    except engine.PlanError as exc:
        raise ValidationError({"definition": _plan_problems(exc)}) from None
    if not note.strip():
        raise ValidationError({"note": _("Say why the plan changes.")})
    current = (
        QuarantinePlan.objects.select_for_update(of=("self",))
        .filter(profile=profile, applies_to=applies_to, in_force=True)
        .first()
    )
    if current is not None and current.definition == plan.to_dict():
        raise ValidationError({"definition": _("Nothing changed.")})
    version = (
        QuarantinePlan.objects.filter(profile=profile, code=plan.code).aggregate(v=Max("version"))["v"] or 0
    ) + 1
    if current is not None:
        before = audit.snapshot(current)
        current.in_force = False
        current.save(update_fields=["in_force"])
        audit.record_update(actor, current, before, source=source)
    row = QuarantinePlan.objects.create(
        profile=profile,
        code=plan.code,
        version=version,
        applies_to=applies_to,
        name=plan.name,
        name_zh=plan.name_zh,
        definition=plan.to_dict(),
        in_force=True,
        note=note.strip()[:300],
        created_by=_user(actor),
    )
    audit.record_create(actor, row, source=source)
    return row


def load_default_plans(profile: str | None = None) -> int:
    """Put the profile's default plans in force where no plan is (installation, tests, the demo)."""
    profile = profile or profile_id()
    made = 0
    for plan in engine.default_plans(profile):
        if QuarantinePlan.objects.filter(profile=profile, applies_to=plan.applies_to, in_force=True).exists():
            continue
        QuarantinePlan.objects.create(
            profile=profile,
            code=plan.code,
            version=(
                QuarantinePlan.objects.filter(profile=profile, code=plan.code).aggregate(v=Max("version"))[
                    "v"
                ]
                or 0
            )
            + 1,
            applies_to=plan.applies_to,
            name=plan.name,
            name_zh=plan.name_zh,
            definition=plan.to_dict(),
            note="profile default",
        )
        made += 1
    return made


# --- Sites and rooms ---------------------------------------------------------------------------------------


@dataclass
class SiteData:
    code: str
    name: str
    jurisdiction: Jurisdiction | None
    kind: str = SiteKind.HOTEL
    name_en: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    phone: str = ""
    takes_children: bool = True
    takes_special_needs: bool = False
    active: bool = True
    note: str = ""


def clean_site(data: SiteData, instance: IsolationSite | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("A code is required.")
    elif (
        IsolationSite.objects.filter(code=data.code.strip())
        .exclude(pk=instance.pk if instance is not None else 0)
        .exists()
    ):
        errors["code"] = _("This code is already used.")
    if not data.name.strip():
        errors["name"] = _("A name is required.")
    if data.jurisdiction is None:
        errors["jurisdiction"] = _("Choose the jurisdiction the site belongs to.")
    if data.kind not in SiteKind.values:
        errors["kind"] = _("Unknown kind of site.")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        errors["latitude"] = _("A latitude lies between -90 and 90.")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        errors["longitude"] = _("A longitude lies between -180 and 180.")
    return errors


@transaction.atomic
def save_site(
    *, actor: Any, data: SiteData, instance: IsolationSite | None = None, source: str = "web"
) -> IsolationSite:
    errors = clean_site(data, instance)
    if errors:
        raise ValidationError(errors)
    assert data.jurisdiction is not None
    site = instance or IsolationSite()
    before = audit.snapshot(site) if instance else None
    site.code, site.name, site.name_en = data.code.strip(), data.name.strip(), data.name_en.strip()
    site.kind, site.jurisdiction = data.kind, data.jurisdiction
    site.district = _district_of(data.jurisdiction)
    site.address, site.phone, site.note = data.address.strip(), data.phone.strip(), data.note.strip()
    site.latitude, site.longitude = data.latitude, data.longitude
    site.takes_children, site.takes_special_needs, site.active = (
        data.takes_children,
        data.takes_special_needs,
        data.active,
    )
    site.save()
    if before is None:
        audit.record_create(actor, site, source=source)
    else:
        audit.record_update(actor, site, before, source=source)
    return site


def parse_room_numbers(spec: str) -> list[str]:
    """'101-130, 201-230, A1' -> the room numbers; ranges keep the width of their first number."""
    out: list[str] = []
    for part in (p.strip() for p in spec.replace("，", ",").split(",")):
        if not part:
            continue
        if "-" in part:
            a, b = (x.strip() for x in part.split("-", 1))
            if not (a.isdigit() and b.isdigit()) or int(b) < int(a):
                raise ValidationError({"numbers": _("Cannot read the range %(r)s.") % {"r": part}})
            if int(b) - int(a) >= 2000:
                raise ValidationError({"numbers": _("A range may hold at most 2,000 rooms.")})
            out += [str(n).zfill(len(a)) for n in range(int(a), int(b) + 1)]
        else:
            out.append(part[:20])
    if not out:
        raise ValidationError({"numbers": _("Give room numbers, e.g. 101-130.")})
    return out


@transaction.atomic
def add_rooms(
    *, actor: Any, site: IsolationSite, numbers: str, beds: int = 1, floor: int | None = None,
    accessible: bool = False, source: str = "web",
) -> list[Room]:  # fmt: skip
    wanted = parse_room_numbers(numbers)
    if not 1 <= beds <= 12:
        raise ValidationError({"beds": _("A room has from 1 to 12 beds.")})
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"numbers": _("A room number is listed twice.")})
    taken = set(Room.objects.filter(site=site, number__in=wanted).values_list("number", flat=True))
    if taken:
        raise ValidationError(
            {"numbers": _("These rooms exist already: %(rooms)s.") % {"rooms": ", ".join(sorted(taken)[:10])}}
        )
    rooms = Room.objects.bulk_create(
        [
            Room(
                site=site,
                number=n,
                floor=floor if floor is not None else (int(n[:-2]) if n.isdigit() and len(n) > 2 else None),
                beds=beds,
                accessible=accessible,
            )
            for n in wanted
        ]
    )
    audit.record_bulk_create(actor, rooms, source=source)
    return rooms


@transaction.atomic
def set_room_status(*, actor: Any, room: Room, status: str, source: str = "web") -> Room:
    room = Room.objects.select_for_update(of=("self",)).get(pk=room.pk)
    if status not in RoomStatus.values:
        raise ValidationError({"status": _("Unknown room status.")})
    occupied = Placement.objects.filter(room=room, status__in=LIVE_PLACEMENT).exists()
    if status == RoomStatus.OCCUPIED and not occupied:
        raise ValidationError({"status": _("A room becomes occupied by placing someone in it.")})
    if status != RoomStatus.OCCUPIED and occupied:
        raise ValidationError(
            {"status": _("Someone is placed in this room; it stays occupied until they leave.")}
        )
    before = audit.snapshot(room)
    room.status = status
    room.save(update_fields=["status"])
    audit.record_update(actor, room, before, source=source)
    return room


# --- Control orders ---------------------------------------------------------------------------------------


def _codes(prefix: str, model: Any, n: int) -> list[str]:
    last = (
        model.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    )
    start = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return [f"{prefix}{i:05d}" for i in range(start, start + n)]


@transaction.atomic
def open_orders(*, actor: Any, contacts: Sequence[Contact], source: str = "web") -> list[ControlOrder]:
    """Open a control order for every confirmed close or secondary contact who has none open and is not a
    case (a secondary contact confirmed again as close is moved to the close-contact plan while waiting or at
    home). The clock starts at the judgment."""
    candidates = [c for c in contacts if c.status == Decision.CONFIRMED and c.degree in (1, 2)]
    if not candidates:
        return []
    person_ids = {c.person_id for c in candidates}
    open_by_person = {
        o.person_id: o
        for o in ControlOrder.objects.select_for_update(of=("self",)).filter(
            person_id__in=person_ids, status__in=OPEN_ORDER
        )
    }
    cases = set(Case.objects.filter(person_id__in=person_ids).values_list("person_id", flat=True))
    plans = {a: plan_in_force(a) for a in ({"close" if c.degree == 1 else "secondary" for c in candidates})}
    made: list[ControlOrder] = []
    seen: set[int] = set()
    now = timezone.now()
    # Close contacts first, so a person found both ways gets the close-contact plan.
    for c in sorted(candidates, key=lambda c: (c.degree, c.pk)):
        if c.person_id in cases or c.person_id in seen:
            continue
        seen.add(c.person_id)
        plan = plans["close" if c.degree == Degree.CLOSE else "secondary"]
        decided = c.decided_at or now
        existing = open_by_person.get(c.person_id)
        if existing is not None:
            if c.degree == Degree.CLOSE and existing.degree == Degree.SECONDARY:
                _upgrade(actor, existing, c, plan, decided, source)
            continue
        made.append(
            ControlOrder(
                person_id=c.person_id,
                case_id=c.case_id,
                contact=c,
                degree=c.degree,
                plan=plan,
                centralized=plan.plan.centralized,
                jurisdiction_id=c.jurisdiction_id,
                district_id=c.district_id,
                opened_at=decided,
                due_at=decided + dt.timedelta(hours=plan.plan.transfer_within_hours),
            )
        )
    by_district: dict[int, list[ControlOrder]] = defaultdict(list)
    for o in made:
        by_district[o.district_id].append(o)
    day = timezone.localdate()
    codes = dict(Jurisdiction.objects.filter(pk__in=list(by_district)).values_list("pk", "code"))
    for district_id, orders in by_district.items():
        for o, code in zip(
            orders, _codes(f"GK-{codes[district_id]}-{day:%Y%m%d}-", ControlOrder, len(orders)), strict=True
        ):
            o.code = code
    ControlOrder.objects.bulk_create(made, batch_size=1000)
    audit.record_bulk_create(actor, made, source=source)
    return made


def _upgrade(
    actor: Any, order: ControlOrder, contact: Contact, plan: QuarantinePlan, at: dt.datetime, source: str
) -> None:
    """A secondary contact confirmed as a close contact: the close-contact plan, back to the queue when the
    new plan starts in centralised isolation."""
    before = audit.snapshot(order)
    if order.status == OrderStatus.HOME and plan.plan.centralized:
        _end_placements(order, EndReason.ADJUSTED, at)
        order.status = OrderStatus.WAITING
        order.controlled_at = None
        order.start_date = None
        SampleTask.objects.filter(order=order, status=SampleStatus.DUE).delete()
    order.degree, order.plan, order.contact, order.case_id = contact.degree, plan, contact, contact.case_id
    order.centralized = plan.plan.centralized
    if order.status == OrderStatus.WAITING:
        order.due_at = min(order.due_at, at + dt.timedelta(hours=plan.plan.transfer_within_hours))
    order.save()
    audit.record_update(actor, order, before, source=source)


@transaction.atomic
def withdraw_orders(*, actor: Any, contacts: Sequence[Contact], source: str = "web") -> int:
    """A judgment taken back (dismissed, or back to candidate): orders it opened that are not yet under control
    are cancelled (a reserved room is freed). Orders already under control stay; an officer releases them."""
    orders = list(
        ControlOrder.objects.select_for_update(of=("self",)).filter(
            contact__in=[c.pk for c in contacts], status__in=NOT_YET_CONTROLLED
        )
    )
    now = timezone.now()
    for order in orders:
        before = audit.snapshot(order)
        _end_placements(order, EndReason.ADJUSTED, now, cancel=True)
        TransferMember.objects.filter(order=order, status=MemberStatus.ASSIGNED).update(
            status=MemberStatus.FAILED, failure_reason=FailureReason.OTHER, note=_("judgment withdrawn")
        )
        order.status, order.closed_at, order.site = OrderStatus.CANCELLED, now, None
        order.save(update_fields=["status", "closed_at", "site"])
        audit.record_update(actor, order, before, source=source)
    return len(orders)


def _free_rooms(stayed: Iterable[int | None], reserved_only: Iterable[int | None]) -> None:
    """Rooms nobody is placed in any more: those someone stayed in go to cleaning, those only reserved are
    available again."""
    stayed_ids = {i for i in stayed if i}
    reserved_ids = {i for i in reserved_only if i}
    ids = stayed_ids | reserved_ids
    if not ids:
        return
    still = set(
        Placement.objects.filter(room_id__in=ids, status__in=LIVE_PLACEMENT).values_list("room_id", flat=True)
    )
    Room.objects.filter(pk__in=stayed_ids - still, status=RoomStatus.OCCUPIED).update(
        status=RoomStatus.CLEANING
    )
    Room.objects.filter(pk__in=reserved_ids - stayed_ids - still, status=RoomStatus.OCCUPIED).update(
        status=RoomStatus.AVAILABLE
    )


def _end_placements(order: ControlOrder, reason: str, at: dt.datetime, *, cancel: bool = False) -> None:
    live = list(Placement.objects.filter(order=order, status__in=LIVE_PLACEMENT))
    stayed: list[int | None] = []
    reserved_only: list[int | None] = []
    for p in live:
        never_started = p.status == PlacementStatus.RESERVED
        (reserved_only if never_started else stayed).append(p.room_id)
        p.status = PlacementStatus.CANCELLED if (cancel or never_started) else PlacementStatus.ENDED
        p.ended_at, p.end_reason = at, reason
        p.save(update_fields=["status", "ended_at", "end_reason"])
    _free_rooms(stayed, reserved_only)


# --- Placement ---------------------------------------------------------------------------------------------


def _lock_orders(orders: Sequence[ControlOrder]) -> dict[int, ControlOrder]:
    ids = sorted({o.pk for o in orders})
    locked = {
        o.pk: o
        for o in ControlOrder.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("person", "plan")
        .order_by("pk")
    }
    if len(locked) != len(ids):
        raise ValidationError({"orders": _("Some of the chosen persons are no longer in the queue.")})
    return locked


@transaction.atomic
def reserve_rooms(
    *, actor: Any, assignments: Sequence[tuple[ControlOrder, Room]], distances: dict[int, float] | None = None,
    source: str = "web",
) -> list[Placement]:  # fmt: skip
    """Reserve a room for each (order, room) pair: the officer's accepted (or adjusted) proposal. All or
    nothing: a person already placed, a closed site, a room that is not available or too small, or two
    households in one room refuse the whole batch with the reasons."""
    if not assignments:
        raise ValidationError({"orders": _("Choose at least one person to place.")})
    if len({o.pk for o, _r in assignments}) != len(assignments):
        raise ValidationError({"orders": _("A person is listed twice.")})
    orders = _lock_orders([o for o, _r in assignments])
    room_ids = sorted({r.pk for _o, r in assignments})
    rooms = {
        r.pk: r
        for r in Room.objects.select_for_update(of=("self",))
        .filter(pk__in=room_ids)
        .select_related("site")
        .order_by("pk")
    }
    problems: list[str] = []
    by_room: dict[int, list[ControlOrder]] = defaultdict(list)
    for o, r in assignments:
        order = orders[o.pk]
        room = rooms.get(r.pk)
        name = order.person.name
        if order.status != OrderStatus.WAITING:
            problems.append(
                _("%(name)s is no longer waiting (%(status)s): someone else placed them.")
                % {"name": name, "status": order.get_status_display()}
            )
            continue
        if not order.centralized:
            problems.append(_("%(name)s's plan is home quarantine, not a room.") % {"name": name})
            continue
        if room is None:
            problems.append(_("Unknown room for %(name)s.") % {"name": name})
            continue
        by_room[room.pk].append(order)
    for room_id, members in by_room.items():
        room = rooms[room_id]
        if not room.site.active:
            problems.append(_("%(site)s is closed for intake.") % {"site": room.site.name})
        if room.status != RoomStatus.AVAILABLE:
            problems.append(
                _("Room %(room)s is %(status)s.") % {"room": str(room), "status": room.get_status_display()}
            )
        elif len(members) > room.beds:
            problems.append(
                _("Room %(room)s has %(beds)d beds for %(n)d persons.")
                % {"room": str(room), "beds": room.beds, "n": len(members)}
            )
        households = {m.person.household_id or -m.person_id for m in members}
        if len(households) > 1:
            problems.append(_("Room %(room)s would hold two households.") % {"room": str(room)})
    if problems:
        raise ValidationError({"orders": " ".join(problems)})
    now = timezone.now()
    placements = [
        Placement(
            order=orders[o.pk],
            person_id=orders[o.pk].person_id,
            plan=orders[o.pk].plan,
            mode=PlacementMode.CENTRALIZED,
            site=rooms[r.pk].site,
            room=rooms[r.pk],
            status=PlacementStatus.RESERVED,
            reserved_at=now,
            distance_km=(distances or {}).get(o.pk),
            created_by=_user(actor),
        )
        for o, r in assignments
    ]
    try:
        with transaction.atomic():
            Placement.objects.bulk_create(placements, batch_size=1000)
    except IntegrityError:
        raise ValidationError(
            {
                "orders": _(
                    "Someone else placed one of these persons at the same moment; reload and try again."
                )
            }
        ) from None
    by_site: dict[int, list[int]] = defaultdict(list)
    for o, r in assignments:
        order = orders[o.pk]
        order.status, order.site = OrderStatus.ALLOCATED, rooms[r.pk].site
        by_site[rooms[r.pk].site_id].append(order.pk)
    for site_id, ids in by_site.items():  # one UPDATE per site, not a CASE per row
        ControlOrder.objects.filter(pk__in=ids).update(status=OrderStatus.ALLOCATED, site_id=site_id)
    Room.objects.filter(pk__in=list(by_room)).update(status=RoomStatus.OCCUPIED)
    audit.record_bulk_create(actor, placements, source=source)
    return placements


def _sync_sample_tasks(orders: Sequence[ControlOrder]) -> int:
    """Make each order's sample tasks follow its schedule: add missing ones, move or drop due ones that the
    schedule no longer has (after an extension); tasks with a sample or a result are kept."""
    existing: dict[int, dict[str, SampleTask]] = defaultdict(dict)
    for t in SampleTask.objects.filter(order__in=[o.pk for o in orders]):
        existing[t.order_id][t.key] = t
    new: list[SampleTask] = []
    moved: list[SampleTask] = []
    dropped: list[int] = []
    for order in orders:
        sched = order.schedule()
        if sched is None:
            continue
        mine = existing.get(order.pk, {})
        wanted = {t.key: t for t in sched.tests}
        for key, planned in wanted.items():
            if key not in mine:
                new.append(
                    SampleTask(order=order, key=key, stage=planned.stage, day=planned.day, due_on=planned.on)
                )
            elif mine[key].status == SampleStatus.DUE and mine[key].due_on != planned.on:
                mine[key].due_on = planned.on
                moved.append(mine[key])
        dropped += [t.pk for k, t in mine.items() if k not in wanted and t.status == SampleStatus.DUE]
    SampleTask.objects.bulk_create(new, batch_size=2000)
    if moved:
        SampleTask.objects.bulk_update(moved, ["due_on"], batch_size=1000)
    if dropped:
        SampleTask.objects.filter(pk__in=dropped).delete()
    return len(new)


@transaction.atomic
def place_at_home(
    *, actor: Any, orders: Sequence[ControlOrder], at: dt.datetime | None = None, source: str = "web"
) -> list[Placement]:
    """Home quarantine (the plan starts at home): the person's home building is marked for the grid workers,
    day 1 is today and the sample tasks are generated."""
    if not orders:
        raise ValidationError({"orders": _("Choose at least one person.")})
    at = at or timezone.now()
    locked = _lock_orders(orders)
    problems: list[str] = []
    for order in locked.values():
        name = order.person.name
        if order.status != OrderStatus.WAITING:
            problems.append(_("%(name)s is no longer waiting.") % {"name": name})
        elif order.centralized:
            problems.append(_("%(name)s's plan starts in centralised isolation.") % {"name": name})
        elif order.person.home_building_id is None:
            problems.append(_("%(name)s has no home building in the register.") % {"name": name})
        elif at < order.opened_at:
            problems.append(_("The start cannot be before the judgment."))
    if problems:
        raise ValidationError({"orders": " ".join(dict.fromkeys(problems))})
    placements = [
        Placement(
            order=o,
            person_id=o.person_id,
            plan=o.plan,
            mode=PlacementMode.HOME,
            building_id=o.person.home_building_id,
            status=PlacementStatus.ACTIVE,
            reserved_at=at,
            started_at=at,
            created_by=_user(actor),
        )
        for o in locked.values()
    ]
    try:
        with transaction.atomic():
            Placement.objects.bulk_create(placements, batch_size=1000)
    except IntegrityError:
        raise ValidationError({"orders": _("Someone else placed one of these persons; reload.")}) from None
    day = timezone.localtime(at).date()
    for o in locked.values():
        o.status, o.controlled_at, o.start_date = OrderStatus.HOME, at, day
    ControlOrder.objects.filter(pk__in=list(locked)).update(
        status=OrderStatus.HOME, controlled_at=at, start_date=day
    )
    _sync_sample_tasks(list(locked.values()))
    audit.record_bulk_create(actor, placements, source=source)
    return placements


# --- Transfers ---------------------------------------------------------------------------------------------


@dataclass
class TransferData:
    vehicle: str
    team: str
    pickup_at: dt.datetime | None


@transaction.atomic
def create_transfer(
    *, actor: Any, orders: Sequence[ControlOrder], data: TransferData, source: str = "web"
) -> TransferTask:
    """A vehicle and team for persons with a room reserved at one site."""
    errors: dict[str, str] = {}
    if not data.vehicle.strip():
        errors["vehicle"] = _("Name the vehicle (plate number).")
    if not data.team.strip():
        errors["team"] = _("Name the team.")
    if data.pickup_at is None:
        errors["pickup_at"] = _("Give the pickup time.")
    if not orders:
        errors["orders"] = _("Choose at least one person.")
    elif len(orders) > MAX_TRANSFER_GROUP:
        errors["orders"] = _("At most %(n)d persons per vehicle.") % {"n": MAX_TRANSFER_GROUP}
    if errors:
        raise ValidationError(errors)
    assert data.pickup_at is not None
    locked = _lock_orders(orders)
    problems = []
    sites = {o.site_id for o in locked.values()}
    for o in locked.values():
        if o.status != OrderStatus.ALLOCATED:
            problems.append(
                _("%(name)s has no room reserved (%(status)s).")
                % {"name": o.person.name, "status": o.get_status_display()}
            )
        if data.pickup_at < o.opened_at:
            errors["pickup_at"] = _("The pickup cannot be before the contact was judged (%(at)s).") % {
                "at": timezone.localtime(o.opened_at).strftime("%Y-%m-%d %H:%M")
            }
    if len(sites) > 1:
        problems.append(_("One vehicle goes to one site; these persons have rooms at different sites."))
    if problems:
        errors["orders"] = " ".join(problems)
    if errors:
        raise ValidationError(errors)
    site = IsolationSite.objects.get(pk=next(iter(sites)) or 0)
    first = next(iter(locked.values()))
    district = first.district
    code = _codes(f"ZY-{timezone.localtime(data.pickup_at):%Y%m%d}-", TransferTask, 1)[0]
    task = TransferTask.objects.create(
        code=code,
        district=district,
        site=site,
        vehicle=data.vehicle.strip()[:40],
        team=data.team.strip()[:100],
        pickup_at=data.pickup_at,
        created_by=_user(actor),
    )
    placements = {
        p.order_id: p
        for p in Placement.objects.filter(order__in=list(locked), status=PlacementStatus.RESERVED)
    }
    TransferMember.objects.bulk_create(
        [TransferMember(task=task, order=o, placement=placements[o.pk]) for o in locked.values()]
    )
    for o in locked.values():
        o.status = OrderStatus.IN_TRANSFER
    ControlOrder.objects.filter(pk__in=list(locked)).update(status=OrderStatus.IN_TRANSFER)
    audit.record_create(actor, task, source=source)
    return task


def _lock_task(task: TransferTask) -> TransferTask:
    return TransferTask.objects.select_for_update(of=("self",)).get(pk=task.pk)


@transaction.atomic
def depart_transfer(
    *, actor: Any, task: TransferTask, at: dt.datetime | None = None, source: str = "web"
) -> TransferTask:
    task = _lock_task(task)
    at = at or timezone.now()
    if task.status != TransferStatus.ASSIGNED:
        raise ValidationError({"status": _("This task is %(s)s.") % {"s": task.get_status_display()}})
    if not task.members.filter(status=MemberStatus.ASSIGNED).exists():
        raise ValidationError({"status": _("Nobody is left to pick up.")})
    before = audit.snapshot(task)
    task.status, task.departed_at = TransferStatus.EN_ROUTE, at
    task.save(update_fields=["status", "departed_at"])
    audit.record_update(actor, task, before, source=source)
    return task


@transaction.atomic
def fail_member(
    *, actor: Any, member: TransferMember, reason: str, note: str = "", source: str = "web"
) -> TransferMember:
    """The person could not be picked up: the reserved room is freed and the person goes back to the queue
    (the clock keeps running from the judgment)."""
    member = (
        TransferMember.objects.select_for_update(of=("self",))
        .select_related("task", "order")
        .get(pk=member.pk)
    )
    if reason not in FailureReason.values:
        raise ValidationError({"reason": _("Say why the transfer failed.")})
    if member.status != MemberStatus.ASSIGNED:
        raise ValidationError(
            {"reason": _("This person is already %(s)s.") % {"s": member.get_status_display()}}
        )
    if member.task.status in (TransferStatus.ARRIVED, TransferStatus.CANCELLED):
        raise ValidationError({"reason": _("The task is closed.")})
    order = ControlOrder.objects.select_for_update(of=("self",)).get(pk=member.order_id)
    before = audit.snapshot(member)
    member.status, member.failure_reason, member.note = MemberStatus.FAILED, reason, note.strip()[:200]
    member.save(update_fields=["status", "failure_reason", "note", "updated_at"])
    audit.record_update(actor, member, before, source=source)
    before = audit.snapshot(order)
    _end_placements(order, EndReason.TRANSFER_FAILED, timezone.now(), cancel=True)
    order.status, order.site = OrderStatus.WAITING, None
    order.save(update_fields=["status", "site"])
    audit.record_update(actor, order, before, source=source)
    member.order = order
    task = member.task
    if not task.members.exclude(status=MemberStatus.FAILED).exists():
        before = audit.snapshot(task)
        task.status = TransferStatus.CANCELLED
        task.save(update_fields=["status"])
        audit.record_update(actor, task, before, source=source)
    return member


@transaction.atomic
def arrive_transfer(
    *, actor: Any, task: TransferTask, at: dt.datetime | None = None, source: str = "web"
) -> TransferTask:
    """The vehicle arrived: everyone still on the task is in their room from now on (plan day 1 is today)
    and their sample tasks are generated."""
    task = _lock_task(task)
    at = at or timezone.now()
    if task.status not in (TransferStatus.ASSIGNED, TransferStatus.EN_ROUTE):
        raise ValidationError({"status": _("This task is %(s)s.") % {"s": task.get_status_display()}})
    if at < task.pickup_at - dt.timedelta(hours=12) or at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"at": _("The arrival time must lie between the pickup and now.")})
    members = list(task.members.filter(status=MemberStatus.ASSIGNED).select_related("placement"))
    if not members:
        raise ValidationError({"status": _("Nobody is left on this task.")})
    orders = _lock_orders([ControlOrder(pk=m.order_id) for m in members])
    day = timezone.localtime(at).date()
    placements = []
    for m in members:
        m.status = MemberStatus.ARRIVED
        p = m.placement
        p.status, p.started_at = PlacementStatus.ACTIVE, at
        placements.append(p)
        o = orders[m.order_id]
        o.status, o.controlled_at, o.start_date = OrderStatus.ISOLATED, at, day
    TransferMember.objects.filter(pk__in=[m.pk for m in members]).update(status=MemberStatus.ARRIVED)
    Placement.objects.filter(pk__in=[p.pk for p in placements]).update(
        status=PlacementStatus.ACTIVE, started_at=at
    )
    ControlOrder.objects.filter(pk__in=list(orders)).update(
        status=OrderStatus.ISOLATED, controlled_at=at, start_date=day
    )
    _sync_sample_tasks(list(orders.values()))
    before = audit.snapshot(task)
    if not task.departed_at:
        task.departed_at = at
    task.status, task.arrived_at = TransferStatus.ARRIVED, at
    task.save(update_fields=["status", "departed_at", "arrived_at"])
    audit.record_update(actor, task, before, source=source)
    return task


# --- Follow-up: health records, samples, results ------------------------------------------------------------


def _controlled(order: ControlOrder) -> None:
    if order.status not in (OrderStatus.ISOLATED, OrderStatus.HOME) or order.start_date is None:
        raise ValidationError(
            {"order": _("%(name)s is not under control (%(s)s).") % {
                "name": order.person.name, "s": order.get_status_display()}}
        )  # fmt: skip


@transaction.atomic
def record_health(
    *, actor: Any, order: ControlOrder, day: dt.date | None, temperature: str | float | Decimal | None,
    symptoms: Sequence[str] = (), note: str = "", source: str = "web",
) -> HealthRecord:  # fmt: skip
    """Today's (or an earlier day's) health check; recording the same day again corrects it. A temperature
    of 37.3 °C or more, or any symptom, raises an alert."""
    order = ControlOrder.objects.select_for_update(of=("self",)).select_related("person").get(pk=order.pk)
    _controlled(order)
    assert order.start_date is not None
    errors: dict[str, str] = {}
    today = timezone.localdate()
    day = day or today
    if day > today:
        errors["day"] = _("The day is in the future.")
    elif day < order.start_date:
        errors["day"] = _("The day is before the control started (%(d)s).") % {"d": order.start_date}
    try:
        temp = Decimal(str(temperature).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors["temperature"] = _("Give the temperature in °C, e.g. 36.6.")
        temp = Decimal(0)
    else:
        if not Decimal("34.0") <= temp <= Decimal("42.5"):
            errors["temperature"] = _("A body temperature lies between 34.0 and 42.5 °C.")
    bad = [s for s in symptoms if s not in Symptom.values]
    if bad:
        errors["symptoms"] = _("Unknown symptom: %(s)s.") % {"s": ", ".join(bad)}
    if errors:
        raise ValidationError(errors)
    alert = temp >= Decimal(str(FEVER_CELSIUS)) or bool(symptoms)
    record = HealthRecord.objects.select_for_update(of=("self",)).filter(order=order, day=day).first()
    before = audit.snapshot(record) if record else None
    record = record or HealthRecord(order=order, day=day)
    record.temperature, record.symptoms, record.note = temp, sorted(set(symptoms)), note.strip()[:200]
    if alert and not record.alert:
        record.handled_at, record.handled_by, record.handling = None, None, ""
    record.alert = alert
    record.recorded_by, record.recorded_at = _user(actor), timezone.now()
    record.save()
    if before is None:
        audit.record_create(actor, record, source=source)
    else:
        audit.record_update(actor, record, before, source=source)
    return record


@transaction.atomic
def handle_alert(*, actor: Any, record: HealthRecord, handling: str, source: str = "web") -> HealthRecord:
    if not record.alert:
        raise ValidationError({"handling": _("This record raised no alert.")})
    if not handling.strip():
        raise ValidationError({"handling": _("Say how the alert was handled.")})
    before = audit.snapshot(record)
    record.handled_at, record.handled_by, record.handling = (
        timezone.now(),
        _user(actor),
        handling.strip()[:200],
    )
    record.save(update_fields=["handled_at", "handled_by", "handling"])
    audit.record_update(actor, record, before, source=source)
    return record


RESULTS = (SampleStatus.NEGATIVE, SampleStatus.POSITIVE, SampleStatus.INVALID)


@dataclass(frozen=True)
class ResultOutcome:
    task: SampleTask
    case: Case | None = None


def record_result(
    *, actor: Any, task: SampleTask, result: str, ct_value: float | None = None,
    sampled_at: dt.datetime | None = None, at: dt.datetime | None = None, source: str = "web",
) -> ResultOutcome:  # fmt: skip
    """A PCR result for a scheduled sample. A positive converts the person into a case found under control
    and traces it at once. An invalid result can be replaced by the result of a re-sample."""
    with transaction.atomic():
        task = (
            SampleTask.objects.select_for_update(of=("self",)).select_related("order__person").get(pk=task.pk)
        )
        order = (
            ControlOrder.objects.select_for_update(of=("self",))
            .select_related("person")
            .get(pk=task.order_id)
        )
        errors: dict[str, str] = {}
        now = timezone.now()
        at = at or now
        sampled_at = sampled_at or task.sampled_at or at
        if result not in RESULTS:
            errors["result"] = _("The result is negative, positive or invalid.")
        if task.status in (SampleStatus.NEGATIVE, SampleStatus.POSITIVE):
            errors["result"] = _("This sample already has a result (%(r)s).") % {
                "r": task.get_status_display()
            }
        if order.status not in (OrderStatus.ISOLATED, OrderStatus.HOME):
            errors["result"] = _("%(name)s is not under control (%(s)s).") % {
                "name": order.person.name, "s": order.get_status_display()}  # fmt: skip
        if order.controlled_at and sampled_at < order.controlled_at - dt.timedelta(hours=1):
            errors["sampled_at"] = _("The sample cannot be taken before the control started.")
        if sampled_at > at or at > now + dt.timedelta(minutes=5):
            errors["at"] = _("The result comes after the sample and not in the future.")
        if ct_value is not None and not 5 <= ct_value <= 45:
            errors["ct_value"] = _("A Ct value lies between 5 and 45.")
        if errors:
            raise ValidationError(errors)
        before = audit.snapshot(task)
        task.status, task.ct_value, task.sampled_at, task.result_at = result, ct_value, sampled_at, at
        task.recorded_by = _user(actor)
        task.save()
        audit.record_update(actor, task, before, source=source)
        case = _convert(actor, order, sampled_at, source) if result == SampleStatus.POSITIVE else None
    if case is not None:
        from cordon.apps.tracing import actions as tracing

        tracing.trace_case(actor=actor, case=case, source=source)
    return ResultOutcome(task, case)


@transaction.atomic
def record_samples(
    *, actor: Any, tasks: Sequence[SampleTask], at: dt.datetime | None = None, source: str = "web"
) -> int:
    """Samples taken (results follow from the lab)."""
    at = at or timezone.now()
    locked = list(
        SampleTask.objects.select_for_update(of=("self",)).filter(
            pk__in=[t.pk for t in tasks], status=SampleStatus.DUE
        )
    )
    for t in locked:
        t.status, t.sampled_at, t.recorded_by = SampleStatus.SAMPLED, at, _user(actor)
    SampleTask.objects.bulk_update(locked, ["status", "sampled_at", "recorded_by"])
    return len(locked)


def _convert(actor: Any, order: ControlOrder, sampled_at: dt.datetime, source: str) -> Case:
    from cordon.apps.tracing import actions as tracing
    from cordon.apps.tracing.models import Classification, Control, FoundBy

    symptomatic = (
        HealthRecord.objects.filter(order=order)
        .exclude(symptoms=[])
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    centralized = Placement.objects.filter(
        order=order, status=PlacementStatus.ACTIVE, mode=PlacementMode.CENTRALIZED
    ).exists()
    case = tracing.report_case(
        actor=actor,
        data=tracing.CaseData(
            person=order.person,
            classification=Classification.CONFIRMED if symptomatic else Classification.ASYMPTOMATIC,
            onset_date=symptomatic,
            sampled_at=sampled_at,
            found_by=FoundBy.IN_QUARANTINE,
            control=Control.ISOLATION if centralized else Control.QUARANTINE,
            isolated_at=order.controlled_at,
        ),
        source=source,
    )
    before = audit.snapshot(order)
    _end_placements(order, EndReason.CONVERTED, timezone.now())
    order.status, order.closed_at, order.converted_case = OrderStatus.CONVERTED, timezone.now(), case
    order.site = None
    order.save(update_fields=["status", "closed_at", "converted_case", "site"])
    SampleTask.objects.filter(order=order, status=SampleStatus.DUE).delete()
    audit.record_update(actor, order, before, source=source)
    return case


# --- Stages, extension, release ---------------------------------------------------------------------------


def _results(order: ControlOrder) -> dict[str, engine.TestStatus]:
    status_map: dict[str, engine.TestStatus] = {
        SampleStatus.NEGATIVE: "negative",
        SampleStatus.POSITIVE: "positive",
        SampleStatus.INVALID: "invalid",
        SampleStatus.SAMPLED: "pending",
    }
    return {
        t.key: status_map[t.status] for t in SampleTask.objects.filter(order=order) if t.status in status_map
    }


def problem_messages(problems: Sequence[engine.Problem]) -> list[str]:
    texts = {
        "too_early": _("the plan ends on %(on)s"),
        "missing": _("no sample for the test of %(on)s"),
        "pending": _("the result of %(on)s is pending"),
        "invalid": _("the result of %(on)s is invalid; re-sample"),
        "positive": _("the test of %(on)s is positive"),
    }
    return [texts[p.code] % {"on": p.on.strftime("%Y-%m-%d")} for p in problems]


@transaction.atomic
def move_to_home(
    *, actor: Any, orders: Sequence[ControlOrder], at: dt.datetime | None = None, source: str = "web"
) -> int:
    """End centralised isolation for persons whose plan continues at home (e.g. home health monitoring after
    7 days): allowed from the first day of the home stage, with every test of the centralised stage negative."""
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    locked = _lock_orders(orders)
    problems = []
    for o in locked.values():
        sched = o.schedule()
        nxt = next((s for s in sched.stages if s.kind != "centralized"), None) if sched else None
        results = _results(o)
        if o.status != OrderStatus.ISOLATED or sched is None:
            problems.append(_("%(name)s is not in centralised isolation.") % {"name": o.person.name})
        elif nxt is None:
            problems.append(
                _("%(name)s's plan has no home stage; release instead.") % {"name": o.person.name}
            )
        elif today < nxt.first:
            problems.append(
                _("%(name)s: the home stage starts on %(d)s.") % {"name": o.person.name, "d": nxt.first}
            )
        elif any(results.get(t.key) != "negative" for t in sched.tests if t.on < nxt.first):
            problems.append(
                _("%(name)s: every test of the centralised stage must be negative.") % {"name": o.person.name}
            )
        elif o.person.home_building_id is None:
            problems.append(_("%(name)s has no home building in the register.") % {"name": o.person.name})
    if problems:
        raise ValidationError({"orders": " ".join(problems)})
    new = []
    for o in locked.values():
        before = audit.snapshot(o)
        _end_placements(o, EndReason.MOVED_HOME, at)
        new.append(
            Placement(
                order=o, person_id=o.person_id, plan=o.plan, mode=PlacementMode.HOME,
                building_id=o.person.home_building_id, status=PlacementStatus.ACTIVE, reserved_at=at,
                started_at=at, created_by=_user(actor),
            )
        )  # fmt: skip
        o.status, o.site = OrderStatus.HOME, None
        o.save(update_fields=["status", "site"])
        audit.record_update(actor, o, before, source=source)
    Placement.objects.bulk_create(new)
    audit.record_bulk_create(actor, new, source=source)
    return len(new)


@transaction.atomic
def extend(*, actor: Any, order: ControlOrder, days: int, reason: str, source: str = "web") -> Extension:
    """Lengthen the plan's last stage (a test is added on the new last day); recorded with the reason."""
    order = _lock_orders([order])[order.pk]
    _controlled(order)
    errors = {}
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = _("Extend by 1 to %(n)d days.") % {"n": MAX_EXTENSION_DAYS}
    if not reason.strip():
        errors["reason"] = _("Give the reason for the extension.")
    if errors:
        raise ValidationError(errors)
    ext = Extension.objects.create(
        order=order, days=days, reason=reason.strip()[:300], created_by=_user(actor)
    )
    before = audit.snapshot(order)
    order.extension_days += days
    order.save(update_fields=["extension_days"])
    _sync_sample_tasks([order])
    audit.record_create(actor, ext, source=source)
    audit.record_update(actor, order, before, source=source)
    return ext


def release_check(order: ControlOrder, today: dt.date | None = None) -> list[str]:
    """Why ``order`` cannot be released today (empty: it can)."""
    if order.status not in (OrderStatus.ISOLATED, OrderStatus.HOME):
        return [_("not under control (%(s)s)") % {"s": order.get_status_display()}]
    sched = order.schedule()
    assert sched is not None
    return problem_messages(engine.release_problems(sched, today or timezone.localdate(), _results(order)))


@transaction.atomic
def release(
    *, actor: Any, orders: Sequence[ControlOrder], at: dt.datetime | None = None, source: str = "web"
) -> list[ControlOrder]:
    """Release at the end of the plan with every required test negative; refused, with the reasons for each
    person, otherwise. Rooms go to cleaning; each released person gets a certificate number."""
    if not orders:
        raise ValidationError({"orders": _("Choose at least one person.")})
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    locked = _lock_orders(orders)
    problems = []
    for o in locked.values():
        reasons = release_check(o, today)
        if reasons:
            problems.append(
                _("%(name)s cannot be released: %(why)s.")
                % {"name": o.person.name, "why": "; ".join(reasons)}
            )
    if problems:
        raise ValidationError({"orders": " ".join(problems)})
    last = (
        ControlOrder.objects.filter(certificate_no__startswith=f"JC-{today:%Y%m%d}-")
        .order_by("-certificate_no")
        .values_list("certificate_no", flat=True)
        .first()
    )
    n = int(last.rsplit("-", 1)[1]) if last else 0
    for o in locked.values():
        before = audit.snapshot(o)
        _end_placements(o, EndReason.RELEASED, at)
        n += 1
        o.status, o.closed_at, o.released_by, o.site = OrderStatus.RELEASED, at, _user(actor), None
        o.certificate_no = f"JC-{today:%Y%m%d}-{n:05d}"
        o.save(update_fields=["status", "closed_at", "released_by", "site", "certificate_no"])
        audit.record_update(actor, o, before, source=source)
    return list(locked.values())
