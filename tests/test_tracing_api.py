"""Cases, tracing, judgment, cross-district linkage, clusters and risk venues through the API and the pages,
with a real scan store (Parquet + DuckDB in a temporary folder) and the real database."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pyarrow as pa
import pytest
from django.utils import timezone

from cordon.apps.audit.models import AuditEntry
from cordon.apps.people import actions as people
from cordon.apps.tracing import selectors
from cordon.apps.tracing.models import Contact, Linkage
from cordon.apps.tracing.store import scan_store
from cordon.engine import identity


def _day(offset: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=offset)


def _t(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m))


def scans(rows: list[tuple[int, int, int | None, dt.datetime, dt.datetime]]) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array([r[0] for r in rows], pa.int64()),
            "venue_id": pa.array([r[1] for r in rows], pa.int64()),
            "subarea": pa.array([r[2] for r in rows], pa.int16()),
            "time_in": pa.array([r[3] for r in rows], pa.timestamp("ms")),
            "time_out": pa.array([r[4] for r in rows], pa.timestamp("ms")),
        }
    )


class World:
    """The conftest city plus: a Fengtai case (张伟) whose household member, hotel co-visitor from Changping
    (李娜) and her household member (secondary), a visitor arriving exactly as the case leaves (touching
    stays count) and one who came later (no contact)."""

    def __init__(self, city: Any) -> None:
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
        self.late = people.create_person(
            actor=None,
            data=people.PersonData(
                name="孙强",
                national_id=identity.make("110106", dt.date(1975, 4, 5), 511),
                home_building=city.ft_building,
            ),
        )
        self.touching = people.create_person(
            actor=None,
            data=people.PersonData(
                name="周杰",
                national_id=identity.make("110106", dt.date(1979, 6, 7), 611),
                home_building=city.ft_building,
            ),
        )
        d = _day(-2)
        hotel = city.ft_venue.pk
        self.report = scan_store().ingest(
            scans(
                [
                    (city.ft_person.pk, hotel, None, _t(d, "10:00"), _t(d, "12:00")),
                    (city.cp_person.pk, hotel, None, _t(d, "11:30"), _t(d, "13:00")),
                    (self.touching.pk, hotel, None, _t(d, "12:00"), _t(d, "12:30")),
                    (self.late.pk, hotel, None, _t(d, "14:00"), _t(d, "15:00")),
                ]
            )
        )

    def case_payload(self, person: Any) -> dict[str, Any]:
        return {
            "person_id": person.pk,
            "classification": "confirmed",
            "onset_date": _day(-1).isoformat(),
            "sampled_at": timezone.now().replace(microsecond=0).isoformat(),
            "found_by": "fever_clinic",
        }


@pytest.fixture
def world(city: Any) -> World:
    return World(city)


@pytest.fixture
def ft_investigator(make_user: Any, city: Any) -> Any:
    return make_user("investigator", city.fengtai, username="ft.inv")


@pytest.fixture
def cp_investigator(make_user: Any, city: Any) -> Any:
    return make_user("investigator", city.changping, username="cp.inv")


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_report_trace_judge_and_hand_over_across_districts(
    world: World, city: Any, ft_investigator: Any, cp_investigator: Any, client_for: Any
) -> None:
    assert world.report.added == 4
    ft, cp = client_for(ft_investigator), client_for(cp_investigator)
    r = post(ft, "/api/cases", world.case_payload(city.ft_person))
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["district"] == "110106" and case["under_control"] is False
    assert case["code"].startswith("110106-")

    r = post(ft, f"/api/cases/{case['id']}/trace", {})
    assert r.status_code == 200, r.content
    # household, hotel co-visitor, touching visitor and the co-visitor's household (secondary); not the late one
    assert r.json()["added"] == 4

    contacts = {c["name"]: c for c in ft.get(f"/api/cases/{case['id']}/contacts").json()}
    assert set(contacts) == {"王芳", "李娜", "周杰", "李明"}
    assert contacts["王芳"]["contact_type"] == "household" and contacts["王芳"]["degree"] == 1
    assert contacts["李娜"]["contact_type"] == "venue" and contacts["李娜"]["district"] == "110114"
    ev = contacts["李娜"]["evidence"][0]
    assert ev["venue_code"] == city.ft_venue.code and ev["overlap_minutes"] == 30
    assert contacts["周杰"]["evidence"][0]["overlap_minutes"] == 0  # touching stays count
    assert contacts["李明"]["degree"] == 2 and contacts["李明"]["contact_type"] == "secondary_household"
    assert all(c["status"] == "candidate" for c in contacts.values())  # nothing confirmed silently

    # Changping sees nothing of the Fengtai case, and nothing yet in its inbox.
    assert cp.get(f"/api/cases/{case['id']}").status_code == 404
    assert cp.get(f"/api/cases/{case['id']}/contacts").status_code == 404
    assert cp.get("/api/linkage").json() == []

    # Bulk confirmation; the Changping contacts reach Changping's inbox at once.
    ids = [contacts[n]["id"] for n in ("王芳", "李娜", "李明")]
    r = post(ft, f"/api/cases/{case['id']}/contacts/decide", {"contacts": ids, "decision": "confirmed"})
    assert r.json() == {"changed": 3}
    inbox = cp.get("/api/linkage").json()
    assert {i["name"] for i in inbox} == {"李娜", "李明"}
    assert all(i["from_district"] == "110106" and i["acknowledged_at"] is None for i in inbox)
    assert ft.get("/api/linkage").json() == []  # nothing handed to Fengtai
    judged = Contact.objects.get(pk=contacts["李娜"]["id"])
    assert judged.decided_by == ft_investigator and judged.decided_at is not None
    assert AuditEntry.objects.filter(
        model="tracing.contact", object_pk=str(judged.pk), actor=ft_investigator
    ).exists()

    # Acknowledgement (with its clock); Fengtai cannot acknowledge Changping's items.
    item = inbox[0]
    assert post(ft, f"/api/linkage/{item['id']}/acknowledge", {}).status_code == 404
    r = post(cp, f"/api/linkage/{item['id']}/acknowledge", {})
    assert r.status_code == 200 and r.json()["acknowledged_at"]
    assert len(cp.get("/api/linkage?pending=true").json()) == 1

    # New scans, traced again: the new co-visitor is added, the decisions stay.
    newcomer = people.create_person(
        actor=None,
        data=people.PersonData(
            name="吴昊",
            national_id=identity.make("110106", dt.date(1991, 8, 9), 711),
            home_building=city.ft_building,
        ),
    )
    d = _day(-2)
    scan_store().ingest(scans([(newcomer.pk, city.ft_venue.pk, None, _t(d, "09:00"), _t(d, "10:15"))]))
    r = post(ft, f"/api/cases/{case['id']}/trace", {})
    assert r.json()["added"] == 1
    after = {c["name"]: c for c in ft.get(f"/api/cases/{case['id']}/contacts").json()}
    assert after["吴昊"]["status"] == "candidate"
    assert {n for n, c in after.items() if c["status"] == "confirmed"} == {"王芳", "李娜", "李明"}


def test_case_validation_and_scoping(
    world: World, city: Any, ft_investigator: Any, client_for: Any, make_user: Any
) -> None:
    ft = client_for(ft_investigator)
    bad = world.case_payload(city.ft_person) | {"classification": "asymptomatic"}
    r = post(ft, "/api/cases", bad)
    assert r.status_code == 422 and "onset_date" in r.json()["errors"]
    r = post(ft, "/api/cases", world.case_payload(city.ft_person) | {"found_by": ""})
    assert r.status_code == 422 and "found_by" in r.json()["errors"]
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    r = post(ft, "/api/cases", world.case_payload(city.ft_person) | {"sampled_at": future})
    assert r.status_code == 422 and "sampled_at" in r.json()["errors"]
    # A person of another district is unknown to a Fengtai investigator.
    r = post(ft, "/api/cases", world.case_payload(city.cp_person))
    assert r.status_code == 422 and "person" in r.json()["errors"]
    assert post(ft, "/api/cases", world.case_payload(city.ft_person)).status_code == 201
    r = post(ft, "/api/cases", world.case_payload(city.ft_person))
    assert r.status_code == 422 and "110106-" in r.json()["errors"]["person"]
    # Commanders read, but may not report or trace.
    commander = client_for(make_user("district_commander", city.fengtai))
    assert len(commander.get("/api/cases").json()) == 1
    assert post(commander, "/api/cases", world.case_payload(world.late)).status_code == 403
    assert commander.get("/api/cases/summary").json() == {"total": 1, "community": 1, "controlled": 0}


def test_a_person_is_looked_up_by_national_id_and_only_a_missing_one_is_unknown(
    world: World, city: Any, ft_investigator: Any, client_for: Any, monkeypatch: Any
) -> None:
    """A national ID in the caller's area reports the case; one of another area is "Unknown person" (422); a
    failure of the lookup itself (the database) is not dressed up as an unknown person."""
    from django.db import DatabaseError

    ft = client_for(ft_investigator)
    payload = world.case_payload(city.ft_person) | {"person_id": None}
    r = post(ft, "/api/cases", payload | {"national_id": f" {city.cp_person.national_id.lower()} "})
    assert r.status_code == 422 and "person" in r.json()["errors"]

    def broken(user: Any, national_id: str) -> Any:
        raise DatabaseError("connection lost")

    monkeypatch.setattr(selectors, "person_by_national_id", broken)
    with pytest.raises(DatabaseError):
        post(ft, "/api/cases", payload | {"national_id": city.ft_person.national_id})
    with pytest.raises(DatabaseError):
        ft.post("/tracing/cases/new/", {"person": city.ft_person.national_id})
    monkeypatch.undo()
    r = post(ft, "/api/cases", payload | {"national_id": f" {city.ft_person.national_id.lower()} "})
    assert r.status_code == 201 and r.json()["person_id"] == city.ft_person.pk


def test_case_and_contact_lists_are_paged_with_their_caps(
    world: World, city: Any, ft_investigator: Any, client_for: Any
) -> None:
    ft = client_for(ft_investigator)
    case = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    post(ft, f"/api/cases/{case['id']}/trace", {})
    assert [c["id"] for c in ft.get("/api/cases?limit=100000").json()] == [case["id"]]
    assert ft.get("/api/cases?offset=1").json() == []
    assert ft.get("/api/cases?limit=0").status_code == 422
    contacts = ft.get(f"/api/cases/{case['id']}/contacts").json()
    assert len(contacts) == 4  # 王芳, 李娜, 周杰 and 李明 (secondary)
    assert ft.get(f"/api/cases/{case['id']}/contacts?limit=1&offset=1").json() == contacts[1:2]
    assert ft.get(f"/api/cases/{case['id']}/contacts?offset=-1").status_code == 422


def test_bulk_judgment_refuses_foreign_and_risk_venue_contacts(
    world: World, city: Any, ft_investigator: Any, client_for: Any
) -> None:
    ft = client_for(ft_investigator)
    case = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    post(ft, f"/api/cases/{case['id']}/trace", {})
    other = post(ft, "/api/cases", world.case_payload(world.late)).json()
    post(ft, f"/api/cases/{other['id']}/trace", {})
    foreign = Contact.objects.filter(case_id=other["id"]).values_list("pk", flat=True).first()
    mine = list(Contact.objects.filter(case_id=case["id"]).values_list("pk", flat=True))
    r = post(
        ft,
        f"/api/cases/{case['id']}/contacts/decide",
        {"contacts": [*mine, foreign], "decision": "confirmed"},
    )
    assert r.status_code == 422
    assert not Contact.objects.filter(case_id=case["id"], status="confirmed").exists()  # all or nothing
    r = post(ft, f"/api/cases/{case['id']}/contacts/decide", {"contacts": [], "decision": "confirmed"})
    assert r.status_code == 422
    r = post(ft, f"/api/cases/{case['id']}/contacts/decide", {"contacts": mine, "decision": "maybe"})
    assert r.status_code == 422
    # Dismissing a confirmed contact withdraws its unacknowledged linkage.
    li = Contact.objects.get(case_id=case["id"], person=city.cp_person).pk
    post(ft, f"/api/cases/{case['id']}/contacts/decide", {"contacts": [li], "decision": "confirmed"})
    assert Linkage.objects.filter(contact_id=li).exists()
    post(ft, f"/api/cases/{case['id']}/contacts/decide", {"contacts": [li], "decision": "dismissed"})
    assert not Linkage.objects.filter(contact_id=li).exists()


def test_hub_venue_visitors_without_subarea_match_are_listed_for_screening(
    world: World, city: Any, ft_investigator: Any, client_for: Any
) -> None:
    from cordon.apps.venues import actions as venues

    station = venues.create_venue(
        actor=None,
        data=venues.VenueData(
            code="V-FT-METRO",
            name="北宫地铁站",
            venue_type="transit",
            building=city.ft_building,
            sub_areas=["A口", "B口"],
        ),
    )
    d = _day(-2)
    crowd = [
        people.create_person(
            actor=None,
            data=people.PersonData(
                name=f"乘客{i}",
                national_id=identity.make("110106", dt.date(1990, 1, i + 1), 800 + i),
                home_building=city.ft_building,
            ),
        )
        for i in range(3)
    ]
    scan_store().ingest(
        scans(
            [
                (city.ft_person.pk, station.pk, 0, _t(d, "08:00"), _t(d, "08:20")),
                (crowd[0].pk, station.pk, 0, _t(d, "08:05"), _t(d, "08:07")),  # same entrance: close
                (
                    crowd[1].pk,
                    station.pk,
                    1,
                    _t(d, "08:05"),
                    _t(d, "08:09"),
                ),  # other entrance, short: screening
                (
                    crowd[2].pk,
                    station.pk,
                    None,
                    _t(d, "07:40"),
                    _t(d, "08:30"),
                ),  # unknown sub-area, long: close
            ]
        )
    )
    ft = client_for(ft_investigator)
    case = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    post(ft, f"/api/cases/{case['id']}/trace", {})
    found = {c["name"]: c for c in ft.get(f"/api/cases/{case['id']}/contacts").json()}
    assert found["乘客0"]["degree"] == 1
    assert found["乘客1"]["degree"] == 0 and found["乘客1"]["contact_type"] == "risk_venue"
    assert found["乘客2"]["degree"] == 1
    r = post(
        ft,
        f"/api/cases/{case['id']}/contacts/decide",
        {"contacts": [found["乘客1"]["id"]], "decision": "confirmed"},
    )
    assert r.status_code == 422
    risk = ft.get("/api/risk-venues").json()
    assert {r["venue"] for r in risk} == {city.ft_venue.code, "V-FT-METRO"}


def _written_world(world: World, city: Any) -> dict[str, Any]:
    """The World plus a restaurant whose name and sub-areas need escaping (quotes, a backslash, a tab: the
    COPY text format and JSON both escape them), where 李娜 shares a longer stay with the case in the same
    sub-area, a metro station where a passer-by is a risk-venue visitor, and work units."""
    from cordon.apps.venues import actions as venues

    restaurant = venues.create_venue(
        actor=None,
        data=venues.VenueData(
            code="V-FT-FOOD",
            name='老"王"记\\面馆\t二店',
            venue_type="restaurant",
            building=city.ft_building,
            sub_areas=["大厅\\A", '包间"1"'],
        ),
    )
    station = venues.create_venue(
        actor=None,
        data=venues.VenueData(
            code="V-FT-METRO", name="北宫地铁站", venue_type="transit", building=city.ft_building,
            sub_areas=["A口", "B口"],
        ),
    )  # fmt: skip
    passer = people.create_person(
        actor=None,
        data=people.PersonData(
            name="乘客",
            national_id=identity.make("110106", dt.date(1990, 1, 1), 800),
            home_building=city.ft_building,
        ),
    )
    # Work units (by name within a workplace; names that need escaping in an array literal too): the case's
    # colleague is a close contact, 李娜's a secondary one, a worker of another unit neither.
    unit = '分拣,"A"组{1}\\'
    city.ft_person.workplace, city.ft_person.work_unit = city.cp_venue, unit
    city.ft_person.save()
    city.cp_person.workplace, city.cp_person.work_unit = city.cp_venue, "取件组"
    city.cp_person.save()

    def worker(name: str, n: int, work_unit: str) -> Any:
        return people.create_person(
            actor=None,
            data=people.PersonData(
                name=name, national_id=identity.make("110114", dt.date(1985, 1, 1), n),
                home_building=city.cp_building, workplace=city.cp_venue, work_unit=work_unit,
            ),
        )  # fmt: skip

    colleague, lina_colleague = worker("赵磊", 901, unit), worker("周八", 902, "取件组")
    worker("钱七", 903, "分拣组")
    d = _day(-2)
    scan_store().ingest(
        scans(
            [
                (city.ft_person.pk, restaurant.pk, 1, _t(d, "18:00"), _t(d, "19:00")),
                (city.cp_person.pk, restaurant.pk, 1, _t(d, "18:15"), _t(d, "19:30")),  # 45 min, same room
                (city.ft_person.pk, station.pk, 0, _t(d, "08:00"), _t(d, "08:20")),
                (passer.pk, station.pk, 1, _t(d, "08:05"), _t(d, "08:09")),  # other entrance, 4 min
            ]
        )
    )
    return {
        "restaurant": restaurant, "station": station, "passer": passer, "day": d, "colleague": colleague,
        "lina_colleague": lina_colleague,
    }  # fmt: skip


_FIELDS = (
    "case_id", "person_id", "degree", "contact_type", "via_id", "score", "overlap_minutes", "shared_stays",
    "evidence", "jurisdiction_id", "district_id", "status", "note", "decided_by_id", "decided_at",
)  # fmt: skip


def _written(case_id: int) -> dict[int, dict[str, Any]]:
    return {r["person_id"]: r for r in Contact.objects.filter(case_id=case_id).values(*_FIELDS)}


@pytest.mark.parametrize("path", ["copy", "executemany"])
def test_new_contacts_are_written_with_every_field_and_their_evidence(
    path: str, world: World, city: Any, ft_investigator: Any, client_for: Any, monkeypatch: Any
) -> None:
    """What tracing writes for each kind of contact, field by field, through either write path: COPY (the
    default on PostgreSQL) and executemany (SQLite; also forced on PostgreSQL to hold it to the same)."""
    import math

    from django.db import connection

    from cordon.core import bulk  # tracing writes new contacts with the one bulk writer

    if path == "copy":
        if connection.vendor != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        assert bulk.uses_copy()
    else:
        monkeypatch.setattr(bulk, "uses_copy", lambda: False)
    extra = _written_world(world, city)
    ft = client_for(ft_investigator)
    case = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    assert post(ft, f"/api/cases/{case['id']}/trace", {}).json()["added"] == 7
    rows = _written(case["id"])
    stamps = Contact.objects.filter(case_id=case["id"]).values_list("found_at", "updated_at")
    assert all(found == updated is not None for found, updated in stamps)

    def at(hhmm: str) -> str:
        return timezone.make_aware(_t(extra["day"], hhmm)).isoformat()

    r, hotel, station = extra["restaurant"], city.ft_venue, extra["station"]
    common = {
        "case_id": case["id"],
        "status": "candidate",
        "note": "",
        "decided_by_id": None,
        "decided_at": None,
    }
    ft_home = {"jurisdiction_id": city.zgz_grid.pk, "district_id": city.fengtai.pk}
    cp_home = {"jurisdiction_id": city.lx_grid.pk, "district_id": city.changping.pk}
    lina = 1 - math.exp(-45 / 30)  # the longest: same sub-area, factor 1
    expected = {
        city.ft_person2.pk: {  # 王芳, same household
            **common, **ft_home, "degree": 1, "contact_type": "household", "via_id": None, "score": 1.0,
            "overlap_minutes": 0, "shared_stays": 0, "evidence": [{"type": "household"}],
        },
        city.cp_person.pk: {  # 李娜: two shared stays, the longest first
            **common, **cp_home, "degree": 1, "contact_type": "venue", "via_id": None, "score": lina,
            "overlap_minutes": 75, "shared_stays": 2,
            "evidence": [
                {"type": "venue", "venue": r.pk, "venue_name": '老"王"记\\面馆\t二店', "venue_code": "V-FT-FOOD",
                 "subarea": '包间"1"', "case_in": at("18:00"), "case_out": at("19:00"), "contact_in": at("18:15"),
                 "contact_out": at("19:30"), "overlap_minutes": 45},
                {"type": "venue", "venue": hotel.pk, "venue_name": hotel.name, "venue_code": hotel.code,
                 "subarea": "", "case_in": at("10:00"), "case_out": at("12:00"), "contact_in": at("11:30"),
                 "contact_out": at("13:00"), "overlap_minutes": 30},
            ],
        },
        world.touching.pk: {  # 周杰: arrived as the case left
            **common, **ft_home, "degree": 1, "contact_type": "venue", "via_id": None, "score": 0.0,
            "overlap_minutes": 0, "shared_stays": 1,
            "evidence": [
                {"type": "venue", "venue": hotel.pk, "venue_name": hotel.name, "venue_code": hotel.code,
                 "subarea": "", "case_in": at("10:00"), "case_out": at("12:00"), "contact_in": at("12:00"),
                 "contact_out": at("12:30"), "overlap_minutes": 0},
            ],
        },
        world.cp_mate.pk: {  # 李明, 李娜's household: secondary, half her score
            **common, **cp_home, "degree": 2, "contact_type": "secondary_household", "via_id": city.cp_person.pk,
            "score": lina / 2, "overlap_minutes": 0, "shared_stays": 0,
            "evidence": [{"type": "secondary_household", "via": city.cp_person.pk}],
        },
        extra["colleague"].pk: {  # the case's work unit
            **common, **cp_home, "degree": 1, "contact_type": "work_unit", "via_id": None, "score": 0.8,
            "overlap_minutes": 0, "shared_stays": 0, "evidence": [{"type": "work_unit"}],
        },
        extra["lina_colleague"].pk: {  # 李娜's work unit: secondary
            **common, **cp_home, "degree": 2, "contact_type": "secondary_work_unit", "via_id": city.cp_person.pk,
            "score": lina / 2, "overlap_minutes": 0, "shared_stays": 0,
            "evidence": [{"type": "secondary_work_unit", "via": city.cp_person.pk}],
        },
        extra["passer"].pk: {  # another entrance of a hub, 4 minutes: screened, not a close contact
            **common, **ft_home, "degree": 0, "contact_type": "risk_venue", "via_id": None, "score": 0.1,
            "overlap_minutes": 4, "shared_stays": 1,
            "evidence": [
                {"type": "risk_venue", "venue": station.pk, "venue_name": "北宫地铁站", "venue_code": "V-FT-METRO",
                 "subarea": "B口", "case_in": at("08:00"), "case_out": at("08:20"), "contact_in": at("08:05"),
                 "contact_out": at("08:09"), "overlap_minutes": 4},
            ],
        },
    }  # fmt: skip
    for person, want in expected.items():
        want["score"] = pytest.approx(round(want["score"], 4), abs=1e-9)
        want["person_id"] = person
    assert rows == expected
    # The API shows the same evidence.
    api = {c["name"]: c for c in ft.get(f"/api/cases/{case['id']}/contacts").json()}
    assert api["李娜"]["evidence"] == expected[city.cp_person.pk]["evidence"]
    if connection.vendor == "sqlite":  # the stored text is what the JSON field itself would write
        with connection.cursor() as cur:
            cur.execute("SELECT person_id, evidence FROM tracing_contact WHERE case_id = %s", [case["id"]])
            assert {p: json.loads(text) for p, text in cur.fetchall()} == {
                p: want["evidence"] for p, want in expected.items()
            }
            cur.execute("SELECT evidence FROM tracing_contact WHERE person_id = %s", [city.cp_person.pk])
            assert cur.fetchone()[0] == json.dumps(expected[city.cp_person.pk]["evidence"])


def test_copy_writes_what_executemany_writes(
    world: World, city: Any, ft_investigator: Any, client_for: Any, monkeypatch: Any
) -> None:
    """The same case traced with COPY, then (its contacts deleted) with executemany: the same rows."""
    from django.db import connection

    from cordon.core import bulk  # tracing writes new contacts with the one bulk writer

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    _written_world(world, city)
    ft = client_for(ft_investigator)
    case = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    assert post(ft, f"/api/cases/{case['id']}/trace", {}).json()["added"] == 7
    by_copy = _written(case["id"])
    Contact.objects.filter(case_id=case["id"]).delete()
    monkeypatch.setattr(bulk, "uses_copy", lambda: False)
    assert post(ft, f"/api/cases/{case['id']}/trace", {}).json()["added"] == 7
    assert _written(case["id"]) == by_copy


def test_trajectory_autofill_and_manual_entry(
    world: World, city: Any, ft_investigator: Any, client_for: Any
) -> None:
    ft = client_for(ft_investigator)
    case = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    assert post(ft, f"/api/cases/{case['id']}/trajectory/autofill", {}).json() == {"added": 1}
    assert post(ft, f"/api/cases/{case['id']}/trajectory/autofill", {}).json() == {"added": 0}
    d = _day(-3)
    body = {
        "venue": city.cp_venue.code,
        "subarea": 1,
        "time_in": f"{d}T18:00:00+08:00",
        "time_out": f"{d}T18:20:00+08:00",
    }
    # A Fengtai investigator does not see Changping venues: unknown place code.
    assert post(ft, f"/api/cases/{case['id']}/trajectory", body).status_code == 422
    trip = {
        "kind": "transport",
        "place": "地铁9号线",
        "time_in": f"{d}T08:00:00+08:00",
        "time_out": f"{d}T07:00:00+08:00",
    }
    r = post(ft, f"/api/cases/{case['id']}/trajectory", trip)
    assert r.status_code == 422 and "time_out" in r.json()["errors"]
    trip["time_out"] = f"{d}T08:40:00+08:00"
    assert post(ft, f"/api/cases/{case['id']}/trajectory", trip).status_code == 201
    entries = ft.get(f"/api/cases/{case['id']}/trajectory").json()
    assert [e["from_scan"] for e in entries] == [False, True]
    # A typed-in venue visit is matched against other people's scans too.
    d2 = _day(-2)
    visit = {
        "venue": city.ft_venue.code,
        "time_in": f"{d2}T14:30:00+08:00",
        "time_out": f"{d2}T14:45:00+08:00",
    }
    assert post(ft, f"/api/cases/{case['id']}/trajectory", visit).status_code == 201
    post(ft, f"/api/cases/{case['id']}/trace", {})
    found = {c["name"]: c for c in ft.get(f"/api/cases/{case['id']}/contacts").json()}
    assert found["孙强"]["contact_type"] == "trajectory"


def test_associations_clusters_merge_and_graph(
    world: World, city: Any, ft_investigator: Any, client_for: Any
) -> None:
    ft = client_for(ft_investigator)
    a = post(ft, "/api/cases", world.case_payload(city.ft_person)).json()
    post(ft, f"/api/cases/{a['id']}/trace", {})
    b = post(ft, "/api/cases", world.case_payload(city.ft_person2)).json()  # same household
    c = post(ft, "/api/cases", world.case_payload(world.touching)).json()  # at the hotel as a leaves
    post(ft, f"/api/cases/{c['id']}/trace", {})
    links = {
        x["case"]: {k["kind"] for k in x["links"]}
        for x in ft.get(f"/api/cases/{b['id']}/associations").json()
    }
    assert "household" in links[a["code"]]
    links = {
        x["case"]: {k["kind"] for k in x["links"]}
        for x in ft.get(f"/api/cases/{a['id']}/associations").json()
    }
    assert {"contact", "household"} <= links[b["code"]]
    assert {"contact", "venue"} <= links[c["code"]]

    one = post(ft, "/api/clusters", {"name": "北宫酒店聚集", "cases": [a["code"], b["code"]]})
    assert one.status_code == 201 and one.json()["cases"] == 2
    two = post(ft, "/api/clusters", {"name": "另一起", "cases": [c["code"]]}).json()
    assert post(ft, "/api/clusters", {"name": "x", "cases": ["nope"]}).status_code == 422
    merged = post(ft, f"/api/clusters/{one.json()['code']}/merge", {"clusters": [two["code"]]}).json()
    assert merged["cases"] == 3
    assert [x["code"] for x in ft.get("/api/clusters").json()] == [one.json()["code"]]
    graph = ft.get(f"/api/clusters/{one.json()['code']}/graph").json()
    assert graph["summarised"] is False and graph["total"] == 3
    assert {(e["source"], e["target"]) for e in graph["edges"]} >= {
        (str(a["id"]), str(b["id"])),
        (str(a["id"]), str(c["id"])),
    }
    cluster = selectors.get_cluster_for(ft_investigator, one.json()["code"])
    small = selectors.cluster_graph(ft_investigator, cluster, limit=2)
    assert small["summarised"] is True and sum(n["size"] for n in small["nodes"]) == 3


def test_scan_ingestion_api_counts_bad_rows_and_is_idempotent(
    city: Any, make_user: Any, client_for: Any
) -> None:
    admin = client_for(make_user("administrator", city.city))
    d = _day(-1)
    csv = (
        "national_id,venue_code,subarea,time_in,time_out\n"
        f"{city.ft_person.national_id},{city.ft_venue.code},,{d} 10:00,{d} 11:00\n"
        f"{city.cp_person.national_id},{city.cp_venue.code},1,{d}T10:30:00,{d}T10:40:00\n"
        f"110101199001010000,{city.ft_venue.code},,{d} 10:00,{d} 11:00\n"
        f"{city.ft_person.national_id},NOPE,,{d} 10:00,{d} 11:00\n"
        f"{city.ft_person.national_id},{city.ft_venue.code},,{d} 12:00,{d} 11:00\n"
        f"{city.ft_person.national_id},{city.ft_venue.code},,yesterday,{d} 11:00\n"
    )
    upload = io.BytesIO(csv.encode())
    upload.name = "scans.csv"
    r = admin.post("/api/scans", {"file": upload})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["rows_read"] == 6 and body["added"] == 2 and sum(body["rejected"].values()) == 4
    assert {row for row, _reason in body["examples"]} == {4, 5, 6, 7}  # lines of the file (header = 1)
    upload.seek(0)
    again = admin.post("/api/scans", {"file": upload}).json()
    assert again["added"] == 0 and again["duplicates"] == 2
    assert scan_store().count() == 2
    investigator = client_for(make_user("investigator", city.city))
    upload.seek(0)
    assert investigator.post("/api/scans", {"file": upload}).status_code == 403


def test_pages(
    world: World, city: Any, ft_investigator: Any, cp_investigator: Any, client_for: Any, worker: Any
) -> None:
    ft, cp = client_for(ft_investigator), client_for(cp_investigator)
    r = ft.post(
        "/tracing/cases/new/",
        {
            "person": city.ft_person.national_id,
            "classification": "confirmed",
            "onset_date": _day(-1).isoformat(),
            "sampled_at": f"{_day(-1)}T08:00",
            "found_by": "fever_clinic",
            "control": "community",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    case_url = r["Location"]
    r = ft.post("/tracing/cases/new/", {"person": "nobody", "found_by": ""})
    assert r.status_code == 422
    with worker():  # the trace runs as a job
        assert ft.post(case_url + "trace/").status_code == 302
    page = ft.get(case_url).content.decode()
    assert "李娜" in page and world.city.ft_venue.name in page
    case_id = int(case_url.rstrip("/").split("/")[-1])
    shown = Contact.objects.filter(case_id=case_id, degree=1)
    form = {"contact": [str(c.pk) for c in shown], "decision": "confirmed"} | {
        f"v{c.pk}": c.version for c in shown
    }
    assert ft.post(case_url + "decide/", form).status_code == 302
    inbox = cp.get("/tracing/linkage/").content.decode()
    assert "李娜" in inbox
    link = Linkage.objects.get(contact__person=city.cp_person)
    assert cp.post("/tracing/linkage/acknowledge/", {"linkage": [link.pk]}).status_code == 302
    link.refresh_from_db()
    assert link.acknowledged_by == cp_investigator
    for url in ("/tracing/cases/", "/tracing/risk-venues/", "/tracing/clusters/"):
        assert ft.get(url).status_code == 200
    assert ft.post(case_url + "cluster/", {"name": "酒店聚集"}).status_code == 302
    cluster = Contact.objects.get(case_id=case_id, person=city.cp_person).case.cluster
    assert cluster is not None
    assert ft.get(f"/tracing/clusters/{cluster.code}/").status_code == 200
    assert cp.get(case_url).status_code == 404


# --- A trace works out what to write before its write transaction ----------------------------------------------


def _state(case: Any) -> dict[str, Any]:
    """The case's contacts as written (every field, the version) and their audit trail (by person; of the times
    a contact was found and decided, only whether it was)."""
    from cordon.apps.tracing.models import Case

    person_of = dict(Contact.objects.filter(case=case).values_list("pk", "person_id"))
    rows = {p: {**r, "decided_at": bool(r["decided_at"]), "version": v} for p, r, v in (
        (r["person_id"], r, Contact.objects.get(case=case, person_id=r["person_id"]).version)
        for r in Contact.objects.filter(case=case).values(*_FIELDS)
    )}  # fmt: skip
    unstamped = ("found_at", "decided_at")
    trail = sorted(
        (
            e.verb,
            person_of[int(e.object_pk)],
            json.dumps(
                {k: v for k, v in e.changes.items() if k not in unstamped}, sort_keys=True, default=str
            ),
        )
        for e in AuditEntry.objects.filter(model="tracing.contact", object_pk__in=[str(k) for k in person_of])
    )
    traced = Case.objects.get(pk=case.pk)
    return {"contacts": rows, "trail": trail, "window": (traced.window_start, traced.window_end)}


def _trace_with(case: Any, between: Any, monkeypatch: Any) -> Any:
    """Trace ``case`` with ``between()`` run after the trace has worked out what to write and before its write
    transaction (what another request or job may do meanwhile)."""
    from cordon.apps.tracing import actions
    from cordon.apps.tracing.actions import tracing as module

    planned, done = module.plan_merge, []

    def plan_then_wait(*args: Any) -> Any:
        plan = planned(*args)
        if not done:
            done.append(True)
            between()
        return plan

    monkeypatch.setattr(module, "plan_merge", plan_then_wait)
    try:
        return actions.trace_case(actor=None, case=case)
    finally:
        monkeypatch.setattr(module, "plan_merge", planned)


def _interleaved_and_sequential(case: Any, between: Any, monkeypatch: Any) -> tuple[Any, Any]:
    """(result, state) of the trace with ``between`` in the middle, then (rolled back first) of ``between``
    followed by the whole trace: what merging inside the write transaction writes."""
    from django.db import transaction

    from cordon.apps.tracing import actions

    with transaction.atomic():
        interleaved = (_trace_with(case, between, monkeypatch), _state(case))
        transaction.set_rollback(True)
    between()
    sequential = (actions.trace_case(actor=None, case=case), _state(case))
    return interleaved, sequential


def test_a_trace_meeting_another_trace_of_its_case_before_writing_writes_what_a_later_trace_writes(
    world: World, city: Any, ft_investigator: Any, client_for: Any, monkeypatch: Any
) -> None:
    """Two traces of one case at once: the second to write finds the contacts changed since it read them and
    works its changes out again, so it inserts none of the first's new contacts twice."""
    from cordon.apps.tracing import actions
    from cordon.apps.tracing.models import Case

    _written_world(world, city)
    ft = client_for(ft_investigator)
    case = Case.objects.get(pk=post(ft, "/api/cases", world.case_payload(city.ft_person)).json()["id"])
    first: list[Any] = []
    interleaved, sequential = _interleaved_and_sequential(
        case, lambda: first.append(actions.trace_case(actor=None, case=case)), monkeypatch
    )
    assert (first[0].added, first[0].total) == (7, 7)
    assert interleaved == sequential
    result, state = interleaved
    assert (result.added, result.updated, result.total) == (0, 7, 7)
    assert len(state["contacts"]) == 7 and sum(1 for t in state["trail"] if t[0] == "create") == 7


def test_a_judgment_between_a_retraces_reading_and_writing_is_kept_and_the_refresh_written(
    world: World, city: Any, ft_investigator: Any, client_for: Any, monkeypatch: Any
) -> None:
    """A re-trace that refreshes a contact (a new shared stay) while an investigator confirms that contact: the
    decision stays, the refreshed figures are written, both writes count in the version and the audit trail, as
    when the judgment comes first."""
    from cordon.apps.tracing import actions
    from cordon.apps.tracing.models import Case

    _written_world(world, city)
    ft = client_for(ft_investigator)
    case = Case.objects.get(pk=post(ft, "/api/cases", world.case_payload(city.ft_person)).json()["id"])
    assert actions.trace_case(actor=None, case=case).added == 7
    d, hotel = _day(-2), city.ft_venue.pk
    scan_store().ingest(scans([(world.touching.pk, hotel, None, _t(d, "10:30"), _t(d, "11:15"))]))
    touching = Contact.objects.get(case=case, person=world.touching)
    assert touching.overlap_minutes == 0

    def confirm() -> None:
        actions.decide_contacts(actor=None, case=case, contact_ids=[touching.pk], decision="confirmed")

    interleaved, sequential = _interleaved_and_sequential(case, confirm, monkeypatch)
    assert interleaved == sequential
    result, state = interleaved
    assert (result.added, result.updated, result.total) == (0, 7, 7)
    row = state["contacts"][world.touching.pk]
    assert (row["status"], row["overlap_minutes"], row["version"]) == ("confirmed", 45, 3)
    assert [t[0] for t in state["trail"] if t[1] == world.touching.pk] == ["create", "update", "update"]
