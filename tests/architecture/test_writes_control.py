"""Every write path of the control app runs here under the audit watch (tests/architecture/audit_watch.py):
through the API or the pages where there is a route, directly otherwise. Each test ends by checking that the
actions it covers ran, and looks at the audit rows of the writes that once went unaudited (rooms freed,
placements ended, transfer members failed, sample tasks created, moved and dropped, samples taken, default
plans put in force)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from architecture.audit_watch import WATCH as AUDIT_WATCH
from cordon.apps.audit.models import AuditEntry
from cordon.apps.control import actions
from cordon.apps.control.models import (
    OPEN_ORDER,
    ControlOrder,
    HealthRecord,
    OrderStatus,
    Placement,
    PlacementStatus,
    QuarantinePlan,
    Room,
    RoomStatus,
    SampleStatus,
    SampleTask,
)
from cordon.apps.geo import selectors as geo_selectors
from cordon.apps.people import actions as people
from cordon.apps.tracing import actions as tracing
from cordon.apps.tracing.models import Case, Contact
from cordon.core.actions import registered
from cordon.engine import identity

PREFIX = "cordon.apps.control.actions."
COVERS = {
    PREFIX + name
    for name in (
        "save_plan_version",
        "load_default_plans",
        "save_site",
        "add_rooms",
        "set_room_status",
        "open_orders",
        "withdraw_orders",
        "reserve_rooms",
        "place_at_home",
        "create_transfer",
        "depart_transfer",
        "fail_member",
        "arrive_transfer",
        "record_health",
        "handle_alert",
        "record_samples",
        "record_result",
        "move_to_home",
        "extend",
        "release",
        "refresh_board_tables",
    )
}

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def day(n: int, hour: int = 10) -> dt.datetime:
    """Hour ``hour`` of plan day ``n`` for persons placed on T0's date."""
    return dt.datetime.combine(T0.date() + dt.timedelta(days=n - 1), dt.time(hour), tzinfo=TZ)


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def ran() -> Iterator[Callable[..., None]]:
    """``ran("reserve_rooms", ...)``: each named control action ran (under the watch) during this test."""
    before = Counter(AUDIT_WATCH.seen)

    def check(*names: str) -> None:
        missing = [n for n in names if AUDIT_WATCH.seen[PREFIX + n] <= before[PREFIX + n]]
        assert not missing, f"not run: {missing}"

    yield check


def audited(model: str, pk: Any, verb: str = AuditEntry.Verb.UPDATE) -> list[dict[str, Any]]:
    return [
        e.changes for e in AuditEntry.objects.filter(model=model, object_pk=str(pk), verb=verb).order_by("id")
    ]


class Scene:
    """The conftest city with an investigator, a city-wide quarantine officer and an administrator; a case
    (张伟) reported at T0, and ``contact(person, degree)`` to add a candidate to it."""

    def __init__(self, city: Any, make_user: Any, client_for: Any) -> None:
        self.city = city
        self.officer_user = make_user("quarantine_officer", city.city, username="w.q")
        self.officer = client_for(self.officer_user)
        self.inv = client_for(make_user("investigator", city.city, username="w.inv"))
        self.admin = client_for(make_user("administrator", city.city, username="w.admin"))
        with time_machine.travel(at(0), tick=False):
            self.case = tracing.report_case(
                actor=None,
                data=tracing.CaseData(
                    person=city.ft_person, onset_date=T0.date(), sampled_at=at(-3), found_by="fever_clinic"
                ),
            )

    def person(self, name: str, serial: int, **kw: Any) -> Any:
        return people.create_person(
            actor=None,
            data=people.PersonData(
                name=name,
                national_id=identity.make("110114", dt.date(1985, 6, 1), serial),
                home_building=self.city.cp_building,
                **kw,
            ),
        )

    def contact(self, person: Any, degree: int = 1, case: Case | None = None) -> Contact:
        return Contact.objects.create(
            case=case or self.case, person=person, degree=degree, contact_type="venue",
            jurisdiction=person.jurisdiction, district=geo_selectors.district_of(person.jurisdiction),
        )  # fmt: skip

    def decide(self, contacts: list[Contact], decision: str = "confirmed", case: Case | None = None) -> None:
        r = post(
            self.inv,
            f"/api/cases/{(case or self.case).pk}/contacts/decide",
            {"contacts": [c.pk for c in contacts], "decision": decision},
        )
        assert r.status_code == 200, r.content

    def site(self, code: str, rooms: str, beds: int = 1) -> int:
        r = post(
            self.officer,
            "/api/control/sites",
            {"code": code, "name": f"{code} 酒店", "jurisdiction": self.city.beigong.code, "latitude": 39.87,
             "longitude": 116.17, "takes_special_needs": True},
        )  # fmt: skip
        assert r.status_code == 201, r.content
        r = post(self.officer, f"/api/control/sites/{code}/rooms", {"numbers": rooms, "beds": beds})
        assert r.status_code == 201, r.content
        return int(r.json()["added"])

    def reserve(self, order: ControlOrder, room: Room) -> None:
        r = post(
            self.officer, "/api/control/placements", {"assignments": [{"order": order.pk, "room": room.pk}]}
        )
        assert r.status_code == 201, r.content

    def transfer(self, orders: list[ControlOrder], pickup: dt.datetime) -> dict[str, Any]:
        r = post(
            self.officer,
            "/api/control/transfers",
            {
                "orders": [o.pk for o in orders],
                "vehicle": "京A1",
                "team": "一组",
                "pickup_at": pickup.isoformat(),
            },
        )
        assert r.status_code == 201, r.content
        return dict(r.json())

    def result(self, task: SampleTask, result: str, when: dt.datetime) -> dict[str, Any]:
        with time_machine.travel(when, tick=False):
            r = post(self.officer, f"/api/control/sample-tasks/{task.pk}/result", {"result": result})
        assert r.status_code == 200, r.content
        return dict(r.json())


@pytest.fixture
def scene(city: Any, make_user: Any, client_for: Any) -> Scene:
    return Scene(city, make_user, client_for)


def order_of(person: Any) -> ControlOrder:
    return ControlOrder.objects.get(person=person, status__in=OPEN_ORDER)


def test_covers_every_control_action() -> None:
    assert {n for n in registered() if n.startswith(PREFIX)} == COVERS


def test_plans_new_versions_and_the_profile_defaults(scene: Scene, ran: Callable[..., None]) -> None:
    # No plan was ever set (a database without the installation's data): a judgment puts the profile's
    # defaults in force, by the system, audited.
    QuarantinePlan.objects.all().delete()
    with time_machine.travel(at(1), tick=False):
        scene.decide([scene.contact(scene.city.ft_person2)])
    plan = QuarantinePlan.objects.get(applies_to="close", in_force=True)
    (entry,) = AuditEntry.objects.filter(model="control.quarantineplan", object_pk=str(plan.pk))
    assert entry.actor_name == "system" and entry.verb == AuditEntry.Verb.CREATE
    assert actions.load_default_plans() == 1  # the secondary plan, which no judgment needed yet
    assert actions.load_default_plans() == 0
    # An administrator's new version, through the API and through the page.
    definition = {
        **plan.definition,
        "stages": [{"kind": "centralized", "days": 5}],
        "tests": [{"stage": 1, "day": 5}],
    }
    r = post(
        scene.admin, "/api/control/plans", {"applies_to": "close", "definition": definition, "note": "五天"}
    )
    assert r.status_code == 201 and r.json()["version"] == plan.version + 1
    r = scene.admin.post(
        "/control/plans/close/edit/",
        {"definition": json.dumps({**definition, "stages": [{"kind": "centralized", "days": 6}],
                                   "tests": [{"stage": 1, "day": 6}]}), "note": "六天",
         "based_on": plan.version + 1},
    )  # fmt: skip
    assert r.status_code == 302
    assert audited("control.quarantineplan", plan.pk) == [{"in_force": [True, False]}]
    ran("open_orders", "load_default_plans", "save_plan_version")


def test_sites_and_rooms(scene: Scene, ran: Callable[..., None]) -> None:
    assert scene.site("W-H1", "101-103") == 3
    room = Room.objects.get(site__code="W-H1", number="102")
    form = {"status": RoomStatus.OUT_OF_SERVICE, "version": room.version}
    r = scene.officer.post(f"/control/rooms/{room.pk}/status/", form)
    assert r.status_code == 302
    room.refresh_from_db()
    assert room.status == RoomStatus.OUT_OF_SERVICE
    assert audited("control.room", room.pk) == [{"status": ["available", "out_of_service"]}]
    # Editing a site (no page for it yet: directly).
    site = room.site
    data = actions.SiteData(code=site.code, name="改名酒店", jurisdiction=scene.city.beigong)
    actions.save_site(actor=scene.officer_user, data=data, instance=site)
    assert audited("control.isolationsite", site.pk)[-1]["name"] == ["W-H1 酒店", "改名酒店"]
    r = scene.officer.post(
        "/control/sites/new/", {"code": "W-H2", "name": "二号酒店", "jurisdiction": scene.city.beigong.code}
    )
    assert r.status_code == 302
    r = scene.officer.post("/control/sites/W-H2/rooms/", {"numbers": "201-202", "beds": "2"})
    assert r.status_code == 302 and Room.objects.filter(site__code="W-H2").count() == 2
    # The board's kept capacity (derived rows: not audited), one row per site.
    assert actions.refresh_board_tables() == 2
    ran("save_site", "add_rooms", "set_room_status", "refresh_board_tables")


def test_placement_transfer_failure_and_arrival(scene: Scene, ran: Callable[..., None]) -> None:
    city = scene.city
    mate = scene.person("李明", 411)
    with time_machine.travel(at(1), tick=False):
        scene.decide([scene.contact(city.ft_person2), scene.contact(city.cp_person), scene.contact(mate, 2)])
    scene.site("W-H1", "101-103")
    wang, li, home = order_of(city.ft_person2), order_of(city.cp_person), order_of(mate)
    rooms = list(Room.objects.filter(site__code="W-H1").order_by("number"))
    with time_machine.travel(at(1.5), tick=False):
        scene.reserve(wang, rooms[0])
        # Through the page: the proposal step, then the officer accepts it with Li in room 102.
        r = scene.officer.post(
            "/control/allocate/", {"order": [li.pk], "step": "accept", f"room-{li.pk}": rooms[1].pk}
        )
        assert r.status_code == 302
        r = scene.officer.post("/control/allocate/", {"order": [home.pk], "step": "home"})
        assert r.status_code == 302 and order_of(mate).status == OrderStatus.HOME
        task = scene.transfer([wang, li], at(2))
    li_member = next(m for m in task["members"] if m["order"] == li.pk)
    with time_machine.travel(at(2), tick=False):
        r = post(
            scene.officer, f"/api/control/transfer-members/{li_member['id']}/fail", {"reason": "not_home"}
        )
        assert r.json()["order_status"] == "waiting"
        # The reservation ended and the room freed, each with its audit row.
        cancelled = Placement.objects.get(order=li, status=PlacementStatus.CANCELLED)
        assert audited("control.placement", cancelled.pk)[-1]["status"] == ["reserved", "cancelled"]
        assert audited("control.room", rooms[1].pk)[-1] == {"status": ["occupied", "available"]}
        assert (
            post(scene.officer, f"/api/control/transfers/{task['id']}/depart", {}).json()["status"]
            == "en_route"
        )
    with time_machine.travel(at(3), tick=False):
        r = scene.officer.post(f"/control/transfers/{task['id']}/status/", {"action": "arrive"})
        assert r.status_code == 302
    wang = order_of(city.ft_person2)
    assert wang.status == OrderStatus.ISOLATED
    tasks = list(SampleTask.objects.filter(order=wang))
    assert tasks and all(audited("control.sampletask", t.pk, AuditEntry.Verb.CREATE) for t in tasks)
    assert SampleTask.objects.filter(order=home).exists()  # home quarantine generated its tests too
    ran("open_orders", "reserve_rooms", "place_at_home", "create_transfer", "fail_member", "depart_transfer",
        "arrive_transfer")  # fmt: skip


def test_a_judgment_taken_back_and_a_secondary_contact_confirmed_as_close(
    scene: Scene, ran: Callable[..., None]
) -> None:
    city = scene.city
    mate = scene.person("李明", 411)
    with time_machine.travel(at(1), tick=False):
        c_li, c_mate = scene.contact(city.cp_person), scene.contact(mate, 2)
        scene.decide([c_li, c_mate])
    scene.site("W-H1", "101")
    room = Room.objects.get(site__code="W-H1")
    li, home = order_of(city.cp_person), order_of(mate)
    with time_machine.travel(at(1.5), tick=False):
        scene.reserve(li, room)
        task = scene.transfer([li], at(2))
        assert post(scene.officer, "/api/control/home-placements", {"orders": [home.pk]}).status_code == 201
    # Li's judgment is taken back while the vehicle is on its way: the order is cancelled, the pickup
    # fails, the room is free again.
    with time_machine.travel(at(1.7), tick=False):
        scene.decide([c_li], "dismissed")
    assert ControlOrder.objects.get(pk=li.pk).status == OrderStatus.CANCELLED
    (member_id,) = [m["id"] for m in task["members"]]
    assert audited("control.transfermember", member_id)[-1]["status"] == ["assigned", "failed"]
    assert audited("control.room", room.pk)[-1] == {"status": ["occupied", "available"]}
    # 李明, at home as a secondary contact, is judged a close contact of a second case: the close-contact
    # plan starts in centralised isolation, so the home placement ends and the due tests are dropped.
    due = list(SampleTask.objects.filter(order=home, status=SampleStatus.DUE))
    assert due
    with time_machine.travel(at(3), tick=False):
        second = tracing.report_case(
            actor=None,
            data=tracing.CaseData(
                person=city.courier, onset_date=T0.date(), sampled_at=at(2), found_by="fever_clinic"
            ),
        )
        scene.decide([scene.contact(mate, 1, case=second)], case=second)
    home = ControlOrder.objects.get(pk=home.pk)
    assert home.status == OrderStatus.WAITING and home.degree == 1
    assert not SampleTask.objects.filter(order=home).exists()
    assert all(audited("control.sampletask", t.pk, AuditEntry.Verb.DELETE) for t in due)
    ran("open_orders", "withdraw_orders", "reserve_rooms", "create_transfer", "place_at_home")


def _isolated(scene: Scene, persons: list[Any]) -> list[ControlOrder]:
    """The persons judged close contacts at 1 h and in isolation (a room each) from 3 h, plan day 1 = T0."""
    with time_machine.travel(at(1), tick=False):
        scene.decide([scene.contact(p) for p in persons])
    scene.site("W-H1", f"101-{100 + len(persons)}")
    orders = [order_of(p) for p in persons]
    rooms = list(Room.objects.filter(site__code="W-H1").order_by("number"))
    with time_machine.travel(at(1.5), tick=False):
        for o, r in zip(orders, rooms, strict=True):
            scene.reserve(o, r)
        task = scene.transfer(orders, at(2))
    with time_machine.travel(at(3), tick=False):
        assert post(scene.officer, f"/api/control/transfers/{task['id']}/arrive", {}).status_code == 200
    return [ControlOrder.objects.get(pk=o.pk) for o in orders]


def test_follow_up_health_alerts_samples_and_results(scene: Scene, ran: Callable[..., None]) -> None:
    (wang,) = _isolated(scene, [scene.city.ft_person2])
    with time_machine.travel(day(2, 8), tick=False):
        r = post(scene.officer, f"/api/control/orders/{wang.pk}/health", {"temperature": 36.5})
        assert r.status_code == 201 and r.json()["alert"] is False
        r = post(
            scene.officer,
            f"/api/control/orders/{wang.pk}/health",
            {"temperature": 37.9, "symptoms": ["cough"]},
        )
        assert r.json()["alert"] is True  # the same day again: corrected
        record = HealthRecord.objects.get(order=wang)
        form = {"handling": "已送发热门诊", "version": record.version}
        r = scene.officer.post(f"/control/health/{record.pk}/handle/", form)
        assert r.status_code == 302
        record.refresh_from_db()
        assert record.handled_at is not None
        # Samples taken at the site, on the follow-up page.
        due = list(SampleTask.objects.filter(order=wang, key__in=["s1d1", "s1d2"]))
        r = scene.officer.post("/control/samples/taken/", {"task": [t.pk for t in due]})
        assert r.status_code == 302
    assert all(audited("control.sampletask", t.pk)[-1]["status"] == ["due", "sampled"] for t in due)
    # An invalid result, then the page for a negative one.
    first = SampleTask.objects.get(order=wang, key="s1d1")
    assert scene.result(first, "invalid", day(2, 16))["status"] == "invalid"
    with time_machine.travel(day(2, 18), tick=False):
        r = scene.officer.post(f"/control/samples/{first.pk}/result/", {"result": "negative"})
        assert r.status_code == 302
    assert SampleTask.objects.get(pk=first.pk).status == SampleStatus.NEGATIVE
    ran("record_health", "handle_alert", "record_samples", "record_result")


def test_a_positive_result_becomes_a_case(scene: Scene, ran: Callable[..., None]) -> None:
    """刘洋's sample is positive: he is reported as a case found under control (through tracing's actions,
    which also trace him), his room goes to cleaning, his remaining tests are dropped. (Under the watch this
    also checks tracing's writes: it needs tracing's own audit of a reported case's investigation.)"""
    (courier,) = _isolated(scene, [scene.city.courier])
    task = SampleTask.objects.get(order=courier, key="s1d2")
    assert scene.result(task, "positive", day(2, 15))["case"]
    courier = ControlOrder.objects.get(pk=courier.pk)
    assert courier.status == OrderStatus.CONVERTED and courier.converted_case is not None
    placement = Placement.objects.get(order=courier)
    assert audited("control.placement", placement.pk)[-1]["status"] == ["active", "ended"]
    assert audited("control.room", placement.room_id)[-1] == {"status": ["occupied", "cleaning"]}
    assert not SampleTask.objects.filter(order=courier, status=SampleStatus.DUE).exists()
    ran("record_result")


def test_extension_home_stage_and_release(scene: Scene, ran: Callable[..., None]) -> None:
    city = scene.city
    wang, li = _isolated(scene, [city.ft_person2, city.cp_person])
    # Li's plan is extended by two days: a test is added on the new last day, the old last one moves.
    with time_machine.travel(day(3), tick=False):
        r = post(scene.officer, f"/api/control/orders/{li.pk}/extend", {"days": 2, "reason": "同住人阳性"})
        assert r.status_code == 200, r.content
        form = {"days": "1", "reason": "复核", "version": ControlOrder.objects.get(pk=li.pk).version}
        r = scene.officer.post(f"/control/orders/{li.pk}/extend/", form)
        assert r.status_code == 302
    assert ControlOrder.objects.get(pk=li.pk).extension_days == 3
    for key, n in (("s1d1", 1), ("s1d2", 2), ("s1d3", 3), ("s1d5", 5), ("s1d7", 7)):
        scene.result(SampleTask.objects.get(order=wang, key=key), "negative", day(n, 16))
    with time_machine.travel(day(8, 9), tick=False):
        r = scene.officer.post("/control/orders/bulk/", {"order": [wang.pk], "action": "home-stage"})
        assert r.status_code == 302 and order_of(city.ft_person2).status == OrderStatus.HOME
    scene.result(SampleTask.objects.get(order=wang, key="s2d3"), "negative", day(10, 16))
    with time_machine.travel(day(10, 17), tick=False):
        r = post(scene.officer, "/api/control/releases", {"orders": [wang.pk]})
        assert r.status_code == 200, r.content
    (out,) = r.json()
    assert out["status"] == "released" and out["certificate_no"].startswith("JC-")
    room = Placement.objects.filter(order=wang, mode="centralized").get().room
    assert audited("control.room", room.pk)[-1] == {"status": ["occupied", "cleaning"]}
    ran("extend", "move_to_home", "release", "record_result")
