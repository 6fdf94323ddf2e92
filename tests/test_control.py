"""Close-contact control end to end through the API (confirmed case -> tracing -> judgment -> queue ->
proposal -> reservation -> transfer -> placement -> scheduled tests -> home monitoring -> release), with the
clocks checked hour by hour; refusals that change nothing; scoping; PDFs; concurrent placement on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from cordon.apps.control import actions, selectors
from cordon.apps.control.models import (
    OPEN_ORDER,
    ControlOrder,
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
from cordon.apps.tracing.models import Case, Contact
from cordon.apps.tracing.store import scan_store
from cordon.engine import identity

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # the case is reported


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def day(n: int, hour: int = 10) -> dt.datetime:
    """Hour ``hour`` of plan day ``n`` for persons placed on T0's date."""
    return dt.datetime.combine(T0.date() + dt.timedelta(days=n - 1), dt.time(hour), tzinfo=TZ)


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def scans(rows: list[tuple[int, int, dt.datetime, dt.datetime]]) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([r[0] for r in rows], pa.int64()),
            "venue_id": pa.array([r[1] for r in rows], pa.int64()),
            "subarea": pa.array([None for _ in rows], pa.int16()),
            "time_in": pa.array([r[2].replace(tzinfo=None) for r in rows], pa.timestamp("ms")),
            "time_out": pa.array([r[3].replace(tzinfo=None) for r in rows], pa.timestamp("ms")),
        }
    )


class World:
    """The conftest city, with 李娜's household (李明) and a hotel visit she shared with 张伟 (the case)."""

    def __init__(self, city: Any, make_user: Any, client_for: Any) -> None:
        self.city = city
        hh = people.create_household(actor=None, code="H-CP-1", building=city.cp_building, unit="2-201")
        city.cp_person.household = hh
        city.cp_person.save()
        self.cp_mate = people.create_person(
            actor=None,
            data=people.PersonData(
                name="李明", national_id=identity.make("110114", dt.date(1988, 2, 3), 411), household=hh
            ),
        )
        d = T0 - dt.timedelta(days=2)
        hotel = city.ft_venue.pk
        scan_store().ingest(
            scans(
                [
                    (city.ft_person.pk, hotel, d.replace(hour=10), d.replace(hour=12)),
                    (city.cp_person.pk, hotel, d.replace(hour=11), d.replace(hour=13)),
                ]
            )
        )
        self.inv = client_for(make_user("investigator", city.fengtai, username="ft.inv"))
        self.ft_q = client_for(make_user("quarantine_officer", city.fengtai, username="ft.q"))
        self.cp_q = client_for(make_user("quarantine_officer", city.changping, username="cp.q"))
        self.city_cmd = client_for(make_user("city_commander", city.city, username="city.cmd"))
        self.cp_grid = client_for(make_user("grid_worker", city.lx_grid, username="cp.grid"))
        self.ft_grid = client_for(make_user("grid_worker", city.zgz_grid, username="ft.grid"))

    def site(self, client: Any, code: str, jurisdiction: str, rooms: list[dict[str, Any]], **kw: Any) -> int:
        r = post(
            client,
            "/api/control/sites",
            {
                "code": code,
                "name": f"{code} 隔离酒店",
                "jurisdiction": jurisdiction,
                "latitude": 39.9,
                "longitude": 116.3,
                **kw,
            },
        )
        assert r.status_code == 201, r.content
        for spec in rooms:
            assert post(client, f"/api/control/sites/{code}/rooms", spec).status_code == 201
        return int(r.json()["id"])


@pytest.fixture
def world(city: Any, make_user: Any, client_for: Any) -> World:
    return World(city, make_user, client_for)


def order_of(person: Any) -> ControlOrder:
    return ControlOrder.objects.get(person=person, status__in=OPEN_ORDER)


def board_row(client: Any, district: str) -> dict[str, Any]:
    body = client.get("/api/control/board").json()
    return next(r for r in body["districts"] if r["district"] == district)


def test_from_a_confirmed_case_to_release_with_the_clocks_right(
    world: World, city: Any, api_job: Any
) -> None:
    # --- T0: the case is reported and traced; T0+1h: every candidate is judged. -------------------------
    with time_machine.travel(at(0), tick=False):
        r = post(
            world.inv,
            "/api/cases",
            {
                "person_id": city.ft_person.pk,
                "classification": "confirmed",
                "onset_date": (T0.date() - dt.timedelta(days=1)).isoformat(),
                "sampled_at": at(-3).isoformat(),
                "found_by": "fever_clinic",
            },
        )
        assert r.status_code == 201, r.content
        case_id = r.json()["id"]
        assert api_job(world.inv, f"/api/cases/{case_id}/trace")["result"]["total"] >= 0
    contacts = {c["person_id"]: c for c in world.inv.get(f"/api/cases/{case_id}/contacts").json()}
    assert set(contacts) == {city.ft_person2.pk, city.cp_person.pk, world.cp_mate.pk}
    with time_machine.travel(at(1), tick=False):
        r = post(
            world.inv,
            f"/api/cases/{case_id}/contacts/decide",
            {"contacts": [c["id"] for c in contacts.values()], "decision": "confirmed"},
        )
        assert r.json()["changed"] == 3
    # Orders are open at once, in the contacts' districts, with the plan's clock (close 8 h, secondary 12 h).
    p2, li, mate = order_of(city.ft_person2), order_of(city.cp_person), order_of(world.cp_mate)
    assert (p2.district, li.district, mate.district) == (city.fengtai, city.changping, city.changping)
    assert p2.centralized and li.centralized and not mate.centralized
    assert p2.due_at == at(9) and mate.due_at == at(13)
    assert p2.plan.code == "close-contact" and mate.plan.code == "secondary-contact"
    # Each district's officer sees only their own queue.
    assert [o["name"] for o in world.ft_q.get("/api/control/queue").json()] == [city.ft_person2.name]
    assert {o["name"] for o in world.cp_q.get("/api/control/queue").json()} == {"李娜", "李明"}
    assert world.ft_q.get(f"/api/control/orders/{li.pk}").status_code == 404

    with time_machine.travel(at(1.5), tick=False):
        world.site(
            world.ft_q,
            "FT-H1",
            city.beigong.code,
            [{"numbers": "101-102"}, {"numbers": "103", "accessible": True}],
            takes_special_needs=True,
        )
        world.site(world.cp_q, "CP-H1", city.huilongguan.code, [{"numbers": "201-202", "beds": 2}])
        # 王芳 is pregnant: the proposal is the accessible room at the site that takes special needs.
        prop = post(world.ft_q, "/api/control/proposals", {"orders": [p2.pk]}).json()
        room103 = Room.objects.get(site__code="FT-H1", number="103")
        assert prop["placements"] == [
            {
                "order": p2.pk,
                "site": room103.site_id,
                "room": room103.pk,
                "distance_km": prop["placements"][0]["distance_km"],
            }
        ]
        assert (
            post(
                world.ft_q, "/api/control/placements", {"assignments": [{"order": p2.pk, "room": room103.pk}]}
            ).status_code
            == 201
        )
        room103.refresh_from_db()
        assert room103.status == RoomStatus.OCCUPIED
        # A pickup before the judgment is refused and changes nothing.
        bad = post(
            world.ft_q,
            "/api/control/transfers",
            {
                "orders": [p2.pk],
                "vehicle": "京A12345",
                "team": "丰台转运一组",
                "pickup_at": at(0.5).isoformat(),
            },
        )
        assert bad.status_code == 422 and "pickup_at" in bad.json()["errors"]
        assert order_of(city.ft_person2).status == OrderStatus.ALLOCATED
        task = post(
            world.ft_q,
            "/api/control/transfers",
            {
                "orders": [p2.pk],
                "vehicle": "京A12345",
                "team": "丰台转运一组",
                "pickup_at": at(2).isoformat(),
            },
        ).json()
    with time_machine.travel(at(2), tick=False):
        assert (
            post(world.ft_q, f"/api/control/transfers/{task['id']}/depart", {}).json()["status"] == "en_route"
        )
    with time_machine.travel(at(3), tick=False):
        assert (
            post(world.ft_q, f"/api/control/transfers/{task['id']}/arrive", {}).json()["status"] == "arrived"
        )
    p2 = order_of(city.ft_person2)
    assert p2.status == OrderStatus.ISOLATED and p2.controlled_at == at(3) and p2.start_date == T0.date()
    tests = world.ft_q.get(f"/api/control/orders/{p2.pk}").json()["tests"]
    assert [(dt.date.fromisoformat(t["on"]) - T0.date()).days + 1 for t in tests] == [1, 2, 3, 5, 7, 10]

    # Changping: the first pickup fails (not at home): back in the queue, the room free again; then it works.
    with time_machine.travel(at(2), tick=False):
        room201 = Room.objects.get(site__code="CP-H1", number="201")
        assert (
            post(
                world.cp_q, "/api/control/placements", {"assignments": [{"order": li.pk, "room": room201.pk}]}
            ).status_code
            == 201
        )
        t1 = post(
            world.cp_q,
            "/api/control/transfers",
            {"orders": [li.pk], "vehicle": "京B1", "team": "昌平一组", "pickup_at": at(2).isoformat()},
        ).json()
        m = post(
            world.cp_q, f"/api/control/transfer-members/{t1['members'][0]['id']}/fail", {"reason": "not_home"}
        )
        assert m.json()["order_status"] == "waiting"
        room201.refresh_from_db()
        assert room201.status == RoomStatus.AVAILABLE
        assert (
            Placement.objects.get(order=li, status=PlacementStatus.CANCELLED).end_reason == "transfer_failed"
        )
        assert [o["name"] for o in world.cp_q.get("/api/control/queue").json() if o["centralized"]] == [
            "李娜"
        ]
    with time_machine.travel(at(4), tick=False):
        assert (
            post(
                world.cp_q, "/api/control/placements", {"assignments": [{"order": li.pk, "room": room201.pk}]}
            ).status_code
            == 201
        )
        t2 = post(
            world.cp_q,
            "/api/control/transfers",
            {"orders": [li.pk], "vehicle": "京B1", "team": "昌平一组", "pickup_at": at(4).isoformat()},
        ).json()
    with time_machine.travel(at(5), tick=False):
        post(world.cp_q, f"/api/control/transfers/{t2['id']}/arrive", {})
    # Clocks: judged 1 h after confirmation; every close contact transferred at 5 h; the secondary contact
    # is not yet under control, so the "under control" clock is still open.
    with time_machine.travel(at(5.5), tick=False):
        (clock,) = world.city_cmd.get("/api/control/board").json()["cases"]
    assert (clock["judged_hours"], clock["transferred_hours"], clock["isolated_hours"]) == (1.0, 5.0, None)

    # The secondary contact: home quarantine from 6 h; the home building is marked for its grid only.
    with time_machine.travel(at(6), tick=False):
        assert post(world.cp_q, "/api/control/home-placements", {"orders": [mate.pk]}).status_code == 201
        clock = world.city_cmd.get("/api/control/board").json()["cases"][0]
        assert clock["isolated_hours"] == 6.0 and clock["controlled"] == clock["confirmed"] == 3
        assert "昌平区回龙观龙祥社区东区3号楼" in world.cp_grid.get("/control/homes/").content.decode()
        assert "李明" not in world.ft_grid.get("/control/homes/").content.decode()
        assert board_row(world.city_cmd, city.fengtai.code)["open"]["waiting"] == 0

    # Follow-up: a fever raises an alert on the board until handled.
    with time_machine.travel(day(2, 8), tick=False):
        r = post(world.ft_q, f"/api/control/orders/{p2.pk}/health", {"temperature": 37.8, "symptoms": []})
        assert r.json()["alert"] is True
        assert board_row(world.city_cmd, city.fengtai.code)["open"]["alerts"] == 1
    # A positive result for 李娜 on day 2: she becomes a case found under control, traced at once.
    li_task = SampleTask.objects.get(order=li, key="s1d2")
    with time_machine.travel(day(2, 15), tick=False):
        r = post(
            world.cp_q,
            f"/api/control/sample-tasks/{li_task.pk}/result",
            {"result": "positive", "ct_value": 28.5},
        )
        assert r.status_code == 200, r.content
    new_case = Case.objects.get(code=r.json()["case"])
    assert new_case.person == city.cp_person and new_case.found_by == "in_quarantine"
    assert new_case.control == "isolation" and new_case.traced_at is not None
    assert ControlOrder.objects.get(pk=li.pk).status == OrderStatus.CONVERTED

    # 王芳: negatives as they come; release refused early, with the reasons; then the home stage; release.
    def negative(key: str, when: dt.datetime) -> None:
        task = SampleTask.objects.get(order=p2, key=key)
        with time_machine.travel(when, tick=False):
            r = post(world.ft_q, f"/api/control/sample-tasks/{task.pk}/result", {"result": "negative"})
            assert r.status_code == 200, r.content

    for key, n in (("s1d1", 1), ("s1d2", 2), ("s1d3", 3), ("s1d5", 5)):
        negative(key, day(n, 16))
    with time_machine.travel(day(6), tick=False):
        r = post(world.ft_q, "/api/control/releases", {"orders": [p2.pk]})
        assert r.status_code == 422
        assert "2026-11-29" in r.json()["errors"]["orders"]  # the plan's last day
        assert order_of(city.ft_person2).status == OrderStatus.ISOLATED
        assert (
            post(world.ft_q, "/api/control/home-stage", {"orders": [p2.pk]}).status_code == 422
        )  # too early
    negative("s1d7", day(7, 16))
    with time_machine.travel(day(8, 9), tick=False):
        assert post(world.ft_q, "/api/control/home-stage", {"orders": [p2.pk]}).json()["moved"] == 1
        room103.refresh_from_db()
        assert room103.status == RoomStatus.CLEANING
    negative("s2d3", day(10, 16))
    with time_machine.travel(day(10, 18), tick=False):
        done = post(world.ft_q, "/api/control/releases", {"orders": [p2.pk]})
        assert done.status_code == 200, done.content
        assert done.json()[0]["status"] == "released" and done.json()[0]["certificate_no"]
        pdf = world.ft_q.get(f"/control/orders/{p2.pk}/certificate.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "王芳" in text and "解除隔离" in text and "Released on" in text
    with time_machine.travel(day(10, 19), tick=False):
        assert board_row(world.city_cmd, city.fengtai.code)["open"]["releases"] == 0


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    # pypdf reads fpdf2's two-byte ToUnicode entries with a NUL before each character (poppler does not).
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\x00", "")


# --- Refusals: a clear message, nothing changed ------------------------------------------------------------


def _judged(city: Any, persons: list[Any], degree: int = 1) -> list[ControlOrder]:
    """A case of 张伟 with the given persons confirmed as contacts (orders opened by the judgment)."""
    from django.utils import timezone

    from cordon.apps.tracing import actions as tracing

    case = Case.objects.filter(person=city.ft_person).first() or tracing.report_case(
        actor=None,
        data=tracing.CaseData(
            person=city.ft_person,
            onset_date=timezone.localdate(),
            sampled_at=timezone.now(),
            found_by="fever_clinic",
        ),
    )
    made = [
        Contact.objects.create(
            case=case,
            person=p,
            degree=degree,
            contact_type="venue",
            jurisdiction=p.jurisdiction,
            district=geo_selectors.district_of(p.jurisdiction),
        )
        for p in persons
    ]
    tracing.decide_contacts(actor=None, case=case, contact_ids=[c.pk for c in made], decision="confirmed")
    return [order_of(p) for p in persons]


def _room(city: Any, number: str = "301", beds: int = 1, district: Any = None) -> Room:
    site = actions.save_site(
        actor=None,
        data=actions.SiteData(
            code=f"S-{number}", name=f"酒店{number}", jurisdiction=district or city.fengtai
        ),
    )
    return actions.add_rooms(actor=None, site=site, numbers=number, beds=beds)[0]


@translation.override("en")
def test_room_over_capacity_two_households_and_a_released_person_are_refused(city: Any) -> None:
    extra = people.create_person(
        actor=None,
        data=people.PersonData(
            name="赵磊",
            national_id=identity.make("110106", dt.date(1970, 1, 1), 777),
            home_building=city.ft_building,
        ),
    )
    a, b = _judged(city, [city.ft_person2, extra])
    room = _room(city, beds=1)
    with pytest.raises(ValidationError, match="1 beds for 2 persons"):
        actions.reserve_rooms(actor=None, assignments=[(a, room), (b, room)])
    big = _room(city, "302", beds=4)
    with pytest.raises(ValidationError, match="two households"):
        actions.reserve_rooms(actor=None, assignments=[(a, big), (b, big)])
    assert not Placement.objects.exists()
    assert {o.status for o in ControlOrder.objects.all()} == {OrderStatus.WAITING}
    room.refresh_from_db()
    assert room.status == RoomStatus.AVAILABLE
    # A released person cannot be placed again.
    a.status = OrderStatus.RELEASED
    a.save()
    with pytest.raises(ValidationError, match="no longer waiting"):
        actions.reserve_rooms(actor=None, assignments=[(a, room)])
    assert not Placement.objects.exists()


@translation.override("en")
def test_release_with_a_test_missing_is_refused_with_the_reason(city: Any) -> None:
    with time_machine.travel(day(1, 9), tick=False):
        (order,) = _judged(city, [city.cp_person], degree=2)
        actions.place_at_home(actor=None, orders=[order])
    order.refresh_from_db()
    tasks = {t.key: t for t in SampleTask.objects.filter(order=order)}
    assert set(tasks) == {"s1d1", "s1d4", "s1d7"}
    for key, n in (("s1d1", 1), ("s1d7", 7)):
        with time_machine.travel(day(n, 16), tick=False):
            actions.record_result(actor=None, task=tasks[key], result=SampleStatus.NEGATIVE)
    with time_machine.travel(day(7, 18), tick=False):
        with pytest.raises(ValidationError) as err:
            actions.release(actor=None, orders=[order])
        assert "no sample for the test of 2026-11-23" in " ".join(err.value.messages)
        order.refresh_from_db()
        assert order.status == OrderStatus.HOME and not order.certificate_no
        # An extension is recorded with its reason and adds a test on the new last day.
        with pytest.raises(ValidationError):
            actions.extend(actor=None, order=order, days=2, reason="")
        actions.extend(actor=None, order=order, days=2, reason="同住人阳性")
    order.refresh_from_db()
    assert order.schedule().last_day == day(9).date()  # type: ignore[union-attr]
    assert SampleTask.objects.filter(order=order, key="s1d9", due_on=day(9).date()).exists()


def test_a_dismissed_judgment_cancels_the_order_and_frees_the_room(city: Any) -> None:
    (order,) = _judged(city, [city.ft_person2])
    room = _room(city)
    actions.reserve_rooms(actor=None, assignments=[(order, room)])
    from cordon.apps.tracing import actions as tracing

    contact = Contact.objects.get(person=city.ft_person2)
    tracing.decide_contacts(actor=None, case=contact.case, contact_ids=[contact.pk], decision="dismissed")
    order.refresh_from_db()
    room.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and room.status == RoomStatus.AVAILABLE


def test_health_record_checks(city: Any) -> None:
    with time_machine.travel(day(1, 9), tick=False):
        (order,) = _judged(city, [city.cp_person], degree=2)
        actions.place_at_home(actor=None, orders=[order])
        with pytest.raises(ValidationError) as err:
            actions.record_health(
                actor=None, order=order, day=day(0).date(), temperature="45", symptoms=["x"]
            )
        assert set(err.value.message_dict) == {"day", "temperature", "symptoms"}
        assert not order.health_records.exists()
        rec = actions.record_health(actor=None, order=order, day=None, temperature="36,6")
        assert not rec.alert and str(rec.temperature) == "36.6"


def test_pages_of_the_pipeline_render_in_both_languages(
    city: Any, make_user: Any, client_for: Any, exported: Any
) -> None:
    officer = client_for(make_user("quarantine_officer", city.city))
    (order,) = _judged(city, [city.courier])
    room = _room(city)
    for lang, word in (("zh-hans", "队列"), ("en", "Queue")):
        officer.cookies["django_language"] = lang
        for url in (
            "/control/",
            "/control/queue/",
            "/control/transfers/",
            "/control/orders/",
            "/control/follow-up/",
            "/control/homes/",
            "/control/sites/",
            "/control/plans/",
            f"/control/orders/{order.pk}/",
            f"/control/sites/{room.site.code}/",
        ):
            r = officer.get(url)
            assert r.status_code == 200, (url, r.status_code)
        assert word in officer.get("/control/queue/").content.decode()
    r = officer.post("/control/allocate/", {"order": [order.pk], "step": "propose"})
    assert r.status_code == 200 and f'value="{room.pk}" selected' in r.content.decode()
    r = officer.post(
        "/control/allocate/", {"order": [order.pk], "step": "accept", f"room-{order.pk}": room.pk}
    )
    assert r.status_code == 302 and ControlOrder.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    pdf = exported(officer, "/control/orders/pdf/", {"order": [order.pk]})  # a job; its file downloaded
    assert pdf["Content-Type"] == "application/pdf"
    assert "隔离医学观察通知书" in _pdf_text(b"".join(pdf.streaming_content))


def test_plan_versions_are_stamped_on_placements(city: Any, make_user: Any, client_for: Any) -> None:
    admin = client_for(make_user("administrator", city.city))
    old = selectors.plan_in_force("close")
    definition = {
        **old.definition,
        "stages": [{"kind": "centralized", "days": 5}],
        "tests": [{"stage": 1, "day": 5}],
    }
    bad = post(
        admin,
        "/api/control/plans",
        {"applies_to": "close", "definition": {**definition, "stages": []}, "note": "x"},
    )
    assert bad.status_code == 422 and selectors.plan_in_force("close") == old
    r = post(admin, "/api/control/plans", {"applies_to": "close", "definition": definition, "note": "第十版"})
    assert r.status_code == 201 and r.json()["version"] == old.version + 1
    (order,) = _judged(city, [city.ft_person2])
    assert order.plan.version == old.version + 1 and order.plan.plan.total_days == 5


def test_profile_defaults_apply_where_no_plan_was_ever_set_but_a_withdrawn_plan_refuses(city: Any) -> None:
    QuarantinePlan.objects.all().delete()  # a database without the installation's data
    (order,) = _judged(city, [city.ft_person2])
    assert order.plan.version == 1 and order.plan.note == "profile default"
    QuarantinePlan.objects.filter(applies_to="close").update(in_force=False)  # withdrawn by an administrator
    with translation.override("en"), pytest.raises(ValidationError, match="an administrator must set one"):
        selectors.plan_in_force("close")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_officers_placing_the_same_person_at_once_end_with_one_placement(city: Any) -> None:
    (order,) = _judged(city, [city.ft_person2])
    rooms = [_room(city, "401"), _room(city, "402")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def place(room: Room) -> None:
        try:
            barrier.wait()
            with translation.override("en"):
                actions.reserve_rooms(actor=None, assignments=[(ControlOrder.objects.get(pk=order.pk), room)])
            outcomes.append("placed")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(r,)) for r in rooms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("placed") == 1, outcomes
    assert "someone else placed them" in next(o for o in outcomes if o != "placed")
    assert Placement.objects.filter(person=city.ft_person2, status=PlacementStatus.RESERVED).count() == 1
    assert Room.objects.filter(status=RoomStatus.OCCUPIED).count() == 1


def test_selectors_scope_sites_and_orders(city: Any, make_user: Any) -> None:
    (order,) = _judged(city, [city.cp_person])
    cp_room = _room(city, "501", district=city.changping)
    ft_officer = make_user("quarantine_officer", city.fengtai)
    assert list(selectors.sites_visible_to(ft_officer)) == []
    assert not selectors.orders_visible_to(ft_officer).exists()
    # Placed at a Fengtai site, a Changping resident becomes visible to that site's district too.
    ft_room = _room(city, "502", district=city.fengtai)
    actions.reserve_rooms(actor=None, assignments=[(order, ft_room)])
    assert list(selectors.orders_visible_to(ft_officer)) == [order]
    assert cp_room.site not in selectors.sites_visible_to(ft_officer)


def test_the_transfer_board_keeps_a_task_that_arrived_today_with_a_pickup_past_midnight(
    city: Any, make_user: Any
) -> None:
    """Late in the evening the default pickup (in half an hour) falls on tomorrow; once arrived, the task
    still shows on today's board."""
    officer = make_user("quarantine_officer", city.fengtai, username="ft.q")
    evening = dt.datetime(2026, 11, 20, 23, 50, tzinfo=TZ)
    with time_machine.travel(evening, tick=False):
        (order,) = _judged(city, [city.ft_person2])
        actions.reserve_rooms(actor=None, assignments=[(order, _room(city))])
        task = actions.create_transfer(
            actor=None,
            orders=[ControlOrder.objects.get(pk=order.pk)],
            data=actions.TransferData("京A·12345", "丰台转运一组", evening + dt.timedelta(minutes=30)),
        )
        actions.depart_transfer(actor=None, task=task)
        actions.arrive_transfer(actor=None, task=task)
        board = selectors.transfer_board(officer, evening.date())
        assert [t.pk for t in board["columns"]["arrived"]] == [task.pk]


def test_a_batch_of_order_pdfs_is_a_job_counting_its_pages_for_its_starter_only(
    city: Any, make_user: Any, client_for: Any, worker: Any, settings: Any
) -> None:
    from cordon.apps.audit.models import AccessLog
    from cordon.apps.jobs import actions as jobs
    from cordon.apps.jobs.models import Job

    settings.CORDON_JOB_PROGRESS_SECONDS = 0
    orders = _judged(city, [city.ft_person2, city.cp_person])
    officer_user = make_user("quarantine_officer", city.city)
    officer = client_for(officer_user)
    officer.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with worker():
        r = officer.post("/control/orders/pdf/", {"order": [o.pk for o in orders]})
    assert r.status_code == 302
    job = Job.objects.get(pk=int(r["Location"].split("/")[2]))
    assert job.kind == "control.orders_pdf" and job.status == Job.Status.DONE, job.error
    assert job.progress.done == job.progress.total == 2
    assert job.result["summary"] == "The quarantine orders of 2 persons, in one PDF."
    download = officer.get(f"/jobs/{job.pk}/file/")
    assert download["Content-Type"] == "application/pdf"
    assert _pdf_text(b"".join(download.streaming_content)).count("隔离医学观察通知书") == 2
    (row,) = AccessLog.objects.filter(actor=officer_user)  # the job's, naming both persons
    assert row.via == "pdf" and set(row.person_ids()) == {o.person_id for o in orders}
    # Another officer who sees the orders does not download this one's file.
    other = client_for(make_user("quarantine_officer", city.city))
    assert other.get(f"/jobs/{job.pk}/file/").status_code == 404
    # An order outside the starter's district when the job runs: the job fails, saying so; no file.
    changping_officer = make_user("quarantine_officer", city.changping)
    with worker():
        failed = jobs.start(
            actor=changping_officer, kind="control.orders_pdf", params={"orders": [orders[0].pk]}
        )
    failed.refresh_from_db()
    assert failed.status == Job.Status.FAILED and "不在您的可见范围内" in failed.error  # in its language
    assert "file" not in failed.result
    # Nothing ticked: said at once, no job.
    assert "Choose at least one person" in officer.post("/control/orders/pdf/", follow=True).content.decode()
    assert Job.objects.count() == 2
